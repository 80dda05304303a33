"""Screening's composition root: broker, pool and the live models, created in lifespan."""

from collections.abc import Coroutine
from functools import partial

import asyncpg
from faststream import FastStream
from faststream.kafka import KafkaBroker

from services.screening.adapters.database import CorrectionStore, ScreenerDecisionStore, ScreeningStore
from services.screening.entrypoints.subscribers import create_router
from services.screening.settings import ScreeningSettings
from services.screening.use_cases.apply_screener_decisions import CONSUMER as DECISIONS_CONSUMER
from services.screening.use_cases.apply_screener_decisions import AppliedDecision, ScreenerDecisions
from services.screening.use_cases.live_models import ScreeningModels, keep_models_fresh, load_models
from services.screening.use_cases.record_corrections import CONSUMER as CORRECTIONS_CONSUMER
from services.screening.use_cases.record_corrections import take_corrections
from services.screening.use_cases.screen_needs import CONSUMER, Screener
from shared.batch_consumption import BatchConsumption
from shared.batch_subscribers import create_worker_app, run_worker
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseUpdated, NeedScreened, NeedSubmitted, ScreenerDecision
from shared.kafka import publish_all


def screening_batches(screener: Screener, broker: KafkaBroker) -> BatchConsumption[NeedSubmitted, NeedScreened]:
    """Screening wired to the batch consumer: needs in, results out, a need seen before gets its result again."""
    return BatchConsumption(
        model=NeedSubmitted,
        consumer=CONSUMER,
        source=Source.SCREENING,
        store=screener.store,
        produce=screener.screen,
        publish=partial(publish_all, broker),
        republish=screener.screened_before,
    )


def correction_batches(pool: asyncpg.Pool, broker: KafkaBroker) -> BatchConsumption[CaseUpdated, CaseUpdated]:
    """Routing's case updates wired to the batch consumer: misrouted reports become screening's corrections."""
    return BatchConsumption(
        model=CaseUpdated,
        consumer=CORRECTIONS_CONSUMER,
        source=Source.SCREENING,
        store=CorrectionStore(pool),
        produce=take_corrections,
        publish=partial(publish_all, broker),
    )


def decision_batches(
    decisions: ScreenerDecisions, broker: KafkaBroker
) -> BatchConsumption[ScreenerDecision, AppliedDecision]:
    """Screeners' decisions wired to the batch consumer: manual screening results out, corrections kept."""
    return BatchConsumption(
        model=ScreenerDecision,
        consumer=DECISIONS_CONSUMER,
        source=Source.SCREENING,
        store=decisions.store,
        produce=decisions.apply,
        publish=partial(publish_all, broker),
        republish=decisions.published_before,
    )


def create_app(settings: ScreeningSettings) -> FastStream:
    """The screening service."""
    # Made in lifespan by build_screener, then kept fresh by the refresh job started after it.
    loaded: list[ScreeningModels] = []

    async def build_screener(pool: asyncpg.Pool, broker: KafkaBroker) -> dict[str, object]:
        loaded.append(await load_models(pool))
        return {
            CONSUMER: screening_batches(Screener(models=loaded[0], store=ScreeningStore(pool)), broker),
            CORRECTIONS_CONSUMER: correction_batches(pool, broker),
            DECISIONS_CONSUMER: decision_batches(
                ScreenerDecisions(screenings=ScreeningStore(pool), store=ScreenerDecisionStore(pool)), broker
            ),
        }

    def model_refresh(pool: asyncpg.Pool, _: KafkaBroker) -> list[Coroutine[None, None, None]]:
        return [keep_models_fresh(loaded[0], pool, interval_s=settings.model_refresh_s)]

    return create_worker_app(
        settings,
        name=CONSUMER,
        service="screening",
        router=create_router(settings),
        build_service=build_screener,
        background=model_refresh,
    )


def serve() -> None:
    """Run screening alone, configured from the environment."""
    settings = ScreeningSettings().require()
    run_worker(create_app(settings), name=CONSUMER, settings=settings)
