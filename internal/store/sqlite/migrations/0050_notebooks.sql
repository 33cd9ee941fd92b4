-- Notebooks: knowledge objects (owner, app, sharing, roles) with immutable
-- versions whose content is a blob.

CREATE TABLE notebooks (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    app         TEXT NOT NULL,
    owner       TEXT NOT NULL,
    sharing     TEXT NOT NULL CHECK (sharing IN ('user', 'app', 'global')),
    scope_owner TEXT NOT NULL,              -- owner when sharing = 'user', else ''
    read_roles  TEXT NOT NULL DEFAULT '[]',
    write_roles TEXT NOT NULL DEFAULT '[]',
    latest      INTEGER NOT NULL DEFAULT 0,
    created     TEXT NOT NULL,
    updated     TEXT NOT NULL
);
CREATE UNIQUE INDEX notebooks_scope ON notebooks(app, name, scope_owner);
CREATE INDEX notebooks_name ON notebooks(name, id);

CREATE TABLE notebook_versions (
    notebook_id INTEGER NOT NULL REFERENCES notebooks(id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    format      TEXT NOT NULL CHECK (format IN ('ipynb', 'py')),
    digest      TEXT NOT NULL,
    size        INTEGER NOT NULL,
    author      TEXT NOT NULL,
    created     TEXT NOT NULL,
    PRIMARY KEY (notebook_id, version)
) WITHOUT ROWID;
