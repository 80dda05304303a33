"""Sustained end-to-end throughput: a backlog of needs through screening and routing, timed honestly.

The services start first, on new consumer groups at the end of their topics, and a few probe
needs go through them: how long each took from its process's start to its first output is
the service's start-up time, and the probes warm them up. Then the benchmark waits until every
subscription of every process holds its partitions (each says so on /metrics), and only then
puts the backlog on ``needs.submitted.v1``. The clock runs from the first produce to the last
case on an agency topic (its producer's timestamp), so no work is done before it starts.

The obvious FastStream version (benchmark.peer) is timed the same way on the same
broker, with a backlog of the same texts.
"""

import contextlib
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from benchmark.agency_reader import AgencyReader
from benchmark.assignment import Subscription, wait_until_assigned
from benchmark.broker import partition_counts, preload, start_groups_at_end
from benchmark.errors import BenchmarkFailed
from benchmark.process_cpu import Participant, ProcessTable, cpu_ms_per_need
from benchmark.service_processes import ServiceProcess, ServiceProcesses
from benchmark.workload import as_records, need_ids
from shared.contracts.events import NeedSubmitted
from shared.settings import InfrastructureSettings
from shared.topics import CASE_STATUS, NEEDS_SCREENED, NEEDS_SUBMITTED

# Arrival times come from the records' own timestamps: a long fetch wait costs the broker less
# and does not make the clock late.
READER_FETCH_MAX_WAIT_MS = 250
# A few needs before the backlog: each service's first output, and every process warmed up.
PROBES = 20


@dataclass(frozen=True, slots=True)
class Drain:
    """How long a backlog took from its first produce to its last routed case."""

    messages: int
    first_produce_ms: float  # epoch
    routed_s: float

    @property
    def needs_per_s(self) -> float:
        """Needs a second through both hops: the pipeline's throughput."""
        return self.messages / self.routed_s


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """The timed drain, its first hop, each service's start-up time, and the processes (still running).

    ``cpu_ms_per_need``: the CPU screening, routing, the servers this machine runs and the
    benchmark itself each spent per need of the drain; None where /proc cannot tell.
    """

    drain: Drain
    screened_s: float
    screening_ready_s: float
    routing_ready_s: float
    processes: list[ServiceProcess]
    cpu_ms_per_need: dict[str, float] | None

    @property
    def screened_per_s(self) -> float:
        """Needs a second through screening, timed the same way (first produce to last on needs.screened.v1)."""
        return self.drain.messages / self.screened_s


@contextlib.asynccontextmanager
async def _routed(settings: InfrastructureSettings) -> AsyncIterator[AgencyReader]:
    async with AgencyReader.started(settings, fetch_max_wait_ms=READER_FETCH_MAX_WAIT_MS) as reader:
        yield reader


@contextlib.asynccontextmanager
async def _screened(settings: InfrastructureSettings) -> AsyncIterator[AgencyReader]:
    """Our screening's output, keyed by need id (the peer's, unkeyed, is not followed)."""
    chosen = NEEDS_SCREENED.__eq__
    async with AgencyReader.on_topics(settings, fetch_max_wait_ms=READER_FETCH_MAX_WAIT_MS, chosen=chosen) as reader:
        yield reader


async def measure_pipeline(
    settings: InfrastructureSettings,
    *,
    backlog: Sequence[NeedSubmitted],
    probes: Sequence[NeedSubmitted],
    replicas: int,
    services: ServiceProcesses,
    timeout_s: float,
    servers: Sequence[Participant] = (),
) -> PipelineRun:
    """Start ``replicas`` of screening and of routing, wait until they hold every partition, time the backlog.

    ``servers``: the broker's and the database's processes, where this machine runs them.
    """
    groups = await fresh_groups_at_end(settings)
    async with _routed(settings) as routed, _screened(settings) as screened:
        processes = await _start_warm(
            settings, [routed, screened], probes, start=lambda: start_pipeline(services, groups, replicas=replicas),
            timeout_s=timeout_s, check=services.check_alive,
        )  # fmt: skip
        by_service = {name: [p for p in processes if p.service == name] for name in ("screening", "routing")}
        subscriptions = pipeline_subscriptions(groups)
        await wait_until_assigned(
            by_service, subscriptions,
            partitions=await partition_counts(settings, [s.topic for each in subscriptions.values() for s in each]),
            timeout_s=timeout_s, check=services.check_alive,
        )  # fmt: skip
        participants = [
            *(Participant(name, tuple(each.process.pid for each in started)) for name, started in by_service.items()),
            *servers,
            Participant("benchmark", (os.getpid(),)),
        ]
        before = ProcessTable.now()
        drain = await _drain(settings, [routed, screened], backlog, timeout_s=timeout_s, check=services.check_alive)
        after = ProcessTable.now()
        return PipelineRun(
            drain=drain,
            screened_s=seconds_to_last(screened, need_ids(list(backlog)), drain.first_produce_ms),
            screening_ready_s=ready_s(by_service["screening"], screened, probes),
            routing_ready_s=ready_s(by_service["routing"], routed, probes),
            processes=processes,
            cpu_ms_per_need=cpu_ms_per_need(participants, before, after, needs=drain.messages),
        )


