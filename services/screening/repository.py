"""Screening's PostgreSQL: one row per screened need, and its dead letters."""

import json
from collections.abc import Awaitable, Sequence
from uuid import UUID

import asyncpg

from shared.contracts.events import DeadLetter, NeedScreened, NeedSubmitted
from shared.database import transaction_committed_after
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
