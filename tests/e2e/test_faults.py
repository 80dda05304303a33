"""Fault injection: a few thousand needs go in while a part of the pipeline fails.

After each fault, every accepted need id must be on its agency topic at least once, every
duplicate must carry the same event id, and the dead-letter topic must hold exactly the
poison that was injected. Each scenario prints its counts.
"""

import asyncio
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

import asyncpg
import httpx
import pytest

from tests.e2e.harness import Pipeline, inject_poison, own_pipeline, read_delivered, submit_needs
from tests.polling import eventually
from tests.topic_reader import read_matching

NEEDS_PER_SCENARIO = 2000
OUTAGE_S = 10.0
GRACEFUL_EXIT_LIMIT_S = 10.0


@pytest.fixture(scope="module")
def pipeline() -> Iterator[Pipeline]:
    with own_pipeline() as running:
        yield running


async def kill_and_restart(pipeline: Pipeline, name: str) -> None:
    [victim, *_] = pipeline.running(name)
    await asyncio.to_thread(pipeline.kill, victim)
    await asyncio.sleep(2)
    pipeline.start(name)


async def kill_screening(pipeline: Pipeline) -> None:
    await kill_and_restart(pipeline, "screening")


async def kill_routing(pipeline: Pipeline) -> None:
    await kill_and_restart(pipeline, "routing")


async def pause_broker(pipeline: Pipeline) -> None:
    with pipeline.broker_paused():
        await asyncio.sleep(OUTAGE_S)


async def stop_database(pipeline: Pipeline) -> None:
    with pipeline.database_stopped():
        await asyncio.sleep(OUTAGE_S)


async def add_and_remove_replicas(pipeline: Pipeline) -> None:
    originals = [pipeline.running("screening")[0], pipeline.running("routing")[0]]
    added = [pipeline.start(name) for name in ("screening", "routing")]

    async def joined() -> bool:
        return all(service.has_started() for service in added)

    # The new replicas take partitions under load before the originals leave. A fixed 8 s was too
    # short at times, and on the embedded broker a member that leaves while a newcomer's join is
    # pending leaves the group stuck: the new routing replica never got its partitions.
    if not await eventually(joined, lambda done: done, timeout_s=60):
        # Leave one replica of each, as the module's later scenarios expect, then fail.
        for service in added:
            await asyncio.to_thread(pipeline.stop_gracefully, service)
        pytest.fail("the new replicas never got their partitions")
    for service in originals:
        exit_s = await asyncio.to_thread(pipeline.stop_gracefully, service)
        print(f"{service.name} replica drained and exited in {exit_s:.1f}s after SIGTERM")
        assert exit_s < GRACEFUL_EXIT_LIMIT_S


