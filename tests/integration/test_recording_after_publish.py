"""A batch's results are written while its publish is in flight, and committed only after it."""

import asyncio

import asyncpg
import pytest

from services.screening.adapters.database import ScreeningStore
from shared.contracts.need_types import NeedType
from tests.unit.factories import screened


async def screenings_of(pool: asyncpg.Pool, need_id: object) -> int:
    return await pool.fetchval("SELECT count(*) FROM screenings WHERE need_id = $1", need_id)


async def test_results_are_not_visible_until_the_publish_is_acknowledged(pool: asyncpg.Pool) -> None:
    result = screened(NeedType.JOBS)
    acknowledged = asyncio.get_running_loop().create_future()
    recording = asyncio.create_task(ScreeningStore(pool).record([result], [], commit_after=acknowledged))

    await asyncio.sleep(0.2)  # the insert has run by now, inside the open transaction
    assert not recording.done()
    assert await screenings_of(pool, result.need.need_id) == 0, "written before the broker acknowledged"

    acknowledged.set_result(None)
    await recording
    assert await screenings_of(pool, result.need.need_id) == 1


async def test_a_failed_publish_rolls_the_results_back(pool: asyncpg.Pool) -> None:
    result = screened(NeedType.JOBS)
    refused = asyncio.get_running_loop().create_future()
    refused.set_exception(ConnectionResetError("broker went away"))

    with pytest.raises(ConnectionResetError):
        await ScreeningStore(pool).record([result], [], commit_after=refused)
    assert await screenings_of(pool, result.need.need_id) == 0
