"""The officers' inbox against routing's real use cases, broker and PostgreSQL: it shows only what routing accepted.

Routing's handlers are driven with the records that are really on ``needs.screened.v1`` and
``cases.status.v1``, in topic order; the inbox reads the agency topics and ``cases.updated.v1``
with its own broker and subscriber, as in production.
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

import asyncpg
import pytest
from aiokafka.admin import NewTopic
from faststream.kafka import KafkaBroker

from services.inbox.adapters import cases as case_store
from services.inbox.adapters.projection import CaseProjection
from services.inbox.domain.cases import Case
from services.inbox.domain.officers import Officer
from services.inbox.entrypoints.case_news import create_router
from services.inbox.entrypoints.pages import follow_up_page
from services.inbox.use_cases import accounts, case_work
from services.inbox.use_cases.project_cases import CONSUMER, CaseNews, CaseNewsConsumption, CaseNewsReader, Learnt
from services.routing.adapters.database import RoutingStore, StatusStore
from services.routing.app import routing_batches, status_report_batches
from services.routing.domain.routing_table import RoutingTable
from services.routing.use_cases.apply_status_reports import StatusReports
from services.routing.use_cases.escalate_overdue_cases import escalate_overdue
from services.routing.use_cases.route_screened_needs import Router, route
from shared.batch_consumption import BatchConsumption
from shared.case_status import ServiceLevels
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseEscalated, CaseStatusReport, CaseUpdated, NeedScreened, RoutedCase
from shared.contracts.need_types import Agency, NeedType
from shared.contracts.offices import Office
from shared.database import create_pool
from shared.kafka import OutgoingMessage, create_broker, create_topics, publish_all
from shared.settings import InfrastructureSettings
from shared.topics import CASE_STATUS, CASES_UPDATED, NEEDS_SCREENED
from tests.polling import eventually
from tests.topic_reader import read_records
from tests.unit.factories import screened

LEVELS = ServiceLevels(accept_within=timedelta(days=3), resolve_within=timedelta(days=30))
WAIT_S = 30.0
# Production's TOPIC_DISCOVERY_S, shortened: what is under test is that the pattern finds a new topic at all.
DISCOVERY_S = 2.0
TABLE = RoutingTable.from_rows({need_type.value: need_type.default_agency.value for need_type in NeedType})


@dataclass(frozen=True)
class Parts:
    """Routing's handlers and the inbox, on the session's broker and database."""

    broker: KafkaBroker
    settings: InfrastructureSettings
    routing_pool: asyncpg.Pool
    inbox: case_work.Inbox

    async def route(self, result: NeedScreened) -> None:
        """Routing routes the screened need as it reads it from ``needs.screened.v1``."""
        key = str(result.need.need_id).encode()
        message = OutgoingMessage.of(result, topic=NEEDS_SCREENED, key=key, source=Source.SCREENING)
        await publish_all(self.broker, [message])
        records = await read_records(self.settings.kafka_bootstrap_servers, [NEEDS_SCREENED],
                                     wanted=lambda found, _: found == key, count=1)  # fmt: skip
        await routing_batches(Router(store=RoutingStore(self.routing_pool, refresh_s=5)), self.broker).handle(records)

    async def apply_reports(self, need_id: uuid.UUID, *, count: int) -> int:
        """Routing applies the need's reports on ``cases.status.v1`` in topic order; how many it refused."""
        key = str(need_id).encode()
        records = await read_records(self.settings.kafka_bootstrap_servers, [CASE_STATUS],
                                     wanted=lambda found, _: found == key, count=count)  # fmt: skip
        assert len(records) == count
        store = StatusStore(self.routing_pool, RoutingStore(self.routing_pool, refresh_s=5))
        return (await status_report_batches(StatusReports(store=store), self.broker).handle(records)).dead_letters

    async def agency_reports(self, need_id: uuid.UUID, agency: Agency, status: str, **fields: object) -> None:
        """An agency's own system reports on ``cases.status.v1``, as agencies do."""
        report = CaseStatusReport.model_validate(
            {"need_id": need_id, "agency": agency, "status": status, "at": datetime.now(UTC), **fields}
        )
        key = str(need_id).encode()
        await publish_all(
            self.broker, [OutgoingMessage.of(report, topic=CASE_STATUS, key=key, source=Source.AGENCY_CLIENT)]
        )

    async def routing_status(self, need_id: uuid.UUID, agency: Agency) -> str:
        status: str = await self.routing_pool.fetchval(
            "SELECT status FROM routing.routed_cases WHERE need_id = $1 AND agency = $2", need_id, agency.value
        )
        return status

    async def case(self, need_id: uuid.UUID, office: str, *, until: str | None = None) -> Case:
        """The inbox's case of the need at ``office``, once it has one (with routing's status ``until``, if given)."""

        async def probe() -> Case | None:
            async with self.inbox.pool.acquire() as connection:
                cases = await case_store.province_cases(connection, Office.parse(office), case_store.CaseFilter())
            return next((case for case in cases if case.need_id == need_id), None)

        def arrived(case: Case | None) -> bool:
            return case is not None and (until is None or (case.status == until and case.reported is None))

        found = await eventually(probe, arrived, timeout_s=WAIT_S)
        assert arrived(found), (need_id, office, found)
        assert found is not None
        return found

    async def officer(self, office: str, *, head: bool = False) -> Officer:
        made, _ = await accounts.create_officer(
            name=f"เจ้าหน้าที่ {uuid.uuid4().hex[:8]}", office=Office.parse(office), screener=False, head=head,
            base_url="http://127.0.0.1:8090", now=datetime.now(UTC), pool=self.inbox.pool,
        )  # fmt: skip
        return made


