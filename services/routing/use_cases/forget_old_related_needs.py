"""What the related-needs lookup no longer needs, forgotten every so often.

Needs routed longer ago than the policy keeps them (``keep_for``), and when cases were told of
relatives past the window (no case gains relatives after it). Without this the lookup's tables
grow with every need ever routed. Replicas may run it at once: each deletes what it finds.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from services.routing.adapters.related_needs import forget_related_needs, forget_told
from services.routing.domain.related_needs import RelatedNeedsPolicy
from shared.periodic import every

log = logging.getLogger(__name__)

UPKEEP_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What one run forgot."""

    needs: int
    told: int


async def forget_old_related_needs(pool: asyncpg.Pool, policy: RelatedNeedsPolicy, *, limit: int = 10_000) -> Forgotten:
    """One run: at most ``limit`` needs past ``keep_for`` and ``limit`` records of telling past the window."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        needs = await forget_related_needs(connection, routed_before=now - policy.keep_for, limit=limit)
        told = await forget_told(connection, before=now - policy.window, limit=limit)
    return Forgotten(needs=needs, told=told)


async def run_related_needs_upkeep(pool: asyncpg.Pool, policy: RelatedNeedsPolicy) -> None:
    """Forget what the lookup no longer needs every ``UPKEEP_EVERY_S`` until cancelled."""

    def report(forgotten: Forgotten) -> None:
        if forgotten.needs or forgotten.told:
            log.info(
                "related needs: forgot %d needs routed more than %s ago and %d cases told before the window",
                forgotten.needs, policy.keep_for, forgotten.told,
            )  # fmt: skip

    await every(UPKEEP_EVERY_S, lambda: forget_old_related_needs(pool, policy), what="related-needs upkeep",
                then=report)  # fmt: skip
