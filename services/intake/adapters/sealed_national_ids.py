"""The national IDs intake stores sealed, by the id of the key that sealed each, and the retired keys."""

import uuid

import asyncpg

from shared.database import Connection

_BATCH_UNDER_KEY = """
SELECT need_id, national_id_encrypted FROM needs
WHERE national_id_key_id = $1 AND national_id_encrypted IS NOT NULL
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
_RESEAL = """
UPDATE needs AS n SET national_id_encrypted = v.sealed, national_id_key_id = $1
FROM unnest($2::uuid[], $3::bytea[]) AS v(need_id, sealed)
WHERE n.need_id = v.need_id
"""


async def sealed_per_key(connection: Connection) -> dict[str, int]:
    """How many national IDs each key id seals."""
    rows = await connection.fetch(
        "SELECT national_id_key_id, count(*) AS values FROM needs"
        " WHERE national_id_encrypted IS NOT NULL GROUP BY national_id_key_id"
    )
    return {row["national_id_key_id"]: row["values"] for row in rows}


async def sealed_under(connection: Connection, key_id: str) -> int:
    """How many national IDs ``key_id`` seals."""
    count: int = await connection.fetchval(
        "SELECT count(*) FROM needs WHERE national_id_key_id = $1 AND national_id_encrypted IS NOT NULL", key_id
    )
    return count


async def lock_batch_under_key(connection: Connection, key_id: str, *, limit: int) -> list[asyncpg.Record]:
    """At most ``limit`` (need_id, national_id_encrypted) sealed under ``key_id``, locked; held rows are skipped."""
    return list(await connection.fetch(_BATCH_UNDER_KEY, key_id, limit))


async def store_resealed(connection: Connection, key_id: str, need_ids: list[uuid.UUID], sealed: list[bytes]) -> None:
    """Store the values sealed again, each with its need, as sealed under ``key_id``."""
    await connection.execute(_RESEAL, key_id, need_ids, sealed)


async def is_retired(connection: Connection, key_id: str) -> bool:
    """Whether operators retired this key."""
    return bool(await connection.fetchval("SELECT 1 FROM retired_personal_data_keys WHERE key_id = $1", key_id))


async def hold_sealing(connection: Connection) -> None:
    """Until this transaction ends, no intake can seal a value (so no count can go stale)."""
    await connection.execute("LOCK TABLE needs IN SHARE MODE")


async def record_retired(connection: Connection, key_id: str) -> bool:
    """Record ``key_id`` as retired; False if it already was."""
    return bool(
        await connection.fetchval(
            "INSERT INTO retired_personal_data_keys (key_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", key_id
        )
    )
