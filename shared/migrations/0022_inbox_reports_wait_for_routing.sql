-- The officers' inbox shows only what routing accepted (issue 18): an officer's report waits here,
-- beside routing's status, until cases.updated.v1 confirms it or makes it impossible.
ALTER TABLE inbox.cases
    ADD COLUMN reported_status text,
    ADD COLUMN reported_event  uuid,
    ADD COLUMN reported_at     timestamptz;
