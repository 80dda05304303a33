"""A routing rule deleted while routing runs: its type's needs reach manual screening, the rest keep routing."""

import asyncio
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from services.routing.domain.routing_table import IncompleteRoutingTable
from services.routing.entrypoints.commands import set_route
from shared.contracts.cloud_events import Source
from shared.contracts.need_types import Agency, CaseState, NeedType
from shared.database import migrate
from shared.embedded import free_port, wait_for_port
from shared.kafka import OutgoingMessage, publish_all
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED
from tests.polling import eventually
from tests.topic_reader import read_matching
from tests.unit.factories import screened

ROUTING_TABLE_REFRESH_S = 0.2


@pytest.fixture
async def ss40_rule_deleted(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The ss40 row of the routing table gone, as a careless hand edit would leave it; put back after."""
    agency = await pool.fetchval("DELETE FROM routing_rules WHERE need_type = 'ss40' RETURNING agency")
    try:
        yield
    finally:
        await pool.execute(
            "INSERT INTO routing_rules (need_type, agency) VALUES ('ss40', $1) ON CONFLICT DO NOTHING", agency or "sso"
        )


@pytest.fixture
def metrics_url(settings: InfrastructureSettings, unique: str) -> Iterator[str]:
    """Routing as its own process, in consumer groups of this test, re-reading its table five times a second."""
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "DATABASE_URL": settings.database_url,
        "ROUTING_GROUP_ID": f"routing-{unique}",
        "CASE_STATUS_GROUP_ID": f"case-status-{unique}",
        "ROUTING_TABLE_REFRESH_S": str(ROUTING_TABLE_REFRESH_S),
        "METRICS_PORT": str(port),
    }
    process = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", "routing"], env=env)
    try:
        wait_for_port(port, timeout_s=60, process=process)
        url = f"http://127.0.0.1:{port}/metrics"
        # Started means migrated (which puts back a missing default rule) and assigned its partitions:
        # only then may the test delete a rule and count on it staying deleted.
        wait_until_assigned(url, group=f"routing-{unique}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_until_assigned(metrics_url: str, *, group: str, timeout_s: float = 60.0) -> None:
    pattern = re.compile(rf'^needs_router_assigned_partitions\{{group="{re.escape(group)}",[^}}]*\}} ([1-9]\S*)$', re.M)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with urllib.request.urlopen(metrics_url, timeout=5) as response:
            if pattern.search(response.read().decode()):
                return
        time.sleep(0.2)
    raise AssertionError(f"routing's group {group} held no partition within {timeout_s:.0f} s")


def unroutable_ss40(metrics_url: str) -> float:
    with urllib.request.urlopen(metrics_url, timeout=5) as response:
        text = response.read().decode()
    found = re.search(r'^needs_router_unroutable_types_total\{need_type="ss40"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_type_whose_rule_is_deleted_while_routing_runs_reaches_manual_screening(
    broker: KafkaBroker, settings: InfrastructureSettings, pool: asyncpg.Pool, metrics_url: str, ss40_rule_deleted: None
) -> None:
    before = unroutable_ss40(metrics_url)
    # Routing serves a table up to ROUTING_TABLE_REFRESH_S (0.2 s) old: past that, the deletion is what it routes by.
    await asyncio.sleep(ROUTING_TABLE_REFRESH_S * 3)
    unroutable, routable = screened(NeedType.SS40), screened(NeedType.JOBS)
    await publish_all(
        broker,
        [
            OutgoingMessage.of(need, topic=NEEDS_SCREENED, key=str(need.need.need_id).encode(), source=Source.SCREENING)
            for need in (unroutable, routable)
        ],
    )

    # Read per topic: a routing process another test left in the session's groups may route the
    # same needs by its own (older) table; what matters is where this process sends them.
    for topic, need in (("agency.mol.33", unroutable), ("agency.doe.33", routable)):
        key = str(need.need.need_id).encode()
        found = await read_matching(
            settings.kafka_bootstrap_servers, [topic], wanted=lambda got, _, key=key: got == key, count=1, timeout_s=60
        )
        assert [(found_topic, found_key) for found_topic, found_key, _ in found] == [(topic, key)]
    # The routed case is recorded once its publish is acknowledged: a moment after the topic has it.
    case = await eventually(
        lambda: pool.fetchrow(
            "SELECT agency, manual_screening, types FROM routed_cases WHERE need_id = $1 AND agency = 'mol'",
            unroutable.need.need_id,
        ),
        lambda row: row is not None,
    )
    assert case is not None
    assert (case["agency"], case["manual_screening"], case["types"]) == ("mol", True, ["ss40"])
    # At least this need: other tests' ss40 needs on the session's shared topic may reach this
    # routing process while the rule is gone too (its case row above is this need's own proof).
    moved = await eventually(lambda: asyncio.to_thread(unroutable_ss40, metrics_url), lambda count: count > before)
    assert moved >= before + 1


async def test_routes_set_refuses_a_table_that_leaves_a_type_unroutable(
    settings: InfrastructureSettings, pool: asyncpg.Pool, ss40_rule_deleted: None
) -> None:
    with pytest.raises(IncompleteRoutingTable, match=r"no known agency for: ss40$"):
        await set_route(settings.database_url, key="skills", agency="dsd")
    await set_route(settings.database_url, key="ss40", agency="sso")
    assert await pool.fetchval("SELECT agency FROM routing_rules WHERE need_type = 'ss40'") == "sso"


async def test_migrate_makes_the_database_accept_exactly_the_vocabulary_and_route_every_type_by_default(
    settings: InfrastructureSettings, pool: asyncpg.Pool, ss40_rule_deleted: None
) -> None:
    await pool.execute(
        "ALTER TABLE routing_rules DROP CONSTRAINT routing_rules_agency_check,"
        " ADD CONSTRAINT routing_rules_agency_check CHECK (agency IN ('doe', 'dsd', 'sso', 'dlpw', 'mol', 'old'))"
    )

    await migrate(settings.database_url)

    definition = await pool.fetchval(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'routing_rules_agency_check'"
    )
    assert set(re.findall(r"'(\w+)'", definition)) == {agency.value for agency in Agency}
    with pytest.raises(asyncpg.CheckViolationError):
        await pool.execute("UPDATE routing_rules SET agency = 'old' WHERE need_type = 'jobs'")
    assert await pool.fetchval("SELECT agency FROM routing_rules WHERE need_type = 'ss40'") == "sso"
    for table, column, term in [("api_keys", "agency", Agency), ("routed_cases", "status", CaseState)]:
        checks = await pool.fetch(
            "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE conrelid = $1::regclass"
            " AND contype = 'c' AND pg_get_constraintdef(oid) LIKE '%' || $2 || ' = ANY%'",
            table, column,
        )  # fmt: skip
        assert [check["conname"] for check in checks] == [f"{table}_{column}_check"]
        assert set(re.findall(r"'(\w+)'", checks[0]["definition"])) == {code.value for code in term}
