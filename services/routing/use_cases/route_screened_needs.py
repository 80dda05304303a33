"""Routing's use case: forward each screened need to its agencies' provincial queues.

With the related-needs lookup on, each routed need is first placed among earlier open needs of
its province and type (``domain/related_needs.py``): a need in a cluster carries it in its cases,
and the earlier cases of a cluster it joined are told with ``case.linked``: at once, unless a
case was told within the link interval; then ``tell_held_back_cases`` tells it later.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from services.routing.adapters.database import RoutingStore
from services.routing.adapters.related_needs import RelatedNeedsStore
from services.routing.domain.case_updates import routed_update, screened_by_hand_update
from services.routing.domain.decide import NeedContact, decide_routes, office_of, topic_of, unroutable_types
from services.routing.domain.related_needs import Clustered, linked_event, new_need
from services.routing.domain.routed import Routed
from services.routing.domain.routing_table import RoutingTable
from shared.batch_consumption import Produced
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseLinked, CaseUpdated, NeedScreened, RoutedCase
from shared.contracts.need_types import Agency
from shared.contracts.offices import Office
from shared.kafka import OutgoingMessage
from shared.observability import UNROUTABLE_TYPES
from shared.retry import retry_transient
from shared.topics import CASES_UPDATED

CONSUMER = "routing"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Router:
    """Routes batches of ``needs.screened.v1`` to ``agency.<agency>.<province>`` topics.

    ``related`` is the related-needs lookup; None turns it off.
    """

    store: RoutingStore
    related: RelatedNeedsStore | None = None

    async def route(self, screenings: list[NeedScreened]) -> Produced[Routed]:
        """Read the routing table and the needs' contacts, decide, then place the needs among related ones."""
        table = await retry_transient(self.store.routing_table, what="routing: read routing table")
        need_ids = [screened.need.need_id for screened in screenings]
        contacts = await retry_transient(lambda: self.store.contacts(need_ids), what="routing: contacts")
        by_hand = [screened.need.need_id for screened in screenings if screened.screened_by is not None]
        open_cases = (
            await retry_transient(lambda: self.store.open_case_agencies(by_hand), what="routing: open cases")
            if by_hand
            else {}
        )
        now = datetime.now(UTC)
        routed = decide(screenings, table=table, contacts=contacts, open_cases=open_cases, now=now)
        if self.related is None:
            return produced(routed, table=table, clusters={}, now=now)
        related = self.related
        needs = [
            need
            for item in routed
            if (need := new_need(item.screened, offices=[office_of(case) for case in item.cases], routed_at=now))
        ]
        placed = await retry_transient(lambda: related.place(needs, now=now), what="routing: related needs")
        linked = [(case.office, linked_event(case, now=now)) for case in placed.tell_now]
        return produced(
            routed, table=table, clusters={item.need_id: item for item in placed.clustered}, linked=linked, now=now
        )

    async def routed_before(self, screenings: list[NeedScreened]) -> list[OutgoingMessage]:
        """The decisions already stored for needs routed before, to publish again with their event ids.

        A screening sent again may be a re-drive of a need whose decision the broker lost.
        """
        cases = await retry_transient(
            lambda: self.store.routed_updates([screened.need.need_id for screened in screenings]),
            what="routing: stored decisions",
        )
        return [update_message(update) for update in cases]


def route(
    screenings: list[NeedScreened],
    *,
    table: RoutingTable,
    contacts: Mapping[UUID, NeedContact],
    open_cases: Mapping[UUID, set[Agency]] | None = None,
) -> Produced[Routed]:
    """Every routed case of a batch and the record that carries each, without related needs.

    Pure apart from the clock.
    """
    now = datetime.now(UTC)
    routed = decide(screenings, table=table, contacts=contacts, open_cases=open_cases, now=now)
    return produced(routed, table=table, clusters={}, now=now)


def decide(
    screenings: list[NeedScreened],
    *,
    table: RoutingTable,
    contacts: Mapping[UUID, NeedContact],
    open_cases: Mapping[UUID, set[Agency]] | None,
    now: datetime,
) -> list[Routed]:
    """The cases of each screened need of a batch.

    A screener's decision (``screened_by``) routes its need again, to the agencies that do not
    already hold an open case of it (``open_cases``).
    """
    for screened in screenings:
        _report_unroutable(screened, table)
    routed = []
    for screened in screenings:
        need_id = screened.need.need_id
        cases = decide_routes(screened, table, contact=contacts.get(need_id), now=now)
        if screened.screened_by is not None:
            holding = (open_cases or {}).get(need_id, set())
            cases = [case for case in cases if case.agency not in holding]
        routed.append(Routed(screened, cases))
    return routed


def produced(
    routed: list[Routed],
    *,
    table: RoutingTable,
    clusters: Mapping[UUID, Clustered],
    linked: Sequence[tuple[Office, CaseLinked]] = (),
    now: datetime,
) -> Produced[Routed]:
    """The routed needs, each case with its cluster if it has one, and every record to publish.

    ``linked``: the earlier cases to tell of their new relatives now. A screener's decision
    (``screened_by``) also closes its need's manual-screening case.
    """
    results = [_in_cluster(item, clusters.get(item.screened.need.need_id)) for item in routed]
    cases = [case for item in results for case in item.cases]
    closed = [
        screened_by_hand_update(item.screened, manual_screening=table.manual_screening)
        for item in results
        if item.by_hand
    ]
    return Produced(
        results=results,
        messages=[case_message(case) for case in cases]
        + [linked_message(office, event) for office, event in linked]
        + [update_message(_with_cluster(routed_update(case), clusters.get(case.need_id))) for case in cases]
        + [update_message(update) for update in closed],
    )


def _in_cluster(routed: Routed, cluster: Clustered | None) -> Routed:
    if cluster is None:
        return routed
    fields = {"cluster_id": cluster.cluster_id, "related_need_ids": cluster.related_need_ids}
    return Routed(routed.screened, [case.model_copy(update=fields) for case in routed.cases])


def _with_cluster(update: CaseUpdated, cluster: Clustered | None) -> CaseUpdated:
    if cluster is None:
        return update
    return update.model_copy(
        update={
            "cluster_id": cluster.cluster_id,
            "cluster_type": cluster.need_type,
            "related_need_ids": cluster.related_need_ids,
        }
    )


def case_message(case: RoutedCase) -> OutgoingMessage:
    """The record that carries a routed case to its agency's queue, keyed by need id."""
    return OutgoingMessage.of(case, topic=topic_of(case), key=str(case.need_id).encode(), source=Source.ROUTING)


def linked_message(office: Office, linked: CaseLinked) -> OutgoingMessage:
    """The record that tells an office its case gained a relative, keyed by the case's need id."""
    return OutgoingMessage.of(linked, topic=office.topic, key=str(linked.need_id).encode(), source=Source.ROUTING)


def update_message(update: CaseUpdated) -> OutgoingMessage:
    """The record that tells the other services about a case, keyed by need id."""
    return OutgoingMessage.of(update, topic=CASES_UPDATED, key=str(update.need_id).encode(), source=Source.ROUTING)


def _report_unroutable(screened: NeedScreened, table: RoutingTable) -> None:
    # A gap in the routing table is an operator's to fix; the need itself still reaches a person.
    for need_type in unroutable_types(screened, table):
        UNROUTABLE_TYPES.labels(need_type=need_type.value).inc()
        log.warning(
            "need %s: no routing rule names a known agency for %s; sent to manual screening (%s)",
            screened.need.need_id, need_type.value, table.manual_screening.value,
        )  # fmt: skip
