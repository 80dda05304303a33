"""Re-drive: a need that has not reached ``routed`` in time is published again, from where it stopped.

The pipeline is at-least-once, but a broker can still lose what it acknowledged (the embedded
broker keeps nothing across a restart). PostgreSQL knows every accepted need, so nothing
accepted stays stuck silently: a need not routed is re-published to intake's own topic
``needs.submitted.v1``, and a service that already handled it publishes its stored result
again (screening its ``needs.screened.v1``, routing its decisions on ``cases.updated.v1``), so
the need goes on from where it stopped. "Routed" is intake's own copy of routing's decisions:
a decision the broker lost is told again, and the copy catches up. Event
ids are deterministic, so a re-drive that races a slow pipeline only makes duplicates that
consumers and agencies already drop.
"""

import logging
from dataclasses import dataclass

import asyncpg
from prometheus_client import Counter

from services.intake.adapters import database
from services.intake.adapters.outbox_relay import OutboxRelay
from shared.periodic import every
from shared.topics import NEEDS_SUBMITTED

log = logging.getLogger(__name__)

REDRIVEN = Counter("needs_router_redriven", "Needs published again because they had not been routed in time", ["topic"])


@dataclass(frozen=True, slots=True)
class RedriveSettings:
    """How long a need may take to be routed, and how often to look."""

    after_s: float
    interval_s: float
    batch_size: int = 500


async def redrive_stuck_needs(pool: asyncpg.Pool, *, after_s: float, limit: int) -> dict[str, int]:
    """Queue stuck needs in the outbox again; return how many per topic."""
    async with pool.acquire() as connection, connection.transaction():
        queued = await database.queue_stuck_needs_again(connection, topic=NEEDS_SUBMITTED, after_s=after_s, limit=limit)
    return {NEEDS_SUBMITTED: queued}


async def run_redrive(pool: asyncpg.Pool, relay: OutboxRelay, settings: RedriveSettings) -> None:
    """Look for stuck needs every ``interval_s`` until cancelled."""

    def count_and_publish(counts: dict[str, int]) -> None:
        if any(counts.values()):
            for topic, count in counts.items():
                REDRIVEN.labels(topic=topic).inc(count)
            log.warning("re-drove needs not routed within %.0fs: %s", settings.after_s, counts)
            relay.wake()

    await every(
        settings.interval_s,
        lambda: redrive_stuck_needs(pool, after_s=settings.after_s, limit=settings.batch_size),
        what="re-drive",
        then=count_and_publish,
    )
