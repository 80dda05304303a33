-- The dashboard and the lists read needs, cases and dead letters by period.
CREATE INDEX needs_submitted_at ON needs (submitted_at);
CREATE INDEX routed_cases_routed_at ON routed_cases (routed_at);
CREATE INDEX dead_letters_failed_at ON dead_letters (failed_at);
