-- The headers of the record that failed (traceparent, ce_*), so a replay sends them back.
-- Two parallel arrays rather than a map: Kafka headers are ordered and a name may repeat.
ALTER TABLE dead_letters
    ADD COLUMN header_names  text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN header_values bytea[] NOT NULL DEFAULT '{}';
