"""Routing's PostgreSQL: the routing table and the cases routed."""

import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from services.routing.domain.decide import NeedContact, topic_of
from services.routing.domain.routing_table import RoutingTable
from shared.contracts.events import CaseStatusReport, DeadLetter, NeedScreened, RoutedCase
from shared.contracts.need_types import Agency
from shared.contracts.person import Contact
from shared.database import Connection, transaction_committed_after
from shared.dead_letter_store import record_dead_letters


async def read_routing_table(connection: Connection | asyncpg.Pool) -> RoutingTable:
    """The routing table as stored now."""
    rows = await connection.fetch("SELECT need_type, agency FROM routing_rules")
    return RoutingTable.from_rows({row["need_type"]: row["agency"] for row in rows})


async def set_route(connection: Connection, *, key: str, agency: str) -> None:
    """Change one row of the routing table; routing services pick it up within their refresh time."""
    await connection.execute(
        "INSERT INTO routing_rules (need_type, agency) VALUES ($1, $2)"
        " ON CONFLICT (need_type) DO UPDATE SET agency = EXCLUDED.agency, updated_at = now()",
        key, agency,
    )  # fmt: skip


class RoutingStore:
    """Reads the routing table (re-read every few seconds) and records routed cases."""

    def __init__(self, pool: asyncpg.Pool, *, refresh_s: float) -> None:
        self._pool = pool
        self._refresh_s = refresh_s
        self._table: RoutingTable | None = None
        self._read_at = 0.0

    async def routing_table(self) -> RoutingTable:
        """The table, at most ``refresh_s`` old: operators change it without a release."""
        if self._table is None or time.monotonic() - self._read_at > self._refresh_s:
            self._table = await read_routing_table(self._pool)
            self._read_at = time.monotonic()
        return self._table

    async def contacts(self, need_ids: Sequence[UUID]) -> dict[UUID, NeedContact]:
        """Who reported each need and the person's contact (national ID masked), from intake's records."""
        rows = await self._pool.fetch(
            "SELECT need_id, volunteer_id, consent_to_share, person_name, person_phone, national_id_masked"
            " FROM need_contacts WHERE need_id = ANY($1::uuid[])",
            list(need_ids),
        )
        return {row["need_id"]: _need_contact(row) for row in rows}

    async def already_processed(self, events: Sequence[NeedScreened]) -> set[UUID]:
        """Event ids of screenings whose need was already routed."""
        rows = await self._pool.fetch(
            "SELECT DISTINCT need_id FROM routed_cases WHERE need_id = ANY($1::uuid[])",
            [event.need.need_id for event in events],
        )
        routed = {row["need_id"] for row in rows}
        return {event.event_id for event in events if event.need.need_id in routed}

    async def record(
        self,
        results: Sequence[RoutedCase],
        dead_letters: Sequence[DeadLetter],
        *,
        commit_after: Awaitable[None] | None = None,
    ) -> None:
        """Insert the routed cases and dead letters of one batch in one transaction; commit after ``commit_after``."""
        async with transaction_committed_after(self._pool, commit_after) as connection:
            await _insert_routed_cases(connection, results)
            await record_dead_letters(connection, dead_letters)


async def _insert_routed_cases(connection: Connection, cases: Sequence[RoutedCase]) -> None:
    if not cases:
        return
    await connection.executemany(
        """
        INSERT INTO routed_cases (event_id, need_id, agency, province_code, topic, types, manual_screening, routed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (event_id) DO NOTHING
        """,
        [
            (case.event_id, case.need_id, case.agency.value, case.province_code, topic_of(case),
             [str(need_type) for need_type in case.types], case.manual_screening, case.routed_at)
            for case in cases
        ],
    )  # fmt: skip


def _need_contact(row: asyncpg.Record) -> NeedContact:
    has_contact = row["person_name"] or row["person_phone"] or row["national_id_masked"]
    return NeedContact(
        volunteer_id=row["volunteer_id"],
        consent_to_share=row["consent_to_share"],
        contact=Contact(
            name=row["person_name"], phone=row["person_phone"], national_id_masked=row["national_id_masked"]
        )
        if has_contact
        else None,
    )


