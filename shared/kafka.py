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

from shared.contracts.area_offices import area_offices
from shared.contracts.cloud_events import CloudEventAttributes, Source, cloud_event_of
from shared.contracts.events import Event
from shared.contracts.need_types import Agency
from shared.observability import MESSAGES_OUT, TRACEPARENT
from shared.partitioner import kafka_partition
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


class ConcurrentlyJoiningBroker(KafkaBroker):
    """A KafkaBroker that starts its subscribers all at once instead of one after another.

    Starting a subscriber waits until its consumer group assigned it partitions. FastStream
    starts them in sequence, so a service with two subscribers (routing: screened needs and
    agencies' reports) began its second group join only when the first was done: routing's
    needs.screened.v1 was assigned about 4 s after its cases.status.v1 on the embedded broker,
    on every start, restart and failover. Started together, both joins overlap.
    """

    async def start(self) -> None:
        """Connect, start every subscriber concurrently, then the publishers (as FastStream's own start)."""
        await self.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.subscribers))
        for publisher in self.publishers:
            await publisher.start()
        self.running = True


def create_broker(
    settings: InfrastructureSettings, *, client_id: str, metadata_max_age_s: float = 300.0
) -> KafkaBroker:
    """A broker whose producer waits for all replicas and batches generously, and joins its groups at once.

    ``metadata_max_age_s``: how often the topic list is read again, which is how soon a subscriber
    by pattern sees a new topic.
    """
    return ConcurrentlyJoiningBroker(
        settings.kafka_bootstrap_servers,
        client_id=client_id,
        security=broker_security(settings),
        acks="all",
        linger_ms=settings.producer_linger_ms,
        max_batch_size=settings.producer_max_batch_bytes,
        partitioner=kafka_partition,
        # Idempotence would be right on Apache Kafka, but the embedded broker rejects
        # InitProducerId; duplicates are handled downstream by deterministic event ids.
        enable_idempotence=False,
        metadata_max_age_ms=int(metadata_max_age_s * 1000),
        logger=logging.getLogger(f"needs_router.{client_id}.broker"),
        # FastStream's "Received"/"Processed" lines are per batch and say less than consume_batch's
        # own summary (and, at DEBUG, its line per need with its need_id and trace_id).
        log_level=logging.DEBUG,
    )


async def keep_raw_bytes(message: StreamMessage[object]) -> object:
    """Decoder that leaves bodies as bytes: handlers validate each record themselves."""
    return message.body


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """One event to publish: topic, key, the already-serialised value and its CloudEvents attributes."""

    topic: str
    key: bytes
    value: bytes
    cloud_event: CloudEventAttributes
    traceparent: str | None = None

    @classmethod
    def of(cls, event: Event, *, topic: str, key: bytes, source: Source) -> "OutgoingMessage":
        """The record that carries ``event``, made by ``source``."""
        return cls(topic, key, event.model_dump_json().encode(), cloud_event_of(event, source=source))

    def headers(self) -> dict[str, str]:
        """CloudEvents binary-mode headers, and the trace this event belongs to."""
        headers = self.cloud_event.headers()
        if self.traceparent:
            headers[TRACEPARENT] = self.traceparent
        return headers

    @property
    def correlation_id(self) -> str:
        """FastStream's correlation id, stable across re-publications: the event id."""
        return str(self.cloud_event.id)


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A record sent with exactly the headers given: a dead letter's replay, or an outbox row of no known kind."""

    topic: str
    key: bytes
    value: bytes
    raw_headers: tuple[tuple[str, bytes], ...]
    correlation_id: str

    def headers(self) -> dict[str, str]:
        """The headers as given; FastStream sends text, and these are text (traceparent, ce_*)."""
        return {name: value.decode("utf-8", errors="replace") for name, value in self.raw_headers}


async def publish_all(broker: KafkaBroker, messages: Sequence[OutgoingMessage | RawMessage]) -> None:
    """Send every record without waiting for each, then wait until all are acknowledged."""
    futures = [
        await broker.publish(
            message.value,
            topic=message.topic,
            key=message.key,
            headers=message.headers(),
            # FastStream would make up a new random id on every publish; an original's own
            # correlation_id header, if it had one, still wins over this.
            correlation_id=message.correlation_id,
            no_confirm=True,
        )
        for message in messages
    ]
    await asyncio.gather(*futures)
    for topic, count in Counter(message.topic for message in messages).items():
        MESSAGES_OUT.labels(topic=topic).inc(count)


def province_codes() -> list[str]:
    """The official codes of Thailand's 77 provinces."""
    import geothai

    return [province.code for province in geothai.provinces()]


def all_topics(settings: InfrastructureSettings) -> list[NewTopic]:
    """The pipeline topics and one queue per agency and province, and per area office."""
    topics = [NewTopic(name, settings.topic_partitions, 1) for name in PIPELINE_TOPICS]
    topics += [
        NewTopic(agency_topic(agency, province), settings.agency_topic_partitions, 1)
        for agency in Agency
        for province in province_codes()
    ]
    topics += [NewTopic(office.topic, settings.agency_topic_partitions, 1) for office in area_offices().offices]
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
