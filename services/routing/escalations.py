"""Service-level timers: a routed case not accepted or not resolved in time is escalated.

The escalation goes to the provincial labour office's topic (``agency.mol.<province>``), once
per case and kind; several routing replicas share the work through row locks.
"""

import logging
import uuid
from datetime import UTC, datetime

import asyncpg
from faststream.kafka import KafkaBroker

from shared.case_status import ServiceLevels, overdue
from shared.contracts.events import CaseEscalated
from shared.contracts.need_types import Agency
from shared.kafka import OutgoingMessage, publish_all
from shared.periodic import every
from shared.topics import agency_topic

log = logging.getLogger(__name__)

_ESCALATION_NAMESPACE = uuid.UUID("1f5d7c3b-9a2e-4b80-8e6f-c4a9d2b7e153")

_OPEN_CASES_PAST_A_LEVEL = """
SELECT event_id, need_id, agency, province_code, status, routed_at, escalated FROM routed_cases
WHERE status IN ('routed', 'accepted', 'in_progress')
  AND ((status = 'routed' AND routed_at < $1 AND NOT 'not_accepted' = ANY(escalated))
       OR (routed_at < $2 AND NOT 'not_resolved' = ANY(escalated)))
ORDER BY routed_at
LIMIT $3
FOR UPDATE SKIP LOCKED
"""


async def escalate_overdue(pool: asyncpg.Pool, broker: KafkaBroker, levels: ServiceLevels, *, limit: int = 500) -> int:
    """Publish an escalation for each open case past a service level; return how many."""
    now = datetime.now(UTC)
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(
            _OPEN_CASES_PAST_A_LEVEL, now - levels.accept_within, now - levels.resolve_within, limit
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
                OutgoingMessage(
                    topic=agency_topic(Agency.MOL, event.province_code),
                    key=str(event.need_id).encode(),
                    value=event.model_dump_json().encode(),
                )
                for event in escalations
            ],
        )
        await connection.executemany(
            "UPDATE routed_cases SET escalated = array_append(escalated, $3) WHERE need_id = $1 AND agency = $2",
            [(event.need_id, event.agency.value, event.overdue) for event in escalations],
        )
    return len(escalations)


async def run_escalations(pool: asyncpg.Pool, broker: KafkaBroker, levels: ServiceLevels, *, interval_s: float) -> None:
    """Check the service levels every ``interval_s`` until cancelled."""

    def report(escalated: int) -> None:
        if escalated:
            log.warning("escalated %d overdue cases to the provincial labour offices", escalated)

    await every(interval_s, lambda: escalate_overdue(pool, broker, levels), what="escalation check", then=report)
