"""The dashboard over HTTP: the page and its static files (no data, no login) and the data (admins only)."""

from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Query, Response

from services.intake.adapters.dashboard_shadow import ShadowPanel, shadow_panel
from services.intake.domain.dashboard_models import Dashboard
from services.intake.domain.dashboard_period import InvalidPeriod, choose_period
from services.intake.entrypoints.dashboard_vocabulary import vocabulary_module
from services.intake.entrypoints.http_api import Admin, Resources
from services.intake.entrypoints.http_errors import field_problem
from services.intake.entrypoints.openapi_contract import AUTHENTICATED, header, problems
from services.intake.use_cases.dashboard_clusters import ClusterPanel, cluster_panel
from services.intake.use_cases.dashboard_figures import dashboard

router = APIRouter()

_FROM = "First day shown (Thai time, UTC+7), ISO date; default: 29 days before 'to' (30 days in all)"
_TO = "Last day shown, included, ISO date; default: today in Thai time"

_STATIC = {
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "charts.js": "text/javascript; charset=utf-8",
    "labels.js": "text/javascript; charset=utf-8",
    "tiles.js": "text/javascript; charset=utf-8",
    "shadow.js": "text/javascript; charset=utf-8",
    "clusters.js": "text/javascript; charset=utf-8",
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
    return (resources.files("services.intake.dashboard") / name).read_bytes()


@router.get("/dashboard", include_in_schema=False)
async def page() -> Response:
    """The dashboard page: it asks for an admin key and reads /v1/dashboard with it."""
    return Response(_package_file("page.html"), media_type="text/html; charset=utf-8", headers=_PAGE_HEADERS)


@router.get("/dashboard/static/vocabulary.js", include_in_schema=False)
async def vocabulary_file() -> Response:
    """Names of need types, agencies and case states in Thai and English, from the one vocabulary."""
    return Response(vocabulary_module(), media_type="text/javascript; charset=utf-8", headers=_PAGE_HEADERS)


@router.get("/dashboard/static/{name}", include_in_schema=False)
async def static_file(name: str) -> Response:
    """One of the page's own scripts or style sheets; nothing else is served from here."""
    media_type = _STATIC.get(name)
    if media_type is None:
        raise field_problem(404, "name", "no such dashboard file")
    return Response(_package_file(f"static/{name}"), media_type=media_type, headers=_PAGE_HEADERS)


@router.get(
    "/v1/dashboard",
    operation_id="getDashboard",
    response_model=Dashboard,
    responses={
        200: {"headers": header("Cache-Control", "no-store: figures about people's cases are not to be kept")},
        **problems(*AUTHENTICATED, 403, 422, described={403: "Not an admin key", 422: "Invalid period"}),
    },
)
async def dashboard_data(
    resources: Resources,
    _: Admin,
    response: Response,
    first: Annotated[date | None, Query(alias="from", description=_FROM)] = None,
    last: Annotated[date | None, Query(alias="to", description=_TO)] = None,
) -> Dashboard:
    """Needs, routed cases, backlog, times, overdue cases and dead letters of a period of whole days."""
    now = datetime.now(UTC)
    try:
        period = choose_period(first, last, now=now)
    except InvalidPeriod as invalid:
        raise field_problem(422, invalid.field, invalid.problem) from invalid
    async with resources.pool.acquire() as connection:
        figures = await dashboard(connection, period=period, now=now, levels=resources.levels)
    response.headers["Cache-Control"] = "no-store"  # figures about people's cases: no copies in caches
    return figures


@router.get(
    "/v1/dashboard/shadow",
    operation_id="getShadowDisagreements",
    response_model=ShadowPanel,
    responses={
        200: {"headers": header("Cache-Control", "no-store: needs' descriptions are not to be kept")},
        **problems(*AUTHENTICATED, 403, described={403: "Not an admin key"}),
    },
)
async def shadow_data(resources: Resources, _: Admin, response: Response) -> ShadowPanel:
    """Where the shadow model (a candidate classifying beside the live one) would type needs otherwise."""
    async with resources.pool.acquire() as connection:
        panel = await shadow_panel(connection)
    response.headers["Cache-Control"] = "no-store"  # needs' descriptions: no copies in caches
    return panel


@router.get(
    "/v1/dashboard/clusters",
    operation_id="getRelatedNeedClusters",
    response_model=ClusterPanel,
    responses={
        200: {"headers": header("Cache-Control", "no-store: figures about people's cases are not to be kept")},
        **problems(*AUTHENTICATED, 403, described={403: "Not an admin key"}),
    },
)
async def cluster_data(resources: Resources, _: Admin, response: Response) -> ClusterPanel:
    """The largest open clusters of related needs (probably the same problem): type, place, size and age."""
    async with resources.pool.acquire() as connection:
        panel = await cluster_panel(connection, now=datetime.now(UTC))
    response.headers["Cache-Control"] = "no-store"  # figures about people's cases: no copies in caches
    return panel
