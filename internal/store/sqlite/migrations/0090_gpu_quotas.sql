-- GPU quotas: the most GPUs one user may hold at once, set for that user
-- (kind 'user') or for each member of a role (kind 'role'). Timestamps
-- are UTC RFC 3339 text.

CREATE TABLE gpu_quotas (
    kind       TEXT NOT NULL CHECK (kind IN ('user', 'role')),
    name       TEXT NOT NULL,
    max_gpus   INTEGER NOT NULL CHECK (max_gpus >= 0),
    updated_by TEXT NOT NULL DEFAULT '',
    updated    TEXT NOT NULL,
    PRIMARY KEY (kind, name)
);
