"""The obvious FastStream version the benchmark compares with does the same work: screens, routes, records.

It records in tables of its own, never in the services'."""

import uuid
from pathlib import Path

import asyncpg

from benchmark.agency_reader import AgencyReader
from benchmark.broker import preload, start_groups_at_end
from benchmark.service_processes import ServiceProcesses, service_environment
from benchmark.workload import Workload, as_records
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SCREENED, NEEDS_SUBMITTED


async def test_the_obvious_version_screens_routes_and_records_every_need(
    settings: InfrastructureSettings, pool: asyncpg.Pool, unique: str, tmp_path: Path
) -> None:
    groups = {"SCREENING_GROUP_ID": f"test-peer-screening-{unique}", "ROUTING_GROUP_ID": f"test-peer-routing-{unique}"}
    await start_groups_at_end(
        settings, {groups["SCREENING_GROUP_ID"]: NEEDS_SUBMITTED, groups["ROUTING_GROUP_ID"]: NEEDS_SCREENED}
    )
    needs = Workload(seed=int(unique, 16) % 10_000).needs(5)
    need_ids = [str(need.need_id) for need in needs]
    services = ServiceProcesses(
        env=service_environment(
            kafka_bootstrap_servers=settings.kafka_bootstrap_servers, database_url=settings.database_url
        ),
        log_dir=tmp_path,
    )
    try:
        async with AgencyReader.started(settings, fetch_max_wait_ms=100) as reader:
            reader.expect(need_ids)
            for role in ("screening", "routing"):
                services.start_peer(role, **groups)
            await preload(settings, NEEDS_SUBMITTED, as_records(needs))
            await reader.wait_for_expected(timeout_s=60, check=services.check_alive)
    finally:
        services.stop_all_now()

    as_uuids = [uuid.UUID(need_id) for need_id in need_ids]
    screened = await pool.fetchval(
        "SELECT count(*) FROM benchmark_peer.screenings WHERE need_id = ANY($1::uuid[])", as_uuids
    )
    routed = await pool.fetch(
        "SELECT DISTINCT need_id FROM benchmark_peer.routed_cases WHERE need_id = ANY($1::uuid[])", as_uuids
    )
    assert screened == len(needs)
    assert {row["need_id"] for row in routed} == set(as_uuids)
    # Its own tables only: the services' data stays theirs.
    in_services_tables = await pool.fetchval(
        "SELECT (SELECT count(*) FROM screenings WHERE need_id = ANY($1::uuid[]))"
        " + (SELECT count(*) FROM routed_cases WHERE need_id = ANY($1::uuid[]))",
        as_uuids,
    )
    assert in_services_tables == 0
