"""Service-level timers: a routed case not accepted or not resolved in time is escalated.

The escalation goes to the provincial labour office's topic (``agency.mol.<province>``), once
per case and kind; several routing replicas share the work through row locks.
"""

import logging
import uuid
from datetime import UTC, datetime

import asyncpg
from faststream.kafka import KafkaBroker

from services.routing.adapters.database import mark_escalated, open_cases_past_a_level
from services.routing.domain.case_updates import escalated_update
from services.routing.use_cases.route_screened_needs import update_message
from shared.case_status import ServiceLevels, overdue
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseEscalated
from shared.contracts.need_types import Agency
from shared.kafka import OutgoingMessage, publish_all
from shared.periodic import every
from shared.topics import agency_topic

log = logging.getLogger(__name__)

_ESCALATION_NAMESPACE = uuid.UUID("1f5d7c3b-9a2e-4b80-8e6f-c4a9d2b7e153")


async def escalate_overdue(pool: asyncpg.Pool, broker: KafkaBroker, levels: ServiceLevels, *, limit: int = 500) -> int:
    """Publish an escalation for each open case past a service level; return how many."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        rows = await open_cases_past_a_level(
            connection, routed_before=now - levels.accept_within, resolve_by=now - levels.resolve_within, limit=limit
        )
        escalations = [
            CaseEscalated(
                event_id=uuid.uuid5(_ESCALATION_NAMESPACE, f"{row['event_id']}:{kind}"),
                need_id=row["need_id"],
                agency=Agency(row["agency"]),
                province_code=row["province_code"],
                overdue=kind,
                routed_at=row["routed_at"],
                escalated_at=now,
            )
            for row in rows
            if (kind := overdue(row["status"], row["routed_at"], now=now, levels=levels)) is not None
        ]
        if not escalations:
            return 0
        await publish_all(
            broker,
            [
                OutgoingMessage.of(
                    event,
                    topic=agency_topic(Agency.MOL, event.province_code),
                    key=str(event.need_id).encode(),
                    source=Source.ROUTING,
                )
                for event in escalations
            ]
            + [update_message(escalated_update(event)) for event in escalations],
        )
        await mark_escalated(connection, [(event.need_id, event.agency, event.overdue) for event in escalations])
    return len(escalations)


async def run_escalations(pool: asyncpg.Pool, broker: KafkaBroker, levels: ServiceLevels, *, interval_s: float) -> None:
    """Check the service levels every ``interval_s`` until cancelled."""

    def report(escalated: int) -> None:
        if escalated:
            log.warning("escalated %d overdue cases to the provincial labour offices", escalated)

    await every(interval_s, lambda: escalate_overdue(pool, broker, levels), what="escalation check", then=report)
