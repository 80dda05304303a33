import asyncio
import contextlib

import asyncpg

from shared.periodic import every
from shared.retry import TRANSIENT_ERRORS


async def test_no_failure_ends_a_periodic_job() -> None:
    failures = iter([ValueError("a bug"), asyncpg.exceptions.AdminShutdownError("restart"), None])
    results: list[int] = []
    done = asyncio.Event()

    def keep(result: int) -> None:
        results.append(result)
        done.set()

    async def job() -> int:
        failure = next(failures)
        if failure is not None:
            raise failure
        return 42

    task = asyncio.create_task(every(0.01, job, what="test job", then=keep))
    await asyncio.wait_for(done.wait(), timeout=10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert results == [42]


def test_a_database_restart_is_a_transient_failure() -> None:
    assert isinstance(asyncpg.exceptions.AdminShutdownError("terminating connection"), TRANSIENT_ERRORS)
    assert isinstance(asyncpg.exceptions.CannotConnectNowError("starting up"), TRANSIENT_ERRORS)
