-- Container records: desired state, last observed status and where the
-- agent answers. (name, scope) is unique; scope is '' for shared containers
-- and the owner for per-user ones (each user's __dev__). External
-- containers keep their token sealed (internal/secrets), never in clear.

CREATE TABLE containers (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL,
    scope        TEXT NOT NULL DEFAULT '',
    owner        TEXT NOT NULL,
    image        TEXT NOT NULL DEFAULT '',
    runtime      TEXT NOT NULL,
    desired      TEXT NOT NULL CHECK (desired IN ('running', 'stopped')),
    status       TEXT NOT NULL DEFAULT 'created',
    message      TEXT NOT NULL DEFAULT '',
    endpoint     TEXT NOT NULL DEFAULT '',
    model        TEXT NOT NULL DEFAULT '',
    gpus         INTEGER NOT NULL DEFAULT 0,
    runtime_id   TEXT NOT NULL DEFAULT '',
    started      TEXT NOT NULL DEFAULT '',
    started_by   TEXT NOT NULL DEFAULT '',
    token_sealed TEXT NOT NULL DEFAULT '',
    token_hint   TEXT NOT NULL DEFAULT '',
    ca_pem       TEXT NOT NULL DEFAULT '',
    created      TEXT NOT NULL,
    updated      TEXT NOT NULL
);
CREATE UNIQUE INDEX containers_name ON containers(name, scope);
