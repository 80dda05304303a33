"""`needs-router bench --source-intake`, small, on the session's broker and PostgreSQL: both ways take every record."""

import json

import asyncpg

from benchmark.source_intake import run, source_records
from benchmark.workload import Workload
from shared.settings import InfrastructureSettings


def test_the_records_hold_redeliveries_and_invalid_ones_and_no_person() -> None:
    records = source_records(Workload(), "hr-system", 40)
    bodies = [json.loads(record.value) for record in records]
    assert [record.offset for record in records] == list(range(40))
    assert {record.topic for record in records} == {"needs.incoming.v1.hr-system"}
    assert [index for index in range(1, 40) if records[index].value == records[index - 1].value] == [19, 39]
    assert [index for index, body in enumerate(bodies) if body["description"] == "   "] == [9, 29]
    assert not any("person" in body for body in bodies)


async def test_both_ways_take_every_submission_and_leave_nothing_to_relay(
    settings: InfrastructureSettings, pool: asyncpg.Pool
) -> None:
    before = await pool.fetchval("SELECT count(*) FROM needs WHERE submitted_by LIKE 'source:bench-%'")

    figures = await run(per_turn=40, turns=2, batch=20, settings=settings)

    assert figures["submissions_per_way"] == 80
    assert figures["submissions_per_s_one_transaction_per_record"] > 0
    assert figures["submissions_per_s_one_transaction_per_batch"] > 0
    # 40 records a turn: 2 redeliveries and 2 invalid ones, so 36 needs, 4 turns in all.
    after = await pool.fetchval("SELECT count(*) FROM needs WHERE submitted_by LIKE 'source:bench-%'")
    assert after - before == 4 * 36
    assert await pool.fetchval("SELECT count(*) FROM outbox WHERE topic LIKE 'needs.receipts.v1.bench-%'") == 0
