"""PostgreSQL: the connection pool and the versioned schema migrations."""

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Mapping
from importlib import resources

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from shared.contracts.need_types import Agency, CaseState, NeedType, Term

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


async def migrate(database_url: str, *, role_passwords: Mapping[str, str] | None = None) -> list[str]:
    """Apply the migrations not yet applied, once, even when services start together.

    Then give each service's login role its grants and, where set, its password
    (``role_passwords``: role name to password).
    """
    connection = await asyncpg.connect(database_url)
    try:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS public.schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {row["version"] for row in await connection.fetch("SELECT version FROM public.schema_migrations")}
        applied = []
        for version, name, sql in migration_files():
            if version in done:
                continue
            async with connection.transaction():
                await connection.execute(sql)
                await connection.execute(
                    "INSERT INTO public.schema_migrations (version, name) VALUES ($1, $2)", version, name
                )
            log.info("applied migration %s", name)
            applied.append(name)
        await _follow_vocabulary(connection)
        async with connection.transaction():
            await connection.execute((resources.files("shared") / "service_roles.sql").read_text(encoding="utf-8"))
            for role, password in (role_passwords or {}).items():
                # DDL takes no parameters; format() quotes both as PostgreSQL would.
                statement = await connection.fetchval(
                    "SELECT format('ALTER ROLE %I PASSWORD %L', $1, $2)", role, password
                )
                await connection.execute(statement)
        return applied
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
        await connection.close()


# Columns that hold a code of the vocabulary: their CHECK constraints list the codes of need_types.py.
_CODE_COLUMNS: tuple[tuple[str, str, str, type[Term]], ...] = (
    ("routing", "routing_rules", "agency", Agency),
    ("intake", "api_keys", "agency", Agency),
    ("routing", "routed_cases", "status", CaseState),
)


async def _follow_vocabulary(connection: asyncpg.Connection) -> None:
    """Make the database accept exactly the vocabulary's codes, and route each need type at least by default.

    A code added to shared/contracts/need_types.py needs no migration of its own: this runs
    after every migrate. Operators' routing rules are kept; only missing ones get the default.
    """
    for schema, table, column, term in _CODE_COLUMNS:
        await _derive_check(connection, schema, table, column, {member.value for member in term})
    await connection.executemany(
        "INSERT INTO routing.routing_rules (need_type, agency) VALUES ($1, $2)"
        " ON CONFLICT ON CONSTRAINT routing_rules_one_per_place DO NOTHING",
        [(need_type.value, need_type.default_agency.value) for need_type in NeedType],
    )


async def _derive_check(connection: asyncpg.Connection, schema: str, table: str, column: str, codes: set[str]) -> None:
    name = f"{table}_{column}_check"
    qualified = f"{schema}.{table}"
    current = await connection.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass",
        name, qualified,
    )  # fmt: skip
    if current is not None and set(re.findall(r"'((?:[^']|'')*)'", current)) == {
        code.replace("'", "''") for code in codes
    }:
        return
    listed = ", ".join("'" + code.replace("'", "''") + "'" for code in sorted(codes))
    async with connection.transaction():
        # NOT VALID then VALIDATE: existing rows are checked without blocking writers for the scan.
        await connection.execute(
            f"ALTER TABLE {qualified} DROP CONSTRAINT IF EXISTS {name},"
            f" ADD CONSTRAINT {name} CHECK ({column} IN ({listed})) NOT VALID"
        )
    await connection.execute(f"ALTER TABLE {qualified} VALIDATE CONSTRAINT {name}")
    log.info("%s.%s now accepts: %s", qualified, column, listed)
