-- Public keys administrators trust to verify signatures (purpose 'image':
-- image signatures checked at a start; 'model': model bundles exported by
-- other sites), and the signatures of catalogue images, kept with the
-- entry so that a start verifies them without the network. A signature is
-- the cosign-compatible simple-signing payload and its base64 signature;
-- digest is the manifest digest the payload names, manifest that
-- manifest's JSON when the entry pins its config (an engine image id).
-- Timestamps are UTC RFC 3339 text.

CREATE TABLE signing_keys (
    purpose     TEXT NOT NULL,
    name        TEXT NOT NULL,
    pem         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_by  TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL,
    PRIMARY KEY (purpose, name)
);

CREATE TABLE image_signatures (
    id        INTEGER PRIMARY KEY,
    image     TEXT NOT NULL,
    digest    TEXT NOT NULL,
    payload   TEXT NOT NULL,
    signature TEXT NOT NULL,
    manifest  TEXT NOT NULL DEFAULT '',
    source    TEXT NOT NULL DEFAULT '',
    added_by  TEXT NOT NULL DEFAULT '',
    added     TEXT NOT NULL,
    UNIQUE (image, digest, signature)
);
