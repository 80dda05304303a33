"""Operators' work on sources: the upstream systems that post needs on Kafka topics of their own."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg
from aiokafka.admin import NewTopic

from services.intake.domain.source_access import check_source_name
from shared.kafka import create_topics
from shared.settings import InfrastructureSettings
from shared.topics import INCOMING_RETENTION_MS, incoming_topic, receipts_topic


@dataclass(frozen=True, slots=True)
class Source:
    """A recorded source and when it was added."""

    name: str
    added_at: datetime


def source_topics(settings: InfrastructureSettings, name: str) -> list[NewTopic]:
    """A source's incoming topic (kept 7 days) and its receipts topic."""
    check_source_name(name)
    # Partitioned like an agency's queue: one source sends a share of the needs, not all of them.
    partitions = settings.agency_topic_partitions
    return [
        NewTopic(incoming_topic(name), partitions, 1, topic_configs={"retention.ms": str(INCOMING_RETENTION_MS)}),
        NewTopic(receipts_topic(name), partitions, 1),
    ]


async def add_source(settings: InfrastructureSettings, name: str) -> bool:
    """Create the source's topics and record it; False if it was recorded already (its topics are made sure of)."""
    topics = source_topics(settings, name)
    await create_topics(settings, topics)
    connection = await asyncpg.connect(settings.database_url)
    try:
        added: bool = await connection.fetchval(
            "INSERT INTO intake.sources (name) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true", name
        )
    finally:
        await connection.close()
    return bool(added)


async def list_sources(database_url: str) -> list[Source]:
    """Every recorded source, oldest first."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("SELECT name, added_at FROM intake.sources ORDER BY added_at, name")
    finally:
        await connection.close()
    return [Source(row["name"], row["added_at"]) for row in rows]
