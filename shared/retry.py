"""Retrying work that fails for a passing reason: capped exponential backoff with jitter."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiokafka.errors import KafkaError

log = logging.getLogger(__name__)

T = TypeVar("T")

TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    KafkaError,
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    # Class 57: the server is shutting down, crashed, or not accepting connections yet. A
    # PostgreSQL restart raises AdminShutdownError on open connections: not a bug, a wait.
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
)


def backoff_delay(attempt: int, *, base: float = 0.1, cap: float = 10.0) -> float:
    """Full-jitter delay before retry number ``attempt`` (1-based)."""
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


async def retry_transient(operation: Callable[[], Awaitable[T]], *, what: str) -> T:
    """Run ``operation`` until it succeeds, waiting between transient failures.

    A consumer must not skip a batch because the broker or database blinked: it keeps the
    batch (and so the partition order) and tries again; a process stop cancels the wait.
    """
    attempt = 0
    while True:
        try:
            return await operation()
        except TRANSIENT_ERRORS as error:
            attempt += 1
            delay = backoff_delay(attempt)
            log.warning("%s failed (%r); retry %d in %.2fs", what, error, attempt, delay)
            await asyncio.sleep(delay)
