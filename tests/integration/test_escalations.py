"""Service-level timers on the real PostgreSQL and broker."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from services.routing.use_cases.escalate_overdue_cases import escalate_overdue
from shared.case_status import ServiceLevels
from shared.kafka import create_broker
from shared.settings import InfrastructureSettings
from tests.topic_reader import read_matching

LEVELS = ServiceLevels(accept_within=timedelta(days=3), resolve_within=timedelta(days=30))


async def routed_case(pool: asyncpg.Pool, *, status: str, age: timedelta, province: str = "47") -> uuid.UUID:
    need_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO routed_cases (event_id, need_id, agency, province_code, topic, types, manual_screening,"
        " routed_at, status) VALUES ($1, $2, 'dlpw', $3, $4, '{unfair_labour}', false, $5, $6)",
        uuid.uuid4(), need_id, province, f"agency.dlpw.{province}", datetime.now(UTC) - age, status,
    )  # fmt: skip
    return need_id


async def test_overdue_cases_are_escalated_once_to_the_provincial_labour_office(
    settings: InfrastructureSettings, pool: asyncpg.Pool
) -> None:
    not_accepted = await routed_case(pool, status="routed", age=timedelta(days=4))
    not_resolved = await routed_case(pool, status="in_progress", age=timedelta(days=31))
    on_time = await routed_case(pool, status="routed", age=timedelta(hours=1))
    broker = create_broker(settings, client_id="escalation-test")
    await broker.connect()
    try:
        assert await escalate_overdue(pool, broker, LEVELS, limit=100_000) >= 2
        assert await escalate_overdue(pool, broker, LEVELS, limit=100_000) == 0
    finally:
        await broker.stop()
    wanted = {str(not_accepted).encode(), str(not_resolved).encode(), str(on_time).encode()}
    found = await read_matching(
        settings.kafka_bootstrap_servers, ["agency.mol.47"], wanted=lambda key, _: key in wanted, count=3, timeout_s=5
    )
    escalations = {json.loads(value)["need_id"]: json.loads(value)["overdue"] for _, _, value in found}
    assert escalations == {str(not_accepted): "not_accepted", str(not_resolved): "not_resolved"}
