"""Intake's rules: what a valid need is and where it is."""
