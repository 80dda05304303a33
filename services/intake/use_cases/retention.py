"""Retention: a resolved need keeps the person's data only for a set time (PDPA); intake forgets
the ids of events it projected long ago."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from services.intake.adapters import access_store as access
from services.intake.adapters import database
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.projection import forget_projected_events
from shared.periodic import every

log = logging.getLogger(__name__)


async def erase_expired_personal_data(pool: asyncpg.Pool, *, keep_for: timedelta, limit: int = 500) -> int:
    """Erase the personal data of needs resolved longer ago than ``keep_for``; tell their agencies."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        expired = await database.needs_resolved_before(connection, now - keep_for, limit=limit)
        for need_id in expired:
            agencies = await database.erase_personal_data(connection, need_id, now=now)
            await access.audit(
                connection, actor=None, action="erase", need_id=need_id,
                detail={"reason": "retention", "agencies_notified": [a.value for a in agencies or []]},
            )  # fmt: skip
    return len(expired)


async def forget_old_event_ids(pool: asyncpg.Pool, *, keep_for: timedelta, limit: int = 10_000) -> int:
    """Forget the ids of events projected longer ago than ``keep_for``, a batch at a time."""
    async with pool.acquire() as connection, connection.transaction():
        return await forget_projected_events(connection, before=datetime.now(UTC) - keep_for, limit=limit)


@dataclass(frozen=True)
class RetentionPeriods:
    """How long intake keeps what it may not keep for ever."""

    personal_data: timedelta
    projected_event_ids: timedelta


@dataclass(frozen=True)
class Retained:
    """What one retention run removed."""

    erased: int
    forgotten_event_ids: int


async def apply_retention(pool: asyncpg.Pool, periods: RetentionPeriods) -> Retained:
    """One run of the retention job."""
    erased = await erase_expired_personal_data(pool, keep_for=periods.personal_data)
    forgotten = await forget_old_event_ids(pool, keep_for=periods.projected_event_ids)
    return Retained(erased=erased, forgotten_event_ids=forgotten)


async def run_retention(
    pool: asyncpg.Pool, relay: OutboxRelay, *, periods: RetentionPeriods, interval_s: float
) -> None:
    """Apply the retention periods every ``interval_s`` until cancelled."""

    def publish(retained: Retained) -> None:
        if retained.erased:
            log.info(
                "erased the personal data of %d needs resolved more than %s ago", retained.erased, periods.personal_data
            )
            relay.wake()
        if retained.forgotten_event_ids:
            log.info(
                "forgot %d ids of events projected more than %s ago",
                retained.forgotten_event_ids,
                periods.projected_event_ids,
            )

    await every(interval_s, lambda: apply_retention(pool, periods), what="retention", then=publish)
