"""The Kafka broker every service uses, tuned once, and the topics it needs."""

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from faststream.security import BaseSecurity, SASLScram256, SASLScram512

from shared.contracts.need_types import Agency
from shared.observability import MESSAGES_OUT, TRACEPARENT
from shared.settings import InfrastructureSettings
from shared.topics import PIPELINE_TOPICS, agency_topic

log = logging.getLogger(__name__)

_TOPIC_ALREADY_EXISTS = 36


def broker_security(settings: InfrastructureSettings) -> BaseSecurity | None:
    """SASL/SCRAM credentials when a username is configured, else plaintext (the embedded broker)."""
    if not settings.kafka_sasl_username:
        return None
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(
        settings.kafka_sasl_username, settings.kafka_sasl_password.get_secret_value(), use_ssl=settings.kafka_use_tls
    )


def admin_client_options(settings: InfrastructureSettings) -> dict[str, object]:
    """The same credentials in aiokafka's own terms, for the admin client."""
    if not settings.kafka_sasl_username:
        return {}
    return {
        "security_protocol": "SASL_SSL" if settings.kafka_use_tls else "SASL_PLAINTEXT",
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password.get_secret_value(),
    }


def create_broker(settings: InfrastructureSettings, *, client_id: str) -> KafkaBroker:
    """A broker whose producer waits for all replicas and batches generously."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        security=broker_security(settings),
        acks="all",
        linger_ms=settings.producer_linger_ms,
        max_batch_size=settings.producer_max_batch_bytes,
        # Idempotence would be right on Apache Kafka, but the embedded broker rejects
        # InitProducerId; duplicates are handled downstream by deterministic event ids.
        enable_idempotence=False,
        logger=logging.getLogger(f"needs_router.{client_id}.broker"),
        # FastStream's "Received"/"Processed" lines are per batch and name no need: keep them at
        # DEBUG; consume_batch logs a line per need with its need_id and trace_id instead.
        log_level=logging.DEBUG,
    )


async def keep_raw_bytes(message: StreamMessage[object]) -> object:
    """Decoder that leaves bodies as bytes: handlers validate each record themselves."""
    return message.body


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One record to publish: topic, key and the already-serialised value."""

    topic: str
    key: bytes
    value: bytes
    traceparent: str | None = None


async def publish_all(broker: KafkaBroker, messages: Sequence[OutgoingMessage]) -> None:
    """Send every record without waiting for each, then wait until all are acknowledged."""
    futures = [
        await broker.publish(
            message.value,
            topic=message.topic,
            key=message.key,
            headers=_headers(message),
            no_confirm=True,
        )
        for message in messages
    ]
    await asyncio.gather(*futures)
    for topic, count in Counter(message.topic for message in messages).items():
        MESSAGES_OUT.labels(topic=topic).inc(count)


def _headers(message: OutgoingMessage) -> dict[str, str]:
    if message.traceparent:
        return {"content-type": "application/json", TRACEPARENT: message.traceparent}
    return _JSON


_JSON = {"content-type": "application/json"}


def province_codes() -> list[str]:
    """The official codes of Thailand's 77 provinces."""
    import geothai

    return [province.code for province in geothai.provinces()]


def all_topics(settings: InfrastructureSettings) -> list[NewTopic]:
    """The pipeline topics and one queue per agency and province."""
    topics = [NewTopic(name, settings.topic_partitions, 1) for name in PIPELINE_TOPICS]
    topics += [
        NewTopic(agency_topic(agency, province), settings.agency_topic_partitions, 1)
        for agency in Agency
        for province in province_codes()
    ]
    return topics


async def create_topics(settings: InfrastructureSettings, topics: Iterable[NewTopic]) -> int:
    """Create the topics that do not exist yet; return how many were created."""
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id="needs-router-admin",
        **admin_client_options(settings),
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        created = 0
        for start in range(0, len(missing), 100):
            response = await admin.create_topics(missing[start : start + 100])
            for name, code, message in _topic_errors(response):
                if code == 0:
                    created += 1
                elif code != _TOPIC_ALREADY_EXISTS:
                    raise KafkaError(f"could not create topic {name}: {message} (error {code})")
        return created
    finally:
        await admin.close()


def _topic_errors(response: object) -> list[tuple[str, int, str | None]]:
    return [
        (entry[0], entry[1], entry[2] if len(entry) > 2 else None) for entry in getattr(response, "topic_errors", [])
    ]
