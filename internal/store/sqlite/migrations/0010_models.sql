-- Model registry: models (knowledge objects), immutable versions, aliases
-- and the history of every alias move. Timestamps are UTC RFC 3339 text with
-- nine fraction digits; params, fit_info and lineage are JSON documents.

CREATE TABLE models (
    id              INTEGER PRIMARY KEY,
    name            TEXT NOT NULL,
    app             TEXT NOT NULL,
    owner           TEXT NOT NULL,
    sharing         TEXT NOT NULL CHECK (sharing IN ('user', 'app', 'global')),
    scope_owner     TEXT NOT NULL,            -- owner when sharing = 'user', else ''
    read_roles      TEXT NOT NULL DEFAULT '[]',
    write_roles     TEXT NOT NULL DEFAULT '[]',
    read_open       INTEGER NOT NULL DEFAULT 1, -- 1: every role may read (no read roles, or '*')
    description     TEXT NOT NULL DEFAULT '',
    tags            TEXT NOT NULL DEFAULT '[]',
    latest_version  INTEGER NOT NULL DEFAULT 0, -- highest number allocated, never reused
    current_version INTEGER NOT NULL DEFAULT 0,
    algo            TEXT NOT NULL DEFAULT '',   -- algo of the current version
    created         TEXT NOT NULL,
    updated         TEXT NOT NULL
);
CREATE UNIQUE INDEX models_scope ON models(app, name, scope_owner);
CREATE INDEX models_name ON models(name, id);
CREATE INDEX models_owner ON models(owner, name, id);
CREATE INDEX models_app ON models(app, name, id);
CREATE INDEX models_algo ON models(algo, name, id);
CREATE INDEX models_sharing ON models(sharing, name, id);

-- Read and write roles, one row each, so that listing filters by role in SQL.
CREATE TABLE model_roles (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    role     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('read', 'write')),
    PRIMARY KEY (model_id, role, kind)
) WITHOUT ROWID;

CREATE TABLE model_tags (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    tag      TEXT NOT NULL,
    PRIMARY KEY (model_id, tag)
) WITHOUT ROWID;
CREATE INDEX model_tags_tag ON model_tags(tag, model_id);

CREATE TABLE model_versions (
    model_id INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    version  INTEGER NOT NULL,
    digest   TEXT NOT NULL,              -- sha256 of the canonical manifest blob
    creator  TEXT NOT NULL,
    created  TEXT NOT NULL,
    algo     TEXT NOT NULL DEFAULT '',
    params   TEXT NOT NULL DEFAULT '{}',
    fit_info TEXT NOT NULL DEFAULT '{}',
    lineage  TEXT NOT NULL DEFAULT '{}',
    files    INTEGER NOT NULL DEFAULT 0,
    size     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (model_id, version)
) WITHOUT ROWID;

-- An alias can only point at an existing version: the foreign key keeps
-- retention (or anything else) from deleting an aliased version.
CREATE TABLE model_aliases (
    model_id   INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    alias      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    updated    TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (model_id, alias),
    FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version)
) WITHOUT ROWID;
CREATE INDEX model_aliases_version ON model_aliases(model_id, version);

CREATE TABLE model_alias_history (
    id           INTEGER PRIMARY KEY,
    model_id     INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    alias        TEXT NOT NULL,
    from_version INTEGER NOT NULL DEFAULT 0, -- 0: the alias was created
    to_version   INTEGER NOT NULL DEFAULT 0, -- 0: the alias was removed
    user_name    TEXT NOT NULL,
    at           TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX model_alias_history_model ON model_alias_history(model_id, id);

-- Substring search over model names: a trigram full-text index kept in step
-- with models by triggers. The listing drives from it when a search term
-- matches few models.
CREATE VIRTUAL TABLE model_search USING fts5(name, content='models', content_rowid='id', tokenize='trigram');
CREATE TRIGGER models_search_insert AFTER INSERT ON models BEGIN
    INSERT INTO model_search(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER models_search_delete AFTER DELETE ON models BEGIN
    INSERT INTO model_search(model_search, rowid, name) VALUES ('delete', old.id, old.name);
END;
CREATE TRIGGER models_search_update AFTER UPDATE OF name ON models BEGIN
    INSERT INTO model_search(model_search, rowid, name) VALUES ('delete', old.id, old.name);
    INSERT INTO model_search(rowid, name) VALUES (new.id, new.name);
END;