@pytest.fixture(scope="module")
async def parts(settings: InfrastructureSettings, pool: asyncpg.Pool, broker: KafkaBroker) -> AsyncIterator[Parts]:
    """The inbox with its own role and its subscriber of the case topics running, beside routing's handlers."""
    inbox_pool = await create_pool(settings.service_database_url("inbox"), max_size=4)
    inbox_broker = create_broker(settings, client_id="inbox-test", metadata_max_age_s=DISCOVERY_S)
    inbox_broker.include_router(create_router(settings, group_id=f"inbox-test-{uuid.uuid4().hex[:8]}"))
    reader = CaseNewsReader()
    consumption: BatchConsumption[CaseNews, Learnt] = BatchConsumption(
        model=CaseNews, consumer=CONSUMER, source=Source.INBOX, store=CaseProjection(inbox_pool),
        produce=reader.learn, publish=partial(publish_all, inbox_broker),
    )  # fmt: skip
    inbox_broker.context.set_global(CONSUMER, CaseNewsConsumption(reader, consumption))
    await inbox_broker.start()
    try:
        yield Parts(broker, settings, pool, case_work.Inbox(pool=inbox_pool, publish=partial(publish_all, broker),
                                                            levels=LEVELS))  # fmt: skip
    finally:
        await inbox_broker.stop()
        await inbox_pool.close()


@pytest.mark.parametrize("first", ["agency", "officer"])
async def test_when_an_agency_and_an_officer_race_the_inbox_shows_only_what_routing_accepted(
    parts: Parts, first: str
) -> None:
    result = screened(NeedType.UNFAIR_LABOUR)
    need_id = result.need.need_id
    await parts.route(result)
    case = await parts.case(need_id, "dlpw.33")
    await parts.agency_reports(need_id, Agency.DLPW, "accepted")
    assert await parts.apply_reports(need_id, count=1) == 0
    await parts.case(need_id, "dlpw.33", until="accepted")
    officer = await parts.officer("dlpw.33")
    sent_back = case_work.Report(status="misrouted", reason="เป็นเรื่องหางาน", reroute_to=Agency.DOE,
                                 corrected_types=(NeedType.JOBS,))  # fmt: skip

    # Both are checked against the same status (accepted): both fit, and both go to routing.
    if first == "agency":
        await parts.agency_reports(need_id, Agency.DLPW, "resolved", outcome="จ่ายค่าจ้างครบแล้ว")
    await case_work.report(parts.inbox, officer, case.case_event_id, sent_back, now=datetime.now(UTC))
    if first == "officer":
        await parts.agency_reports(need_id, Agency.DLPW, "resolved", outcome="จ่ายค่าจ้างครบแล้ว")

    waiting = await case_work.open_case(parts.inbox, officer, case.case_event_id)
    assert (waiting.status, waiting.reported) == ("accepted", "misrouted"), "routing's status, the report waiting"

    assert await parts.apply_reports(need_id, count=3) == 1, "routing refuses the report that came second"
    decided = await parts.routing_status(need_id, Agency.DLPW)
    assert decided == ("resolved" if first == "agency" else "misrouted")
    settled = await parts.case(need_id, "dlpw.33", until=decided)
    async with parts.inbox.pool.acquire() as connection:
        timeline = await case_store.timeline(connection, case.case_event_id)
    refused = [entry for entry in timeline if entry.kind.startswith("refused:")]
    if first == "agency":
        assert [(entry.kind, entry.detail) for entry in refused] == [
            (
                "refused:misrouted",
                "a case resolved at dlpw cannot become misrouted; allowed: nothing (the case is closed)",
            )
        ], "the officer sees why their report did not stand"
        kinds = [entry.kind for entry in timeline]
        assert kinds.index("status:misrouted") < kinds.index("refused:misrouted"), "told after the report"
    else:
        assert refused == []
        await parts.case(need_id, "doe.33")
    assert settled.status == decided


