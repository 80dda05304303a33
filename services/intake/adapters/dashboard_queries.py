"""The dashboard's SQL: one function per figure, each over one period."""

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.intake.domain.dashboard_models import ConsumerCount, DeadLetterLine, Durations
from services.intake.domain.dashboard_period import Period
from shared.database import Connection

OPEN_STATUSES = ("routed", "accepted", "in_progress")
ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class CaseCount:
    """Cases routed in the period to one agency in one province that now have one status."""

    agency: str
    province_code: str
    status: str
    cases: int
    escalated: int


@dataclass(frozen=True, slots=True)
class OpenCase:
    """A case still open at its agency."""

    need_id: uuid.UUID
    agency: str
    province_code: str
    status: str
    routed_at: datetime
    escalated: list[str]


async def need_totals(connection: Connection, period: Period) -> tuple[int, int]:
    """(needs submitted, of which screened)."""
    row = await connection.fetchrow(
        """
        SELECT count(*) AS total, count(s.need_id) AS screened
        FROM needs AS n LEFT JOIN screening_results AS s USING (need_id)
        WHERE n.submitted_at >= $1 AND n.submitted_at < $2
        """,
        period.start, period.end,
    )  # fmt: skip
    assert row is not None  # an aggregate always answers one row
    return int(row["total"]), int(row["screened"])


async def needs_by_type(connection: Connection, period: Period) -> dict[str, int]:
    """Screened needs per type (a need of two types counts in both); ``manual`` for no type."""
    rows = await connection.fetch(
        """
        SELECT coalesce(t.item ->> 'type', 'manual') AS type, count(*) AS needs
        FROM needs AS n
        JOIN screening_results AS s USING (need_id)
        LEFT JOIN LATERAL jsonb_array_elements(s.types) AS t(item) ON true
        WHERE n.submitted_at >= $1 AND n.submitted_at < $2
        GROUP BY 1
        """,
        period.start, period.end,
    )  # fmt: skip
    return {row["type"]: int(row["needs"]) for row in rows}


async def needs_by_province(connection: Connection, period: Period) -> dict[str, int]:
    """Needs submitted per province code."""
    rows = await connection.fetch(
        "SELECT province_code, count(*) AS needs FROM needs"
        " WHERE submitted_at >= $1 AND submitted_at < $2 GROUP BY province_code",
        period.start, period.end,
    )  # fmt: skip
    return {row["province_code"]: int(row["needs"]) for row in rows}


async def case_counts(connection: Connection, period: Period) -> list[CaseCount]:
    """Cases routed in the period, per agency, province and current status."""
    rows = await connection.fetch(
        """
        SELECT agency, province_code, status, count(*) AS cases,
               count(*) FILTER (WHERE cardinality(escalated) > 0) AS escalated
        FROM need_cases
        WHERE routed_at >= $1 AND routed_at < $2
        GROUP BY agency, province_code, status
        """,
        period.start, period.end,
    )  # fmt: skip
    return [
        CaseCount(row["agency"], row["province_code"], row["status"], int(row["cases"]), int(row["escalated"]))
        for row in rows
    ]


async def durations_by_agency(connection: Connection, period: Period) -> dict[str, tuple[Durations, Durations]]:
    """Per agency, hours from routing to acceptance and to resolution (median and 90th percentile)."""
    rows = await connection.fetch(
        """
        WITH timed AS (
            SELECT agency,
                   extract(epoch FROM accepted_at - routed_at)::float8 / 3600 AS to_accept,
                   extract(epoch FROM resolved_at - routed_at)::float8 / 3600 AS to_resolve
            FROM need_cases
            WHERE routed_at >= $1 AND routed_at < $2
        )
        SELECT agency,
               count(to_accept) AS accepted,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY to_accept) AS accept_median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY to_accept) AS accept_p90,
               count(to_resolve) AS resolved,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY to_resolve) AS resolve_median,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY to_resolve) AS resolve_p90
        FROM timed GROUP BY agency
        """,
        period.start, period.end,
    )  # fmt: skip
    return {row["agency"]: (_durations(row, "accept"), _durations(row, "resolve")) for row in rows}


def _durations(row: asyncpg.Record, step: str) -> Durations:
    cases = row["accepted" if step == "accept" else "resolved"]
    return Durations(cases=cases, median_hours=_hours(row[f"{step}_median"]), p90_hours=_hours(row[f"{step}_p90"]))


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


async def open_cases_routed_before(connection: Connection, period: Period, before: datetime) -> list[OpenCase]:
    """Open cases routed in the period and before ``before``: the only ones that can be overdue."""
    rows = await connection.fetch(
        """
        SELECT need_id, agency, province_code, status, routed_at, escalated FROM need_cases
        WHERE routed_at >= $1 AND routed_at < least($2::timestamptz, $3::timestamptz) AND status = ANY($4::text[])
        ORDER BY routed_at, agency
        """,
        period.start, period.end, before, list(OPEN_STATUSES),
    )  # fmt: skip
    return [
        OpenCase(row["need_id"], row["agency"], row["province_code"], row["status"], row["routed_at"], row["escalated"])
        for row in rows
    ]


async def dead_letters_by_consumer(connection: Connection, period: Period) -> list[ConsumerCount]:
    """Dead letters per consumer, most first."""
    rows = await connection.fetch(
        """
        SELECT consumer, count(*) AS dead_letters, count(*) FILTER (WHERE replayed_at IS NULL) AS not_replayed
        FROM dead_letters_seen WHERE failed_at >= $1 AND failed_at < $2
        GROUP BY consumer ORDER BY dead_letters DESC, consumer
        """,
        period.start, period.end,
    )  # fmt: skip
    return [ConsumerCount(**dict(row)) for row in rows]


async def latest_dead_letters(connection: Connection, period: Period, *, limit: int) -> list[DeadLetterLine]:
    """The most recent dead letters, newest first, their error cut short."""
    rows = await connection.fetch(
        """
        SELECT event_id, consumer, source_topic, left(error, $3) AS error, failed_at, replayed_at
        FROM dead_letters_seen WHERE failed_at >= $1 AND failed_at < $2
        ORDER BY failed_at DESC, event_id LIMIT $4
        """,
        period.start, period.end, ERROR_CHARS, limit,
    )  # fmt: skip
    return [DeadLetterLine(**dict(row)) for row in rows]
