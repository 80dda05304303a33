"""The inbox's copy of the cases: what each office's queue carried, and what routing decided since.

It reads every agency topic (the pattern ``agency\\..*``), so an office sees exactly what its
queue carries, contact included as carried, and routing's ``cases.updated.v1`` for the
reports routing applied and the cases a screener's decision closed.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from pydantic import Discriminator, Field, Tag, model_validator

from shared.batch_consumption import BatchConsumption, BatchReport, Produced
from shared.contracts.events import CaseEscalated, CaseUpdated, Event, PersonalDataErased, RoutedCase
from shared.contracts.offices import InvalidOfficeName, Office
from shared.observability import header_value
from shared.raw_records import RawRecord

CONSUMER = "inbox"
_AGENCY_TOPIC_PREFIX = "agency."


def _kind(value: Any) -> str:
    # Routing's updates have no event_type; the agency topics' three events each have theirs.
    found = value.get("event_type") if isinstance(value, dict) else getattr(value, "event_type", None)
    return str(found or "case.updated")


class CaseNews(Event):
    """Any event the inbox reads, validated as the contract its ``event_type`` names."""

    news: Annotated[
        Annotated[RoutedCase, Tag("case.routed")]
        | Annotated[PersonalDataErased, Tag("personal_data.erased")]
        | Annotated[CaseEscalated, Tag("case.escalated")]
        | Annotated[CaseUpdated, Tag("case.updated")],
        Discriminator(_kind),
        Field(description="The event as published"),
    ]

    @model_validator(mode="before")
    @classmethod
    def _wrap(cls, data: Any) -> Any:
        if isinstance(data, dict) and "news" not in data:
            return {"event_id": data.get("event_id"), "news": data}
        return data


@dataclass(frozen=True, slots=True)
class Learnt:
    """One piece of news, with the office whose queue carried it (None for routing's updates)."""

    news: RoutedCase | PersonalDataErased | CaseEscalated | CaseUpdated
    office: Office | None


@dataclass(slots=True)
class CaseNewsReader:
    """Turns each batch into news for the projection, knowing which office's queue carried each event.

    An event does not name the area office whose queue it reached; its topic does, and its
    ``ce_id`` header is its event id.
    """

    offices: dict[UUID, Office] = field(default_factory=dict)

    def note_offices(self, records: Sequence[RawRecord]) -> None:
        """Remember the office of each agency-topic record of the batch about to be read."""
        self.offices.clear()
        for record in records:
            if not record.topic.startswith(_AGENCY_TOPIC_PREFIX):
                continue
            ce_id = header_value(record.headers, "ce_id")
            try:
                self.offices[UUID(ce_id or "")] = Office.parse(record.topic.removeprefix(_AGENCY_TOPIC_PREFIX))
            except (ValueError, InvalidOfficeName):
                continue  # the event's own agency and province name its office

    async def learn(self, news: list[CaseNews]) -> Produced[Learnt]:
        """The news to keep; nothing to publish."""
        return Produced(results=[Learnt(item.news, self.offices.get(item.event_id)) for item in news], messages=[])


@dataclass(frozen=True, slots=True)
class CaseNewsConsumption:
    """The projection's batch use case: offices noted from the topics, then the one batch consumer."""

    reader: CaseNewsReader
    consumption: BatchConsumption[CaseNews, Learnt]

    async def handle(self, records: Sequence[RawRecord]) -> BatchReport:
        """Consume one batch, at-least-once."""
        self.reader.note_offices(records)
        return await self.consumption.handle(records)
