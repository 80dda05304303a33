"""Sustained end-to-end throughput: a backlog of needs through the real screening and routing.

The backlog is on ``needs.submitted.v1`` before the services start, so the services run flat
out; the clock starts at the first routed case (not at process start: joining a consumer
group takes seconds) and stops when every need reached at least one agency topic.
"""

import uuid
from dataclasses import dataclass

from services.benchmark.agency_reader import AgencyReader
from services.benchmark.broker import preload, start_groups_at_end
from services.benchmark.service_processes import ServiceProcess, ServiceProcesses
from services.benchmark.workload import Workload, as_records, need_ids
from shared.settings import InfrastructureSettings
from shared.topics import CASE_STATUS, NEEDS_SCREENED, NEEDS_SUBMITTED

# Times whole seconds, so a coarse arrival time is fine, and the reader then costs the broker less.
READER_FETCH_MAX_WAIT_MS = 250


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """Needs per second through screening and routing, and the processes that did it (still running)."""

    needs_per_s: float
    processes: list[ServiceProcess]


async def measure_pipeline(
    settings: InfrastructureSettings,
    *,
    workload: Workload,
    messages: int,
    replicas: int,
    services: ServiceProcesses,
    timeout_s: float,
) -> PipelineRun:
    """Preload ``messages`` needs, start ``replicas`` of screening and of routing, time the drain."""
    needs = workload.needs(messages)
    expected = list(need_ids(needs))
    groups = await fresh_groups_at_end(settings)
    async with AgencyReader.started(settings, fetch_max_wait_ms=READER_FETCH_MAX_WAIT_MS) as reader:
        reader.expect(expected)
        await preload(settings, NEEDS_SUBMITTED, as_records(needs))
        processes = start_pipeline(services, groups, replicas=replicas)
        await reader.wait_for_expected(timeout_s=timeout_s, check=services.check_alive)
        arrivals = [reader.first_arrival[need_id] for need_id in expected]
    # Arrivals are seen one fetch wait at a time: a shorter span than that cannot be told apart.
    elapsed_s = max(max(arrivals) - min(arrivals), READER_FETCH_MAX_WAIT_MS / 1000)
    return PipelineRun(needs_per_s=messages / elapsed_s, processes=processes)


async def fresh_groups_at_end(settings: InfrastructureSettings) -> dict[str, str]:
    """New consumer groups for screening and routing (their environment), at the end of their topics.

    Each run its own groups, so that no phase sees another's (or an existing cluster's) records,
    routing's group for agencies' status reports included: the embedded broker never let a new
    member join a group whose two members had left during a rebalance (routing hung at start-up).
    """
    run = uuid.uuid4().hex[:8]
    groups = {
        "SCREENING_GROUP_ID": f"bench-screening-{run}",
        "ROUTING_GROUP_ID": f"bench-routing-{run}",
        "CASE_STATUS_GROUP_ID": f"bench-case-status-{run}",
    }
    await start_groups_at_end(
        settings,
        {
            groups["SCREENING_GROUP_ID"]: NEEDS_SUBMITTED,
            groups["ROUTING_GROUP_ID"]: NEEDS_SCREENED,
            groups["CASE_STATUS_GROUP_ID"]: CASE_STATUS,
        },
    )
    return groups


def start_pipeline(services: ServiceProcesses, groups: dict[str, str], *, replicas: int) -> list[ServiceProcess]:
    """``replicas`` processes each of screening and routing, in ``groups``."""
    return [services.start(name, **groups) for name in ("screening", "routing") for _ in range(replicas)]
