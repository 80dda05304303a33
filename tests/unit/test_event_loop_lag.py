"""The event-loop watcher: a loop held by synchronous work is recorded, and a long stall is logged."""

import asyncio
import contextlib
import logging
import time

import pytest
from prometheus_client import REGISTRY

from shared.event_loop_lag import LOGGED_STALL_S, watch_event_loop


def hold_the_loop(seconds: float) -> None:
    """Synchronous work, as a long step of a handler would be: nothing else on the loop runs meanwhile."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        pass


def observed() -> tuple[float, float]:
    """How many lateness samples were recorded so far, and how many of them were 100 ms or more."""
    count = REGISTRY.get_sample_value("needs_router_event_loop_lag_seconds_count") or 0.0
    quick = REGISTRY.get_sample_value("needs_router_event_loop_lag_seconds_bucket", {"le": "0.05"}) or 0.0
    return count, count - quick


async def test_a_loop_held_by_synchronous_work_is_recorded_and_a_long_stall_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    count_before, slow_before = observed()
    watcher = asyncio.create_task(watch_event_loop(every_s=0.005))
    await asyncio.sleep(0.05)  # the watcher's first sleeps end on time
    with caplog.at_level(logging.WARNING, logger="shared.event_loop_lag"):
        hold_the_loop(LOGGED_STALL_S + 0.05)
        await asyncio.sleep(0.05)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher

    count_after, slow_after = observed()
    assert count_after - count_before >= 5, "one sample per wake-up"
    assert slow_after - slow_before == 1, "exactly the one stall was late by more than 50 ms"
    assert [record.getMessage() for record in caplog.records if "stalled" in record.getMessage()] != []
