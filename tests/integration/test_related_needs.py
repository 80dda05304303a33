"""Routing's related-needs lookup against the real PostgreSQL: one cluster however the needs arrive."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from services.routing.adapters.database import RoutingStore
from services.routing.adapters.related_needs import RelatedNeedsStore
from services.routing.domain.related_needs import RelatedNeedsPolicy
from services.routing.domain.routed import Routed
from services.routing.use_cases import tell_held_back_cases as held_back_flush
from services.routing.use_cases.forget_old_related_needs import forget_old_related_needs
from services.routing.use_cases.route_screened_needs import Router
from services.routing.use_cases.tell_held_back_cases import tell_held_back_cases
from shared.batch_consumption import Produced
from shared.contracts.events import CaseLinked, CaseUpdated, NeedScreened, RoutedCase
from shared.contracts.need_types import NeedType
from shared.kafka import OutgoingMessage
from shared.settings import InfrastructureSettings
from shared.topics import CASES_UPDATED
from tests.topic_reader import read_records
from tests.unit.factories import screened, submitted

pytestmark = pytest.mark.integration

SAME_WORKPLACE = (
    "บริษัท สยามการ์เมนต์ จำกัด ตำบลโพธิ์ อำเภอเมืองศรีสะเกษ ค้างจ่ายค่าจ้างพนักงานเย็บผ้ามา 2 เดือนแล้ว นายจ้างบอกว่ายังไม่มีเงินจ่าย",
    "พนักงานเย็บผ้า บริษัทสยามการ์เมนต์ ต.โพธิ์ อ.เมืองศรีสะเกษ ยังไม่ได้รับค่าจ้าง ๒ เดือน นายจ้างอ้างว่าไม่มีเงิน",
    "ลูกจ้างโรงงานเย็บผ้าสยามการ์เมนต์ (ตำบลโพธิ์ เมืองศรีสะเกษ) ร้องเรียนว่านายจ้างค้างค่าจ้างมาสองเดือน ยังไม่จ่าย",
)
UNRELATED = "ร้านอาหารในตลาดเทศบาล อำเภอเมืองศรีสะเกษ เลิกจ้างลูกจ้างโดยไม่บอกล่วงหน้าและไม่จ่ายค่าชดเชย"
POLICY = RelatedNeedsPolicy(window=timedelta(days=30))


def need_in(province_code: str, description: str, *types: NeedType) -> NeedScreened:
    """A screened need of ``province_code`` (district 01 of it) with this description."""
    need = submitted(
        description, province_code=province_code, district_code=f"{province_code}01",
        subdistrict_code=f"{province_code}0101",
    )  # fmt: skip
    return screened(*(types or (NeedType.UNFAIR_LABOUR,)), need=need)


@pytest.fixture
async def replicas(settings: InfrastructureSettings) -> AsyncIterator[list[Router]]:
    """Three routing replicas, each with its own connection pool, as three processes would have."""
    pools: list[asyncpg.Pool] = []
    for _ in range(3):
        created = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
        assert created is not None
        pools.append(created)
    yield [Router(store=RoutingStore(pool, refresh_s=5), related=RelatedNeedsStore(pool, POLICY)) for pool in pools]
    for pool in pools:
        await pool.close()


def cases_of(produced: Produced[Routed]) -> list[RoutedCase]:
    return [case for routed in produced.results for case in routed.cases]


async def test_needs_routed_at_once_by_three_replicas_end_in_one_cluster(replicas: list[Router]) -> None:
    needs = [need_in("91", text) for text in SAME_WORKPLACE]

    produced = await asyncio.gather(*(replica.route([need]) for replica, need in zip(replicas, needs, strict=True)))

    cases = [case for result in produced for case in cases_of(result)]
    joined = [case for case in cases if case.cluster_id is not None]
    assert len({case.cluster_id for case in joined}) == 1
    ids = {need.need.need_id for need in needs}
    # Whichever came first started the cluster; the two after it joined it and name the others so far.
    assert len(joined) >= 2
    last = max(joined, key=lambda case: len(case.related_need_ids))
    assert set(last.related_need_ids) | {last.need_id} == ids
    linked = [
        CaseLinked.model_validate_json(message.value)
        for result in produced
        for message in result.messages
        if b'"case.linked"' in message.value
    ]
    assert {event.cluster_id for event in linked} == {joined[0].cluster_id}
    assert {event.need_id for event in linked} <= ids


async def test_a_need_routed_again_keeps_its_cluster_and_an_unrelated_need_stays_out(
    replicas: list[Router], pool: asyncpg.Pool
) -> None:
    first, second = (need_in("92", text) for text in SAME_WORKPLACE[:2])
    other = need_in("92", UNRELATED)
    router = replicas[0]

    await router.route([first])
    joined = await router.route([second, other])
    again = await router.route([second])

    [joined_case, other_case] = cases_of(joined)
    [again_case] = cases_of(again)
    assert joined_case.cluster_id is not None
    assert joined_case.related_need_ids == (first.need.need_id,)
    assert (again_case.cluster_id, again_case.related_need_ids) == (joined_case.cluster_id, (first.need.need_id,))
    assert (other_case.cluster_id, other_case.related_need_ids) == (None, ())
    update = next(
        CaseUpdated.model_validate_json(message.value)
        for message in joined.messages
        if message.topic == CASES_UPDATED and message.key == str(second.need.need_id).encode()
    )
    assert (update.cluster_id, update.cluster_type) == (joined_case.cluster_id, NeedType.UNFAIR_LABOUR)
    stored = await pool.fetchval("SELECT count(*) FROM routing.related_needs WHERE province_code = '92'")
    assert stored == 3


async def test_workplace_drug_tips_are_never_clustered(replicas: list[Router], pool: asyncpg.Pool) -> None:
    text = "มีการเสพยาบ้าในโรงงานสยามการ์เมนต์ ตำบลโพธิ์ อำเภอเมืองศรีสะเกษ ช่วงกะดึก"
    tips = [need_in("93", text, NeedType.DRUGS_WORKPLACE), need_in("93", text, NeedType.DRUGS_WORKPLACE)]

    produced = await replicas[0].route(tips)

    assert all((case.cluster_id, case.related_need_ids) == (None, ()) for case in cases_of(produced))
    assert not [message for message in produced.messages if b'"case.linked"' in message.value]
    stored: int = await pool.fetchval("SELECT count(*) FROM routing.related_needs WHERE province_code = '93'")
    assert stored == 0


async def test_a_resolved_need_is_no_longer_a_relative(replicas: list[Router], pool: asyncpg.Pool) -> None:
    first, second = (need_in("94", text) for text in SAME_WORKPLACE[:2])
    router = replicas[0]
    await router.route([first])
    await pool.execute(
        "INSERT INTO routing.routed_cases (event_id, need_id, agency, province_code, topic, types, manual_screening,"
        " routed_at, status) VALUES (gen_random_uuid(), $1, 'dlpw', '94', 'agency.dlpw.94', '{unfair_labour}', false,"
        " now(), 'resolved')",
        first.need.need_id,
    )

    [case] = cases_of(await router.route([second]))

    assert (case.cluster_id, case.related_need_ids) == (None, ())


async def test_a_replica_that_already_keeps_a_province_sees_what_another_replica_placed_since(
    replicas: list[Router],
) -> None:
    # Replica 1 has placed a need of this province and type before, so it keeps their candidates.
    await replicas[1].route([need_in("95", UNRELATED)])
    first, second = (need_in("95", text) for text in SAME_WORKPLACE[:2])

    [first_case] = cases_of(await replicas[0].route([first]))
    [second_case] = cases_of(await replicas[1].route([second]))

    assert first_case.cluster_id is None
    assert second_case.cluster_id is not None
    assert second_case.related_need_ids == (first.need.need_id,)


def linked_in(produced: Produced[Routed]) -> list[CaseLinked]:
    return [CaseLinked.model_validate_json(message.value) for message in produced.messages
            if b'"case.linked"' in message.value]  # fmt: skip


async def test_a_case_told_within_the_link_interval_is_told_later_of_all_it_gained_meanwhile(
    replicas: list[Router], pool: asyncpg.Pool, broker: KafkaBroker, settings: InfrastructureSettings
) -> None:
    first, second, third = (need_in("96", text) for text in SAME_WORKPLACE)
    router = replicas[0]
    await router.route([first])

    told_at_once = linked_in(await router.route([second]))
    told_then = linked_in(await router.route([third]))

    assert [event.need_id for event in told_at_once] == [first.need.need_id]
    assert [event.need_id for event in told_then] == [second.need.need_id], "the first case was told a moment ago"
    assert await tell_held_back_cases(pool, broker, POLICY) == 0, "not before the first case's interval has passed"
    await pool.execute(
        "UPDATE routing.linked_told SET told_at = told_at - interval '1 minute' WHERE need_id = $1", first.need.need_id
    )
    assert await tell_held_back_cases(pool, broker, POLICY) == 1
    key = str(first.need.need_id).encode()

    def linked_to_first(found: bytes | None, value: bytes) -> bool:
        return found == key and b'"case.linked"' in value

    [record] = await read_records(settings.kafka_bootstrap_servers, ["agency.dlpw.96"], wanted=linked_to_first, count=1)
    held_back = CaseLinked.model_validate_json(record.value)
    assert set(held_back.related_need_ids) == {second.need.need_id, third.need.need_id}
    assert held_back.cluster_id == told_at_once[0].cluster_id
    assert await tell_held_back_cases(pool, broker, POLICY) == 0, "told once"


async def test_held_back_cases_are_told_a_chunk_per_transaction_up_to_the_limit(
    pool: asyncpg.Pool, broker: KafkaBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(held_back_flush, "FLUSH_CHUNK", 3)
    published: list[int] = []
    publish_really = held_back_flush.publish_all

    async def publish_all(broker: KafkaBroker, messages: list[OutgoingMessage]) -> None:
        published.append(len(messages))
        await publish_really(broker, messages)

    monkeypatch.setattr(held_back_flush, "publish_all", publish_all)
    # An interval no other test's case has waited out: only these seven are due.
    policy = replace(POLICY, link_interval=timedelta(days=3650))
    long_ago = datetime.now(UTC) - policy.link_interval - timedelta(days=1)
    cluster_id, need_ids = uuid.uuid4(), [uuid.uuid4() for _ in range(7)]
    await pool.executemany(
        "INSERT INTO routing.related_needs (need_id, province_code, district_code, need_type, cluster_id, letters,"
        " offices, routed_at) VALUES ($1, '94', '9401', 'unfair_labour', $2, 'x', ARRAY['dlpw.94'], now())",
        [(need_id, cluster_id) for need_id in need_ids],
    )
    await pool.executemany(
        "INSERT INTO routing.linked_told (need_id, office, told_at, pending) VALUES ($1, 'dlpw.94', $2, true)",
        [(need_id, long_ago) for need_id in need_ids],
    )

    assert await tell_held_back_cases(pool, broker, policy, limit=5) == 5
    assert await tell_held_back_cases(pool, broker, policy, limit=5) == 2
    assert await tell_held_back_cases(pool, broker, policy, limit=5) == 0
    assert published == [3, 2, 2], "a transaction and a publish per chunk of at most FLUSH_CHUNK"
    waiting = await pool.fetchval(
        "SELECT count(*) FROM routing.linked_told WHERE need_id = ANY($1::uuid[]) AND pending", need_ids
    )
    assert waiting == 0


async def test_when_cases_were_told_is_forgotten_past_the_window_unless_they_still_wait(
    replicas: list[Router], pool: asyncpg.Pool
) -> None:
    first, second = (need_in("85", text) for text in SAME_WORKPLACE[:2])
    await replicas[0].route([first])
    await replicas[0].route([second])
    told, waiting, orphan = first.need.need_id, second.need.need_id, uuid.uuid4()
    long_ago = datetime.now(UTC) - POLICY.window - timedelta(days=1)
    await pool.execute("DELETE FROM routing.linked_told WHERE need_id = ANY($1::uuid[])", [told, waiting])
    await pool.execute(
        "INSERT INTO routing.linked_told (need_id, office, told_at, pending)"
        " VALUES ($1, 'dlpw.85', $4, false), ($2, 'dlpw.85', $4, true), ($3, 'dlpw.85', now(), true)",
        told, waiting, orphan, long_ago,
    )  # fmt: skip

    forgotten = await forget_old_related_needs(pool, POLICY)

    rows = await pool.fetch(
        "SELECT need_id FROM routing.linked_told WHERE need_id = ANY($1::uuid[])", [told, waiting, orphan]
    )
    assert {row["need_id"] for row in rows} == {waiting}, "the orphan waited for a need that is not kept"
    assert forgotten.told >= 2


async def test_a_need_is_forgotten_once_kept_long_enough_and_its_cluster_no_longer_names_it(
    replicas: list[Router], pool: asyncpg.Pool
) -> None:
    keep_for = timedelta(days=90)
    old, recent, newest = (need_in("86", text) for text in SAME_WORKPLACE)
    router = replicas[0]
    await router.route([old])
    await router.route([recent])
    await pool.execute(
        "UPDATE routing.related_needs SET routed_at = now() - $2::interval WHERE need_id = $1",
        old.need.need_id, keep_for + timedelta(days=1),
    )  # fmt: skip
    await pool.execute(
        "UPDATE routing.linked_told SET pending = true WHERE need_id = $1", old.need.need_id
    )  # a case still waiting to be told when its need is forgotten

    forgotten = await forget_old_related_needs(pool, replace(POLICY, keep_for=keep_for))

    assert forgotten.needs >= 1
    kept = await pool.fetch(
        "SELECT need_id FROM routing.related_needs WHERE need_id = ANY($1::uuid[])",
        [old.need.need_id, recent.need.need_id],
    )
    assert {row["need_id"] for row in kept} == {recent.need.need_id}
    assert not await pool.fetchval("SELECT count(*) FROM routing.linked_told WHERE need_id = $1", old.need.need_id)
    [case] = cases_of(await replicas[1].route([newest]))
    assert recent.need.need_id in case.related_need_ids
    assert old.need.need_id not in case.related_need_ids, "the forgotten need is no longer named"
