"""Intake's composition root: the HTTP app, its database pool, broker, outbox relay and the sources' topics."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.intake.adapters.backlog_metrics import run_backlog_metrics
from services.intake.adapters.line_api import LineMessaging
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher
from services.intake.domain.rate_limit import RateLimiter
from services.intake.entrypoints.access_guard import AccessRefused, Gatekeeper
from services.intake.entrypoints.dashboard import router as dashboard_router
from services.intake.entrypoints.health import NotReady
from services.intake.entrypoints.health import router as health_router
from services.intake.entrypoints.http_api import IntakeResources, router
from services.intake.entrypoints.http_errors import (
    BodySizeLimit,
    Problem,
    access_refused,
    database_unavailable,
    framework_problem,
    raised_problem,
    validation_problem,
)
from services.intake.entrypoints.http_telemetry import RequestTelemetry
from services.intake.entrypoints.line import router as line_router
from services.intake.entrypoints.open311 import OPEN311_MODELS
from services.intake.entrypoints.open311 import router as open311_router
from services.intake.entrypoints.open311_wire import Open311Refused, refused
from services.intake.entrypoints.openapi_contract import document_with
from services.intake.entrypoints.subscribers import create_router, create_source_router
from services.intake.settings import IntakeSettings
from services.intake.use_cases.key_rotation import refuse_a_retired_sealing_key
from services.intake.use_cases.line_channel import LineChannel
from services.intake.use_cases.project_events import projections
from services.intake.use_cases.redrive import RedriveSettings, run_redrive
from services.intake.use_cases.retention import RetentionPeriods, run_retention
from services.intake.use_cases.source_submissions import CONSUMER as SOURCES_CONSUMER
from services.intake.use_cases.source_submissions import SourceSubmissions
from shared.database import create_pool, migrate
from shared.event_loop_lag import watch_event_loop
from shared.garbage_collection import freeze_startup_objects
from shared.kafka import create_broker
from shared.logs import configure_logging
from shared.observability import configure_tracing
from shared.retry import TRANSIENT_ERRORS, retry_transient


def create_app(settings: IntakeSettings, *, owns_process: bool = False) -> FastAPI:
    """The intake HTTP service; resources live from start-up to shutdown.

    ``owns_process``: nothing else runs in this process, so start-up may tune its garbage
    collector (not done for an app embedded in another process, such as the tests').
    """
    cipher = PersonalDataCipher.from_base64(settings.personal_data_key.get_secret_value())

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await retry_transient(
            lambda: migrate(settings.database_url, role_passwords=settings.service_role_passwords()),
            what="intake: migrate",
        )
        database_url = settings.service_database_url("intake")
        await retry_transient(
            lambda: refuse_a_retired_sealing_key(database_url, cipher), what="intake: personal-data key"
        )
        pool = await retry_transient(
            lambda: create_pool(database_url, max_size=settings.database_pool_size), what="intake: database"
        )
        broker = create_broker(settings, client_id="intake", metadata_max_age_s=settings.source_discovery_s)
        broker.include_router(create_router(settings))
        broker.include_router(create_source_router(settings))
        await retry_transient(broker.connect, what="intake: broker")
        for name, projection in projections(pool, broker).items():
            broker.context.set_global(name, projection)
        relay = OutboxRelay(pool, broker)
        broker.context.set_global(SOURCES_CONSUMER, SourceSubmissions(pool=pool, cipher=cipher, relay=relay))
        limiter = RateLimiter(per_second=settings.rate_limit_per_s, burst=settings.rate_limit_burst)
        redrive = RedriveSettings(after_s=settings.redrive_after_s, interval_s=settings.redrive_interval_s)
        background = [
            asyncio.create_task(watch_event_loop(), name="event-loop-lag"),
            asyncio.create_task(relay.run(), name="outbox-relay"),
            asyncio.create_task(run_redrive(pool, relay, redrive), name="re-drive"),
            asyncio.create_task(
                run_retention(
                    pool,
                    relay,
                    periods=RetentionPeriods(
                        personal_data=timedelta(days=settings.personal_data_retention_days),
                        projected_event_ids=timedelta(days=settings.projected_event_ids_keep_days),
                    ),
                    interval_s=settings.retention_interval_s,
                ),
                name="retention",
            ),
            asyncio.create_task(
                run_backlog_metrics(pool, settings.service_levels(), interval_s=settings.backlog_metrics_interval_s),
                name="backlog-metrics",
            ),
            # In the background: joining the consumer groups must not hold up the HTTP API; a
            # status report on a case intake has not copied yet waits for it (projection_wait_s).
            asyncio.create_task(retry_transient(broker.start, what="intake: subscribers"), name="subscribers"),
        ]
        line = _line_channel(settings, pool=pool, cipher=cipher, relay=relay)
        if line is not None:
            background += [
                asyncio.create_task(line.run_events(interval_s=settings.line_events_interval_s), name="line-events"),
                asyncio.create_task(line.run_pushes(interval_s=settings.line_push_interval_s), name="line-pushes"),
            ]
        app.state.resources = IntakeResources(
            pool=pool,
            broker=broker,
            relay=relay,
            gatekeeper=Gatekeeper(pool, limiter, cache_s=settings.api_key_cache_s),
            cipher=cipher,
            levels=settings.service_levels(),
            projection_wait_s=settings.projection_wait_s,
            line=line,
            line_link_code_ttl=timedelta(seconds=settings.line_link_code_ttl_s),
        )
        if owns_process:
            freeze_startup_objects()
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            if line is not None:
                await line.messaging.close()
            await broker.stop()
            await pool.close()

    app = FastAPI(
        title="needs-router intake",
        version="1",
        description=(
            "Volunteers' labour needs in; see /asyncapi.json for the topics they go to. Every error is RFC 9457"
            " problem details (application/problem+json) listing each field's problem in `errors`; lists give"
            ' their next page in a `Link` header (rel="next").'
        ),
        lifespan=lifespan,
    )
    app.include_router(router)
    app.include_router(open311_router)
    app.include_router(line_router)
    app.include_router(dashboard_router)
    app.include_router(health_router)
    app.openapi = document_with(app, NotReady, *OPEN311_MODELS)  # type: ignore[method-assign]
    app.add_exception_handler(Problem, raised_problem)
    app.add_exception_handler(StarletteHTTPException, framework_problem)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_exception_handler(AccessRefused, access_refused)
    app.add_exception_handler(Open311Refused, refused)
    for transient in TRANSIENT_ERRORS:
        app.add_exception_handler(transient, database_unavailable)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestTelemetry)
    return app


def _line_channel(
    settings: IntakeSettings, *, pool: asyncpg.Pool, cipher: PersonalDataCipher, relay: OutboxRelay
) -> LineChannel | None:
    if not settings.line_enabled():
        return None
    messaging = LineMessaging(
        base_url=settings.line_api_base_url, access_token=settings.line_channel_access_token.get_secret_value()
    )
    return LineChannel(
        channel_secret=settings.line_channel_secret.get_secret_value(),
        messaging=messaging, pool=pool, cipher=cipher, relay=relay, clock=lambda: datetime.now(UTC),
    )  # fmt: skip


def serve() -> None:
    """Run intake alone, configured from the environment."""
    settings = IntakeSettings().require()
    configure_logging("intake")
    configure_tracing("intake")
    uvicorn.run(
        create_app(settings, owns_process=True),
        host=settings.intake_host,
        port=settings.intake_port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        timeout_graceful_shutdown=8,
        access_log=settings.intake_access_log,
    )
