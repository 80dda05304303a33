"""Screening's subscribers: submitted needs to screening, case updates to its corrections, wired in app.py."""

from faststream.kafka import KafkaRouter

from services.screening.settings import ScreeningSettings
from services.screening.use_cases.apply_screener_decisions import CONSUMER as DECISIONS_CONSUMER
from services.screening.use_cases.record_corrections import CONSUMER as CORRECTIONS_CONSUMER
from services.screening.use_cases.screen_needs import CONSUMER
from shared.batch_subscribers import subscribe
from shared.topics import CASES_UPDATED, NEEDS_SUBMITTED, SCREENER_DECISIONS


def create_router(settings: ScreeningSettings) -> KafkaRouter:
    """The subscribers of ``needs.submitted.v1``, ``cases.updated.v1`` and ``screening.decisions.v1``."""
    router = KafkaRouter()
    subscribe(
        router,
        settings,
        topic=NEEDS_SUBMITTED,
        title="screening: needs.submitted.v1",
        name=CONSUMER,
        group_id=settings.screening_group_id,
    )
    subscribe(
        router,
        settings,
        topic=CASES_UPDATED,
        title="screening: cases.updated.v1",
        name=CORRECTIONS_CONSUMER,
        group_id=settings.corrections_group_id,
        latency_critical=False,
    )
    subscribe(
        router,
        settings,
        topic=SCREENER_DECISIONS,
        title="screening: screening.decisions.v1",
        name=DECISIONS_CONSUMER,
        group_id=settings.screener_decisions_group_id,
        latency_critical=False,
    )
    return router
