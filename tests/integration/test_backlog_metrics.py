"""The outbox and overdue-case gauges intake serves for the alert rules, read from PostgreSQL."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from prometheus_client import generate_latest

from services.intake.adapters.backlog_metrics import measure_backlog, publish
from shared.case_status import ServiceLevels
from shared.contracts.need_types import Agency
from shared.database import migrate
from shared.settings import InfrastructureSettings
from tests.databases import empty_database

LEVELS = ServiceLevels(accept_within=timedelta(days=3), resolve_within=timedelta(days=30))


@pytest.fixture
async def own_pool(settings: InfrastructureSettings) -> AsyncIterator[asyncpg.Pool]:
    """A database of its own: the gauges count every row."""
    async with empty_database(settings.database_url) as url:
        await migrate(url)
        created = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert created is not None
        yield created
        await created.close()


async def add_case(pool: asyncpg.Pool, agency: Agency, status: str, routed_days_ago: float) -> None:
    await pool.execute(
        "INSERT INTO need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening,"
        " routed_at, status) VALUES ($1, $2, $3, '33', $4, '{jobs}', false, $5, $6)",
        uuid.uuid4(), uuid.uuid4(), agency.value, f"agency.{agency.value}.33",
        datetime.now(UTC) - timedelta(days=routed_days_ago), status,
    )  # fmt: skip


async def test_the_gauges_count_the_outbox_and_the_cases_past_their_service_level(own_pool: asyncpg.Pool) -> None:
    empty = await measure_backlog(own_pool, LEVELS)
    assert (empty.outbox_records, empty.outbox_oldest_seconds) == (0, 0.0)
    assert set(empty.overdue_by_agency.values()) == {0}
    assert set(empty.overdue_by_agency) == set(Agency)

    await own_pool.execute(
        "INSERT INTO outbox (topic, key, payload, created_at) VALUES ('needs.submitted.v1', '\\x00', '\\x00', $1),"
        " ('needs.submitted.v1', '\\x01', '\\x01', now())",
        datetime.now(UTC) - timedelta(minutes=10),
    )
    await add_case(own_pool, Agency.DLPW, "routed", 4)  # not accepted in 3 days
    await add_case(own_pool, Agency.DLPW, "in_progress", 31)  # not resolved in 30
    await add_case(own_pool, Agency.DLPW, "accepted", 4)  # accepted in time, 26 days left
    await add_case(own_pool, Agency.DLPW, "resolved", 60)  # closed: never overdue
    await add_case(own_pool, Agency.DOE, "routed", 1)

    backlog = await measure_backlog(own_pool, LEVELS)
    assert backlog.outbox_records == 2
    assert 600 <= backlog.outbox_oldest_seconds < 660
    assert backlog.overdue_by_agency == {Agency.DLPW: 2, Agency.DOE: 0, Agency.DSD: 0, Agency.SSO: 0, Agency.MOL: 0}

    publish(backlog)
    exposed = generate_latest().decode()
    assert "needs_router_outbox_records 2.0" in exposed
    assert 'needs_router_overdue_cases{agency="dlpw"} 2.0' in exposed
    assert 'needs_router_overdue_cases{agency="mol"} 0.0' in exposed
