"""Intake's source consumer with one transaction per record and one per batch, measured in one run.

``needs-router bench --source-intake``: batches of records as the consumer reads them from the
sources' topics (the workload's submissions without ``person``; 1 in 20 a redelivery of the one
before, 1 in 20 invalid), taken by intake's own ``SourceSubmissions`` either way in turns, each
turn on fresh submissions, so both meet the same database as it fills. Every record's need,
outbox row, receipt or dead letter is stored either way; the broker only reads, and no relay
publishes what was queued (removed at the end). It prints submissions per second of each way
and their ratio; it asserts nothing. Starts its own embedded broker and PostgreSQL unless
KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL are set.
"""

import asyncio
import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from benchmark.infrastructure import provide_infrastructure
from benchmark.workload import Workload
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher, generate_key
from services.intake.use_cases.source_submissions import SourceSubmissions
from services.supervisor import prepare_infrastructure
from shared.kafka import create_broker
from shared.settings import InfrastructureSettings
from shared.topics import incoming_topic, receipts_topic


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A ``needs.incoming.v1.<source>`` record as intake's consumer reads it."""

    topic: str
    offset: int
    key: bytes
    value: bytes
    partition: int = 0
    headers: tuple[tuple[str, bytes], ...] = ()


def source_records(workload: Workload, source: str, count: int) -> list[SourceRecord]:
    """``count`` records of the source's topic, with redeliveries and invalid ones among them."""
    records: list[SourceRecord] = []
    for offset, body in enumerate(workload.submissions(count)):
        body.pop("person", None)  # refused on Kafka: identity goes through HTTP only
        submission_id = f"bench-{uuid.uuid4()}"
        if offset % 20 == 19 and records:  # the one before, delivered again
            records.append(SourceRecord(records[-1].topic, offset, records[-1].key, records[-1].value))
            continue
        if offset % 20 == 9:
            body["description"] = "   "
        value = json.dumps({"submission_id": submission_id, **body, "consent_to_share": True}, ensure_ascii=False)
        records.append(SourceRecord(incoming_topic(source), offset, submission_id.encode(), value.encode()))
    return records


async def run(*, per_turn: int, turns: int, batch: int, settings: InfrastructureSettings) -> dict[str, float]:
    """Take ``turns`` turns of ``per_turn`` submissions each way; submissions per second of each."""
    await prepare_infrastructure(settings)
    pool = await asyncpg.create_pool(settings.database_url, min_size=2, max_size=4)
    broker = create_broker(settings, client_id="bench-source-intake")
    await broker.connect()
    source = f"bench-{uuid.uuid4().hex[:8]}"
    await pool.execute("INSERT INTO intake.sources (name) VALUES ($1)", source)
    taker = SourceSubmissions(
        pool=pool, cipher=PersonalDataCipher.from_base64(generate_key()), relay=OutboxRelay(pool, broker)
    )
    ways = {"per_record": taker.handle_one_by_one, "per_batch": taker.handle}
    workload = Workload()
    seconds = dict.fromkeys(ways, 0.0)
    taken = dict.fromkeys(ways, 0)
    try:
        for turn in range(turns):
            # Alternate which goes first, so neither always meets the emptier database.
            for way in ("per_record", "per_batch") if turn % 2 == 0 else ("per_batch", "per_record"):
                records = source_records(workload, source, per_turn)
                started = time.perf_counter()
                for start in range(0, len(records), batch):
                    await ways[way](records[start : start + batch])
                seconds[way] += time.perf_counter() - started
                taken[way] += len(records)
        await _forget_outbox(pool, source)
    finally:
        await broker.stop()
        await pool.close()
    per_record, per_batch = (taken[way] / seconds[way] for way in ("per_record", "per_batch"))
    return {
        "submissions_per_s_one_transaction_per_record": per_record,
        "submissions_per_s_one_transaction_per_batch": per_batch,
        "ratio_batch_to_record": per_batch / per_record,
        "submissions_per_way": float(taken["per_batch"]),
        "records_per_batch": float(batch),
    }


async def _forget_outbox(pool: asyncpg.Pool, source: str) -> None:
    """So that no relay publishes the benchmark's needs and receipts into a pipeline that shares the database."""
    await pool.execute(
        "DELETE FROM intake.outbox WHERE topic = $1 OR key IN (SELECT convert_to(need_id::text, 'UTF8')"
        " FROM intake.needs WHERE submitted_by = $2)",
        receipts_topic(source), f"source:{source}",
    )  # fmt: skip


def run_source_intake_benchmark(*, per_turn: int, turns: int) -> dict[str, float]:
    """The whole benchmark on the environment's broker and database, or embedded ones it starts."""
    with (
        tempfile.TemporaryDirectory(prefix="needs-router-bench-sources-") as work_dir,
        provide_infrastructure(Path(work_dir)) as infrastructure,
    ):
        settings = infrastructure.settings
        return asyncio.run(run(per_turn=per_turn, turns=turns, batch=settings.consumer_max_records, settings=settings))