async def test_the_follow_up_names_who_holds_each_case_routing_escalated(parts: Parts) -> None:
    result = screened(NeedType.UNFAIR_LABOUR, NeedType.JOBS)
    need_id = result.need.need_id
    await parts.route(result)
    held = await parts.case(need_id, "dlpw.33")
    unclaimed = await parts.case(need_id, "doe.33")
    head, colleague = await parts.officer("dlpw.33", head=True), await parts.officer("dlpw.33")
    await case_work.assign(parts.inbox, head, held.case_event_id, to_name=colleague.name, now=datetime.now(UTC))
    # Four days pass for routing's timers: its own escalation publishes on agency.mol.33.
    await parts.routing_pool.execute(
        "UPDATE routing.routed_cases SET routed_at = routed_at - interval '4 days' WHERE need_id = $1", need_id
    )
    assert await escalate_overdue(parts.routing_pool, parts.broker, LEVELS, limit=100_000) >= 2
    labour_office = await parts.officer("mol.33")

    async def followed() -> dict[uuid.UUID, Case]:
        return {case.case_event_id: case for case in await case_work.follow_up(parts.inbox, labour_office)}

    escalated = await eventually(followed, lambda found: {held.case_event_id, unclaimed.case_event_id} <= set(found),
                                 timeout_s=WAIT_S)  # fmt: skip
    assert escalated[held.case_event_id].holder_name == colleague.name
    assert escalated[held.case_event_id].escalated == "not_accepted"
    assert escalated[unclaimed.case_event_id].holder is None
    page = follow_up_page([escalated[held.case_event_id], escalated[unclaimed.case_event_id]], officer=labour_office,
                          language="en", csrf="token")  # fmt: skip
    assert colleague.name in page
    assert "unclaimed" in page

    # Once routing records the acceptance, the case has left the follow-up.
    await parts.agency_reports(need_id, Agency.DLPW, "accepted")
    assert await parts.apply_reports(need_id, count=1) == 0
    await parts.case(need_id, "dlpw.33", until="accepted")
    assert held.case_event_id not in await followed()


def labour_case() -> RoutedCase:
    """A labour protection case of a new need, as routing makes it."""
    [case] = route([screened(NeedType.UNFAIR_LABOUR)], table=TABLE, contacts={}).results[0].cases
    return case


def not_accepted(case: RoutedCase) -> CaseEscalated:
    """Routing's escalation of ``case``, not accepted four days after it was routed."""
    return CaseEscalated(
        event_id=uuid.uuid4(), need_id=case.need_id, agency=case.agency, province_code=case.province_code,
        overdue="not_accepted", routed_at=case.routed_at, escalated_at=case.routed_at + timedelta(days=4),
    )  # fmt: skip


async def test_an_escalation_read_before_its_case_is_kept_for_it(parts: Parts) -> None:
    # The escalation is on agency.mol.33 and the case on agency.dlpw.33: the inbox may read them in either order.
    case = labour_case()
    projection = CaseProjection(parts.inbox.pool)
    await projection.record([Learnt(not_accepted(case), Office.parse("mol.33"))], [], commit_after=None)
    await projection.record([Learnt(case, Office.parse("dlpw.33"))], [], commit_after=None)
    labour_office = await parts.officer("mol.33")
    followed = {found.case_event_id: found for found in await case_work.follow_up(parts.inbox, labour_office)}
    assert followed[case.event_id].escalated == "not_accepted"
    assert followed[case.event_id].holder is None


