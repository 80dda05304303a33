"""A month of needs, routed cases and dead letters far in the past, for the dashboard's tests.

They go where the dashboard reads them: intake's own copy of the other services' events.

Each test uses a year of its own, so no other test's rows fall in its period; seeding first
deletes whatever an earlier run left in that period, so it is safe to run against a database
that is kept between runs.
"""

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

import asyncpg

from shared.database import Connection

THAI = timezone(timedelta(hours=7))
SUBDISTRICTS = {"33": "330101", "10": "100101", "50": "500101", "14": "140101"}
BOTH = ["not_accepted", "not_resolved"]  # open cases escalated for both levels: no escalation run changes them


@dataclass
class Seeded:
    """What was seeded, to look for in the figures."""

    first_day: date
    last_day: date
    needs: dict[str, uuid.UUID] = field(default_factory=dict)
    dead_letter_error: str = ""


def thai_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant given in Thai time (UTC+7)."""
    return datetime(year, month, day, hour, minute, tzinfo=THAI)


async def seed_month(pool: asyncpg.Pool, year: int) -> Seeded:
    """March of ``year``: 8 needs in 4 provinces, 8 cases at 5 agencies, 3 dead letters; and rows just outside."""
    start, end = thai_time(year, 3, 1), thai_time(year, 4, 1)
    seeded = Seeded(first_day=start.date(), last_day=date(year, 3, 31))
    async with pool.acquire() as connection, connection.transaction():
        await _clear(connection, start - timedelta(days=2), end + timedelta(days=2))
        # name: (province, submitted at, screened types or None if not screened yet)
        needs = {
            "n1": ("33", thai_time(year, 3, 1), ["unfair_labour", "migrant_labour"]),
            "n2": ("33", thai_time(year, 3, 4, 9), ["unfair_labour"]),
            "n3": ("10", thai_time(year, 3, 6, 10), ["jobs"]),
            "n4": ("10", thai_time(year, 3, 9, 14), []),
            "n5": ("50", thai_time(year, 3, 12, 8), ["ss40"]),
            "n6": ("33", thai_time(year, 3, 15, 16), ["skills"]),
            "n7": ("14", thai_time(year, 3, 20, 11), None),
            "n8": ("33", thai_time(year, 3, 31, 23, 59), ["drugs_workplace"]),
            "before": ("33", thai_time(year, 2, 28, 23, 59), ["jobs"]),
            "after": ("50", thai_time(year, 4, 1), ["jobs"]),
        }
        for name, (province, submitted_at, types) in needs.items():
            seeded.needs[name] = await _need(connection, province, submitted_at, types)

        def at(day: int, hour: int = 0) -> datetime:
            return thai_time(year, 3, day, hour)

        cases = [
            # need, agency, status, routed at, hours to accept, hours to resolve, escalated
            ("n1", "dlpw", "resolved", at(2), 2, 48, []),
            ("n1", "doe", "accepted", at(2), 4, None, ["not_resolved"]),
            ("n2", "dlpw", "in_progress", at(5), 6, None, ["not_resolved"]),
            ("n3", "doe", "resolved", at(7), 10, 100, []),
            ("n4", "mol", "routed", at(10), None, None, BOTH),
            ("n5", "sso", "misrouted", at(13), None, None, []),
            ("n6", "dsd", "resolved", at(16), 1, 24, []),
            ("n8", "mol", "resolved", at(31, 23), 3, 30, ["not_accepted"]),
            ("after", "doe", "routed", thai_time(year, 4, 1), None, None, BOTH),
        ]
        for name, agency, status, routed_at, to_accept, to_resolve, escalated in cases:
            province = needs[name][0]
            await connection.execute(
                "INSERT INTO need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening,"
                " routed_at, status, status_at, accepted_at, resolved_at, escalated)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $8, $10, $11, $12)",
                uuid.uuid4(), seeded.needs[name], agency, province, f"agency.{agency}.{province}",
                needs[name][2] or ["manual_screening"], not needs[name][2], routed_at, status,
                routed_at + timedelta(hours=to_accept) if to_accept is not None else None,
                routed_at + timedelta(hours=to_resolve) if to_resolve is not None else None, escalated,
            )  # fmt: skip
        seeded.dead_letter_error = "bad JSON <script>alert('x')</script> at line 1"
        letters = [
            ("screening", "needs.submitted.v1", "Expecting value: line 1 column 1 (char 0)", at(3), None),
            ("screening", "needs.submitted.v1", "schema_version 2 is not supported", at(20), at(21)),
            ("routing", "needs.screened.v1", seeded.dead_letter_error, at(15), None),
            ("routing", "needs.screened.v1", "outside the period", thai_time(year, 4, 1), None),
        ]
        for consumer, topic, error, failed_at, replayed_at in letters:
            await connection.execute(
                "INSERT INTO dead_letters_seen (event_id, consumer, source_topic, error, failed_at, replayed_at)"
                " VALUES ($1, $2, $3, $4, $5, $6)",
                uuid.uuid4(), consumer, topic, error, failed_at, replayed_at,
            )  # fmt: skip
    return seeded


async def _need(connection: Connection, province: str, submitted_at: datetime, types: list[str] | None) -> uuid.UUID:
    need_id = uuid.uuid4()
    subdistrict = SUBDISTRICTS[province]
    await connection.execute(
        "INSERT INTO needs (need_id, volunteer_id, request_digest, subdistrict_code, district_code, province_code,"
        " description, submitted_at, event_payload, submitted_by) VALUES ($1, $2, 'seed', $3, $4, $5, $6, $7, $8, $9)",
        need_id, f"vol-{province}-0001", subdistrict, subdistrict[:4], province, "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
        submitted_at, b"{}", "dashboard-seed",
    )  # fmt: skip
    if types is not None:
        await connection.execute(
            "INSERT INTO screening_results (need_id, event_id, types, language, manual_reason, classifier_version,"
            " screened_at) VALUES ($1, $2, $3, 'th', $4, 'dashboard-seed', $5)",
            need_id, uuid.uuid4(), json.dumps([{"type": t, "confidence": 0.9, "evidence": []} for t in types]),
            None if types else "no_type_matched", submitted_at + timedelta(seconds=1),
        )  # fmt: skip
    return need_id


async def _clear(connection: Connection, start: datetime, end: datetime) -> None:
    """Remove what an earlier run seeded around this period."""
    await connection.execute(
        "DELETE FROM screening_results WHERE need_id IN"
        " (SELECT need_id FROM needs WHERE submitted_at >= $1 AND submitted_at < $2)",
        start, end,
    )  # fmt: skip
    await connection.execute("DELETE FROM needs WHERE submitted_at >= $1 AND submitted_at < $2", start, end)
    await connection.execute("DELETE FROM need_cases WHERE routed_at >= $1 AND routed_at < $2", start, end)
    await connection.execute("DELETE FROM dead_letters_seen WHERE failed_at >= $1 AND failed_at < $2", start, end)


def utc(value: datetime) -> str:
    """An instant as FastAPI writes it in JSON (UTC, as PostgreSQL hands it back)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
