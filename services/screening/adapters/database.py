"""Screening's PostgreSQL: one row per screened need, its dead letters, and the shadow model's disagreements."""

import json
from collections.abc import Awaitable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from services.screening.domain.corrections import NO_LABOUR_NEED, Review
from services.screening.domain.shadow import ShadowDisagreement
from shared.contracts.events import CaseUpdated, DeadLetter, NeedScreened, NeedSubmitted, ScreenerDecision
from shared.database import Connection, transaction_committed_after
from shared.dead_letter_store import record_dead_letters


class ScreeningStore:
    """Records screenings; a need screened once is not screened again."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def already_processed(self, events: Sequence[NeedSubmitted]) -> set[UUID]:
        """Event ids of needs that already have a screening."""
        rows = await self._pool.fetch(
            "SELECT need_id FROM screenings WHERE need_id = ANY($1::uuid[])",
            [event.need_id for event in events],
        )
        screened = {row["need_id"] for row in rows}
        return {event.event_id for event in events if event.need_id in screened}

    async def screenings(self, need_ids: Sequence[UUID]) -> list[NeedScreened]:
        """The screening results of these needs, as published."""
        rows = await self._pool.fetch(
            "SELECT event_payload FROM screenings WHERE need_id = ANY($1::uuid[])", list(need_ids)
        )
        return [NeedScreened.model_validate_json(row["event_payload"]) for row in rows]

    async def record(
        self,
        results: Sequence[NeedScreened],
        dead_letters: Sequence[DeadLetter],
        *,
        commit_after: Awaitable[None] | None = None,
    ) -> None:
        """Insert the screenings and dead letters of one batch in one transaction; commit after ``commit_after``."""
        async with transaction_committed_after(self._pool, commit_after) as connection:
            if results:
                await connection.executemany(
                    """
                    INSERT INTO screenings (need_id, event_id, types, language, manual_reason,
                        disagreement, classifier_version, screened_at, event_payload)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                    ON CONFLICT (need_id) DO NOTHING
                    """,
                    [
                        (result.need.need_id, result.event_id,
                         json.dumps([item.model_dump(mode="json") for item in result.types], ensure_ascii=False),
                         result.language, result.manual_reason,
                         [str(need_type) for need_type in result.disagreement],
                         result.classifier_version, result.screened_at, result.model_dump_json().encode())
                        for result in results
                    ],
                )  # fmt: skip
            await record_dead_letters(connection, dead_letters)

    async def record_shadow(
        self, disagreements: Sequence[tuple[UUID, ShadowDisagreement]], *, screened_at: datetime
    ) -> int:
        """Keep where the shadow model disagreed; return how many were new (a need once per shadow version)."""
        rows = await self._pool.fetch(
            """
            INSERT INTO shadow_disagreements (need_id, shadow_version, live_version, live_types, shadow_types,
                screened_at)
            SELECT need_id, shadow_version, live_version, ARRAY(SELECT jsonb_array_elements_text(live_types)),
                ARRAY(SELECT jsonb_array_elements_text(shadow_types)), $6
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[])
                AS d (need_id, shadow_version, live_version, live_types, shadow_types)
            ON CONFLICT (need_id, shadow_version) DO NOTHING
            RETURNING need_id
            """,
            [need_id for need_id, _ in disagreements],
            [d.shadow_version for _, d in disagreements],
            [d.live_version for _, d in disagreements],
            [json.dumps(d.live_types) for _, d in disagreements],
            [json.dumps(d.shadow_types) for _, d in disagreements],
            screened_at,
        )
        return len(rows)


class CorrectionStore:
    """Screening's corrections, one per need and agency that reported it misrouted."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def already_processed(self, events: Sequence[CaseUpdated]) -> set[UUID]:
        """Misrouted reports whose correction is already kept."""
        # Nearly every update is a routed case, never a correction: no round trip for those.
        misrouted = [event for event in events if event.status == "misrouted"]
        if not misrouted:
            return set()
        rows = await self._pool.fetch(
            "SELECT need_id, corrected_by FROM screening_corrections WHERE need_id = ANY($1::uuid[])",
            [event.need_id for event in misrouted],
        )
        kept = {(row["need_id"], row["corrected_by"]) for row in rows}
        return {event.event_id for event in misrouted if (event.need_id, event.agency.value) in kept}

    async def record(
        self,
        results: Sequence[CaseUpdated],
        dead_letters: Sequence[DeadLetter],
        *,
        commit_after: Awaitable[None] | None = None,
    ) -> None:
        """Keep each correction with the need's text and the types screening gave it; commit after ``commit_after``."""
        async with transaction_committed_after(self._pool, commit_after) as connection:
            await connection.executemany(
                """
                INSERT INTO screening_corrections (need_id, corrected_by, description, classified_types,
                    corrected_agency, corrected_types, reason, corrected_at)
                SELECT $1, $2, convert_from(s.event_payload, 'UTF8')::jsonb -> 'need' ->> 'description',
                    ARRAY(SELECT jsonb_array_elements(s.types) ->> 'type'), $3, $4, $5, $6
                FROM screenings AS s WHERE s.need_id = $1
                ON CONFLICT (need_id, corrected_by) DO NOTHING
                """,
                [
                    (update.need_id, update.agency.value,
                     update.reroute_to.value if update.reroute_to else "manual_screening",
                     [str(need_type) for need_type in update.corrected_types], update.reason or "",
                     update.updated_at)
                    for update in results
                ],
            )  # fmt: skip
            await apply_reviews(connection, [update.need_id for update in results])
            await record_dead_letters(connection, dead_letters)