async def test_news_read_before_its_case_is_kept_for_it_when_the_case_comes_with_others(parts: Parts) -> None:
    cases = [labour_case() for _ in range(3)]
    awaited = cases[1]
    projection = CaseProjection(parts.inbox.pool)
    await projection.record([Learnt(not_accepted(awaited), Office.parse("mol.33"))], [], commit_after=None)

    await projection.record([Learnt(case, Office.parse("dlpw.33")) for case in cases], [], commit_after=None)

    labour_office = await parts.officer("mol.33")
    followed = {found.case_event_id: found for found in await case_work.follow_up(parts.inbox, labour_office)}
    assert followed[awaited.event_id].escalated == "not_accepted"
    assert all(followed.get(case.event_id) is None for case in (cases[0], cases[2])), "escalated: only its own case"
    async with parts.inbox.pool.acquire() as connection:
        routed = await connection.fetchval(
            "SELECT count(*) FROM case_events WHERE kind = 'routed' AND case_event_id = ANY($1::uuid[])",
            [case.event_id for case in cases],
        )
    assert routed == 3


async def test_news_read_before_two_cases_of_one_need_and_agency_goes_to_the_first_it_followed(parts: Parts) -> None:
    first = labour_case()
    # The same need's second case at the same agency (another office of it), routed an hour later.
    second = first.model_copy(update={"event_id": uuid.uuid4(), "routed_at": first.routed_at + timedelta(hours=1)})
    escalation = not_accepted(first)  # four days after the first, so after both
    projection = CaseProjection(parts.inbox.pool)
    await projection.record([Learnt(escalation, Office.parse("mol.33"))], [], commit_after=None)

    await projection.record(
        [Learnt(first, Office.parse("dlpw.33")), Learnt(second, Office.parse("dlpw.33"))], [], commit_after=None
    )

    async with parts.inbox.pool.acquire() as connection:
        holder = await connection.fetchval(
            "SELECT case_event_id FROM case_events WHERE event_id = $1", escalation.event_id
        )
    assert holder == first.event_id, "as case by case: the first case read takes the news"


async def test_a_screeners_decision_closes_the_manual_case_not_the_case_it_routed_to_the_same_office(
    parts: Parts,
) -> None:
    # A drug tip screened by hand goes to the labour office, which also held its manual-screening
    # case; the inbox reads the new case (agency.mol.33) before routing's close (cases.updated.v1).
    manual = screened(manual_reason="no_type_matched")
    [manual_case] = route([manual], table=TABLE, contacts={}).results[0].cases
    decision = screened(NeedType.DRUGS_WORKPLACE, need=manual.need).model_copy(update={"screened_by": "สมศรี"})
    decided = route([decision], table=TABLE, contacts={})
    [drug_case] = decided.results[0].cases
    [close] = [update for update in decided.messages if update.topic == CASES_UPDATED
               and CaseUpdated.model_validate_json(update.value).change == "status"]  # fmt: skip
    projection = CaseProjection(parts.inbox.pool)
    mol = Office.parse("mol.33")
    await projection.record([Learnt(manual_case, mol)], [], commit_after=None)
    await projection.record(
        [Learnt(drug_case, mol), Learnt(CaseUpdated.model_validate_json(close.value), None)], [], commit_after=None
    )
    async with parts.inbox.pool.acquire() as connection:
        rows = await connection.fetch("SELECT case_event_id, status FROM cases WHERE need_id = $1", manual.need.need_id)
    statuses = {row["case_event_id"]: row["status"] for row in rows}
    assert statuses == {manual_case.event_id: "resolved", drug_case.event_id: "routed"}


async def test_a_topic_made_after_the_inbox_started_is_read_without_a_restart(parts: Parts) -> None:
    [case] = route([screened(NeedType.JOBS)], table=TABLE, contacts={}).results[0].cases
    # Not a known area office: the case's own agency and province name its office.
    topic = f"agency.{case.agency.value}.{case.province_code}.new{uuid.uuid4().hex[:8]}"
    assert await create_topics(parts.settings, [NewTopic(topic, 1, 1)]) == 1
    message = OutgoingMessage.of(case, topic=topic, key=str(case.need_id).encode(), source=Source.ROUTING)
    await publish_all(parts.broker, [message])
    found = await parts.case(case.need_id, f"{case.agency.value}.{case.province_code}")
    assert found.case_event_id == case.event_id
