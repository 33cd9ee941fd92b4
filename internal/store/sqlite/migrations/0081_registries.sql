-- Private registries the image catalogue reads digests from and the Docker
-- Engine pulls from: the CA that verifies a registry (PEM, '' for the
-- system's roots) and its credentials, the password sealed with
-- internal/secrets (never in clear). Timestamps are UTC RFC 3339 text.

CREATE TABLE registries (
    host            TEXT PRIMARY KEY,
    ca_pem          TEXT NOT NULL DEFAULT '',
    username        TEXT NOT NULL DEFAULT '',
    password_sealed TEXT NOT NULL DEFAULT '',
    created_by      TEXT NOT NULL DEFAULT '',
    created         TEXT NOT NULL,
    updated_by      TEXT NOT NULL DEFAULT '',
    updated         TEXT NOT NULL
);
