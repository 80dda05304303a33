"""The operators' dashboard: an HTML page at /dashboard and its data at /v1/dashboard (admins only)."""
