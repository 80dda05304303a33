"""Screening's PostgreSQL."""
