"""From a classification to the ``needs.screened.v1`` event."""

import uuid
from datetime import datetime

from services.screening.domain.classifier import Classification
from shared.contracts.events import NeedScreened, NeedSubmitted, TypeAssessment

_SCREENED_NAMESPACE = uuid.UUID("5a7e0c1d-2b9f-4e3a-8c6d-0f1e2d3c4b5a")


def screened_event(need: NeedSubmitted, classification: Classification, *, now: datetime) -> NeedScreened:
    """The screening result; its event id follows from the need and the classifier version."""
    return NeedScreened(
        event_id=uuid.uuid5(_SCREENED_NAMESPACE, f"{need.need_id}:{classification.classifier_version}"),
        need=need,
        screened_at=now,
        types=tuple(
            TypeAssessment(type=item.type, confidence=round(item.confidence, 4), evidence=item.evidence)
            for item in classification.types
        ),
        language=classification.language,
        manual_reason=classification.manual_reason,
        disagreement=classification.disagreement,
        classifier_version=classification.classifier_version,
    )
