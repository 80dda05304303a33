"""Taking from the outbox: what a relay took is hidden from other relays, and stays if its publish fails."""

import uuid

import asyncpg

from services.intake.adapters.database import forget_outbox, take_outbox


async def queue(pool: asyncpg.Pool, count: int) -> list[bytes]:
    """``count`` records on a topic of this test's own, oldest first."""
    topic = f"test.outbox.{uuid.uuid4().hex[:8]}"
    keys = [f"need-{index}".encode() for index in range(count)]
    await pool.executemany(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)", [(topic, key, b"{}") for key in keys]
    )
    return keys


async def outbox_keys(pool: asyncpg.Pool, keys: list[bytes]) -> list[bytes]:
    rows = await pool.fetch("SELECT key FROM outbox WHERE key = ANY($1::bytea[]) ORDER BY id", keys)
    return [row["key"] for row in rows]


async def test_two_relays_take_different_records_and_an_unfinished_take_leaves_them(pool: asyncpg.Pool) -> None:
    await pool.execute("DELETE FROM outbox")  # this test reads the oldest records: there must be no others
    keys = await queue(pool, 5)
    async with pool.acquire() as first, pool.acquire() as second:
        first_transaction = first.transaction()
        await first_transaction.start()
        taken_first = await take_outbox(first, limit=3)
        async with second.transaction():
            taken_second = await take_outbox(second, limit=10)
            await forget_outbox(second, [record.id for record in taken_second])  # its publish was acknowledged
        await first_transaction.rollback()  # as when the broker refused the publish

    assert [record.key for record in taken_first] == keys[:3], "the oldest, in order"
    assert [record.key for record in taken_second] == keys[3:], "the rest: nothing taken twice"
    assert await outbox_keys(pool, keys) == keys[:3], "the second relay's are gone; the first one's are still there"
