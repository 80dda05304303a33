"""Screening's composition root: broker, pool and classifier, created in lifespan."""

import asyncpg
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.screening.domain.classifier import Classifier
from services.screening.handlers import create_router
from services.screening.repository import ScreeningStore
from services.screening.screener import CONSUMER, Screener
from services.screening.settings import ScreeningSettings
from shared.worker import create_worker_app, run_worker


def create_app(settings: ScreeningSettings) -> FastStream:
    """The screening service."""

    async def build_screener(pool: asyncpg.Pool, broker: KafkaBroker) -> dict[str, object]:
        return {CONSUMER: Screener(classifier=Classifier.load(), store=ScreeningStore(pool), broker=broker)}

    return create_worker_app(settings, name=CONSUMER, router=create_router(settings), build_service=build_screener)


def serve() -> None:
    """Run screening alone, configured from the environment."""
    settings = ScreeningSettings().require()
    run_worker(create_app(settings), name=CONSUMER, settings=settings)
