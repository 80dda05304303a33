"""The benchmark's keep-alive HTTP client against a small real HTTP/1.1 server on localhost."""

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import h11
import pytest

from benchmark import http_load
from benchmark.http_load import IntakeConnections


@dataclass
class Server:
    """Answers every request with 202 and the request's own path and body; counts connections."""

    port: int = 0
    connections: int = 0
    close_after_request: bool = False
    seen: list[tuple[str, bytes]] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        protocol = h11.Connection(h11.SERVER)
        target, body = "", b""
        while True:
            event = protocol.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                if not data:
                    break
                protocol.receive_data(data)
            elif isinstance(event, h11.Request):
                target, body = event.target.decode(), b""
            elif isinstance(event, h11.Data):
                body += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.seen.append((target, body))
                if self.close_after_request:
                    break  # as a server does whose keep-alive timer just expired
                answer = json.dumps({"path": target}).encode()
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(answer)))]
                writer.write(protocol.send(h11.Response(status_code=202, headers=headers)) or b"")
                writer.write(protocol.send(h11.Data(data=answer)) or b"")
                writer.write(protocol.send(h11.EndOfMessage()) or b"")
                protocol.start_next_cycle()
            else:
                break
        writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    listening = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = listening.sockets[0].getsockname()[1]
    async with listening:
        yield state


async def test_requests_reuse_one_keep_alive_connection(server: Server) -> None:
    async with IntakeConnections(f"http://127.0.0.1:{server.port}", token="t", connections=4) as client:
        first = await client.post_json("/v1/needs", {"description": "ค่าจ้างค้าง"})
        second = await client.get("/readyz")

    assert (first.status, json.loads(first.body)) == (202, {"path": "/v1/needs"})
    assert second.status == 202
    assert server.seen[0] == ("/v1/needs", json.dumps({"description": "ค่าจ้างค้าง"}).encode())
    assert server.connections == 1


async def test_a_connection_idle_too_long_is_replaced_not_reused(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_load, "REUSE_IDLE_AT_MOST_S", 0.05)
    async with IntakeConnections(f"http://127.0.0.1:{server.port}", token="t", connections=1) as client:
        await client.get("/readyz")
        await asyncio.sleep(0.1)
        answer = await client.get("/readyz")

    assert answer.status == 202
    assert server.connections == 2


async def test_a_connection_closed_mid_request_fails_that_request_only(server: Server) -> None:
    async with IntakeConnections(f"http://127.0.0.1:{server.port}", token="t", connections=1) as client:
        server.close_after_request = True
        with pytest.raises(ConnectionError):
            await client.get("/readyz")
        server.close_after_request = False
        answer = await client.get("/readyz")

    assert answer.status == 202
    assert server.connections == 2
