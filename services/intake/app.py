"""Intake's composition root: the HTTP app, its database pool, broker and outbox relay."""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from services.intake.api import IntakeResources, router
from services.intake.errors import BodySizeLimit, validation_problem
from services.intake.outbox_relay import OutboxRelay
from services.intake.settings import IntakeSettings
from shared.database import create_pool, migrate
from shared.kafka import create_broker
from shared.logs import configure_logging


def create_app(settings: IntakeSettings) -> FastAPI:
    """The intake HTTP service; resources live from start-up to shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrate(settings.database_url)
        pool = await create_pool(settings.database_url, max_size=settings.database_pool_size)
        broker = create_broker(settings, client_id="intake")
        await broker.connect()
        relay = OutboxRelay(pool, broker)
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        app.state.resources = IntakeResources(pool=pool, broker=broker, relay=relay)
        try:
            yield
        finally:
            relay_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay_task
            await broker.stop()
            await pool.close()

    app = FastAPI(
        title="needs-router intake",
        version="1",
        description="Volunteers' labour needs in; see /asyncapi.json for the topics they go to.",
        lifespan=lifespan,
    )
    app.include_router(router)
    app.add_exception_handler(RequestValidationError, validation_problem)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    return app


def serve() -> None:
    """Run intake alone, configured from the environment."""
    settings = IntakeSettings().require()
    configure_logging("intake")
    uvicorn.run(
        create_app(settings),
        host=settings.intake_host,
        port=settings.intake_port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        timeout_graceful_shutdown=8,
    )
