"""The inbox's cases in PostgreSQL: what an office lists and opens, and what officers do to them."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.inbox.domain.cases import OPEN_STATUSES, Case
from shared.contracts.events import (
    TypeAssessment,
)
from shared.contracts.need_types import Agency
from shared.contracts.offices import Office
from shared.contracts.person import Contact
from shared.database import Connection

# Each case with the name of the officer who holds it, and the last service level routing escalated it for.
_CASES = (
    "SELECT c.*, o.name AS holder_name, (SELECT e.detail FROM case_events AS e WHERE e.case_event_id ="
    " c.case_event_id AND e.kind = 'escalated' ORDER BY e.at DESC LIMIT 1) AS escalated"
    " FROM cases AS c LEFT JOIN officers AS o ON o.officer_id = c.holder"
)


def _case(row: asyncpg.Record) -> Case:
    contact = json.loads(row["contact"]) if row["contact"] else None
    return Case(
        case_event_id=row["case_event_id"],
        need_id=row["need_id"],
        agency=Agency(row["agency"]),
        office=Office.parse(row["office"]),
        province_code=row["province_code"],
        district_code=row["district_code"],
        subdistrict_code=row["subdistrict_code"],
        types=tuple(row["types"]),
        assessments=tuple(TypeAssessment.model_validate(item) for item in json.loads(row["assessments"])),
        manual_screening=row["manual_screening"],
        manual_reason=row["manual_reason"],
        description=row["description"],
        volunteer_id=row["volunteer_id"],
        contact=Contact.model_validate(contact) if contact else None,
        submitted_at=row["submitted_at"],
        routed_at=row["routed_at"],
        status=row["status"],
        status_at=row["status_at"],
        holder=row["holder"],
        holder_name=row["holder_name"],
        reported=row["reported_status"],
        escalated=row["escalated"],
    )


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """What an office's list shows: by status, type, overdue only, or only the officer's own."""

    status: str | None = None
    need_type: str | None = None
    holder: UUID | None = None
    manual_only: bool = False


async def escalated_cases_of_province(connection: Connection, province_code: str) -> list[Case]:
    """Every open case of a province routing escalated, whichever office has it: the labour office's follow-up."""
    rows = await connection.fetch(
        f"SELECT * FROM ({_CASES} WHERE c.province_code = $1 AND c.status = ANY($2::text[])) AS found"
        " WHERE escalated IS NOT NULL ORDER BY routed_at LIMIT 1000",
        province_code, list(OPEN_STATUSES),
    )  # fmt: skip
    return [_case(row) for row in rows]


async def province_cases(connection: Connection, office: Office, chosen: CaseFilter) -> list[Case]:
    """The cases of this office's agency in its province that fit the filter.

    The caller keeps those its officer may see (an area office sees only its own), and sorts.
    """
    rows = await connection.fetch(
        f"{_CASES} WHERE c.agency = $1 AND c.province_code = $2 AND ($3::text IS NULL OR c.status = $3)"
        " AND ($4::text IS NULL OR $4 = ANY(c.types)) AND ($5::uuid IS NULL OR c.holder = $5)"
        " AND (NOT $6 OR (c.manual_screening AND c.status = ANY($7::text[])))"
        " ORDER BY c.routed_at LIMIT 1000",
        office.agency.value, office.province_code, chosen.status, chosen.need_type, chosen.holder,
        chosen.manual_only, list(OPEN_STATUSES),
    )  # fmt: skip
    return [_case(row) for row in rows]


@dataclass(frozen=True, slots=True)
class CandidateCorrection:
    """A case an agency reported misrouted, naming where it belongs: a screener confirms or rejects it."""

    case: Case
    reason: str
    reroute_to: str | None
    corrected_types: tuple[str, ...]


