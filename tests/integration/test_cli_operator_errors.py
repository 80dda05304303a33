"""The operator's commands, run as the installed `needs-router`, against a broker or database that does not answer.

Each must end with exit code 2 and one line on stderr naming what it could not reach, never a traceback;
and with the session's real broker and PostgreSQL the same commands get through.
"""

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import pytest

from shared.embedded import free_port
from shared.settings import InfrastructureSettings
from tests.infrastructure import Infrastructure

NEEDS_ROUTER = str(Path(sys.executable).parent / "needs-router")
NEED = str(uuid.uuid4())
DATABASE_COMMANDS = [
    ["migrate"],
    ["routes", "list"],
    ["routes", "set", "jobs", "doe"],
    ["dlq", "list"],
    ["keys", "create", "--role", "admin"],
    ["keys", "revoke", "k_nothing"],
    ["audit", "--need", NEED],
    ["eval-export"],
    ["up"],
]
BROKER_COMMANDS = [["create-topics"], ["agency", "listen", "--agency", "doe"], ["dlq", "replay"]]


def run_cli(*argv: str, **environment: str) -> subprocess.CompletedProcess[str]:
    """The installed command with only these infrastructure variables set."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("KAFKA_", "DATABASE_"))}
    return subprocess.run(
        [NEEDS_ROUTER, *argv], env={**env, **environment}, capture_output=True, text=True, timeout=120, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], starts: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(starts), result.stderr


@pytest.mark.parametrize("command", DATABASE_COMMANDS, ids=" ".join)
def test_a_database_that_refuses_connections_is_one_line(command: list[str]) -> None:
    port = free_port()
    result = run_cli(*command, DATABASE_URL=f"postgresql://needs@127.0.0.1:{port}/needs", DATABASE_PASSWORD="s3cret")
    assert_one_line_error(result, f"needs-router: cannot reach the database at 127.0.0.1:{port}/needs (DATABASE_URL): ")
    assert "s3cret" not in result.stderr


def test_a_database_host_that_does_not_exist_is_one_line() -> None:
    result = run_cli("routes", "list", DATABASE_URL="postgresql://needs@no-such-host.invalid/needs")
    assert_one_line_error(
        result, "needs-router: cannot reach the database at no-such-host.invalid/needs (DATABASE_URL): "
    )


def test_a_database_that_does_not_exist_on_a_server_that_answers_is_one_line(settings: InfrastructureSettings) -> None:
    missing = f"nothing_{uuid.uuid4().hex[:8]}"
    result = run_cli(
        "audit", "--need", NEED, DATABASE_URL=urlsplit(settings.database_url)._replace(path=f"/{missing}").geturl()
    )
    assert_one_line_error(result, "needs-router: cannot reach the database at ")
    assert result.stderr.endswith(f'(DATABASE_URL): database "{missing}" does not exist\n'), result.stderr


@pytest.mark.parametrize("command", BROKER_COMMANDS, ids=" ".join)
def test_a_broker_that_refuses_connections_is_one_line(command: list[str], infrastructure: Infrastructure) -> None:
    port = free_port()
    # dlq replay reads the database first: give it the real one, so that only the broker is missing.
    result = run_cli(*command, KAFKA_BOOTSTRAP_SERVERS=f"127.0.0.1:{port}", DATABASE_URL=infrastructure.database_url)
    assert_one_line_error(
        result,
        f"needs-router: cannot reach the broker at 127.0.0.1:{port} (KAFKA_BOOTSTRAP_SERVERS): no broker answered",
    )


def test_the_same_commands_get_through_to_a_broker_and_database_that_answer(
    settings: InfrastructureSettings, infrastructure: Infrastructure
) -> None:
    reachable = {
        "KAFKA_BOOTSTRAP_SERVERS": infrastructure.kafka_bootstrap_servers,
        "DATABASE_URL": settings.database_url,
    }
    for command in (["create-topics"], ["routes", "list"], ["dlq", "list", "--limit", "1"], ["audit", "--need", NEED]):
        result = run_cli(*command, **reachable)
        assert (result.returncode, result.stderr) == (0, ""), command


def test_an_export_to_a_folder_that_does_not_exist_is_one_line(
    settings: InfrastructureSettings, tmp_path: Path
) -> None:
    out = tmp_path / "missing" / "corrections.jsonl"
    result = run_cli("eval-export", "--out", str(out), DATABASE_URL=settings.database_url)
    assert_one_line_error(result, f"needs-router: cannot write {out}: No such file or directory")


async def test_a_password_with_url_characters_reaches_postgresql(settings: InfrastructureSettings) -> None:
    # PostgreSQL here may trust local connections without checking passwords; what this proves
    # in any case is that no character of the password changes the URL's user, host or database.
    role, password = f"operator_{uuid.uuid4().hex[:8]}", "p@ss:/w?#rd%41 ไทย"
    admin = await asyncpg.connect(settings.database_url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        parts = urlsplit(settings.database_url)
        without_credentials = parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}").geturl()
        url = InfrastructureSettings(database_url=without_credentials, database_password=password).database_url
        connection = await asyncpg.connect(url)
        try:
            assert await connection.fetchval("SELECT current_user") == role
        finally:
            await connection.close()
    finally:
        await admin.execute(f"DROP ROLE {role}")
        await admin.close()
