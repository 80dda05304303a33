"""The HTTP side of access control: who is calling, may they, and not too often."""

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated

import asyncpg
from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.intake.adapters import access_store as store
from services.intake.domain.api_keys import Principal, Role, split_token
from services.intake.domain.rate_limit import RateLimiter


class AccessRefused(Exception):
    """A request refused for who is calling: 401, 403 or 429."""

    def __init__(self, status: int, problem: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(problem)
        self.status = status
        self.problem = problem
        self.headers = headers or {}


def _unauthenticated(problem: str) -> AccessRefused:
    return AccessRefused(401, problem, {"WWW-Authenticate": 'Bearer realm="needs-router"'})


@dataclass
class Gatekeeper:
    """Checks bearer keys against PostgreSQL, remembering answers for ``cache_s``.

    A revoked key stops working within ``cache_s`` seconds; that bounded delay saves a
    database round trip on every request.
    """

    pool: asyncpg.Pool
    limiter: RateLimiter
    cache_s: float = 5.0
    cache_size: int = 10_000
    _known: dict[str, tuple[float, store.StoredKey | None]] = field(default_factory=dict)

    async def principal(self, token: str | None) -> Principal:
        """The caller behind a bearer token, or AccessRefused (401 or 429)."""
        if not token:
            raise _unauthenticated("an Authorization: Bearer <API key> header is required")
        parts = split_token(token.strip())
        if parts is None:
            raise _unauthenticated("the API key is malformed")
        key_id, secret = parts
        now = time.monotonic()
        stored = await self._stored_key(key_id, now)
        if stored is None or not stored.accepts(secret, now=datetime.now(UTC)):
            raise _unauthenticated("the API key is unknown, revoked or expired")
        principal = stored.principal
        wait = self.limiter.retry_after(principal.key_id, now)
        if wait is not None:
            raise AccessRefused(429, "too many requests for this API key", {"Retry-After": str(wait)})
        return principal

    async def _stored_key(self, key_id: str, now: float) -> store.StoredKey | None:
        cached = self._known.get(key_id)
        if cached is None or now - cached[0] > self.cache_s:
            if len(self._known) >= self.cache_size:  # random key ids must not grow memory without bound
                self._known.clear()
            async with self.pool.acquire() as connection:
                cached = (now, await store.find_key(connection, key_id))
            self._known[key_id] = cached
        return cached[1]


# Declares the scheme in the OpenAPI document (so the docs UI can send a key); the gatekeeper,
# not FastAPI, answers a missing or malformed header, with problem details.
_BEARER = HTTPBearer(
    scheme_name="apiKey",
    bearerFormat="nrk_<key id>_<secret>",
    description="An API key from `needs-router keys create`",
    auto_error=False,
)
Credentials = HTTPAuthorizationCredentials | None


def allow(*roles: Role) -> Callable[[Request, Credentials], Awaitable[Principal]]:
    """A FastAPI dependency: the caller, who must have one of ``roles`` (else 403)."""

    async def dependency(request: Request, credentials: Annotated[Credentials, Security(_BEARER)]) -> Principal:
        gatekeeper: Gatekeeper = request.app.state.resources.gatekeeper
        principal = await gatekeeper.principal(credentials.credentials if credentials else None)
        if principal.role not in roles:
            raise AccessRefused(403, f"a {principal.role.value} key may not do this")
        return principal

    return dependency
