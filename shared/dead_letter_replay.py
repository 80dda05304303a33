"""Operators re-drive dead letters after a fix: each goes back to the topic it came from."""

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from shared.database import create_pool
from shared.dead_letter_store import mark_replayed, take_for_replay
from shared.kafka import RawMessage, create_broker, publish_all
from shared.settings import InfrastructureSettings


async def replay_dead_letters(settings: InfrastructureSettings, ids: Sequence[UUID] | None) -> list[UUID]:
    """Publish the original bytes and headers of the chosen dead letters to their source topics; return their ids.

    The headers go back as they came, so the replayed record keeps its trace and its ``ce_id``.

    A letter is marked replayed only after the broker acknowledged it; one that fails again
    comes back as a new dead letter (it has a new offset).
    """
    pool: asyncpg.Pool = await create_pool(settings.database_url, max_size=1)
    broker = create_broker(settings, client_id="dlq-replay")
    await broker.connect()
    try:
        async with pool.acquire() as connection, connection.transaction():
            letters = await take_for_replay(connection, ids)
            await publish_all(
                broker,
                [
                    RawMessage(
                        topic=letter.source_topic,
                        key=letter.key or b"",
                        value=letter.original,
                        raw_headers=letter.original_headers,
                        correlation_id=str(letter.event_id),
                    )
                    for letter in letters
                ],
            )
            await mark_replayed(connection, [letter.event_id for letter in letters])
    finally:
        await broker.stop()
        await pool.close()
    return [letter.event_id for letter in letters]
