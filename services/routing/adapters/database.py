"""Routing's PostgreSQL: the routing table and the cases routed."""

import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from services.routing.domain.case_updates import screened_by_hand_outcome
from services.routing.domain.decide import NeedContact, topic_of
from services.routing.domain.routed import Routed
from services.routing.domain.routing_table import RoutingRule, RoutingTable
from shared.contracts.events import CaseStatusReport, CaseUpdated, DeadLetter, NeedScreened, RoutedCase
from shared.contracts.need_types import Agency
from shared.contracts.person import Contact
from shared.database import Connection, transaction_committed_after
from shared.dead_letter_store import record_dead_letters

_RULES = (
    "SELECT need_type, agency, office, province_code, district_code FROM routing_rules"
    " ORDER BY need_type, province_code NULLS FIRST, district_code NULLS FIRST"
)


async def read_rules(connection: Connection | asyncpg.Pool, *, lock: bool = False) -> list[RoutingRule]:
    """The routing table's rules as stored now (``lock``: FOR UPDATE, inside a transaction)."""
    rows = await connection.fetch(_RULES + (" FOR UPDATE" if lock else ""))
    return [
        RoutingRule(row["need_type"], row["office"] or row["agency"], row["province_code"], row["district_code"])
        for row in rows
    ]


async def read_routing_table(connection: Connection | asyncpg.Pool) -> RoutingTable:
    """The routing table as stored now."""
    return RoutingTable.from_rules(await read_rules(connection))


async def set_rule(connection: Connection, rule: RoutingRule) -> None:
    """Add or change the rule for one type at one place; routing services pick it up within their refresh time."""
    agency, _, _ = rule.target.partition(".")
    office = rule.target if "." in rule.target else None
    await connection.execute(
        "INSERT INTO routing_rules (need_type, agency, office, province_code, district_code)"
        " VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT ON CONSTRAINT routing_rules_one_per_place"
        " DO UPDATE SET agency = EXCLUDED.agency, office = EXCLUDED.office, updated_at = now()",
        rule.key, agency, office, rule.province_code, rule.district_code,
    )  # fmt: skip


async def delete_rule(connection: Connection, rule: RoutingRule) -> bool:
    """Remove the rule for one type at one place; False if there was none."""
    result: str = await connection.execute(
        "DELETE FROM routing_rules WHERE need_type = $1"
        " AND province_code IS NOT DISTINCT FROM $2 AND district_code IS NOT DISTINCT FROM $3",
        rule.key, rule.province_code, rule.district_code,
    )  # fmt: skip
    return result.endswith(" 1")


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
        """Who reported each need and, where the person consented, their contact (national ID masked).

        Through intake's interface ``intake.consented_contacts`` (migration 0013): routing may call
        it but may not read intake's tables, and a contact not consented never leaves intake.
        """
        rows = await self._pool.fetch(
            "SELECT need_id, volunteer_id, consent_to_share, person_name, person_phone, national_id_masked"
            " FROM intake.consented_contacts($1::uuid[])",
            list(need_ids),
        )
        return {row["need_id"]: _need_contact(row) for row in rows}

    async def already_processed(self, events: Sequence[NeedScreened]) -> set[UUID]:
        """Event ids of screenings whose need was already routed; a screener's decision, once it was routed."""
        rows = await self._pool.fetch(
            "SELECT DISTINCT need_id FROM routed_cases WHERE need_id = ANY($1::uuid[])",
            [event.need.need_id for event in events],
        )
        routed = {row["need_id"] for row in rows}
        decisions = await self._pool.fetch(
            "SELECT event_id FROM manual_screenings WHERE event_id = ANY($1::uuid[])",
            [event.event_id for event in events if event.screened_by is not None],
        )
        decided = {row["event_id"] for row in decisions}
        return {
            event.event_id
            for event in events
            if (event.event_id in decided if event.screened_by is not None else event.need.need_id in routed)
        }

    async def open_case_agencies(self, need_ids: Sequence[UUID]) -> dict[UUID, set[Agency]]:
        """The agencies holding an open case of each need, other than its manual screening."""
        rows = await self._pool.fetch(
            "SELECT need_id, agency FROM routed_cases WHERE need_id = ANY($1::uuid[]) AND NOT manual_screening"
            " AND status IN ('routed', 'accepted', 'in_progress')",
            list(need_ids),
        )
        holding: dict[UUID, set[Agency]] = {}
        for row in rows:
            holding.setdefault(row["need_id"], set()).add(Agency(row["agency"]))
        return holding

    async def routed_updates(self, need_ids: Sequence[UUID]) -> list[CaseUpdated]:
        """The routing decisions stored for these needs, as first published on ``cases.updated.v1``."""
        rows = await self._pool.fetch(
            "SELECT event_id, need_id, agency, province_code, topic, types, manual_screening, routed_at"
            " FROM routed_cases WHERE need_id = ANY($1::uuid[]) ORDER BY routed_at",
            list(need_ids),
        )
        return [
            CaseUpdated(
                event_id=CaseUpdated.id_for("routed", row["event_id"]),
                change="routed",
                need_id=row["need_id"],
                agency=Agency(row["agency"]),
                updated_at=row["routed_at"],
                case_event_id=row["event_id"],
                topic=row["topic"],
                province_code=row["province_code"],
                types=tuple(row["types"]),
                manual_screening=row["manual_screening"],
            )
            for row in rows
        ]

    async def record(
        self,
        results: Sequence[Routed],
        dead_letters: Sequence[DeadLetter],
        *,
        commit_after: Awaitable[None] | None = None,
    ) -> None:
        """Insert the screened needs, their cases and the dead letters of one batch in one transaction.

        It commits after ``commit_after``.
        """
        async with transaction_committed_after(self._pool, commit_after) as connection:
            # Routing keeps the screening it routed from: a case sent back is routed again from it.
            await connection.executemany(
                "INSERT INTO screened_needs (need_id, event_payload) VALUES ($1, $2) ON CONFLICT (need_id) DO NOTHING",
                [(routed.screened.need.need_id, routed.screened.model_dump_json().encode()) for routed in results],
            )
            await _close_manual_cases(connection, [routed.screened for routed in results if routed.by_hand])
            await _insert_routed_cases(connection, [case for routed in results for case in routed.cases])
            await record_dead_letters(connection, dead_letters)


