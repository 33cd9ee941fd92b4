-- Where a notebook version came from: '' for a push through the API,
-- 'container:NAME' for a version the notebook sync stored out of a
-- container (its author is the container's owner).

ALTER TABLE notebook_versions ADD COLUMN source TEXT NOT NULL DEFAULT '';
