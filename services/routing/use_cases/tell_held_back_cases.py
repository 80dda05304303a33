"""Earlier cases of a cluster told of the relatives they gained while their last ``case.linked`` was too recent.

Routing tells a case of new relatives at most once per link interval (``RelatedNeedsPolicy``);
what it held back is sent here, a slice every fifth of a second, once the case's interval has
passed: one ``case.linked`` naming the cluster's needs as they are then. Several routing replicas
share the work through row locks; a crash before the mark re-sends the same event id.
"""

import logging
from datetime import UTC, datetime

import asyncpg
from faststream.kafka import KafkaBroker

from services.routing.adapters.related_needs import held_back_links, mark_told
from services.routing.domain.related_needs import RelatedNeedsPolicy, held_back_linked
from services.routing.use_cases.route_screened_needs import linked_message
from shared.kafka import publish_all
from shared.periodic import every

log = logging.getLogger(__name__)

# Held-back cases are told a slice at a time and often, not all at once: a flush of some 240 cases
# a second slowed routing's batches around it 2-3 times, and their needs made the tail of routing's
# latency (docs/performance-notes.md). 50 every 0.2 s is up to 250 a second per replica; a
# larger backlog waits for the next slices.
FLUSH_EVERY_S = 0.2
# Cases told per transaction; between transactions routing's event loop serves its batches.
FLUSH_CHUNK = 50


async def tell_held_back_cases(
    pool: asyncpg.Pool, broker: KafkaBroker, policy: RelatedNeedsPolicy, *, limit: int = 500
) -> int:
    """Publish a ``case.linked`` for at most ``limit`` held-back cases whose interval has passed; return how many.

    A transaction per ``FLUSH_CHUNK`` cases.
    """
    told = 0
    while told < limit:
        chunk = min(FLUSH_CHUNK, limit - told)
        in_chunk = await _tell_some(pool, broker, policy, limit=chunk)
        told += in_chunk
        if in_chunk < chunk:
            break
    return told


async def _tell_some(pool: asyncpg.Pool, broker: KafkaBroker, policy: RelatedNeedsPolicy, *, limit: int) -> int:
    """Tell at most ``limit`` held-back cases in one transaction; return how many."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        held = await held_back_links(
            connection, told_before=now - policy.link_interval, max_related=policy.max_related, limit=limit
        )
        if not held:
            return 0
        linked = [held_back_linked(case.need_id, case.office, case.cluster_id, case.others, now=now) for case in held]
        await publish_all(
            broker, [linked_message(case.office, event) for case, event in zip(held, linked, strict=True)]
        )
        await mark_told(connection, held, now=now)
    return len(held)


async def run_held_back_links(pool: asyncpg.Pool, broker: KafkaBroker, policy: RelatedNeedsPolicy) -> None:
    """Tell a slice of the held-back cases every ``FLUSH_EVERY_S`` until cancelled."""

    def report(told: int) -> None:
        if told:
            log.info("told %d cases of the relatives they gained since their last case.linked", told)

    await every(
        FLUSH_EVERY_S, lambda: tell_held_back_cases(pool, broker, policy, limit=FLUSH_CHUNK),
        what="held-back case.linked", then=report,
    )  # fmt: skip
