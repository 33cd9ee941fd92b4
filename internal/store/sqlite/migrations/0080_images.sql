-- The image catalogue: the images containers may start from, each pinned by
-- the digest its reference resolved to when an administrator added or
-- re-pinned it. run_ref is what the runtime is given (repo@sha256:... for a
-- registry image, the image id for an engine-local one), so a tag that
-- moves later changes nothing until the entry is re-pinned. Timestamps are
-- UTC RFC 3339 text.

CREATE TABLE images (
    name       TEXT PRIMARY KEY,
    ref        TEXT NOT NULL,
    digest     TEXT NOT NULL,
    run_ref    TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL DEFAULT '',
    gpu        INTEGER NOT NULL DEFAULT 0,
    runtime    TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created    TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated    TEXT NOT NULL
);
