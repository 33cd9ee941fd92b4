-- HEC indexer acknowledgement: a token with use_ack set hands out ack ids
-- per channel. Existing tokens keep acknowledgement off.
ALTER TABLE hec_tokens ADD COLUMN use_ack INTEGER NOT NULL DEFAULT 0;
