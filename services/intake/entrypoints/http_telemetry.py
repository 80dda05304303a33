"""Every HTTP request: a span (joining the caller's trace if it sent one) and a latency observation."""

import time

from opentelemetry.propagate import extract
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.observability import HTTP_SECONDS, tracer


class RequestTelemetry:
    """Times each request by route template (not by path: need ids would explode the label set)."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        carrier = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
        with tracer.start_as_current_span(f"{scope['method']} {scope['path']}", context=extract(carrier)):
            try:
                await self._app(scope, receive, send_with_status)
            finally:
                route = getattr(scope.get("route"), "path", "unmatched")
                HTTP_SECONDS.labels(method=scope["method"], route=route, status=str(status)).observe(
                    time.perf_counter() - started
                )