@dataclass(frozen=True, slots=True)
class StatusChanges:
    """What one batch of agency reports changed: the reports, and the cases forwarded again."""

    reports: list[CaseStatusReport]
    rerouted: list[RoutedCase]


class StatusStore:
    """Case states, agencies' reports and the corrections they imply, in PostgreSQL."""

    def __init__(self, pool: asyncpg.Pool, routing: RoutingStore) -> None:
        self._pool = pool
        self.routing = routing

    async def case_states(self, need_ids: Sequence[UUID]) -> dict[tuple[UUID, Agency], str]:
        """Where each routed case of these needs stands, by (need, agency)."""
        rows = await self._pool.fetch(
            "SELECT need_id, agency, status FROM routed_cases WHERE need_id = ANY($1::uuid[])", list(need_ids)
        )
        return {(row["need_id"], Agency(row["agency"])): row["status"] for row in rows}

    async def screenings(self, need_ids: Sequence[UUID]) -> dict[UUID, NeedScreened]:
        """The screening results of these needs, as published."""
        rows = await self._pool.fetch(
            "SELECT need_id, event_payload FROM screenings WHERE need_id = ANY($1::uuid[])", list(need_ids)
        )
        return {row["need_id"]: NeedScreened.model_validate_json(row["event_payload"]) for row in rows}

    async def already_processed(self, events: Sequence[CaseStatusReport]) -> set[UUID]:
        """Reports already recorded."""
        rows = await self._pool.fetch(
            "SELECT event_id FROM case_status_history WHERE event_id = ANY($1::uuid[])",
            [event.event_id for event in events],
        )
        return {row["event_id"] for row in rows}

    async def record(
        self,
        results: Sequence[StatusChanges],
        dead_letters: Sequence[DeadLetter],
        *,
        commit_after: Awaitable[None] | None = None,
    ) -> None:
        """Record reports, new case states, re-routed cases and corrections in one transaction.

        It commits after ``commit_after``.
        """
        reports = [report for changes in results for report in changes.reports]
        rerouted = [case for changes in results for case in changes.rerouted]
        async with transaction_committed_after(self._pool, commit_after) as connection:
            await connection.executemany(
                """
                INSERT INTO case_status_history (event_id, need_id, agency, status, note, outcome, reason,
                    reroute_to, reported_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (event_id) DO NOTHING
                """,
                [
                    (r.event_id, r.need_id, r.agency.value, r.status, r.note, r.outcome, r.reason,
                     r.reroute_to.value if r.reroute_to else None, r.at)
                    for r in reports
                ],
            )  # fmt: skip
            await connection.executemany(
                """
                UPDATE routed_cases SET status = $3, status_at = $4,
                    accepted_at = CASE WHEN $3 = 'accepted' THEN $4 ELSE accepted_at END,
                    resolved_at = CASE WHEN $3 = 'resolved' THEN $4 ELSE resolved_at END
                WHERE need_id = $1 AND agency = $2
                """,
                [(r.need_id, r.agency.value, r.status, r.at) for r in reports],
            )
            await _insert_routed_cases(connection, rerouted)
            await connection.executemany(
                """
                INSERT INTO screening_corrections (need_id, corrected_by, description, classified_types,
                    corrected_agency, corrected_types, reason, corrected_at)
                SELECT $1, $2, convert_from(s.event_payload, 'UTF8')::jsonb -> 'need' ->> 'description',
                    ARRAY(SELECT jsonb_array_elements(s.types) ->> 'type'), $3, $6, $4, $5
                FROM screenings s WHERE s.need_id = $1
                ON CONFLICT (need_id, corrected_by) DO NOTHING
                """,
                [
                    (r.need_id, r.agency.value, (r.reroute_to.value if r.reroute_to else "manual_screening"),
                     r.reason or r.note, r.at, [str(t) for t in r.corrected_types])
                    for r in reports
                    if r.status == "misrouted"
                ],
            )  # fmt: skip
            await record_dead_letters(connection, dead_letters)
