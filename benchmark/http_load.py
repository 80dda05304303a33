"""Load on intake's ``POST /v1/needs``: as fast as the client allows, or paced at a fixed rate.

The client is a pool of plain keep-alive HTTP/1.1 connections, h11 over asyncio streams.
httpx, used first, cost 6-7 ms of CPU per request on the 2-core development machine while
the pipeline ran: at 200 needs/s the load generator took more CPU than the pipeline it
measured, fell behind its schedule (1,000 needs in 19-26 s instead of 5), and its own delays
showed up as latency. This client costs about 0.5 ms per request and keeps to the schedule.
"""

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import h11

from benchmark.errors import BenchmarkFailed

NEEDS_PATH = "/v1/needs"
REQUEST_TIMEOUT_S = 30.0
READ_CHUNK_BYTES = 64 * 1024
# uvicorn closes a connection idle for 5 s; one reused just as it does fails mid-request.
REUSE_IDLE_AT_MOST_S = 2.0


@dataclass(frozen=True, slots=True)
class Response:
    """What came back: the status code and the whole body."""

    status: int
    body: bytes


class _Connection:
    """One keep-alive connection, used by one request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self._protocol = h11.Connection(h11.CLIENT)
        self.idle_since = time.monotonic()

    async def exchange(self, request: h11.Request, body: bytes) -> Response:
        self._writer.write(
            self._protocol.send(request)
            + self._protocol.send(h11.Data(data=body))
            + self._protocol.send(h11.EndOfMessage())
        )
        status, chunks = 0, []
        while True:
            event = self._protocol.next_event()
            if event is h11.NEED_DATA:
                data = await self._reader.read(READ_CHUNK_BYTES)
                if not data:
                    raise ConnectionError("intake closed the connection mid-response")
                self._protocol.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._protocol.start_next_cycle()
                self.idle_since = time.monotonic()
                return Response(status, b"".join(chunks))
            elif isinstance(event, h11.ConnectionClosed):
                raise ConnectionError("intake closed the connection mid-response")

    def close(self) -> None:
        self._writer.close()


class IntakeConnections:
    """Up to ``connections`` keep-alive connections to intake, each request signed with an API key."""

    def __init__(self, intake_url: str, *, token: str, connections: int) -> None:
        url = urlsplit(intake_url)
        self._host = url.hostname or "127.0.0.1"
        self._port = url.port or 80
        self._headers = [("Host", url.netloc), ("Authorization", f"Bearer {token}")]
        self._idle: asyncio.LifoQueue[_Connection | None] = asyncio.LifoQueue()
        for _ in range(connections):
            self._idle.put_nowait(None)  # a free slot; connected on first use
        self.in_flight = connections

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        while not self._idle.empty():
            if connection := self._idle.get_nowait():
                connection.close()

    async def get(self, path: str) -> Response:
        """``GET path``."""
        return await self._request("GET", path, b"")

    async def post_json(self, path: str, body: object) -> Response:
        """``POST path`` with ``body`` as JSON."""
        return await self._request("POST", path, json.dumps(body).encode())

    async def _request(self, method: str, path: str, body: bytes) -> Response:
        headers = [*self._headers, ("Content-Length", str(len(body)))]
        if body:
            headers.append(("Content-Type", "application/json"))
        request = h11.Request(method=method, target=path, headers=headers)
        connection = await self._idle.get()
        if connection is not None and time.monotonic() - connection.idle_since > REUSE_IDLE_AT_MOST_S:
            connection.close()
            connection = None
        try:
            if connection is None:
                connection = _Connection(*await asyncio.open_connection(self._host, self._port))
            response = await asyncio.wait_for(connection.exchange(request, body), REQUEST_TIMEOUT_S)
        except BaseException:
            if connection is not None:
                connection.close()
            self._idle.put_nowait(None)  # the slot stays; its next request opens a new connection
            raise
        self._idle.put_nowait(connection)
        return response


async def wait_until_ready(connections: IntakeConnections, *, timeout_s: float, check: Callable[[], None]) -> None:
    """Return once ``/readyz`` answers 200 (database and broker reachable)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        check()
        try:
            if (await connections.get("/readyz")).status == 200:
                return
        except OSError:
            pass  # not listening yet
        await asyncio.sleep(0.2)
    raise BenchmarkFailed(f"intake was not ready within {timeout_s:.0f}s")


@dataclass(frozen=True, slots=True)
class AcceptRun:
    """Accepted needs per second with every connection busy, and how many were refused."""

    accepted_per_s: float
    refused: int
    client: str = "h11"


async def measure_accept_rate(connections: IntakeConnections, bodies: Sequence[dict[str, object]]) -> AcceptRun:
    """Post every body with ``connections.in_flight`` requests always in flight; accepted per second."""
    pending = iter(bodies)
    outcomes: list[bool] = []

    async def keep_posting() -> None:
        for body in pending:  # one iterator shared by every worker: each body is posted once
            outcomes.append((await connections.post_json(NEEDS_PATH, body)).status == 202)

    started = time.monotonic()
    await asyncio.gather(*(keep_posting() for _ in range(connections.in_flight)))
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


async def post_at_fixed_rate(
    connections: IntakeConnections, bodies: Sequence[dict[str, object]], *, per_s: float
) -> PacedRun:
    """Open-loop load: body i is sent at start + i / per_s whether or not earlier ones were answered."""
    run = PacedRun()

    async def post(body: dict[str, object]) -> None:
        sent = time.monotonic()
        response = await connections.post_json(NEEDS_PATH, body)
        answered = time.monotonic()
        if response.status != 202:
            run.refused += 1
            return
        run.accepted_at[json.loads(response.body)["need_id"]] = answered
        run.round_trips_s.append(answered - sent)

    started = time.monotonic()
    in_flight = []
    for index, body in enumerate(bodies):
        delay = started + index / per_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        in_flight.append(asyncio.create_task(post(body)))
    await asyncio.gather(*in_flight)
    return run
