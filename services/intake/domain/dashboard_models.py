"""What GET /v1/dashboard answers: the figures of one period."""

import uuid
from datetime import date, datetime

from pydantic import BaseModel

from shared.case_status import Overdue


class PeriodView(BaseModel):
    """The days shown (both included), and the instants they span."""

    first_day: date
    last_day: date
    start: datetime
    end: datetime


class ServiceLevelsView(BaseModel):
    """The service levels overdue cases are measured against."""

    accept_within_hours: float
    resolve_within_hours: float


class TypeCount(BaseModel):
    """Needs of one type; ``manual`` counts needs screening could not classify."""

    type: str
    needs: int


class Province(BaseModel):
    """A province by its official code, with its Thai and English names."""

    code: str
    name_th: str
    name_en: str


class ProvinceCount(Province):
    """Needs recorded in one province."""

    needs: int


class NeedsFigure(BaseModel):
    """Needs submitted in the period: how many, screened or not, by type and by province."""

    total: int
    screened: int
    unscreened: int
    by_type: list[TypeCount]
    by_province: list[ProvinceCount]


class Durations(BaseModel):
    """Hours from routing to a step, over the cases that reached it."""

    cases: int
    median_hours: float | None
    p90_hours: float | None


class AgencyFigure(BaseModel):
    """One agency's cases routed in the period and where they stand now."""

    agency: str
    routed: int
    open: int
    by_status: dict[str, int]
    overdue: int
    escalated: int
    to_accept: Durations
    to_resolve: Durations


class OverdueCase(BaseModel):
    """An open case past a service level."""

    need_id: uuid.UUID
    agency: str
    province_code: str
    status: str
    routed_at: datetime
    overdue: Overdue
    escalated: list[str]


class OverdueFigure(BaseModel):
    """Open cases routed in the period that are past a service level now; the oldest listed."""

    total: int
    not_accepted: int
    not_resolved: int
    oldest: list[OverdueCase]


class ConsumerCount(BaseModel):
    """Dead letters of one consumer, and how many are not replayed yet."""

    consumer: str
    dead_letters: int
    not_replayed: int


class DeadLetterLine(BaseModel):
    """One dead letter, with its error (cut to 300 characters)."""

    event_id: uuid.UUID
    consumer: str
    source_topic: str
    error: str
    failed_at: datetime
    replayed_at: datetime | None


class DeadLettersFigure(BaseModel):
    """Messages no consumer could read, failed in the period."""

    total: int
    by_consumer: list[ConsumerCount]
    latest: list[DeadLetterLine]


class ProvinceRow(Province):
    """One province's line in the province table."""

    needs: int
    routed: int
    open: int
    overdue: int
    resolved: int


class Dashboard(BaseModel):
    """Every figure of the operators' dashboard for one period."""

    period: PeriodView
    generated_at: datetime
    service_levels: ServiceLevelsView
    needs: NeedsFigure
    agencies: list[AgencyFigure]
    overdue: OverdueFigure
    dead_letters: DeadLettersFigure
    provinces: list[ProvinceRow]
