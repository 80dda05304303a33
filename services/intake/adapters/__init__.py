"""Intake's PostgreSQL and its outbox relay to Kafka."""
