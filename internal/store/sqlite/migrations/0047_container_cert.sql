-- The operator certificate pair (a name in containers.certs_dir) a
-- container's agent serves; '' for one the server CA issues.

ALTER TABLE containers ADD COLUMN cert TEXT NOT NULL DEFAULT '';
