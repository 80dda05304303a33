-- The trace a need's event belongs to, so the relay can pass it on in a Kafka header.
ALTER TABLE outbox ADD COLUMN traceparent text;