FAULTS: dict[str, Callable[[Pipeline], Awaitable[None]]] = {
    "kill -9 screening": kill_screening,
    "kill -9 routing": kill_routing,
    "broker unreachable 10 s": pause_broker,
    "PostgreSQL stopped 10 s": stop_database,
    "replica added and removed": add_and_remove_replicas,
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_nothing_accepted_is_lost(pipeline: Pipeline, fault: str) -> None:
    marker = f"poison-{uuid.uuid4()}"
    started = time.monotonic()
    load = asyncio.create_task(submit_needs(pipeline, NEEDS_PER_SCENARIO))
    poison = await inject_poison(pipeline.kafka.bootstrap_servers, marker)
    await asyncio.sleep(1.0)
    await FAULTS[fault](pipeline)
    submitted = await load
    all_accepted = time.monotonic()

    delivered = await read_delivered(
        pipeline.kafka.bootstrap_servers, set(submitted.need_ids), marker, poison, timeout_s=240
    )
    drained = time.monotonic() - all_accepted
    print(
        f"\n[{fault}] accepted={len(submitted.need_ids)} routed={len(delivered.routed_need_ids)} "
        f"routed_cases={len(delivered.event_ids)} duplicates={delivered.duplicates} "
        f"dead_letters={len(delivered.dead_letters)} (injected {poison}) http={dict(submitted.statuses)} "
        f"submit_s={all_accepted - started:.1f} drain_s={drained:.1f}"
    )
    assert len(submitted.need_ids) == NEEDS_PER_SCENARIO
    assert set(submitted.need_ids) <= delivered.routed_need_ids
    assert all(len(event_ids) == 1 for event_ids in delivered.event_ids.values())
    assert len(delivered.dead_letters) == poison
    if fault == "PostgreSQL stopped 10 s":
        assert submitted.statuses[503] > 0, "intake must refuse with 503 while it cannot store"
        assert submitted.retry_after_seen


async def test_a_crashed_embedded_broker_loses_its_data_and_re_drive_brings_back_what_was_not_routed(
    pipeline: Pipeline,
) -> None:
    """The embedded broker keeps nothing in memory across a restart (Apache Kafka would keep it).

    What it held is gone; intake's re-drive must still bring every accepted need to routed,
    and every need routed after the restart must be on its agency topic.
    """
    load = asyncio.create_task(submit_needs(pipeline, NEEDS_PER_SCENARIO))
    await asyncio.sleep(1.5)
    restarted_at = await asyncio.to_thread(pipeline.restart_broker_after_crash)
    submitted = await load
    accepted = set(submitted.need_ids)

    async def routed_in_database() -> dict[str, datetime]:
        connection = await asyncpg.connect(pipeline.postgres.database_url)
        try:
            rows = await connection.fetch(
                "SELECT need_id::text AS need_id, min(routed_at) AS routed_at FROM routed_cases"
                " WHERE need_id = ANY($1::uuid[]) GROUP BY need_id",
                list(accepted),
            )
        finally:
            await connection.close()
        return {row["need_id"]: row["routed_at"] for row in rows}

    routed = await eventually(routed_in_database, lambda found: set(found) == accepted, timeout_s=180)
    redriven = await _redriven_count(pipeline)
    after_restart = {need_id for need_id, at in routed.items() if at.timestamp() > restarted_at + 1}
    delivered = await read_delivered(pipeline.kafka.bootstrap_servers, after_restart, "-", 0, timeout_s=120)
    print(
        f"\n[embedded broker crashed and restarted] accepted={len(accepted)} routed={len(routed)} "
        f"re-driven={redriven} routed_after_restart={len(after_restart)} "
        f"on_topics_after_restart={len(delivered.routed_need_ids)} duplicates={delivered.duplicates}"
    )
    assert set(routed) == accepted
    # Once in CI (1 of 1,831) a need stored as routed after the restart was not in the first
    # reader's records; a second reader, on the topics routing stored for it, must find it.
    if missing := after_restart - delivered.routed_need_ids:
        found, where = await _read_missing_again(pipeline, missing, restarted_at)
        print(f"first reader missed {len(missing)}: {where}; a second reader found {len(found)}")
        assert found == missing, where
    assert all(len(event_ids) == 1 for event_ids in delivered.event_ids.values())


async def _read_missing_again(pipeline: Pipeline, missing: set[str], restarted_at: float) -> tuple[set[str], str]:
    """Read the topics routing stored for ``missing`` with a new consumer; what it found, and where routing put them."""
    connection = await asyncpg.connect(pipeline.postgres.database_url)
    try:
        rows = await connection.fetch(
            "SELECT need_id::text AS need_id, topic, routed_at FROM routing.routed_cases"
            " WHERE need_id = ANY($1::uuid[])",
            list(missing),
        )
    finally:
        await connection.close()
    records = await read_matching(
        pipeline.kafka.bootstrap_servers,
        {row["topic"] for row in rows},
        wanted=lambda key, value: key is not None and key.decode() in missing and b'"case.routed"' in value,
        count=len(missing),
        timeout_s=30,
    )
    where = ", ".join(
        f"{row['need_id']} on {row['topic']}, routed {row['routed_at'].timestamp() - restarted_at:.1f}s after restart"
        for row in rows
    )
    return {key.decode() for _, key, _ in records if key is not None}, where


async def _redriven_count(pipeline: Pipeline) -> int:
    connection = await asyncpg.connect(pipeline.postgres.database_url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM needs WHERE redrive_count > 0")
    finally:
        await connection.close()
    return count


async def test_a_routing_decision_the_broker_lost_is_told_again_and_the_need_still_reaches_routed(
    pipeline: Pipeline,
) -> None:
    """The broker loses routing's decision (``cases.updated.v1``) before intake has read it.

    Routing is held until screening has the need, then intake is frozen while routing decides,
    and the embedded broker crashes and comes back empty: intake's copy never hears of the
    decision. Re-drive publishes the need again; screening and routing, which already handled it,
    publish their earlier results again with the same event ids, and the need reads ``routed``.
    """
    [intake], [routing] = pipeline.running("intake"), pipeline.running("routing")
    with pipeline.frozen(routing):
        [need_id] = (await submit_needs(pipeline, 1)).need_ids
        await eventually(lambda: _stored(pipeline, "screening.screenings", need_id), bool, timeout_s=60)
        with pipeline.frozen(intake):
            routing.process.send_signal(signal.SIGCONT)
            case_event_ids = await eventually(
                lambda: _stored(pipeline, "routing.routed_cases", need_id), bool, timeout_s=60
            )
            await asyncio.to_thread(pipeline.restart_broker_after_crash)
            assert not await _stored(pipeline, "intake.need_cases", need_id), "intake read the decision before the loss"

    async def need_status() -> str:
        async with httpx.AsyncClient() as client:
            response = await client.get(
                f"{pipeline.intake_url}/v1/needs/{need_id}", headers={"Authorization": f"Bearer {pipeline.app_key}"}
            )
        status: str = response.json()["status"]
        return status

    started = time.monotonic()
    assert await eventually(need_status, lambda status: status == "routed", timeout_s=120) == "routed"
    redriven = await _redriven_count(pipeline)
    print(f"\n[routing decision lost] routed again in {time.monotonic() - started:.1f}s; re-driven needs={redriven}")
    assert await _stored(pipeline, "routing.routed_cases", need_id) == case_event_ids, "decided once, told again"
    assert await _stored(pipeline, "intake.need_cases", need_id) == case_event_ids, "the same event ids"
    assert redriven >= 1


async def _stored(pipeline: Pipeline, table: str, need_id: str) -> list[uuid.UUID]:
    """The event ids a service's table holds for one need (read as the owner)."""
    connection = await asyncpg.connect(pipeline.postgres.database_url)
    try:
        rows = await connection.fetch(f"SELECT event_id FROM {table} WHERE need_id = $1 ORDER BY event_id", need_id)
    finally:
        await connection.close()
    return [row["event_id"] for row in rows]
