"""Metrics, trace context and log context, shared by every service.

Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT is set (or NEEDS_ROUTER_TRACE_CONSOLE=1): the
OpenTelemetry API then hands out no-op spans, which cost next to nothing on the hot path.
The W3C ``traceparent`` travels in a Kafka header keyed like the need, so one trace follows
a need from the HTTP call through screening and routing.
"""

import contextvars
import logging
import os
from collections.abc import Iterable, Mapping

from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

TRACEPARENT = "traceparent"

MESSAGES_IN = Counter("needs_router_messages_in", "Records consumed", ["consumer", "topic"])
MESSAGES_OUT = Counter("needs_router_messages_out", "Records published", ["topic"])
DEAD_LETTERS = Counter("needs_router_dead_letters", "Records sent to the dead-letter topic", ["consumer"])
UNREADABLE_LEFT = Counter(
    "needs_router_unreadable_left",
    "Unreadable records a reader beside a topic's own consumer left to that consumer's dead letters",
    ["consumer"],
)
BATCH_SECONDS = Histogram(
    "needs_router_batch_seconds", "Time to process one consumed batch, publish and record included", ["consumer"]
)
CONSUMER_LAG = Gauge(
    "needs_router_consumer_lag", "Records behind the partition's end", ["consumer", "topic", "partition"]
)
ASSIGNED_PARTITIONS = Gauge(
    "needs_router_assigned_partitions", "Partitions of the topic this process's group gave it", ["group", "topic"]
)
UNROUTABLE_TYPES = Counter(
    "needs_router_unroutable_types",
    "Need types sent to manual screening because no routing rule names a known agency for them",
    ["need_type"],
)
EVENT_LOOP_LAG = Histogram(
    "needs_router_event_loop_lag_seconds",
    "How late the process's event loop woke a sleeper that asked to be woken every 20 ms",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
HTTP_SECONDS = Histogram("needs_router_http_request_seconds", "HTTP request latency", ["method", "route", "status"])

# The need a line of log is about, and its trace, for every line logged while handling it.
need_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("need_id", default=None)
traceparent_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)

tracer = trace.get_tracer("needs-router")
_tracing = False


def configure_tracing(service: str) -> None:
    """Export spans when an OTLP endpoint (or console output) is configured; otherwise leave them no-ops."""
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    to_console = os.environ.get("NEEDS_ROUTER_TRACE_CONSOLE") == "1"
    if not endpoint and not to_console:
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

    exporter: SpanExporter
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": f"needs-router-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    global _tracing
    _tracing = True


def serve_metrics(port: int) -> None:
    """Expose /metrics on ``port`` for a service without an HTTP server of its own (0: not at all).

    A busy port costs the metrics, not the service: it logs and carries on.
    """
    if not port:
        return
    try:
        start_http_server(port, addr="0.0.0.0")
    except OSError as busy:
        log.error("metrics not served: port %d is busy (%s); set METRICS_PORT", port, busy)


def current_trace_id() -> str | None:
    """The hex trace id of the current span, else of the trace context being handled, if any."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return f"{context.trace_id:032x}"
    traceparent = traceparent_var.get()
    return traceparent.split("-")[1] if traceparent and traceparent.count("-") == 3 else None


def traceparent_now() -> str | None:
    """The current trace context as a ``traceparent`` value (None when not tracing)."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get(TRACEPARENT)


def header_value(headers: Iterable[tuple[str, bytes]] | None, name: str) -> str | None:
    """One header of a consumed Kafka record, decoded."""
    for key, value in headers or ():
        if key == name:
            return value.decode("latin-1")
    return None


def child_traceparent(parent: str | None, name: str, attributes: Mapping[str, str]) -> str | None:
    """Record a span under ``parent`` (a traceparent) and return the traceparent to pass on.

    Without tracing the parent is passed on unchanged, so a trace started elsewhere still connects.
    """
    if not _tracing:
        return parent
    span = tracer.start_span(name, context=extract({TRACEPARENT: parent} if parent else {}), attributes=attributes)
    try:
        with trace.use_span(span):
            return traceparent_now() or parent
    finally:
        span.end()
