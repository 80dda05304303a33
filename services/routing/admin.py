"""Operators' changes to the routing table, applied without a release."""

import asyncpg

from services.routing import repository
from services.routing.domain.routing_table import MANUAL_SCREENING
from shared.contracts.need_types import Agency, NeedType


class UnknownRouteKey(ValueError):
    """The key is neither a need type nor manual_screening, or the agency is unknown."""


async def set_route(database_url: str, *, key: str, agency: str) -> None:
    """Point a need type (or manual screening) at another agency."""
    if key not in {*NeedType, MANUAL_SCREENING}:
        raise UnknownRouteKey(f"{key!r} is not a need type ({', '.join(NeedType)}) or {MANUAL_SCREENING}")
    if agency not in set(Agency):
        raise UnknownRouteKey(f"{agency!r} is not an agency ({', '.join(Agency)})")
    connection = await asyncpg.connect(database_url)
    try:
        await repository.set_route(connection, key=key, agency=agency)
    finally:
        await connection.close()


async def list_routes(database_url: str) -> list[tuple[str, str]]:
    """The routing table, rows as stored."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT need_type, agency FROM routing_rules ORDER BY need_type")
    finally:
        await connection.close()
    return [(row["need_type"], row["agency"]) for row in rows]
