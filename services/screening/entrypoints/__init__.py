"""Screening's Kafka subscriber: thin, it hands over to the use case wired in app.py."""
