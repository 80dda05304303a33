-- Intake forgets the ids of events it projected long ago (PROJECTED_EVENT_IDS_KEEP_DAYS), oldest
-- first, in its retention job: without this index each sweep would read the whole table.
CREATE INDEX IF NOT EXISTS projected_events_projected_at ON intake.projected_events (projected_at);
