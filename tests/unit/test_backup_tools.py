"""Which PostgreSQL tools a backup uses, and how they get the password."""

from pathlib import Path

import pytest

from services.operations.backup import BackupFailed, _connection, find_tool


def test_the_tool_of_the_servers_major_version_is_chosen() -> None:
    chosen = find_tool("pg_dump", 16)  # the development server: the pgserver wheel's PostgreSQL 16
    assert chosen.name == "pg_dump"
    assert Path(chosen).is_file()


def test_no_tool_of_the_servers_version_is_a_failure_that_lists_what_was_found() -> None:
    with pytest.raises(BackupFailed, match=r"no pg_restore of PostgreSQL 99.*\(16\).*postgresql-client-99"):
        find_tool("pg_restore", 99)


def test_the_password_goes_to_the_tool_in_its_environment_not_on_its_command_line() -> None:
    url, env = _connection("postgresql://needs:s%40cret@postgres:5432/needs?sslmode=require")
    assert url == "postgresql://needs@postgres:5432/needs?sslmode=require"
    assert env["PGPASSWORD"] == "s@cret"


def test_a_url_without_a_password_is_passed_as_it_is() -> None:
    url, _ = _connection("postgresql://postgres@/postgres?host=/tmp/pg")
    assert url == "postgresql://postgres@/postgres?host=/tmp/pg"