async def _close_manual_cases(connection: Connection, decisions: Sequence[NeedScreened]) -> None:
    """A screener decided: the need's open manual-screening cases are resolved, and it is routed from the decision."""
    if not decisions:
        return
    await connection.executemany(
        "INSERT INTO manual_screenings (event_id, need_id, screened_by, routed_at) VALUES ($1, $2, $3, now())"
        " ON CONFLICT (event_id) DO NOTHING",
        [(screened.event_id, screened.need.need_id, screened.screened_by) for screened in decisions],
    )
    # A misrouted report routes the need again from the screening routing keeps: the screener's now.
    await connection.executemany(
        "UPDATE screened_needs SET event_payload = $2 WHERE need_id = $1",
        [(screened.need.need_id, screened.model_dump_json().encode()) for screened in decisions],
    )
    await connection.executemany(
        """
        WITH closed AS (
            UPDATE routed_cases SET status = 'resolved', status_at = $3, resolved_at = $3
            WHERE need_id = $1 AND manual_screening AND status IN ('routed', 'accepted', 'in_progress')
            RETURNING agency
        )
        INSERT INTO case_status_history (event_id, need_id, agency, status, outcome, reported_at)
        SELECT $2, $1, agency, 'resolved', $4, $3 FROM closed LIMIT 1
        ON CONFLICT (event_id) DO NOTHING
        """,
        [
            (screened.need.need_id, screened.event_id, screened.screened_at, screened_by_hand_outcome(screened))
            for screened in decisions
        ],
    )


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
        # A need may hold a closed case and an open one at the same agency (a manual-screening case a
        # screener closed, and the case the decision routed there): the open one is where it stands.
        rows = await self._pool.fetch(
            "SELECT need_id, agency, status FROM routed_cases WHERE need_id = ANY($1::uuid[])"
            " ORDER BY status IN ('routed', 'accepted', 'in_progress'), routed_at",
            list(need_ids),
        )
        return {(row["need_id"], Agency(row["agency"])): row["status"] for row in rows}

    async def screenings(self, need_ids: Sequence[UUID]) -> dict[UUID, NeedScreened]:
        """The screening results of these needs, as published."""
        rows = await self._pool.fetch(
            "SELECT need_id, event_payload FROM screened_needs WHERE need_id = ANY($1::uuid[])", list(need_ids)
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
        """Record reports, new case states and re-routed cases in one transaction.

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
                WHERE event_id = (SELECT event_id FROM routed_cases WHERE need_id = $1 AND agency = $2
                                  ORDER BY status IN ('routed', 'accepted', 'in_progress') DESC, routed_at DESC
                                  LIMIT 1)
                """,
                [(r.need_id, r.agency.value, r.status, r.at) for r in reports],
            )
            await _insert_routed_cases(connection, rerouted)
            await record_dead_letters(connection, dead_letters)


_OPEN_CASES_PAST_A_LEVEL = """
SELECT event_id, need_id, agency, province_code, status, routed_at, escalated FROM routed_cases
WHERE status IN ('routed', 'accepted', 'in_progress')
  AND ((status = 'routed' AND routed_at < $1 AND NOT 'not_accepted' = ANY(escalated))
       OR (routed_at < $2 AND NOT 'not_resolved' = ANY(escalated)))
ORDER BY routed_at
LIMIT $3
FOR UPDATE SKIP LOCKED
"""


async def open_cases_past_a_level(
    connection: Connection, *, routed_before: datetime, resolve_by: datetime, limit: int
) -> list[asyncpg.Record]:
    """Open cases not accepted though routed before ``routed_before``, or not resolved though routed
    before ``resolve_by``, not escalated for that yet; locked, so that replicas share the work."""
    return list(await connection.fetch(_OPEN_CASES_PAST_A_LEVEL, routed_before, resolve_by, limit))


async def mark_escalated(connection: Connection, escalations: Sequence[tuple[UUID, Agency, str]]) -> None:
    """Record each (need, agency, overdue kind) as escalated, so it is escalated once."""
    await connection.executemany(
        "UPDATE routed_cases SET escalated = array_append(escalated, $3) WHERE need_id = $1 AND agency = $2",
        [(need_id, agency.value, kind) for need_id, agency, kind in escalations],
    )
