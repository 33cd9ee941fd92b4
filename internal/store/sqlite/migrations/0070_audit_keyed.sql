-- Keyed audit chain: every link from the anchor on carries an HMAC-SHA256
-- of its hash under a key kept outside the database, and every checkpoint
-- says from which seq the chain is keyed. Links written before this
-- migration keep mac '' and are verified the old way up to the anchor.
ALTER TABLE audit_chain ADD COLUMN mac TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_checkpoints ADD COLUMN keyed_from INTEGER NOT NULL DEFAULT 0;
