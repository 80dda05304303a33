"""Intake's subscribers, wired in app.py: the events it keeps its own copy of, and the sources' submissions."""

from faststream.kafka import KafkaRouter

from services.intake.settings import IntakeSettings
from services.intake.use_cases.project_events import CASE_UPDATES, DEAD_LETTERS, SCREENINGS
from services.intake.use_cases.source_submissions import CONSUMER
from shared.batch_subscribers import subscribe
from shared.topics import CASES_UPDATED, INCOMING_TOPICS_PATTERN, NEEDS_DEAD_LETTERS, NEEDS_SCREENED

# (topic, projection, consumer group after the prefix, latency critical). Agencies read their case
# and may report on it at once, so intake's copy of routing's updates must follow closely; and the
# screenings' copy as closely, or a need's view would show it routed before it was screened.
COPIED_TOPICS = (
    (NEEDS_SCREENED, SCREENINGS, "screenings", True),
    (CASES_UPDATED, CASE_UPDATES, "case-updates", True),
    (NEEDS_DEAD_LETTERS, DEAD_LETTERS, "dead-letters", False),
)


def create_router(settings: IntakeSettings) -> KafkaRouter:
    """The subscribers of ``needs.screened.v1``, ``cases.updated.v1`` and ``needs.dlq.v1``."""
    router = KafkaRouter()
    for topic, name, group, latency_critical in COPIED_TOPICS:
        subscribe(
            router,
            settings,
            topic=topic,
            title=f"intake: {topic}",
            name=name,
            group_id=f"{settings.intake_group_prefix}-{group}",
            latency_critical=latency_critical,
        )
    return router


def create_source_router(settings: IntakeSettings) -> KafkaRouter:
    """The subscriber of ``needs.incoming.v1.*``: one consumer reads the topics of all sources at once."""
    router = KafkaRouter()
    subscribe(
        router,
        settings,
        pattern=INCOMING_TOPICS_PATTERN,
        title="intake: needs.incoming.v1.*",
        name=CONSUMER,
        group_id=settings.source_group_id,
        latency_critical=False,
    )
    return router
