-- Apps with members. An app is the space knowledge objects live in; its
-- read roles may use it as their context and see what is shared in it, its
-- write roles may share objects into it. Lists are JSON arrays of role
-- names ("*": every role). Timestamps are UTC RFC 3339 text.

CREATE TABLE apps (
    name        TEXT PRIMARY KEY,
    read_roles  TEXT NOT NULL DEFAULT '["*"]',
    write_roles TEXT NOT NULL DEFAULT '["admin","power"]',
    created_by  TEXT NOT NULL DEFAULT '',
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL
);

-- The default app, and every app already in use by an object or named as
-- a user's default app, with the defaults: readable by every role, writable
-- by admin and power. Every object stays reachable by its owner.
INSERT OR IGNORE INTO apps(name, created_by, created, updated)
SELECT name, 'system', strftime('%Y-%m-%dT%H:%M:%fZ','now'), strftime('%Y-%m-%dT%H:%M:%fZ','now')
FROM (
    SELECT 'search' AS name
    UNION SELECT app FROM models
    UNION SELECT app FROM lookups
    UNION SELECT app FROM notebooks
    UNION SELECT default_app FROM users WHERE default_app <> ''
);

-- Shared objects live in per-owner slots too: two users may each share an
-- object of one name into an app, so creating or sharing one never reveals
-- an object the caller may not read. (The services refuse a second shared
-- object of a name the caller can see.) A private object stays unique per
-- owner, as scope_owner is the owner for it.
DROP INDEX models_scope;
CREATE UNIQUE INDEX models_scope ON models(app, name, scope_owner, owner);
DROP INDEX lookups_scope;
CREATE UNIQUE INDEX lookups_scope ON lookups(app, name, scope_owner, owner);
DROP INDEX notebooks_scope;
CREATE UNIQUE INDEX notebooks_scope ON notebooks(app, name, scope_owner, owner);
