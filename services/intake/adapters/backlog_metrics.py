"""Gauges of what piles up in PostgreSQL, for operators' alerts: the outbox and overdue cases.

Every intake replica reports the same figures (they come from the one database), so alert
rules take their maximum, never their sum.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from prometheus_client import Gauge

from shared.case_status import ServiceLevels
from shared.contracts.need_types import Agency
from shared.periodic import every

OUTBOX_RECORDS = Gauge("needs_router_outbox_records", "Accepted records the outbox relay has not published yet")
OUTBOX_OLDEST_SECONDS = Gauge(
    "needs_router_outbox_oldest_seconds", "Age of the oldest record waiting in the outbox (0 when empty)"
)
OVERDUE_CASES = Gauge("needs_router_overdue_cases", "Open cases past their service level", ["agency"])

# The same rule as shared.case_status.overdue, counted where the rows are.
_OVERDUE_BY_AGENCY = """
SELECT agency, count(*) AS cases FROM need_cases
WHERE status IN ('routed', 'accepted', 'in_progress')
  AND ((status = 'routed' AND routed_at < $1) OR routed_at < $2)
GROUP BY agency
"""


@dataclass(frozen=True, slots=True)
class Backlog:
    """One reading of the gauges."""

    outbox_records: int
    outbox_oldest_seconds: float
    overdue_by_agency: dict[Agency, int]


async def measure_backlog(pool: asyncpg.Pool, levels: ServiceLevels) -> Backlog:
    """Read the outbox and the overdue cases."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection:
        outbox = await connection.fetchrow("SELECT count(*) AS records, min(created_at) AS oldest FROM outbox")
        assert outbox is not None  # an aggregate without GROUP BY always returns its one row
        overdue = await connection.fetch(_OVERDUE_BY_AGENCY, now - levels.accept_within, now - levels.resolve_within)
    counted = {Agency(row["agency"]): int(row["cases"]) for row in overdue}
    return Backlog(
        outbox_records=int(outbox["records"]),
        outbox_oldest_seconds=(now - outbox["oldest"]).total_seconds() if outbox["oldest"] else 0.0,
        overdue_by_agency={agency: counted.get(agency, 0) for agency in Agency},
    )


def publish(backlog: Backlog) -> None:
    """Set the gauges; every agency has a series, zero included, so an alert can tell healthy from absent."""
    OUTBOX_RECORDS.set(backlog.outbox_records)
    OUTBOX_OLDEST_SECONDS.set(backlog.outbox_oldest_seconds)
    for agency, cases in backlog.overdue_by_agency.items():
        OVERDUE_CASES.labels(agency=agency.value).set(cases)


async def run_backlog_metrics(pool: asyncpg.Pool, levels: ServiceLevels, *, interval_s: float) -> None:
    """Refresh the gauges every ``interval_s`` until cancelled."""
    await every(interval_s, lambda: measure_backlog(pool, levels), what="backlog metrics", then=publish)
