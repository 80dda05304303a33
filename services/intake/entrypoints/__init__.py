"""Intake's HTTP endpoints: thin, they hand over to the use cases."""
