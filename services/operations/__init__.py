"""Operators' work on the whole system rather than on one service: backups and restores."""
