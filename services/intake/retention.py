"""Retention: a resolved need keeps the person's data only for a set time (PDPA)."""

import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from services.intake import repository
from services.intake.access import store as access
from services.intake.outbox_relay import OutboxRelay
from shared.periodic import every

log = logging.getLogger(__name__)

# Resolved: every case that was not sent back as misrouted is resolved, the last one before the cutoff.
_RESOLVED_BEFORE = """
SELECT n.need_id FROM needs n
WHERE n.personal_data_erased_at IS NULL
  AND EXISTS (SELECT 1 FROM routed_cases r WHERE r.need_id = n.need_id AND r.status = 'resolved')
  AND NOT EXISTS (SELECT 1 FROM routed_cases r
                  WHERE r.need_id = n.need_id AND r.status NOT IN ('resolved', 'misrouted'))
  AND (SELECT max(resolved_at) FROM routed_cases r WHERE r.need_id = n.need_id) < $1
LIMIT $2
FOR UPDATE OF n SKIP LOCKED
"""


async def erase_expired_personal_data(pool: asyncpg.Pool, *, keep_for: timedelta, limit: int = 500) -> int:
    """Erase the personal data of needs resolved longer ago than ``keep_for``; tell their agencies."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        expired = [row["need_id"] for row in await connection.fetch(_RESOLVED_BEFORE, now - keep_for, limit)]
        for need_id in expired:
            agencies = await repository.erase_personal_data(connection, need_id, now=now)
            await access.audit(
                connection, actor=None, action="erase", need_id=need_id,
                detail={"reason": "retention", "agencies_notified": [a.value for a in agencies or []]},
            )  # fmt: skip
    return len(expired)


async def run_retention(pool: asyncpg.Pool, relay: OutboxRelay, *, keep_for: timedelta, interval_s: float) -> None:
    """Apply the retention period every ``interval_s`` until cancelled."""

    def publish(erased: int) -> None:
        if erased:
            log.info("erased the personal data of %d needs resolved more than %s ago", erased, keep_for)
            relay.wake()

    await every(
        interval_s, lambda: erase_expired_personal_data(pool, keep_for=keep_for), what="retention", then=publish
    )
