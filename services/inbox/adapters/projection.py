"""The inbox's copy of the cases, kept from the agency topics and routing's ``cases.updated.v1``."""

import itertools
import json
import uuid
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from services.inbox.adapters.cases import add_event, add_events
from services.inbox.domain.cases import OPEN_STATUSES, advances, refusal
from shared.contracts.events import (
    CaseEscalated,
    CaseUpdated,
    DeadLetter,
    PersonalDataErased,
    RoutedCase,
)
from shared.contracts.offices import Office
from shared.database import Connection, transaction_committed_after
from shared.dead_letter_store import record_dead_letters


class LearntNews(Protocol):
    """One piece of news about a case, with the office whose queue carried it (None for routing's updates)."""

    @property
    def news(self) -> RoutedCase | PersonalDataErased | CaseEscalated | CaseUpdated: ...
    @property
    def office(self) -> Office | None: ...


class CaseProjection:
    """The inbox's copy of the cases, kept from the agency topics and ``cases.updated.v1``."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def already_processed(self, events: Sequence[Any]) -> set[UUID]:
        """News already applied: each leaves a line in a case's timeline under its own id."""
        rows = await self._pool.fetch(
            "SELECT event_id FROM case_events WHERE event_id = ANY($1::uuid[])", [event.event_id for event in events]
        )
        return {row["event_id"] for row in rows}

    async def record(
        self, results: Sequence[LearntNews], dead_letters: Sequence[DeadLetter], *, commit_after: Awaitable[None] | None
    ) -> None:
        """Apply the batch's news in order, in one transaction; commit after ``commit_after``."""
        async with transaction_committed_after(self._pool, commit_after) as connection:
            # Cases that follow each other are added together: three statements for any number,
            # where a statement each took three round trips a case.
            for are_cases, following in itertools.groupby(
                results, key=lambda learnt: isinstance(learnt.news, RoutedCase)
            ):
                if are_cases:
                    await _add_cases(connection, list(following))
                    continue
                for learnt in following:
                    news = learnt.news
                    if isinstance(news, PersonalDataErased):
                        await _erase(connection, news)
                    elif isinstance(news, CaseEscalated):
                        await _escalated(connection, news)
                    elif isinstance(news, CaseUpdated) and news.change == "status" and news.status is not None:
                        await _status(connection, news)
            await record_dead_letters(connection, dead_letters)


async def _add_cases(connection: Connection, routed: Sequence[LearntNews]) -> None:
    """The cases, each with its "routed" line, and the news read before them (another topic) moved onto them."""
    cases: list[tuple[RoutedCase, Office]] = []
    for learnt in routed:
        case = learnt.news
        assert isinstance(case, RoutedCase)  # record() groups the cases
        cases.append((case, learnt.office or Office(case.agency, case.province_code)))
    await connection.executemany(
        """
        INSERT INTO cases (case_event_id, need_id, agency, office, province_code, district_code, subdistrict_code,
            types, assessments, manual_screening, manual_reason, description, volunteer_id, contact, submitted_at,
            routed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
        ON CONFLICT (case_event_id) DO NOTHING
        """,
        [
            (case.event_id, case.need_id, case.agency.value, office.name, case.province_code, case.district_code,
             case.subdistrict_code, [need_type.value for need_type in case.types],
             json.dumps([item.model_dump(mode="json") for item in case.assessments], ensure_ascii=False),
             case.manual_screening, case.manual_reason, case.description, case.volunteer_id,
             case.contact.model_dump_json() if case.contact else None, case.submitted_at, case.routed_at)
            for case, office in cases
        ],
    )  # fmt: skip
    await add_events(
        connection, [(case.event_id, case.event_id, "routed", office.name, case.routed_at) for case, office in cases]
    )
    # News waiting for a need's case at an agency goes to the first of the batch's cases that it
    # followed, as it would case by case.
    awaited = await connection.fetch(
        """
        UPDATE case_events SET case_event_id = moved.case_event_id
        FROM (
            SELECT DISTINCT ON (waiting.event_id) waiting.event_id, arrived.case_event_id
            FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) WITH ORDINALITY
                AS arrived(case_event_id, awaited, routed_at, position)
            JOIN case_events waiting ON waiting.case_event_id = arrived.awaited AND waiting.at >= arrived.routed_at
            ORDER BY waiting.event_id, arrived.position
        ) AS moved
        WHERE case_events.event_id = moved.event_id
        RETURNING moved.case_event_id, case_events.kind, case_events.at
        """,
        [case.event_id for case, _ in cases], [_awaited_case(case.need_id, case.agency.value) for case, _ in cases],
        [case.routed_at for case, _ in cases],
    )  # fmt: skip
    status = {case.event_id: "routed" for case, _ in cases}
    for waited in sorted(awaited, key=lambda row: row["at"]):
        if waited["kind"].startswith("routing:"):
            case_event_id = waited["case_event_id"]
            reported = waited["kind"].removeprefix("routing:")
            status[case_event_id] = await _move_on(
                connection, case_event_id, status[case_event_id], reported, waited["at"]
            )


