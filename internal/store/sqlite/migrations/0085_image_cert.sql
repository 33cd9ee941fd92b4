-- The operator certificate pair (a name in containers.certs_dir) agents
-- started from a catalogue entry serve; '' for one the server CA issues.

ALTER TABLE images ADD COLUMN cert TEXT NOT NULL DEFAULT '';