async def candidate_corrections(connection: Connection, province_code: str) -> list[CandidateCorrection]:
    """The misrouted reports of a province that wait for a screener's review."""
    rows = await connection.fetch(
        f"{_CASES} WHERE c.province_code = $1 AND c.correction ->> 'review' = 'candidate' ORDER BY c.status_at",
        province_code,
    )
    found = []
    for row in rows:
        correction = json.loads(row["correction"])
        found.append(
            CandidateCorrection(
                _case(row), correction["reason"], correction["reroute_to"], tuple(correction["corrected_types"])
            )
        )
    return found


async def review_correction(connection: Connection, case: Case, *, verdict: str) -> None:
    """The screener's verdict on the case's misrouted report."""
    await connection.execute(
        "UPDATE cases SET correction = jsonb_set(correction, '{review}', to_jsonb($2::text)) WHERE case_event_id = $1",
        case.case_event_id, verdict,
    )  # fmt: skip


async def case_by_id(connection: Connection, case_event_id: UUID) -> Case | None:
    """One case, whoever's it is (the caller checks the office)."""
    row = await connection.fetchrow(
        f"{_CASES} WHERE c.case_event_id = $1",
        case_event_id,
    )
    return None if row is None else _case(row)


async def related_cases(connection: Connection, case: Case) -> list[Case]:
    """The need's other cases the same office may see (e.g. after a misrouted report came back)."""
    rows = await connection.fetch(
        f"{_CASES} WHERE c.need_id = $1 AND c.case_event_id <> $2 ORDER BY c.routed_at",
        case.need_id, case.case_event_id,
    )  # fmt: skip
    return [_case(row) for row in rows]


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One line of a case's timeline."""

    at: datetime
    kind: str
    detail: str


async def timeline(connection: Connection, case_event_id: UUID) -> list[TimelineEntry]:
    """The case's timeline, oldest first."""
    # Routing's answer to a report can bear the report's own time (a screener's decision): it comes after.
    rows = await connection.fetch(
        "SELECT at, kind, detail FROM case_events WHERE case_event_id = $1"
        " ORDER BY at, kind LIKE 'routing:%' OR kind LIKE 'refused:%', kind",
        case_event_id,
    )
    return [TimelineEntry(row["at"], row["kind"], row["detail"]) for row in rows]


async def record_report(
    connection: Connection, case: Case, *, event_id: UUID, status: str, detail: str, at: datetime
) -> None:
    """An officer's report on the case, waiting for routing (the status stays routing's), and a line of its timeline."""
    await connection.execute(
        "UPDATE cases SET reported_status = $2, reported_event = $3, reported_at = $4 WHERE case_event_id = $1",
        case.case_event_id, status, event_id, at,
    )  # fmt: skip
    await add_event(connection, event_id, case.case_event_id, f"status:{status}", detail, at)


async def hold(connection: Connection, case: Case, *, holder: UUID, event_id: UUID, detail: str, at: datetime) -> None:
    """The officer who holds the case now."""
    await connection.execute("UPDATE cases SET holder = $2 WHERE case_event_id = $1", case.case_event_id, holder)
    await add_event(connection, event_id, case.case_event_id, "held", detail, at)


# A line of a case's timeline; news read twice keeps its first line.
_ADD_EVENT = (
    "INSERT INTO case_events (event_id, case_event_id, kind, detail, at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (event_id) DO NOTHING"
)


async def add_event(
    connection: Connection, event_id: UUID, case_event_id: UUID, kind: str, detail: str, at: datetime
) -> bool:
    """Add a line to a case's timeline; whether it is new."""
    added = await connection.fetchval(f"{_ADD_EVENT} RETURNING true", event_id, case_event_id, kind, detail, at)
    return bool(added)


async def add_events(connection: Connection, lines: Sequence[tuple[UUID, UUID, str, str, datetime]]) -> None:
    """Add lines ``(event_id, case_event_id, kind, detail, at)`` to cases' timelines in one statement."""
    await connection.executemany(_ADD_EVENT, lines)
