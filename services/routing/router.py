"""Routing's use case: forward each screened need to its agencies' provincial queues."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from faststream.kafka import KafkaBroker

from services.routing.domain.decide import NeedContact, decide_routes, topic_of
from services.routing.domain.routing_table import RoutingTable
from services.routing.repository import RoutingStore
from shared.consumer import BatchReport, Produced, consume_batch
from shared.contracts.events import NeedScreened, RoutedCase
from shared.inbox import RawRecord
from shared.kafka import OutgoingMessage, publish_all
from shared.retry import retry_transient

CONSUMER = "routing"


@dataclass(frozen=True, slots=True)
class Router:
    """Routes batches of ``needs.screened.v1`` to ``agency.<agency>.<province>`` topics."""

    store: RoutingStore
    broker: KafkaBroker

    async def handle(self, records: Sequence[RawRecord]) -> BatchReport:
        """Route one batch, at-least-once (see shared.consumer)."""
        return await consume_batch(
            records,
            model=NeedScreened,
            consumer=CONSUMER,
            store=self.store,
            produce=self.route,
            publish=partial(publish_all, self.broker),
        )

    async def route(self, screenings: list[NeedScreened]) -> Produced[RoutedCase]:
        """Read the routing table and the needs' contacts, then decide."""
        table = await retry_transient(self.store.routing_table, what="routing: read routing table")
        contacts = await retry_transient(
            lambda: self.store.contacts([screened.need.need_id for screened in screenings]), what="routing: contacts"
        )
        return route(screenings, table=table, contacts=contacts)


def route(
    screenings: list[NeedScreened], *, table: RoutingTable, contacts: Mapping[UUID, NeedContact]
) -> Produced[RoutedCase]:
    """Every routed case of a batch and the record that carries each; pure apart from the clock."""
    now = datetime.now(UTC)
    cases = [
        case
        for screened in screenings
        for case in decide_routes(screened, table, contact=contacts.get(screened.need.need_id), now=now)
    ]
    return Produced(results=cases, messages=[case_message(case) for case in cases])


def case_message(case: RoutedCase) -> OutgoingMessage:
    """The record that carries a routed case to its agency's queue, keyed by need id."""
    return OutgoingMessage(topic=topic_of(case), key=str(case.need_id).encode(), value=case.model_dump_json().encode())
