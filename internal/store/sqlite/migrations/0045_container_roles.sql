-- The roles a container's owner shares it with (a JSON array): holders of
-- one of them (with control_mltk_container) may run code in it and see it
-- in the listing. '[]': only its owner and administrators.

ALTER TABLE containers ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