async def measure_peer(
    settings: InfrastructureSettings,
    *,
    backlog: Sequence[NeedSubmitted],
    probes: Sequence[NeedSubmitted],
    services: ServiceProcesses,
    timeout_s: float,
) -> Drain:
    """The obvious FastStream version, one process each, timed like ours; stopped when done.

    It says nothing about its partitions, and needs not: alone in its group, a process that
    handled one probe holds every partition of its topic.
    """
    groups = await fresh_groups_at_end(settings)
    async with _routed(settings) as routed:
        processes = await _start_warm(
            settings, [routed], probes,
            start=lambda: [services.start_peer(role, **groups) for role in ("screening", "routing")],
            timeout_s=timeout_s, check=services.check_alive,
        )  # fmt: skip
        try:
            return await _drain(settings, [routed], backlog, timeout_s=timeout_s, check=services.check_alive)
        finally:
            await services.stop(*processes)


async def _start_warm(
    settings: InfrastructureSettings,
    readers: Sequence[AgencyReader],
    probes: Sequence[NeedSubmitted],
    *,
    start: Callable[[], list[ServiceProcess]],
    timeout_s: float,
    check: Callable[[], None],
) -> list[ServiceProcess]:
    """Put the probes on the topic, start the processes, and return once every reader saw every probe."""
    expected = list(need_ids(list(probes)))
    for reader in readers:
        reader.expect(expected)
    await preload(settings, NEEDS_SUBMITTED, as_records(list(probes)))
    processes = start()
    for reader in readers:
        await reader.wait_for_expected(timeout_s=timeout_s, check=check)
    return processes


async def _drain(
    settings: InfrastructureSettings,
    readers: Sequence[AgencyReader],
    backlog: Sequence[NeedSubmitted],
    *,
    timeout_s: float,
    check: Callable[[], None],
) -> Drain:
    """Time ``backlog`` from its first produce to its last arrival on the first reader's topics."""
    expected = list(need_ids(list(backlog)))
    records = as_records(list(backlog))
    for reader in readers:
        reader.expect(expected)
    first_produce_ms = time.time() * 1000
    await preload(settings, NEEDS_SUBMITTED, records)
    for reader in readers:
        await reader.wait_for_expected(timeout_s=timeout_s, check=check)
    return Drain(
        messages=len(expected),
        first_produce_ms=first_produce_ms,
        routed_s=seconds_to_last(readers[0], expected, first_produce_ms),
    )


def seconds_to_last(reader: AgencyReader, expected: Iterable[str], first_produce_ms: float) -> float:
    """Seconds from the first produce to the last of ``expected`` (its producer's timestamp)."""
    last_ms = max(reader.first_record_ms[need_id] for need_id in expected)
    # Record timestamps are whole milliseconds: a backlog cannot drain in less than one.
    return max(last_ms - first_produce_ms, 1.0) / 1000


def ready_s(processes: Sequence[ServiceProcess], reader: AgencyReader, probes: Sequence[NeedSubmitted]) -> float:
    """From the first of ``processes`` starting to its first output (a probe's record on the reader's topics)."""
    outputs_ms = [reader.first_record_ms[need_id] for need_id in need_ids(list(probes))]
    if not processes or not outputs_ms:
        raise BenchmarkFailed("no process or no probe to time a start-up with")
    return min(outputs_ms) / 1000 - min(process.started_at for process in processes)


def pipeline_subscriptions(groups: Mapping[str, str]) -> dict[str, list[Subscription]]:
    """What each service subscribes to, in the groups ``fresh_groups_at_end`` made."""
    return {
        "screening": [Subscription(groups["SCREENING_GROUP_ID"], NEEDS_SUBMITTED)],
        "routing": [
            Subscription(groups["ROUTING_GROUP_ID"], NEEDS_SCREENED),
            Subscription(groups["CASE_STATUS_GROUP_ID"], CASE_STATUS),
        ],
    }


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
