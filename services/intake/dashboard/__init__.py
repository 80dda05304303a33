"""The operators' dashboard: a page at GET /dashboard and its figures at GET /v1/dashboard.

The page (``page.html`` and ``static/``: plain JavaScript drawing SVG, no library, no network
beyond intake itself) holds no data and needs no login. It asks for an administrator's API key,
keeps it in the tab's sessionStorage, and reads ``/v1/dashboard?from=YYYY-MM-DD&to=YYYY-MM-DD``
with it (admins only; by default the last 30 days, Thai time). A link can carry the key and the
language in its fragment, ``/dashboard#key=<token>&lang=en``: the page moves the key into
sessionStorage and removes the fragment from the address at once (a fragment never reaches the
server; the browser test uses this). Thai is the default; the switch swaps every label.

This package holds only the page and its scripts; the routes are ``entrypoints/dashboard.py``,
the figures ``use_cases/dashboard_figures.py`` and their queries ``adapters/dashboard_queries.py``.
"""
