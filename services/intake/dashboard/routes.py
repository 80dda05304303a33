"""The dashboard over HTTP: the page and its static files (no data, no login) and the data (admins only)."""

from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from services.intake.api import Admin, Resources
from services.intake.dashboard.figures import dashboard
from services.intake.dashboard.models import Dashboard
from services.intake.dashboard.period import InvalidPeriod, choose_period
from services.intake.errors import problem

router = APIRouter()

_FROM = "First day shown (Thai time, UTC+7), ISO date; default: 29 days before 'to' (30 days in all)"
_TO = "Last day shown, included, ISO date; default: today in Thai time"

_STATIC = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "labels.js": "text/javascript; charset=utf-8",
    "tiles.js": "text/javascript; charset=utf-8",
}
# The page loads only its own files and calls only its own origin; it may not be framed.
_PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@cache
def _package_file(name: str) -> bytes:
    return (resources.files(__package__) / name).read_bytes()


@router.get("/dashboard", include_in_schema=False)
async def page() -> Response:
    """The dashboard page: it asks for an admin key and reads /v1/dashboard with it."""
    return Response(_package_file("page.html"), media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


@router.get("/dashboard/static/{name}", include_in_schema=False)
async def static_file(name: str) -> Response:
    """One of the page's own scripts or style sheets; nothing else is served from here."""
    media_type = _STATIC.get(name)
    if media_type is None:
        return problem(404, [{"field": "name", "problem": "no such dashboard file"}])
    return Response(_package_file(f"static/{name}"), media_type=media_type, headers=_PAGE_HEADERS)


@router.get(
    "/v1/dashboard",
    response_model=Dashboard,
    responses={401: {"description": "No valid API key"}, 403: {"description": "Not an admin key"},
               422: {"description": "Invalid period"}, 429: {"description": "Too many requests for this key"}},
)  # fmt: skip
async def dashboard_data(
    resources: Resources,
    _: Admin,
    response: Response,
    first: Annotated[date | None, Query(alias="from", description=_FROM)] = None,
    last: Annotated[date | None, Query(alias="to", description=_TO)] = None,
) -> Dashboard | JSONResponse:
    """Needs, routed cases, backlog, times, overdue cases and dead letters of a period of whole days."""
    now = datetime.now(UTC)
    try:
        period = choose_period(first, last, now=now)
    except InvalidPeriod as invalid:
        return problem(422, [{"field": invalid.field, "problem": invalid.problem}])
    async with resources.pool.acquire() as connection:
        figures = await dashboard(connection, period=period, now=now, levels=resources.levels)
    response.headers["Cache-Control"] = "no-store"  # figures about people's cases: no copies in caches
    return figures
