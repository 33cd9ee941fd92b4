-- Each event's content hash (hex SHA-256 over index, time, host, source,
-- sourcetype, _raw and indexed fields), checked whenever the event is read,
-- so that a damaged or edited event is reported rather than served. Events
-- stored before this migration have '' and are read unchecked.
ALTER TABLE events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
