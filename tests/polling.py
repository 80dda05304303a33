"""Waiting for something asynchronous to become true, in tests, with a bound."""

import asyncio
import time
import urllib.request
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], *, timeout_s: float = 20.0) -> T:
    """Call ``probe`` until ``done`` holds for its result or time runs out; return the last result."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await probe()
        if done(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.05)


def wait_until_ready(url: str, *, timeout_s: float = 60.0) -> None:
    """Block until ``url``/readyz answers 200 (database and broker reachable), or fail the test."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never became ready")
