"""Intake's own copy of screening's and routing's events, on the real PostgreSQL and broker."""

import asyncio
import time
import uuid
from datetime import timedelta

import asyncpg
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from services.intake.adapters import database
from services.intake.adapters.need_clusters import relatives
from services.intake.adapters.personal_data import PersonalDataCipher, generate_key
from services.intake.adapters.projection import wait_for_case
from services.intake.domain.geography import locate
from services.intake.domain.submission import NeedSubmission, accept
from services.intake.use_cases.project_events import CASE_UPDATES, SCREENINGS, projections
from services.routing.use_cases.route_screened_needs import route
from shared.batch_consumption import BatchConsumption
from shared.contracts.events import CaseStatusReport, CaseUpdated, Event, NeedScreened, TypeAssessment
from shared.contracts.need_types import Agency, NeedType
from shared.topics import CASES_UPDATED, NEEDS_SCREENED
from tests.unit.factories import NOW
from tests.unit.test_inbox import Record
from tests.unit.test_officers_inbox import TABLE


async def stored_need(pool: asyncpg.Pool) -> NeedScreened:
    """A need stored as intake stores it, and screening's result for it."""
    submission = NeedSubmission(volunteer_id="vol-copy", subdistrict_code="330101", description="ค้างค่าจ้าง")
    event = accept(submission, location=locate("330101"), need_id=uuid.uuid4(), now=NOW)
    async with pool.acquire() as connection:
        await database.store_need(
            connection, submission=submission, event=event, idempotency_key=None, submitted_by="tests",
            cipher=PersonalDataCipher.from_base64(generate_key()),
        )  # fmt: skip
    assessment = TypeAssessment(type=NeedType.UNFAIR_LABOUR, confidence=0.9, evidence=("ค่าจ้าง",))
    return NeedScreened(
        event_id=uuid.uuid4(), need=event, screened_at=NOW + timedelta(seconds=1), types=(assessment,),
        language="th", classifier_version="test",
    )  # fmt: skip


def routed(screened: NeedScreened, agency: Agency) -> CaseUpdated:
    case_event_id = uuid.uuid4()
    return CaseUpdated(
        event_id=CaseUpdated.id_for("routed", case_event_id), change="routed", need_id=screened.need.need_id,
        agency=agency, updated_at=NOW + timedelta(seconds=2), case_event_id=case_event_id,
        topic=f"agency.{agency.value}.33", province_code="33", types=(NeedType.UNFAIR_LABOUR,),
    )  # fmt: skip


def reported(screened: NeedScreened, status: str, minutes: int, **fields: object) -> CaseUpdated:
    report = CaseStatusReport.model_validate(
        {"need_id": screened.need.need_id, "agency": "dlpw", "status": status, "at": NOW + timedelta(minutes=minutes),
         **fields}
    )  # fmt: skip
    return CaseUpdated(
        event_id=CaseUpdated.id_for("status", report.event_id), change="status", need_id=report.need_id,
        agency=report.agency, updated_at=report.at, status=report.status, report_event_id=report.event_id,
        note=report.note, outcome=report.outcome,
    )  # fmt: skip


def records(events: list[Event], topic: str) -> list[Record]:
    return [Record(e.model_dump_json().encode(), topic=topic, offset=i) for i, e in enumerate(events)]


def copies(pool: asyncpg.Pool, broker: KafkaBroker) -> tuple[BatchConsumption[Event, Event], ...]:
    wired = projections(pool, broker)
    return wired[SCREENINGS], wired[CASE_UPDATES]  # type: ignore[return-value]


