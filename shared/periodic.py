"""Jobs that run every so often for the life of a service: sweeps, timers, re-drives."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from shared.retry import TRANSIENT_ERRORS, backoff_delay

log = logging.getLogger(__name__)

T = TypeVar("T")


async def every(
    interval_s: float, job: Callable[[], Awaitable[T]], *, what: str, then: Callable[[T], None] | None = None
) -> None:
    """Run ``job`` every ``interval_s`` until cancelled, handing each result to ``then``.

    A transient failure (database or broker away) backs off and tries again; it never ends the loop.
    """
    failures = 0
    while True:
        try:
            result = await job()
        except TRANSIENT_ERRORS as error:
            failures += 1
            log.warning("%s could not run (%r)", what, error)
            await asyncio.sleep(backoff_delay(failures))
            continue
        failures = 0
        if then is not None:
            then(result)
        await asyncio.sleep(interval_s)