class AppliedScreenerDecision(Protocol):
    """A screener's decision and the manual screening result it became, if any."""

    @property
    def decision(self) -> ScreenerDecision: ...
    @property
    def screened(self) -> NeedScreened | None: ...


class ScreenerDecisionStore:
    """Screeners' decisions: each applied once, kept with its result, and kept as a correction."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def already_processed(self, events: Sequence[ScreenerDecision]) -> set[UUID]:
        """Decisions already applied."""
        rows = await self._pool.fetch(
            "SELECT event_id FROM screener_decisions WHERE event_id = ANY($1::uuid[])",
            [event.event_id for event in events],
        )
        return {row["event_id"] for row in rows}

    async def screened_events(self, event_ids: Sequence[UUID]) -> list[NeedScreened]:
        """The manual screening results these decisions became, as published."""
        rows = await self._pool.fetch(
            "SELECT screened_event FROM screener_decisions WHERE event_id = ANY($1::uuid[])"
            " AND screened_event IS NOT NULL",
            list(event_ids),
        )
        return [NeedScreened.model_validate_json(row["screened_event"]) for row in rows]

    async def record(
        self,
        results: Sequence[AppliedScreenerDecision],
        dead_letters: Sequence[DeadLetter],
        *,
        commit_after: Awaitable[None] | None = None,
    ) -> None:
        """Keep the decisions, their corrections (confirmed by the screener) and reviews; commit after ``commit_after``.

        A review changes the agency's correction it names; a decision's correction is the screener's own.
        """
        decided = [item for item in results if item.screened is not None]
        reviews = [item.decision for item in results if item.screened is None]
        async with transaction_committed_after(self._pool, commit_after) as connection:
            await connection.executemany(
                "INSERT INTO screener_decisions (event_id, need_id, decision, screener, correction_of, screened_event,"
                " decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING",
                [
                    (item.decision.event_id, item.decision.need_id, item.decision.decision, item.decision.screener,
                     item.decision.correction_of.value if item.decision.correction_of else None,
                     item.screened.model_dump_json().encode() if item.screened else None, item.decision.decided_at)
                    for item in results
                ],
            )  # fmt: skip
            await connection.executemany(
                """
                INSERT INTO screening_corrections (need_id, corrected_by, description, classified_types,
                    corrected_agency, corrected_types, reason, corrected_at, review, reviewed_by, reviewed_at)
                SELECT $1, $2, convert_from(s.event_payload, 'UTF8')::jsonb -> 'need' ->> 'description',
                    ARRAY(SELECT jsonb_array_elements(s.types) ->> 'type'), $3, $4, $5, $6, $7, $8, $6
                FROM screenings AS s WHERE s.need_id = $1
                ON CONFLICT (need_id, corrected_by) DO UPDATE SET corrected_agency = EXCLUDED.corrected_agency,
                    corrected_types = EXCLUDED.corrected_types, reason = EXCLUDED.reason,
                    corrected_at = EXCLUDED.corrected_at, review = EXCLUDED.review,
                    reviewed_by = EXCLUDED.reviewed_by, reviewed_at = EXCLUDED.reviewed_at
                """,
                [
                    (d.need_id, f"screener:{d.screener}",
                     "manual_screening" if d.types else NO_LABOUR_NEED, [str(need_type) for need_type in d.types],
                     d.thai_summary or "screened by hand", d.decided_at, Review.CONFIRMED.value, d.screener)
                    for d in (item.decision for item in decided)
                ],
            )  # fmt: skip
            await apply_reviews(connection, [decision.need_id for decision in reviews])
            await record_dead_letters(connection, dead_letters)


async def apply_reviews(connection: Connection, need_ids: Sequence[UUID]) -> None:
    """Screeners' reviews of agencies' corrections, applied whichever of the two arrived first."""
    if not need_ids:
        return
    await connection.execute(
        """
        UPDATE screening_corrections AS c
        SET review = CASE d.decision WHEN 'correction_confirmed' THEN 'confirmed' ELSE 'rejected' END,
            reviewed_by = d.screener, reviewed_at = d.decided_at
        FROM screener_decisions AS d
        WHERE c.need_id = ANY($1::uuid[]) AND d.need_id = c.need_id AND d.correction_of = c.corrected_by
            AND (c.reviewed_at IS NULL OR c.reviewed_at < d.decided_at)
        """,
        list(need_ids),
    )
