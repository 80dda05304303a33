"""Thai time, as the dashboard and the agencies' officers read it."""

from datetime import UTC, datetime, timedelta, timezone

# Thailand keeps UTC+7 all year (no daylight saving): a fixed offset needs no tz database.
THAI_TIME = timezone(timedelta(hours=7), "Asia/Bangkok")


def in_thai_time(moment: datetime) -> datetime:
    """The moment on Bangkok's clock; a moment without a zone is taken as UTC, as events are written."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(THAI_TIME)
