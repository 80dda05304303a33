"""Versioned event contracts; a breaking change is a new version, never an edit in place."""
