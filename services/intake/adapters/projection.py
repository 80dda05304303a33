"""Intake's own copy of what screening and routing did with its needs, written from their events.

Each write is idempotent (an event already projected changes nothing), so a batch read again
after a crash, or an event published again by a re-drive, leaves the copy as it was.
"""

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Generic, TypeVar

import asyncpg

from services.intake.adapters.need_clusters import record_clusters
from shared.contracts.events import CaseUpdated, DeadLetter, Event, NeedScreened
from shared.contracts.need_types import Agency
from shared.database import Connection, transaction_committed_after
from shared.dead_letter_store import record_dead_letters

E = TypeVar("E", bound=Event)
Write = Callable[[Connection, Sequence[E]], Awaitable[None]]


class ProjectionStore(Generic[E]):
    """Where one topic's events are projected, in one transaction with the event ids projected."""

    def __init__(self, pool: asyncpg.Pool, write: Write[E]) -> None:
        self._pool = pool
        self._write = write

    async def already_processed(self, events: Sequence[E]) -> set[uuid.UUID]:
        """Event ids already projected."""
        rows = await self._pool.fetch(
            "SELECT event_id FROM projected_events WHERE event_id = ANY($1::uuid[])", [e.event_id for e in events]
        )
        return {row["event_id"] for row in rows}

    async def record(
        self, results: Sequence[E], dead_letters: Sequence[DeadLetter], *, commit_after: Awaitable[None] | None = None
    ) -> None:
        """Project the events and remember their ids; commits after ``commit_after``."""
        async with transaction_committed_after(self._pool, commit_after) as connection:
            if results:
                await self._write(connection, results)
                await connection.executemany(
                    "INSERT INTO projected_events (event_id) VALUES ($1) ON CONFLICT (event_id) DO NOTHING",
                    [(event.event_id,) for event in results],
                )
            await record_dead_letters(connection, dead_letters)


async def forget_projected_events(connection: Connection, *, before: datetime, limit: int) -> int:
    """Forget at most ``limit`` ids of events projected before ``before``; return how many.

    Forgetting an id does not make its event count twice: every write above is also keyed by the
    event's own id (or its need's), so an event read again after its id is gone changes nothing.
    The ids are the quick check, kept longer than the topics keep their records.
    """
    deleted = await connection.fetchval(
        """
        WITH old AS (
            SELECT event_id FROM projected_events WHERE projected_at < $1
            ORDER BY projected_at LIMIT $2 FOR UPDATE SKIP LOCKED
        ), gone AS (DELETE FROM projected_events WHERE event_id IN (SELECT event_id FROM old) RETURNING 1)
        SELECT count(*) FROM gone
        """,
        before,
        limit,
    )
    return int(deleted)


async def project_screenings(connection: Connection, screenings: Sequence[NeedScreened]) -> None:
    """Each need's screening result; the first one kept, as screening keeps it."""
    await connection.executemany(
        """
        INSERT INTO screening_results (need_id, event_id, types, language, manual_reason, disagreement,
            classifier_version, screened_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (need_id) DO NOTHING
        """,
        [
            (s.need.need_id, s.event_id, _types_json(s), s.language, s.manual_reason,
             [str(need_type) for need_type in s.disagreement], s.classifier_version, s.screened_at)
            for s in screenings
        ],
    )  # fmt: skip


def _types_json(screened: NeedScreened) -> str:
    return json.dumps([assessment.model_dump(mode="json") for assessment in screened.types], ensure_ascii=False)


async def project_case_updates(connection: Connection, updates: Sequence[CaseUpdated]) -> None:
    """Cases routed (with their clusters of related needs), agencies' reports routing accepted,
    escalations: in the order routing made them."""
    # One need's updates come in order on one partition; keep that order. Routed updates that
    # follow each other are independent rows, written with one statement for each table: a
    # statement per update made a batch of 20 wait for 40 round trips.
    for routed, following in itertools.groupby(updates, key=lambda update: update.change == "routed"):
        if routed:
            await _routed(connection, list(following))
            continue
        for update in following:
            if update.change == "status":
                await _status(connection, update)
            else:
                await connection.execute(
                    "UPDATE need_cases SET escalated = array_append(escalated, $3)"
                    " WHERE need_id = $1 AND agency = $2 AND NOT $3 = ANY(escalated)",
                    update.need_id, update.agency.value, update.overdue,
                )  # fmt: skip


