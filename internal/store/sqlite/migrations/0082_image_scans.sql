-- Vulnerability scan reports imported for catalogue images, bound to the
-- digest the entry was pinned to (findings: a JSON array of
-- {"id","severity","package"}), and the policy exceptions for CVEs of an
-- image, which expire. Timestamps are UTC RFC 3339 text.

CREATE TABLE image_scans (
    id          INTEGER PRIMARY KEY,
    image       TEXT NOT NULL,
    digest      TEXT NOT NULL,
    format      TEXT NOT NULL,
    scanned     TEXT NOT NULL,
    findings    TEXT NOT NULL,
    imported_by TEXT NOT NULL DEFAULT '',
    imported    TEXT NOT NULL
);
CREATE INDEX image_scans_image ON image_scans(image, digest, scanned);

CREATE TABLE image_exceptions (
    image      TEXT NOT NULL,
    cve        TEXT NOT NULL,
    until      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created    TEXT NOT NULL,
    PRIMARY KEY (image, cve)
);
