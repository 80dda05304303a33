"""PostgreSQL: the connection pool and the versioned schema migrations."""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

log = logging.getLogger(__name__)

# What a function that runs SQL accepts: a connection of its own or one lent by a pool.
Connection = asyncpg.Connection | PoolConnectionProxy

# Any constant works; it only has to be the same in every process that migrates.
_MIGRATION_LOCK = 7_255_0001


async def create_pool(database_url: str, *, max_size: int) -> asyncpg.Pool:
    """Open a pool; the caller closes it in its lifespan."""
    # asyncpg's reset on release costs a round trip, but it is also what finds a connection left
    # broken by a database outage and drops it; without it the next request got a 500.
    # A statement that hangs (a database cut off without a reset) times out and is retried
    # like any transient failure, instead of holding its caller for ever.
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=max_size, command_timeout=60)
    assert pool is not None  # asyncpg types the pool as optional
    return pool


@contextlib.asynccontextmanager
async def transaction_committed_after(
    pool: asyncpg.Pool, commit_after: Awaitable[None] | None
) -> AsyncIterator[Connection]:
    """A transaction that commits only once ``commit_after`` is done, and rolls back if it fails.

    The writes inside run while ``commit_after`` (a publish) is still in flight, so a batch
    waits for the slower of the two, not for both one after the other.
    """
    async with pool.acquire() as connection, connection.transaction():
        yield connection
        if commit_after is not None:
            await commit_after


def migration_files() -> list[tuple[int, str, str]]:
    """Every packaged migration as (version, name, SQL), in order."""
    folder = resources.files("shared") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


async def migrate(database_url: str) -> list[str]:
    """Apply the migrations not yet applied, once, even when services start together."""
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["version"] for row in await connection.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in migration_files():
            if version in done:
                continue
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name)
            log.info("applied migration %s", name)
            applied.append(name)
        return applied
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await connection.close()