async def _routed(connection: Connection, updates: Sequence[CaseUpdated]) -> None:
    rows = []
    for update in updates:
        assert update.topic is not None  # CaseUpdated refuses a routed update without it
        # An update from before province_code was carried names it in its topic (agency.<agency>.<province>).
        province = update.province_code or update.topic.split(".")[2]
        rows.append((
            update.case_event_id, update.need_id, update.agency.value, province, update.topic,
            [str(need_type) for need_type in update.types], update.manual_screening, update.updated_at,
        ))  # fmt: skip
    await connection.executemany(
        """
        INSERT INTO need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening, routed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING
        """,
        rows,
    )
    await record_clusters(connection, updates)


async def _status(connection: Connection, update: CaseUpdated) -> None:
    # For a misrouted report the update's reason is the report's reason, or else its note.
    reason = update.reason if update.reason != update.note else None
    # A report already in the copy (read again, or built by migration 0013) must not set its case
    # back to where it stood then: its status was applied when it was new.
    new = await connection.fetchval(
        """
        INSERT INTO case_reports (event_id, need_id, agency, status, note, outcome, reason, reroute_to, reported_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING RETURNING true
        """,
        update.report_event_id or update.event_id, update.need_id, update.agency.value, update.status, update.note,
        update.outcome, reason, update.reroute_to.value if update.reroute_to else None, update.updated_at,
    )  # fmt: skip
    if not new:
        return
    # The report's case is the agency's latest; routing's close of a manual-screening case is that
    # case, even when the screener's decision has already routed the need to the same agency again.
    await connection.execute(
        """
        UPDATE need_cases SET status = $3, status_at = $4,
            accepted_at = CASE WHEN $3 = 'accepted' THEN $4 ELSE accepted_at END,
            resolved_at = CASE WHEN $3 = 'resolved' THEN $4 ELSE resolved_at END
        WHERE event_id = (
            SELECT event_id FROM need_cases WHERE need_id = $1 AND agency = $2 AND (manual_screening OR NOT $5)
            ORDER BY routed_at DESC LIMIT 1
        )
        """,
        update.need_id, update.agency.value, update.status, update.updated_at, update.manual_screening,
    )  # fmt: skip


async def project_dead_letters(connection: Connection, letters: Sequence[DeadLetter]) -> None:
    """Every dead letter a consumer published, for the dashboard."""
    await connection.executemany(
        "INSERT INTO dead_letters_seen (event_id, consumer, source_topic, error, failed_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (event_id) DO NOTHING",
        [(letter.event_id, letter.consumer, letter.source_topic, letter.error, letter.failed_at) for letter in letters],
    )


async def wait_for_case(pool: asyncpg.Pool, need_id: uuid.UUID, agency: Agency, *, within_s: float) -> None:
    """Wait, at most ``within_s``, while intake's copy may not yet have this agency's case of a need.

    Routing publishes a case to its agency and tells intake in the same batch, but intake's copy
    can be a moment behind the agency: a caller who just read the case must not be told it is not
    theirs. The copy is behind only while the need has no case yet, or one was sent back
    (misrouted) and its next agency is not known yet; otherwise this returns at once.
    """
    deadline = time.monotonic() + within_s
    while not await pool.fetchval(_CASE_KNOWN_OR_SETTLED, need_id, agency.value):
        if time.monotonic() >= deadline:
            return
        await asyncio.sleep(_POLL_S)


_CASE_KNOWN_OR_SETTLED = """
SELECT NOT EXISTS (SELECT 1 FROM needs WHERE need_id = $1)
    OR EXISTS (SELECT 1 FROM need_cases WHERE need_id = $1 AND agency = $2)
    OR (EXISTS (SELECT 1 FROM need_cases WHERE need_id = $1)
        AND NOT EXISTS (SELECT 1 FROM need_cases WHERE need_id = $1 AND status = 'misrouted'))
"""
_POLL_S = 0.05
