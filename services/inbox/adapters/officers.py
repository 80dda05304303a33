"""The inbox's officers in PostgreSQL (schema ``inbox``): accounts, one-time links, sessions, failed logins, audit."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.inbox.adapters.passwords import token_hash
from services.inbox.domain.officers import Officer
from shared.contracts.offices import Office
from shared.database import Connection


class OfficerNameTaken(ValueError):
    """Another officer already has that name (names are what officers log in with)."""


class UnknownOfficer(LookupError):
    """No officer of that name or id."""


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in officer's session."""

    officer: Officer
    csrf_token: str


def _officer(row: asyncpg.Record) -> Officer:
    return Officer(
        officer_id=row["officer_id"],
        name=row["name"],
        office=Office.parse(row["office"]),
        screener=row["screener"],
        head=row["head"],
    )


async def audit(connection: Connection, *, officer: Officer, action: str, need_id: UUID | None, **detail: Any) -> None:
    """One line of the audit log, naming the officer."""
    await connection.execute(
        "INSERT INTO audit_log (actor_key_id, actor_role, action, need_id, detail) VALUES ($1, $2, $3, $4, $5)",
        f"officer:{officer.officer_id}", officer.role, f"inbox:{action}", need_id,
        json.dumps({"officer": officer.name, "office": officer.office.name, **detail}, ensure_ascii=False),
    )  # fmt: skip


async def create_officer(connection: Connection, officer: Officer) -> None:
    """Add an officer with no password yet; refuse a name already taken."""
    try:
        await connection.execute(
            "INSERT INTO officers (officer_id, name, office, screener, head) VALUES ($1, $2, $3, $4, $5)",
            officer.officer_id, officer.name, officer.office.name, officer.screener, officer.head,
        )  # fmt: skip
    except asyncpg.UniqueViolationError:
        raise OfficerNameTaken(f"name: an officer named {officer.name!r} exists already") from None


async def officer_named(connection: Connection, name: str) -> tuple[Officer, str | None, bool] | None:
    """The officer of this name, their password hash, and whether they are disabled."""
    row = await connection.fetchrow("SELECT * FROM officers WHERE lower(name) = lower($1)", name)
    return None if row is None else (_officer(row), row["password_hash"], row["disabled_at"] is not None)


async def officers_of(connection: Connection, office: Office) -> list[Officer]:
    """The active officers of one office, by name."""
    rows = await connection.fetch(
        "SELECT * FROM officers WHERE office = $1 AND disabled_at IS NULL ORDER BY name", office.name
    )
    return [_officer(row) for row in rows]


async def add_password_link(connection: Connection, officer_id: UUID, token: str, *, expires_at: datetime) -> None:
    """A one-time link for setting the officer's password."""
    await connection.execute(
        "INSERT INTO password_links (token_hash, officer_id, expires_at) VALUES ($1, $2, $3)",
        token_hash(token), officer_id, expires_at,
    )  # fmt: skip


async def use_password_link(connection: Connection, token: str, *, now: datetime) -> UUID | None:
    """Spend a link still valid; the officer it was for, or None."""
    officer_id: UUID | None = await connection.fetchval(
        "UPDATE password_links AS l SET used_at = $2 FROM officers AS o"
        " WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2"
        " AND o.officer_id = l.officer_id AND o.disabled_at IS NULL RETURNING l.officer_id",
        token_hash(token), now,
    )  # fmt: skip
    return officer_id


async def password_link_valid(connection: Connection, token: str, *, now: datetime) -> bool:
    """Whether the link is unused and unexpired."""
    valid: bool = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM password_links WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2)",
        token_hash(token), now,
    )  # fmt: skip
    return valid


async def set_password_hash(connection: Connection, officer_id: UUID, password_hash: str) -> Officer:
    """Replace the officer's password; their sessions end."""
    row = await connection.fetchrow(
        "UPDATE officers SET password_hash = $2 WHERE officer_id = $1 RETURNING *", officer_id, password_hash
    )
    if row is None:
        raise UnknownOfficer(f"no officer with id {officer_id}")
    await connection.execute("DELETE FROM sessions WHERE officer_id = $1", officer_id)
    return _officer(row)


async def disable_officer(connection: Connection, name: str, *, now: datetime) -> Officer:
    """Disable an officer and end their sessions at once."""
    row = await connection.fetchrow(
        "UPDATE officers SET disabled_at = coalesce(disabled_at, $2) WHERE lower(name) = lower($1) RETURNING *",
        name, now,
    )  # fmt: skip
    if row is None:
        raise UnknownOfficer(f"name: no officer named {name!r}")
    await connection.execute("DELETE FROM sessions WHERE officer_id = $1", row["officer_id"])
    return _officer(row)


async def failed_logins(connection: Connection, *, name: str, address: str, since: datetime) -> int:
    """Failed logins for this name or from this address since then (the more of the two)."""
    count: int = await connection.fetchval(
        "SELECT greatest(count(*) FILTER (WHERE lower(name) = lower($1)), count(*) FILTER (WHERE address = $2))"
        " FROM failed_logins WHERE failed_at > $3",
        name, address, since,
    )  # fmt: skip
    return count


async def record_failed_login(connection: Connection, *, name: str, address: str) -> None:
    """One more failed login."""
    await connection.execute("INSERT INTO failed_logins (name, address) VALUES ($1, $2)", name[:200], address)


async def start_session(
    connection: Connection, officer_id: UUID, token: str, *, csrf_token: str, expires_at: datetime
) -> None:
    """A new session for the officer."""
    await connection.execute(
        "INSERT INTO sessions (token_hash, officer_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
        token_hash(token), officer_id, csrf_token, expires_at,
    )  # fmt: skip


async def session(connection: Connection, token: str, *, now: datetime) -> Session | None:
    """The live session of this token: unexpired, of an officer not disabled."""
    row = await connection.fetchrow(
        "SELECT o.*, s.csrf_token FROM sessions AS s JOIN officers AS o USING (officer_id)"
        " WHERE s.token_hash = $1 AND s.expires_at > $2 AND o.disabled_at IS NULL",
        token_hash(token), now,
    )  # fmt: skip
    return None if row is None else Session(_officer(row), row["csrf_token"])


async def end_session(connection: Connection, token: str) -> None:
    """Log out."""
    await connection.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash(token))
