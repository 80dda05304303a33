"""Routing's PostgreSQL."""
