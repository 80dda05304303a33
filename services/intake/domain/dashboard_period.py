"""The period a dashboard shows: whole days in Thai time, validated."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from shared.thai_time import THAI_TIME

DEFAULT_DAYS = 30
MAX_DAYS = 731
EARLIEST = date(2000, 1, 1)


class InvalidPeriod(ValueError):
    """A period the dashboard refuses, naming the query field at fault."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Period:
    """From the start of ``first`` to the end of ``last`` (both included), Thai time."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        """The first instant of the period."""
        return datetime.combine(self.first, time(), THAI_TIME)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), THAI_TIME)


def choose_period(first: date | None, last: date | None, *, now: datetime) -> Period:
    """The period asked for; by default the last 30 days up to today (Thai time)."""
    today = now.astimezone(THAI_TIME).date()
    latest = today + timedelta(days=1)  # a clock a little ahead of the server's must not be refused
    for field, day in (("from", first), ("to", last)):
        if day is not None and not EARLIEST <= day <= latest:
            raise InvalidPeriod(field, f"must be a date from {EARLIEST} to {latest}")
    if last is None:
        last = today if first is None else max(first, min(first + timedelta(days=DEFAULT_DAYS - 1), today))
    if first is None:
        first = max(EARLIEST, last - timedelta(days=DEFAULT_DAYS - 1))
    if last < first:
        raise InvalidPeriod("to", "must be on or after 'from'")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidPeriod("from", f"the period may be at most {MAX_DAYS} days long")
    return Period(first, last)