async def test_a_need_reads_from_intakes_copy_and_a_batch_read_again_changes_nothing(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    screened = await stored_need(pool)
    screenings, updates = copies(pool, broker)
    case = routed(screened, Agency.DLPW)
    accepted = reported(screened, "accepted", 5, note="รับเรื่อง")
    resolved = reported(screened, "resolved", 60, outcome="จ่ายครบ")
    batch = records([case, accepted, resolved], CASES_UPDATED)

    await screenings.handle(records([screened], NEEDS_SCREENED))
    first = await updates.handle(batch)
    again = await updates.handle(batch)
    await updates.handle(records([accepted], CASES_UPDATED))  # an old report told again, alone

    assert (first.processed, again.duplicates) == (3, 3)
    async with pool.acquire() as connection:
        found = await database.need_status(connection, screened.need.need_id)
    assert found is not None
    assert found.status == "resolved"
    assert [(row["agency"], row["topic"], row["status"]) for row in found.routed] == [
        ("dlpw", "agency.dlpw.33", "resolved")
    ]
    assert [(row["status"], row["note"], row["outcome"]) for row in found.reports] == [
        ("accepted", "รับเรื่อง", None),
        ("resolved", "", "จ่ายครบ"),
    ]
    assert found.screening is not None
    assert found.screening["classifier_version"] == "test"
    async with pool.acquire() as connection:
        assert resolved.report_event_id is not None
        assert await database.status_report_recorded(connection, resolved.report_event_id)


async def test_reports_between_routed_updates_of_one_batch_find_their_cases(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    first, second = await stored_need(pool), await stored_need(pool)
    _, updates = copies(pool, broker)
    batch = [
        routed(first, Agency.DLPW), reported(first, "accepted", 5), routed(second, Agency.DLPW),
        routed(first, Agency.DOE), reported(second, "in_progress", 6), reported(first, "resolved", 7, outcome="paid"),
    ]  # fmt: skip

    assert (await updates.handle(records(batch, CASES_UPDATED))).processed == 6
    async with pool.acquire() as connection:
        statuses = {
            (row["need_id"], row["agency"]): row["status"]
            for row in await connection.fetch(
                "SELECT need_id, agency, status FROM need_cases WHERE need_id = ANY($1::uuid[])",
                [first.need.need_id, second.need.need_id],
            )
        }
    assert statuses == {
        (first.need.need_id, "dlpw"): "resolved",
        (first.need.need_id, "doe"): "routed",
        (second.need.need_id, "dlpw"): "in_progress",
    }


async def test_a_routed_update_in_a_cluster_records_the_cluster_with_its_case(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    first, second = await stored_need(pool), await stored_need(pool)
    _, updates = copies(pool, broker)
    cluster_id = uuid.uuid4()
    joined = routed(second, Agency.DLPW).model_copy(
        update={
            "cluster_id": cluster_id,
            "cluster_type": NeedType.UNFAIR_LABOUR,
            "related_need_ids": (first.need.need_id,),
        }
    )
    batch = records([routed(first, Agency.DLPW), joined], CASES_UPDATED)

    assert (await updates.handle(batch)).processed == 2
    assert (await updates.handle(batch)).duplicates == 2
    async with pool.acquire() as connection:
        assert await relatives(connection, second.need.need_id) == [first.need.need_id]
        assert await relatives(connection, first.need.need_id) == [second.need.need_id]
        members = await connection.fetch(
            "SELECT need_id, need_type FROM need_clusters WHERE cluster_id = $1 ORDER BY need_id", cluster_id
        )
        cases = await connection.fetchval(
            "SELECT count(*) FROM need_cases WHERE need_id = ANY($1::uuid[])", [first.need.need_id, second.need.need_id]
        )
    assert sorted((row["need_id"], row["need_type"]) for row in members) == sorted(
        (need.need.need_id, NeedType.UNFAIR_LABOUR.value) for need in (first, second)
    )
    assert cases == 2


async def test_an_unreadable_case_update_is_left_to_the_topics_own_consumer(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    _, updates = copies(pool, broker)
    before = REGISTRY.get_sample_value("needs_router_unreadable_left_total", {"consumer": CASE_UPDATES}) or 0.0
    report = await updates.handle([Record(b"{not json", topic=CASES_UPDATED)])
    assert report.dead_letters == 0
    assert REGISTRY.get_sample_value("needs_router_unreadable_left_total", {"consumer": CASE_UPDATES}) == before + 1


async def test_a_read_waits_for_a_case_the_copy_does_not_know_yet_and_not_for_one_routed_elsewhere(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    screened = await stored_need(pool)
    _, updates = copies(pool, broker)

    async def routing_tells_intake_late() -> None:
        await asyncio.sleep(0.3)
        await updates.handle(records([routed(screened, Agency.DLPW)], CASES_UPDATED))

    started = time.monotonic()
    await asyncio.gather(
        wait_for_case(pool, screened.need.need_id, Agency.DLPW, within_s=10), routing_tells_intake_late()
    )
    waited = time.monotonic() - started
    assert 0.3 <= waited < 5, "waited for the copy, and no longer"

    started = time.monotonic()
    await wait_for_case(pool, screened.need.need_id, Agency.DOE, within_s=10)
    assert time.monotonic() - started < 1, "the need is routed, to another agency: no wait"
    async with pool.acquire() as connection:
        assert await database.case_state(connection, screened.need.need_id, Agency.DLPW) == "routed"


async def test_a_screeners_decision_closes_the_manual_case_and_leaves_the_case_it_routed_to_the_same_agency_open(
    pool: asyncpg.Pool, broker: KafkaBroker
) -> None:
    stored = await stored_need(pool)
    manual = stored.model_copy(update={"types": (), "manual_reason": "no_type_matched"})
    decision = stored.model_copy(
        update={"types": (TypeAssessment(type=NeedType.DRUGS_WORKPLACE, confidence=1.0, evidence=()),),
                "screened_by": "สมศรี", "screened_at": NOW + timedelta(minutes=30)}
    )  # fmt: skip
    # As routing publishes them: the manual case, then the drug tip's case at the same agency, then the close.
    published = [
        message for screened in (manual, decision) for message in route([screened], table=TABLE, contacts={}).messages
    ]
    told = [message for message in published if message.topic == CASES_UPDATED]
    _, updates = copies(pool, broker)
    await updates.handle([Record(message.value, topic=CASES_UPDATED, offset=i) for i, message in enumerate(told)])

    async with pool.acquire() as connection:
        found = await database.need_status(connection, stored.need.need_id)
    assert found is not None
    assert sorted((row["agency"], row["types"], row["status"]) for row in found.routed) == [
        ("mol", [], "resolved"),
        ("mol", ["drugs_workplace"], "routed"),
    ]