async def _erase(connection: Connection, erased: PersonalDataErased) -> None:
    rows = await connection.fetch(
        "UPDATE cases SET volunteer_id = NULL, contact = NULL WHERE need_id = $1 AND agency = $2"
        " RETURNING case_event_id",
        erased.need_id, erased.agency.value,
    )  # fmt: skip
    for row in rows:
        await add_event(connection, erased.event_id, row["case_event_id"], "erased", "", erased.erased_at)


async def _escalated(connection: Connection, escalation: CaseEscalated) -> None:
    row = await _case_at(connection, escalation.need_id, escalation.agency.value)
    # Read before the case itself (another topic): kept, and found when the case arrives.
    case_event_id = _awaited_case(escalation.need_id, escalation.agency.value) if row is None else row["case_event_id"]
    await add_event(
        connection, escalation.event_id, case_event_id, "escalated", escalation.overdue, escalation.escalated_at
    )


async def _case_at(
    connection: Connection, need_id: UUID, agency: str, *, manual_screening: bool = False
) -> asyncpg.Record | None:
    """The need's case at the agency: the open one, else the latest; its manual-screening case if asked for."""
    row: asyncpg.Record | None = await connection.fetchrow(
        "SELECT case_event_id, status, reported_status, reported_event, reported_at FROM cases"
        " WHERE need_id = $1 AND agency = $2 AND (manual_screening OR NOT $4)"
        " ORDER BY status = ANY($3::text[]) DESC, routed_at DESC LIMIT 1",
        need_id, agency, list(OPEN_STATUSES), manual_screening,
    )  # fmt: skip
    return row


_AWAITED = uuid.UUID("e5a1c3d7-9b2f-4c68-8a40-1f3d5b7e9c02")


def _awaited_case(need_id: UUID, agency: str) -> UUID:
    """Where news of a case not yet read waits: a key of its need and agency."""
    return uuid.uuid5(_AWAITED, f"{need_id}:{agency}")


async def _move_on(connection: Connection, case_event_id: UUID, current: str, reported: str, at: datetime) -> str:
    """Move the case to the reported status if that advances it; the status it has now."""
    if not advances(current, reported):
        return current
    await connection.execute(
        "UPDATE cases SET status = $2, status_at = $3 WHERE case_event_id = $1", case_event_id, reported, at
    )
    return reported


async def _status(connection: Connection, update: CaseUpdated) -> None:
    assert update.status is not None
    # A screener's decision closes the manual-screening case, not the case it may have just routed
    # to the same agency (the labour office's own types), which is read first when in the same batch.
    row = await _case_at(connection, update.need_id, update.agency.value, manual_screening=update.manual_screening)
    detail = update.reason or ""
    if update.reroute_to is not None:
        detail += f" → {update.reroute_to.value}"
    if update.corrected_types:
        detail += f" ({', '.join(update.corrected_types)})"
    kind = f"routing:{update.status}"
    if row is None:
        # Read before the case itself (another topic): kept, and applied when the case arrives.
        await add_event(connection, update.event_id, _awaited_case(update.need_id, update.agency.value), kind,
                         detail, update.updated_at)  # fmt: skip
        return
    await add_event(connection, update.event_id, row["case_event_id"], kind, detail, update.updated_at)
    status = await _move_on(connection, row["case_event_id"], row["status"], update.status, update.updated_at)
    if row["reported_status"] is not None:
        await _settle_report(connection, row, update, status=status)
    if update.status == "misrouted" and (update.reroute_to is not None or update.corrected_types):
        correction = {
            "reason": update.reason or "", "reroute_to": update.reroute_to.value if update.reroute_to else None,
            "corrected_types": [need_type.value for need_type in update.corrected_types], "review": "candidate",
        }  # fmt: skip
        await connection.execute(
            "UPDATE cases SET correction = coalesce(correction, $2::jsonb) WHERE case_event_id = $1",
            row["case_event_id"], json.dumps(correction),
        )  # fmt: skip


_REFUSED = uuid.UUID("3c8e2a91-5d47-4b6f-a0e3-7f19c4d2b865")


async def _settle_report(connection: Connection, row: asyncpg.Record, update: CaseUpdated, *, status: str) -> None:
    """An officer's report waiting for routing: confirmed by this update, refused by it, or still waiting.

    Routing's own update (no report, e.g. the close of a need screened by hand) confirms a
    report of the same status.
    """
    waiting = row["reported_status"]
    confirmed = update.report_event_id == row["reported_event"] or (
        update.report_event_id is None and update.status == waiting
    )
    refused = None if confirmed else refusal(status, waiting, agency=update.agency.value)
    if not confirmed and refused is None:
        return
    await connection.execute(
        "UPDATE cases SET reported_status = NULL, reported_event = NULL, reported_at = NULL WHERE case_event_id = $1",
        row["case_event_id"],
    )
    if refused is not None:
        # Told after the report it refuses, even when routing's winning report was made before it.
        await add_event(
            connection, uuid.uuid5(_REFUSED, str(row["reported_event"])), row["case_event_id"],
            f"refused:{waiting}", refused, max(update.updated_at, row["reported_at"]),
        )  # fmt: skip
