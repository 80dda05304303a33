"""The officers' inbox's composition root: the web app, its pool, its publisher and its reader of the case topics."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial

import uvicorn
from fastapi import FastAPI

from services.inbox.adapters.intake_reveal import IntakeReveal
from services.inbox.adapters.projection import CaseProjection
from services.inbox.entrypoints.case_news import TOPIC_DISCOVERY_S, create_router
from services.inbox.entrypoints.web import ForgedForm, InboxResources, NotLoggedIn, forged_form, not_logged_in, router
from services.inbox.settings import InboxSettings
from services.inbox.use_cases.accounts import LoginLimits
from services.inbox.use_cases.case_work import Inbox
from services.inbox.use_cases.project_cases import CONSUMER, CaseNews, CaseNewsConsumption, CaseNewsReader, Learnt
from shared.batch_consumption import BatchConsumption
from shared.contracts.cloud_events import Source
from shared.database import create_pool, migrate
from shared.event_loop_lag import watch_event_loop
from shared.kafka import create_broker, publish_all
from shared.logs import configure_logging
from shared.retry import retry_transient


def create_app(settings: InboxSettings) -> FastAPI:
    """The inbox: pages for officers, and its own copy of the cases kept from the topics."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await retry_transient(
            lambda: migrate(settings.database_url, role_passwords=settings.service_role_passwords()),
            what="inbox: migrate",
        )
        pool = await retry_transient(
            lambda: create_pool(settings.service_database_url("inbox"), max_size=settings.database_pool_size),
            what="inbox: database",
        )
        broker = create_broker(settings, client_id="inbox", metadata_max_age_s=TOPIC_DISCOVERY_S)
        broker.include_router(create_router(settings, group_id=settings.inbox_group_id))
        await retry_transient(broker.connect, what="inbox: broker")
        reader = CaseNewsReader()
        consumption: BatchConsumption[CaseNews, Learnt] = BatchConsumption(
            model=CaseNews,
            consumer=CONSUMER,
            source=Source.INBOX,
            store=CaseProjection(pool),
            produce=reader.learn,
            publish=partial(publish_all, broker),
        )
        broker.context.set_global(CONSUMER, CaseNewsConsumption(reader, consumption))
        # In the background: joining the consumer group must not hold up the pages.
        subscribers = asyncio.create_task(retry_transient(broker.start, what="inbox: subscriber"), name="subscriber")
        watcher = asyncio.create_task(watch_event_loop(), name="event-loop-lag")
        app.state.resources = InboxResources(
            inbox=Inbox(pool=pool, publish=partial(publish_all, broker), levels=settings.service_levels()),
            intake=IntakeReveal(settings.intake_url, settings.inbox_intake_key.get_secret_value()),
            secure_cookies=settings.secure_cookies(),
            session_for=timedelta(hours=settings.officer_session_hours),
            limits=LoginLimits(
                allowed=settings.login_failures_allowed, window=timedelta(seconds=settings.login_failure_window_s)
            ),
            refresh_s=settings.inbox_refresh_s,
        )
        try:
            yield
        finally:
            subscribers.cancel()
            watcher.cancel()
            await asyncio.gather(subscribers, watcher, return_exceptions=True)
            await broker.stop()
            await pool.close()

    app = FastAPI(title="needs-router officers' inbox", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)  # fmt: skip
    app.include_router(router)
    app.add_exception_handler(NotLoggedIn, not_logged_in)
    app.add_exception_handler(ForgedForm, forged_form)
    return app


def serve() -> None:
    """Run the inbox alone, configured from the environment."""
    settings = InboxSettings().require()
    configure_logging("inbox")
    uvicorn.run(
        create_app(settings),
        host=settings.inbox_host,
        port=settings.inbox_port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        timeout_graceful_shutdown=8,
        access_log=False,
    )
