-- CSV lookup tables (knowledge objects). The content is a blob; this table
-- keeps its digest and the ACL. Timestamps are UTC RFC 3339 text.

CREATE TABLE lookups (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    app         TEXT NOT NULL,
    owner       TEXT NOT NULL,
    sharing     TEXT NOT NULL CHECK (sharing IN ('user', 'app', 'global')),
    scope_owner TEXT NOT NULL,            -- owner when sharing = 'user', else ''
    read_roles  TEXT NOT NULL DEFAULT '[]',
    write_roles TEXT NOT NULL DEFAULT '[]',
    digest      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL
);
CREATE UNIQUE INDEX lookups_scope ON lookups(app, name, scope_owner);
CREATE INDEX lookups_name ON lookups(name, id);
