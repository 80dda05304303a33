"""Backup and restore of the one durable store, with PostgreSQL's own tools (``pg_dump -Fc``, ``pg_restore``).

pg_dump takes one snapshot in one transaction, so the archive is consistent while the services
run. The tools must be of the server's major version: an older pg_dump refuses a newer server,
and pg_restore of an archive made by a newer one fails. Several copies may be installed (the
pgserver wheel's, Debian's postgresql-client), so the one that matches is looked for.
"""

import asyncio
import glob
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import asyncpg

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")
_USER_RELATIONS = """
SELECT n.nspname || '.' || c.relname AS relation FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'
  AND n.nspname NOT LIKE 'pg\\_temp%'
ORDER BY 1 LIMIT 5
"""


class BackupFailed(RuntimeError):
    """A backup or restore could not be made; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Done:
    """What a backup or restore did, for the operator."""

    path: Path
    size_bytes: int
    tool: Path
    server_version: str
    needs: int


def _tool_folders() -> list[Path]:
    folders = [Path(os.environ["PG_BIN_DIR"])] if os.environ.get("PG_BIN_DIR") else []
    try:
        import pgserver  # the [embedded] extra; absent in containers

        folders.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    except ImportError:
        pass
    on_path = shutil.which("pg_dump")
    if on_path:
        folders.append(Path(on_path).parent)
    folders.extend(Path(folder) for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True))
    return folders


def _major_version(tool: Path) -> int | None:
    try:
        printed = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(printed)
    return int(found.group(1)) if found else None


def find_tool(name: str, server_major: int) -> Path:
    """The ``pg_dump`` or ``pg_restore`` of the server's major version, or a failure listing what there is."""
    seen: dict[Path, int | None] = {}
    for folder in _tool_folders():
        tool = folder / name
        if tool.is_file() and tool not in seen:
            seen[tool] = _major_version(tool)
            if seen[tool] == server_major:
                return tool
    found = ", ".join(f"{tool} ({major or 'unknown version'})" for tool, major in seen.items()) or "none"
    raise BackupFailed(
        f"no {name} of PostgreSQL {server_major}, the server's version (found: {found}); install "
        f"postgresql-client-{server_major} or set PG_BIN_DIR to the folder of that version's tools"
    )


def _connection(database_url: str) -> tuple[str, dict[str, str]]:
    """The URL for a PostgreSQL tool without its password, and the environment that carries it."""
    parts = urlsplit(database_url)
    env = dict(os.environ)
    if parts.password is None:
        return database_url, env
    env["PGPASSWORD"] = unquote(parts.password)
    host = parts.netloc.rpartition("@")[2]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}@{host}" if user else host)), env


def _run(command: list[str | Path], env: dict[str, str], *, what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise BackupFailed(f"{what} failed ({done.returncode}): {done.stderr.strip()}")


def _server(database_url: str) -> tuple[int, str, int, list[str]]:
    """The server's major version and full version, the needs in the database, and a few of its relations."""
    return asyncio.run(_inspect(database_url))


async def _inspect(database_url: str) -> tuple[int, str, int, list[str]]:
    connection = await asyncpg.connect(database_url)
    try:
        version_number = int(await connection.fetchval("SHOW server_version_num"))
        version = str(await connection.fetchval("SHOW server_version"))
        relations = [row["relation"] for row in await connection.fetch(_USER_RELATIONS)]
        has_needs = await connection.fetchval("SELECT to_regclass('intake.needs') IS NOT NULL")
        needs = int(await connection.fetchval("SELECT count(*) FROM intake.needs")) if has_needs else 0
    finally:
        await connection.close()
    return version_number // 10000, version, needs, relations


def backup(database_url: str, path: Path) -> Done:
    """Write a custom-format archive of the database to ``path``; it appears only once complete and readable."""
    if path.exists():
        raise BackupFailed(f"{path} exists: a backup never replaces another; give a new name")
    major, version, needs, _ = _server(database_url)
    pg_dump, pg_restore = find_tool("pg_dump", major), find_tool("pg_restore", major)
    url, env = _connection(database_url)
    partial = path.with_name(path.name + ".partial")
    try:
        _run([pg_dump, "--format=custom", f"--file={partial}", f"--dbname={url}"], env, what="pg_dump")
        _run([pg_restore, "--list", partial], env, what="reading the archive back (pg_restore --list)")
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return Done(path, path.stat().st_size, pg_dump, version, needs)


def restore(database_url: str, path: Path) -> Done:
    """Restore an archive made by ``backup`` into an empty database, all or nothing."""
    if not path.is_file():
        raise BackupFailed(f"no backup at {path}")
    major, version, _, relations = _server(database_url)
    if relations:
        raise BackupFailed(
            f"the database is not empty (it has {', '.join(relations)}, ...): restore only into an empty "
            "database (createdb a new one, or start PostgreSQL on an empty volume), never over live data"
        )
    pg_restore = find_tool("pg_restore", major)
    url, env = _connection(database_url)
    _run([pg_restore, "--exit-on-error", "--single-transaction", "--no-owner", "--no-privileges",
          f"--dbname={url}", path], env, what="pg_restore")  # fmt: skip
    _, _, needs, _ = _server(database_url)
    return Done(path, path.stat().st_size, pg_restore, version, needs)
