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

    Any failure backs off and tries again; none ends the loop.
    """
    failures = 0
    while True:
        try:
            result = await job()
        except Exception as error:
            # Nothing may end this loop (a stopped re-drive or timer fails silently); transient
            # failures are expected, anything else is logged loudly and tried again.
            failures += 1
            unexpected = not isinstance(error, TRANSIENT_ERRORS)
            log.log(logging.ERROR if unexpected else logging.WARNING,
                    "%s could not run (%r)", what, error, exc_info=unexpected)  # fmt: skip
            await asyncio.sleep(backoff_delay(failures))
            continue
        failures = 0
        if then is not None:
            then(result)
        await asyncio.sleep(interval_s)
