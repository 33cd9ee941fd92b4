-- Accounts: users, roles, session and API tokens, and server settings.
-- Timestamps are UTC RFC 3339 text with nine fraction digits
-- (2006-01-02T15:04:05.000000000Z), so they compare correctly as text.
-- Lists (roles, capabilities, inherit, search_indexes) are JSON arrays.

CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL DEFAULT '',
    roles         TEXT NOT NULL DEFAULT '[]',
    default_app   TEXT NOT NULL DEFAULT '',
    created       TEXT NOT NULL,
    updated       TEXT NOT NULL
);

CREATE TABLE roles (
    name           TEXT PRIMARY KEY,
    capabilities   TEXT NOT NULL DEFAULT '[]',
    inherit        TEXT NOT NULL DEFAULT '[]',
    search_indexes TEXT NOT NULL DEFAULT '[]',
    builtin        INTEGER NOT NULL DEFAULT 0,
    created        TEXT NOT NULL
);

CREATE TABLE tokens (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL CHECK (kind IN ('session', 'api')),
    name      TEXT NOT NULL DEFAULT '',
    user_name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    hash      TEXT NOT NULL,
    created   TEXT NOT NULL,
    expires   TEXT NOT NULL DEFAULT '', -- '' never expires
    last_used TEXT NOT NULL DEFAULT '',
    revoked   INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX tokens_hash ON tokens(hash);
CREATE INDEX tokens_user ON tokens(user_name);
CREATE INDEX tokens_expires ON tokens(expires) WHERE expires <> '';

CREATE TABLE settings (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL,
    updated TEXT NOT NULL
);
