"""Routing's Kafka subscribers and operator commands: thin, they hand over to the use cases."""
