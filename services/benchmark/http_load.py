"""Load on intake's ``POST /v1/needs``: as fast as the client allows, or paced at a fixed rate.

The client is a few httpx.AsyncClients with small pools rather than one large pool: httpcore
checks every connection of its pool on each request, so with one pool of 48 the client spent
~4.8 ms of CPU per request and, not intake, set the rate (~180/s against ~540/s with 6 x 8 on
the 2-core development machine).
"""

import asyncio
import itertools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import httpx

from services.benchmark.errors import BenchmarkFailed

NEEDS_PATH = "/v1/needs"
REQUEST_TIMEOUT_S = 30.0


class IntakeClients:
    """``clients`` httpx clients of ``connections_each`` keep-alive connections to intake, with an API key."""

    def __init__(self, intake_url: str, *, token: str, clients: int, connections_each: int) -> None:
        limits = httpx.Limits(max_connections=connections_each, max_keepalive_connections=connections_each)
        headers = {"Authorization": f"Bearer {token}"}
        self._clients = [
            httpx.AsyncClient(base_url=intake_url, headers=headers, limits=limits, timeout=REQUEST_TIMEOUT_S)
            for _ in range(clients)
        ]
        self._next: Iterator[httpx.AsyncClient] = itertools.cycle(self._clients)
        self.in_flight = clients * connections_each

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for client in self._clients:
            await client.aclose()

    def client(self, index: int) -> httpx.AsyncClient:
        """The client a worker keeps using, spreading workers evenly over the pools."""
        return self._clients[index % len(self._clients)]

    def any_client(self) -> httpx.AsyncClient:
        """The next client in turn."""
        return next(self._next)


async def wait_until_ready(clients: IntakeClients, *, timeout_s: float, check: Callable[[], None]) -> None:
    """Return once ``/readyz`` answers 200 (database and broker reachable)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        check()
        try:
            if (await clients.any_client().get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        await asyncio.sleep(0.2)
    raise BenchmarkFailed(f"intake was not ready within {timeout_s:.0f}s")


@dataclass(frozen=True, slots=True)
class AcceptRun:
    """Accepted needs per second with every connection busy, and how many were refused."""

    accepted_per_s: float
    refused: int
    client: str = "httpx"


async def measure_accept_rate(clients: IntakeClients, bodies: Sequence[dict[str, object]]) -> AcceptRun:
    """Post every body with ``clients.in_flight`` requests always in flight; accepted per second."""
    pending = iter(bodies)
    outcomes: list[bool] = []

    async def keep_posting(client: httpx.AsyncClient) -> None:
        for body in pending:  # one iterator shared by every worker: each body is posted once
            outcomes.append((await client.post(NEEDS_PATH, json=body)).status_code == 202)

    started = time.monotonic()
    await asyncio.gather(*(keep_posting(clients.client(worker)) for worker in range(clients.in_flight)))
    elapsed_s = time.monotonic() - started
    accepted = sum(outcomes)
    if not accepted:
        raise BenchmarkFailed("intake accepted none of the needs posted")
    return AcceptRun(accepted_per_s=accepted / elapsed_s, refused=len(outcomes) - accepted)


@dataclass(slots=True)
class PacedRun:
    """When each accepted need's 202 came back (time.monotonic), and how long each POST took."""

    accepted_at: dict[str, float] = field(default_factory=dict)
    round_trips_s: list[float] = field(default_factory=list)
    refused: int = 0


async def post_at_fixed_rate(clients: IntakeClients, bodies: Sequence[dict[str, object]], *, per_s: float) -> PacedRun:
    """Open-loop load: body i is sent at start + i / per_s whether or not earlier ones were answered."""
    run = PacedRun()

    async def post(client: httpx.AsyncClient, body: dict[str, object]) -> None:
        sent = time.monotonic()
        response = await client.post(NEEDS_PATH, json=body)
        answered = time.monotonic()
        if response.status_code != 202:
            run.refused += 1
            return
        run.accepted_at[response.json()["need_id"]] = answered
        run.round_trips_s.append(answered - sent)

    started = time.monotonic()
    in_flight = []
    for index, body in enumerate(bodies):
        delay = started + index / per_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        in_flight.append(asyncio.create_task(post(clients.any_client(), body)))
    await asyncio.gather(*in_flight)
    return run
