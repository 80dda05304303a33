"""Re-drive: a need that has not reached ``routed`` in time is published again, from where it stopped.

The pipeline is at-least-once, but a broker can still lose what it acknowledged (the embedded
broker keeps nothing across a restart). PostgreSQL knows every accepted need, so nothing
accepted stays stuck silently: a need not screened is re-published to ``needs.submitted.v1``;
one screened but not routed has its screening re-published to ``needs.screened.v1``. Event
ids are deterministic, so a re-drive that races a slow pipeline only makes duplicates that
consumers and agencies already drop.
"""

import logging
from dataclasses import dataclass

import asyncpg
from prometheus_client import Counter

from services.intake.outbox_relay import OutboxRelay
from shared.periodic import every
from shared.topics import NEEDS_SCREENED, NEEDS_SUBMITTED

log = logging.getLogger(__name__)

REDRIVEN = Counter("needs_router_redriven", "Needs published again because they had not been routed in time", ["topic"])

_STUCK_NEEDS = """
SELECT n.need_id, n.event_payload, s.event_payload AS screened_payload
FROM needs n LEFT JOIN screenings s ON s.need_id = n.need_id
WHERE coalesce(n.redriven_at, n.submitted_at) < now() - make_interval(secs => $1)
  AND NOT EXISTS (SELECT 1 FROM routed_cases r WHERE r.need_id = n.need_id)
  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key = convert_to(n.need_id::text, 'UTF8'))
ORDER BY n.submitted_at
LIMIT $2
FOR UPDATE OF n SKIP LOCKED
"""


@dataclass(frozen=True, slots=True)
class RedriveSettings:
    """How long a need may take to be routed, and how often to look."""

    after_s: float
    interval_s: float
    batch_size: int = 500


async def redrive_stuck_needs(pool: asyncpg.Pool, *, after_s: float, limit: int) -> dict[str, int]:
    """Queue stuck needs in the outbox again; return how many per topic."""
    counts = {NEEDS_SUBMITTED: 0, NEEDS_SCREENED: 0}
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(_STUCK_NEEDS, after_s, limit)
        if not rows:
            return counts
        outbox = []
        for row in rows:
            topic = NEEDS_SCREENED if row["screened_payload"] is not None else NEEDS_SUBMITTED
            payload = row["screened_payload"] if topic == NEEDS_SCREENED else row["event_payload"]
            outbox.append((topic, str(row["need_id"]).encode(), payload))
            counts[topic] += 1
        await connection.executemany("INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)", outbox)
        await connection.execute(
            "UPDATE needs SET redriven_at = now(), redrive_count = redrive_count + 1 WHERE need_id = ANY($1::uuid[])",
            [row["need_id"] for row in rows],
        )
    return counts


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
