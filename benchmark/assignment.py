"""Waiting until every subscription of every service process has its partitions.

Each consuming service shows on /metrics how many partitions of each topic its groups gave
it (``needs_router_assigned_partitions``). The groups are ready when, for every subscription,
every process holds some of its partitions and together they hold them all. A process that is
still joining, or that lost its partitions to a rebalance, holds none; so does a group that
has not yet spread over a replica that joined late. The embedded broker's describe-groups
answer names the members but not their assignments, so the processes' own word is used.
"""

import asyncio
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from benchmark.errors import BenchmarkFailed
from benchmark.service_processes import ServiceProcess

ASSIGNED = "needs_router_assigned_partitions"
_POLL_S = 0.2


@dataclass(frozen=True, slots=True)
class Subscription:
    """A consumer group of a service and the topic it reads."""

    group: str
    topic: str


# Per process, partitions held per subscription.
Holdings = Mapping[Subscription, float]


def fully_assigned(
    holdings: Sequence[Holdings], subscriptions: Sequence[Subscription], *, partitions: Mapping[str, int]
) -> bool:
    """Every process holds part of every subscription, and together all the partitions of its topic.

    With more processes than partitions some must hold none: then only the total counts.
    """
    return all(
        (len(holdings) > partitions[subscription.topic] or all(held.get(subscription, 0) > 0 for held in holdings))
        and sum(held.get(subscription, 0) for held in holdings) == partitions[subscription.topic]
        for subscription in subscriptions
    )


def parse_holdings(metrics_text: str) -> dict[Subscription, float]:
    """The assigned-partition counts in a process's /metrics page."""
    return {
        Subscription(sample.labels["group"], sample.labels["topic"]): sample.value
        for family in text_string_to_metric_families(metrics_text)
        if family.name == ASSIGNED
        for sample in family.samples
    }


async def wait_until_assigned(
    groups: Mapping[str, Sequence[ServiceProcess]],
    subscriptions: Mapping[str, Sequence[Subscription]],
    *,
    partitions: Mapping[str, int],
    timeout_s: float,
    check: Callable[[], None],
) -> None:
    """Return once each service's processes (``groups``: service -> processes) hold all its subscriptions."""
    deadline = time.monotonic() + timeout_s
    while True:
        check()
        holdings = {name: [await _holdings(process) for process in processes] for name, processes in groups.items()}
        if all(
            fully_assigned(held, subscriptions[service], partitions=partitions) for service, held in holdings.items()
        ):
            return
        if time.monotonic() > deadline:
            raise BenchmarkFailed(f"the services' consumer groups were not all assigned within {timeout_s:.0f}s")
        await asyncio.sleep(_POLL_S)


async def _holdings(process: ServiceProcess) -> dict[Subscription, float]:
    try:
        text = await asyncio.to_thread(_get, process.metrics_url)
    except OSError:  # not serving yet
        return {}
    return parse_holdings(text)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=2) as response:
        body: bytes = response.read()
    return body.decode()
