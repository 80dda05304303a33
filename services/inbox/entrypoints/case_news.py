"""The inbox's subscriber, wired in app.py: every agency topic and ``cases.updated.v1``, into the case projection.

One pattern names both, so a new agency topic (an area office's) is found without a release.
"""

import re

from faststream.kafka import KafkaRouter

from services.inbox.use_cases.project_cases import CONSUMER
from shared.batch_subscribers import subscribe
from shared.settings import InfrastructureSettings
from shared.topics import AGENCY_TOPIC_PATTERN, CASES_UPDATED

CASE_NEWS_PATTERN = f"^({AGENCY_TOPIC_PATTERN}|{re.escape(CASES_UPDATED)})$"
# The broker's metadata refresh: a new topic (a new area office's queue) is read within this time.
TOPIC_DISCOVERY_S = 30.0


def create_router(settings: InfrastructureSettings, *, group_id: str) -> KafkaRouter:
    """The subscriber of ``agency.*`` and ``cases.updated.v1``, for the use case in context as ``CONSUMER``.

    Not latency critical: an officer's page asks for new cases every few seconds anyway.
    """
    router = KafkaRouter()
    subscribe(
        router,
        settings,
        pattern=CASE_NEWS_PATTERN,
        title="inbox: agency.* and cases.updated.v1",
        name=CONSUMER,
        group_id=group_id,
        latency_critical=False,
    )
    return router
