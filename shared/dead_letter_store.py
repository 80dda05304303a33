"""Dead letters in PostgreSQL, so operators can list and re-drive them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.contracts.events import DeadLetter
from shared.database import Connection


async def record_dead_letters(connection: Connection, letters: Sequence[DeadLetter]) -> None:
    """Insert dead letters; the same record failing twice in one consumer is kept once."""
    if not letters:
        return
    await connection.executemany(
        """
        INSERT INTO dead_letters (event_id, consumer, source_topic, source_partition,
            source_offset, error, key, original, failed_at, header_names, header_values)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT DO NOTHING
        """,
        [
            (letter.event_id, letter.consumer, letter.source_topic, letter.source_partition,
             letter.source_offset, letter.error, letter.key, letter.original, letter.failed_at,
             [header.name for header in letter.original_headers],
             [header.value for header in letter.original_headers])
            for letter in letters
        ],
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoredDeadLetter:
    """A dead letter as operators see it."""

    event_id: UUID
    consumer: str
    source_topic: str
    source_partition: int
    source_offset: int
    error: str
    key: bytes | None
    original: bytes
    failed_at: datetime
    replayed_at: datetime | None
    header_names: list[str]
    header_values: list[bytes]

    @property
    def original_headers(self) -> tuple[tuple[str, bytes], ...]:
        """The failed record's headers, in their order."""
        return tuple(zip(self.header_names, self.header_values, strict=True))

    def summary(self, *, preview_bytes: int = 200) -> dict[str, object]:
        """A JSON-ready view, with the start of the original message as text."""
        return {
            "id": str(self.event_id),
            "consumer": self.consumer,
            "topic": self.source_topic,
            "partition": self.source_partition,
            "offset": self.source_offset,
            "error": self.error,
            "failed_at": self.failed_at.isoformat(),
            "replayed_at": self.replayed_at.isoformat() if self.replayed_at else None,
            "original": self.original[:preview_bytes].decode("utf-8", errors="replace"),
        }


_COLUMNS = (
    "event_id, consumer, source_topic, source_partition, source_offset, error, key, original, failed_at, replayed_at,"
    " header_names, header_values"
)


async def list_dead_letters(connection: Connection, *, limit: int, include_replayed: bool) -> list[StoredDeadLetter]:
    """The newest dead letters first."""
    rows = await connection.fetch(
        f"SELECT {_COLUMNS} FROM dead_letters WHERE $1 OR replayed_at IS NULL ORDER BY failed_at DESC LIMIT $2",
        include_replayed,
        limit,
    )
    return [StoredDeadLetter(**dict(row)) for row in rows]


async def take_for_replay(connection: Connection, ids: Sequence[UUID] | None) -> list[StoredDeadLetter]:
    """Lock the chosen dead letters (all not yet replayed when ``ids`` is None); call in a transaction."""
    if ids is None:
        rows = await connection.fetch(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE replayed_at IS NULL ORDER BY failed_at FOR UPDATE"
        )
    else:
        rows = await connection.fetch(
            f"SELECT {_COLUMNS} FROM dead_letters WHERE event_id = ANY($1::uuid[]) ORDER BY failed_at FOR UPDATE",
            list(ids),
        )
    return [StoredDeadLetter(**dict(row)) for row in rows]


async def mark_replayed(connection: Connection, ids: Sequence[UUID]) -> None:
    """Remember that these dead letters were sent back to their topics, here and in intake's dashboard copy.

    Only operators replay, as the owner role: no service reads another's dead letters.
    """
    for table in ("platform.dead_letters", "intake.dead_letters_seen"):
        await connection.execute(f"UPDATE {table} SET replayed_at = now() WHERE event_id = ANY($1::uuid[])", list(ids))
