"""Dead letters in PostgreSQL, so operators can list and re-drive them."""

from collections.abc import Sequence

from shared.contracts.events import DeadLetter
from shared.database import Connection


async def record_dead_letters(connection: Connection, letters: Sequence[DeadLetter]) -> None:
    """Insert dead letters; the same record failing twice in one consumer is kept once."""
    if not letters:
        return
    await connection.executemany(
        """
        INSERT INTO dead_letters (event_id, consumer, source_topic, source_partition,
            source_offset, error, original, failed_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT DO NOTHING
        """,
        [
            (letter.event_id, letter.consumer, letter.source_topic, letter.source_partition,
             letter.source_offset, letter.error, letter.original, letter.failed_at)
            for letter in letters
        ],
    )  # fmt: skip
