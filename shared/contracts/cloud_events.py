"""CloudEvents 1.0 attributes in Kafka binary mode: what every record the project produces carries.

Agencies in any language read ``ce_id`` (the event's ``event_id``, the same on every
re-publication), ``ce_type`` (the event's name and version) and ``ce_source`` (the service
that made it) from the headers without parsing the body.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

import orjson

from shared.contracts.events import (
    CaseEscalated,
    CaseLinked,
    CaseStatusReport,
    CaseUpdated,
    DeadLetter,
    Event,
    NeedScreened,
    NeedSubmitted,
    PersonalDataErased,
    RoutedCase,
    ScreenerDecision,
)
from shared.contracts.submissions import SubmissionAccepted, SubmissionRejected
from shared.topics import (
    CASE_STATUS,
    CASES_UPDATED,
    NEEDS_DEAD_LETTERS,
    NEEDS_SCREENED,
    NEEDS_SUBMITTED,
    RECEIPTS_PREFIX,
    SCREENER_DECISIONS,
)

SPEC_VERSION = "1.0"
JSON_CONTENT_TYPE = "application/json"


class Source(StrEnum):
    """``ce_source``: the part of needs-router that produced the event."""

    INTAKE = "/needs-router/intake"
    SCREENING = "/needs-router/screening"
    ROUTING = "/needs-router/routing"
    AGENCY_CLIENT = "/needs-router/agency-client"
    INBOX = "/needs-router/inbox"


@dataclass(frozen=True, slots=True)
class CloudEventAttributes:
    """The required CloudEvents attributes of one event, plus its time."""

    id: UUID
    type: str
    source: Source
    time: datetime

    def headers(self) -> dict[str, str]:
        """The Kafka binary-mode headers: ``ce_*`` and the data's ``content-type``."""
        return {
            "ce_specversion": SPEC_VERSION,
            "ce_id": str(self.id),
            "ce_type": self.type,
            "ce_source": self.source.value,
            "ce_time": _rfc3339(self.time),
            "content-type": JSON_CONTENT_TYPE,
        }


def _rfc3339(moment: datetime) -> str:
    # The same instant must give the same header whichever path re-publishes it.
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cloud_event_of(event: Event, *, source: Source) -> CloudEventAttributes:
    """The attributes of an event object about to be published."""
    return CloudEventAttributes(
        id=event.event_id, type=event.cloud_event_type, source=source, time=getattr(event, event.time_field)
    )


def cloud_event_of_record(topic: str, value: bytes, *, source: Source) -> CloudEventAttributes:
    """The attributes of an event already serialised (the outbox keeps bytes), from its JSON fields."""
    try:
        payload = orjson.loads(value)
        model = event_model(topic, payload)
        return CloudEventAttributes(
            id=UUID(payload["event_id"]),
            type=model.cloud_event_type,
            source=source,
            time=datetime.fromisoformat(payload[model.time_field]),
        )
    except UnknownEvent:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise UnknownEvent(f"not an event of ours on {topic}: {error!r}") from error


_PIPELINE_EVENTS: dict[str, type[Event]] = {
    NEEDS_SUBMITTED: NeedSubmitted,
    NEEDS_SCREENED: NeedScreened,
    CASE_STATUS: CaseStatusReport,
    CASES_UPDATED: CaseUpdated,
    SCREENER_DECISIONS: ScreenerDecision,
    NEEDS_DEAD_LETTERS: DeadLetter,
}
# The agency topics carry several kinds of event, told apart by ``event_type``.
_AGENCY_EVENTS: dict[str, type[Event]] = {
    model.model_fields["event_type"].default: model
    for model in (RoutedCase, PersonalDataErased, CaseEscalated, CaseLinked)
}

# A source's receipts topic carries both receipts, told apart by ``status``.
_RECEIPTS: dict[str, type[Event]] = {
    model.model_fields["status"].default: model for model in (SubmissionAccepted, SubmissionRejected)
}


class UnknownEvent(ValueError):
    """A record whose topic and ``event_type`` name no event of this project."""


def event_model(topic: str, payload: Any) -> type[Event]:
    """The contract of a record on ``topic`` with this JSON payload."""
    if topic in _PIPELINE_EVENTS:
        return _PIPELINE_EVENTS[topic]
    event_type = payload.get("event_type") if isinstance(payload, dict) else None
    if topic.startswith("agency.") and event_type in _AGENCY_EVENTS:
        return _AGENCY_EVENTS[event_type]
    status = payload.get("status") if isinstance(payload, dict) else None
    if topic.startswith(RECEIPTS_PREFIX) and status in _RECEIPTS:
        return _RECEIPTS[status]
    raise UnknownEvent(f"no event of type {event_type!r} is published on {topic}")
