"""Re-sealing national IDs under the current personal-data key, and retiring the old keys.

Rotation runs while the services run: small transactions that lock only the rows they re-seal
(``FOR UPDATE SKIP LOCKED``), each committed on its own, so a crash loses at most one batch's
work and running it again carries on where it stopped.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from services.intake.adapters import access_store as store
from services.intake.adapters import sealed_national_ids as sealed
from services.intake.adapters.personal_data import PersonalDataCipher
from shared.database import Connection

# Rows another transaction holds (an erasure, say) are skipped; this is how often to come back for them.
_LOCKED_ROW_RETRIES = 20
_LOCKED_ROW_WAIT_S = 0.25


class RotationRefused(RuntimeError):
    """Rotation cannot start: a key it needs is missing, or the sealing key is retired."""


class KeyStillNeeded(RuntimeError):
    """A key cannot be retired: values are still sealed under it."""


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the re-sealing of one old key's values has gone."""

    key_id: str
    resealed: int
    to_reseal: int


async def check_sealing_key(connection: Connection, cipher: PersonalDataCipher) -> None:
    """Refuse a sealing key that was retired: what it sealed would need a key operators threw away."""
    if await sealed.is_retired(connection, cipher.current_key_id):
        raise RotationRefused(f"PERSONAL_DATA_KEY: key {cipher.current_key_id!r} is retired; put the current key first")


async def refuse_a_retired_sealing_key(database_url: str, cipher: PersonalDataCipher) -> None:
    """At start-up: an intake whose first key is retired must not start (its writes would all fail)."""
    connection = await asyncpg.connect(database_url)
    try:
        await check_sealing_key(connection, cipher)
    finally:
        await connection.close()


async def rotate_personal_data(
    pool: asyncpg.Pool, cipher: PersonalDataCipher, *, batch_size: int, progress: Callable[[Progress], None]
) -> dict[str, int]:
    """Re-seal every national ID not under the current key; return what each key still seals."""
    async with pool.acquire() as connection:
        await check_sealing_key(connection, cipher)
        before = await sealed.sealed_per_key(connection)
        missing = sorted(set(before) - cipher.key_ids)
        if missing:
            raise RotationRefused(
                f"PERSONAL_DATA_KEY lacks key(s) {', '.join(missing)}, under which national IDs are sealed"
            )
        old = {key_id: count for key_id, count in before.items() if key_id != cipher.current_key_id}
        await store.audit(connection, actor=None, action="personal_data_rotation_started", need_id=None,
                          detail={"to_key": cipher.current_key_id, "sealed_per_key": before})  # fmt: skip
    for key_id, to_reseal in old.items():
        await _reseal_key(pool, cipher, key_id, to_reseal, batch_size=batch_size, progress=progress)
    async with pool.acquire() as connection:
        after = await sealed.sealed_per_key(connection)
        await store.audit(connection, actor=None, action="personal_data_rotation_finished", need_id=None,
                          detail={"to_key": cipher.current_key_id, "sealed_per_key": after})  # fmt: skip
    return after


async def _reseal_key(
    pool: asyncpg.Pool,
    cipher: PersonalDataCipher,
    key_id: str,
    to_reseal: int,
    *,
    batch_size: int,
    progress: Callable[[Progress], None],
) -> None:
    resealed = 0
    locked_retries = 0
    while True:
        done = await _reseal_batch(pool, cipher, key_id, batch_size)
        resealed += done
        if done:
            progress(Progress(key_id, resealed, max(to_reseal, resealed)))
            continue
        async with pool.acquire() as connection:
            still_there = await sealed.sealed_under(connection, key_id)
        if not still_there or locked_retries >= _LOCKED_ROW_RETRIES:
            return
        locked_retries += 1
        await asyncio.sleep(_LOCKED_ROW_WAIT_S)


async def _reseal_batch(pool: asyncpg.Pool, cipher: PersonalDataCipher, key_id: str, batch_size: int) -> int:
    async with pool.acquire() as connection, connection.transaction():
        rows = await sealed.lock_batch_under_key(connection, key_id, limit=batch_size)
        if not rows:
            return 0
        need_ids = [row["need_id"] for row in rows]
        resealed = [
            cipher.seal(cipher.open(row["national_id_encrypted"], key_id=key_id, need_id=row["need_id"]),
                        need_id=row["need_id"]).value
            for row in rows
        ]  # fmt: skip
        await sealed.store_resealed(connection, cipher.current_key_id, need_ids, resealed)
    return len(rows)


async def retire_key(database_url: str, key_id: str, *, sealing_key_id: str) -> bool:
    """Record that ``key_id`` is no longer needed; False if it already was retired.

    The needs table is locked against writes for the count (an index lookup), so no intake
    still sealing with the key can slip a value in between the count and the retirement.
    """
    if key_id == sealing_key_id:
        raise KeyStillNeeded(f"key {key_id!r} seals new values (it is first in PERSONAL_DATA_KEY)")
    connection = await asyncpg.connect(database_url)
    try:
        async with connection.transaction():
            await sealed.hold_sealing(connection)
            still_sealed = await sealed.sealed_under(connection, key_id)
            if still_sealed:
                raise KeyStillNeeded(
                    f"{still_sealed} national IDs are still sealed under key {key_id!r}: run "
                    "`needs-router keys rotate-personal-data` once every intake seals with the new key"
                )
            retired = await sealed.record_retired(connection, key_id)
            if retired:
                await store.audit(connection, actor=None, action="retire_personal_data_key", need_id=None,
                                  detail={"key_id": key_id})  # fmt: skip
    finally:
        await connection.close()
    return retired
