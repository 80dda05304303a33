"""Officers' accounts: created by an operator, a password set through a one-time link, logged in and out, disabled."""

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from services.inbox.adapters import officers as officer_store
from services.inbox.adapters.passwords import hash_password, new_token, password_matches
from services.inbox.domain.officers import Officer, check_password
from shared.contracts.offices import Office

PASSWORD_LINK_VALID_FOR = timedelta(hours=24)
_MAX_NAME_CHARS = 200


class LinkNotValid(LookupError):
    """A password link that was used, expired or never made."""


class LoginRefused(PermissionError):
    """Wrong name or password, or a disabled officer: the same answer for each."""


class TooManyFailedLogins(PermissionError):
    """Too many failed logins for this name or from this address, recently."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after_s // 60 + 1} minutes")
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, slots=True)
class LoginLimits:
    """How many failed logins are allowed per name and per address within the window."""

    allowed: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class NewSession:
    """The cookie's token and the session's CSRF token."""

    token: str
    csrf_token: str


def login_url(base_url: str, token: str) -> str:
    """The one-time link an officer opens to set their password."""
    return f"{base_url}/inbox/welcome/{token}"


async def create_officer(
    *, name: str, office: Office, screener: bool, head: bool, base_url: str, now: datetime, pool: asyncpg.Pool
) -> tuple[Officer, str]:
    """A new officer and their one-time link for setting a password (valid 24 hours)."""
    name = name.strip()
    if not name or len(name) > _MAX_NAME_CHARS:
        raise ValueError(f"name: give the officer's name (1 to {_MAX_NAME_CHARS} characters)")
    officer = Officer(uuid.uuid4(), name, office, screener=screener, head=head)
    token = new_token()
    async with pool.acquire() as connection, connection.transaction():
        await officer_store.create_officer(connection, officer)
        await officer_store.add_password_link(
            connection, officer.officer_id, token, expires_at=now + PASSWORD_LINK_VALID_FOR
        )
        await officer_store.audit(connection, officer=officer, action="officer_created", need_id=None)
    return officer, login_url(base_url, token)


async def new_password_link(*, name: str, base_url: str, now: datetime, pool: asyncpg.Pool) -> str:
    """Another one-time link for an officer who lost their password."""
    async with pool.acquire() as connection, connection.transaction():
        found = await officer_store.officer_named(connection, name)
        if found is None or found[2]:
            raise officer_store.UnknownOfficer(f"name: no active officer named {name!r}")
        token = new_token()
        await officer_store.add_password_link(
            connection, found[0].officer_id, token, expires_at=now + PASSWORD_LINK_VALID_FOR
        )
        await officer_store.audit(connection, officer=found[0], action="password_link", need_id=None)
    return login_url(base_url, token)


async def link_valid(*, token: str, now: datetime, pool: asyncpg.Pool) -> bool:
    """Whether the link may still set a password."""
    async with pool.acquire() as connection:
        return await officer_store.password_link_valid(connection, token, now=now)


async def set_password(*, token: str, password: str, now: datetime, pool: asyncpg.Pool) -> None:
    """Spend the link on a new password (argon2id); the officer's sessions end."""
    check_password(password)
    hashed = hash_password(password)
    async with pool.acquire() as connection, connection.transaction():
        officer_id = await officer_store.use_password_link(connection, token, now=now)
        if officer_id is None:
            raise LinkNotValid("this link was used or has expired; ask for a new one")
        officer = await officer_store.set_password_hash(connection, officer_id, hashed)
        await officer_store.audit(connection, officer=officer, action="password_set", need_id=None)


async def log_in(
    *, name: str, password: str, address: str, limits: LoginLimits, session_for: timedelta, now: datetime,
    pool: asyncpg.Pool,
) -> NewSession:  # fmt: skip
    """A session for the right name and password, unless too many logins failed lately."""
    async with pool.acquire() as connection:
        failures = await officer_store.failed_logins(connection, name=name, address=address, since=now - limits.window)
        if failures >= limits.allowed:
            raise TooManyFailedLogins(int(limits.window.total_seconds()))
        found = await officer_store.officer_named(connection, name)
        stored_hash = found[1] if found else None
        if not password_matches(stored_hash, password) or found is None or found[2]:
            await officer_store.record_failed_login(connection, name=name, address=address)
            raise LoginRefused("wrong name or password")
        session = NewSession(new_token(), secrets.token_urlsafe(32))
        async with connection.transaction():
            await officer_store.start_session(
                connection, found[0].officer_id, session.token, csrf_token=session.csrf_token,
                expires_at=now + session_for,
            )  # fmt: skip
            await officer_store.audit(connection, officer=found[0], action="login", need_id=None, address=address)
    return session


async def log_out(*, token: str, officer: Officer, pool: asyncpg.Pool) -> None:
    """End this session."""
    async with pool.acquire() as connection, connection.transaction():
        await officer_store.end_session(connection, token)
        await officer_store.audit(connection, officer=officer, action="logout", need_id=None)


async def disable_officer(*, name: str, now: datetime, pool: asyncpg.Pool) -> Officer:
    """Disable an officer; their sessions end at once."""
    async with pool.acquire() as connection, connection.transaction():
        officer = await officer_store.disable_officer(connection, name, now=now)
        await officer_store.audit(connection, officer=officer, action="officer_disabled", need_id=None)
    return officer


async def current_session(*, token: str, now: datetime, pool: asyncpg.Pool) -> officer_store.Session | None:
    """The session behind a cookie, if it is still live."""
    async with pool.acquire() as connection:
        return await officer_store.session(connection, token, now=now)
