"""Routing rules by place in PostgreSQL, and API keys scoped to an office."""

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from services.intake.app import create_app
from services.intake.domain.api_keys import InvalidKeyScope, Role
from services.intake.settings import IntakeSettings
from services.intake.use_cases.access_admin import create_api_key
from services.routing.adapters.database import read_routing_table
from services.routing.domain.routing_table import IncompleteRoutingTable, InvalidRoutingRule, RoutingRule
from services.routing.entrypoints.commands import list_routes, set_route, unset_route
from shared.contracts.need_types import Agency
from shared.contracts.offices import Office
from shared.settings import InfrastructureSettings
from tests.conftest import issue_key
from tests.topic_reader import read_matching


@pytest.fixture
async def jobs_place_rules_removed(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """The test's place rules for jobs are gone after it, whatever it left."""
    yield
    await pool.execute("DELETE FROM routing_rules WHERE need_type = 'jobs' AND province_code IS NOT NULL")


@pytest.mark.usefixtures("jobs_place_rules_removed")
async def test_operators_set_list_and_unset_rules_by_province_and_district(
    settings: InfrastructureSettings, pool: asyncpg.Pool
) -> None:
    url = settings.database_url
    await set_route(url, key="jobs", agency="dsd", province_code="10")
    await set_route(url, key="jobs", agency="doe.10.area3", district_code="1001")
    rules = await list_routes(url)
    assert RoutingRule("jobs", "dsd", "10") in rules
    assert RoutingRule("jobs", "doe.10.area3", "10", "1001") in rules
    assert RoutingRule("jobs", "doe") in rules
    table = await read_routing_table(pool)
    assert table.office_for("jobs", "10", "1001") == Office.parse("doe.10.area3")
    assert table.office_for("jobs", "10", "1026") == Office.parse("dsd.10")
    # The same type and place again replaces the rule: no two rules of equal rank.
    await set_route(url, key="jobs", agency="doe", district_code="1001")
    assert [rule for rule in await list_routes(url) if rule.district_code == "1001"] == [
        RoutingRule("jobs", "doe", "10", "1001")
    ]
    await unset_route(url, key="jobs", district_code="1001")
    await unset_route(url, key="jobs", province_code="10")
    assert [rule for rule in await list_routes(url) if rule.key == "jobs"] == [RoutingRule("jobs", "doe")]


@pytest.mark.parametrize(
    ("change", "refusal", "problem"),
    [
        ({"key": "ss40", "agency": "sso.10.area1"}, InvalidRoutingRule, "a rule everywhere cannot name it"),
        ({"key": "ss40", "agency": "sso.10.area1", "province_code": "33"}, InvalidRoutingRule, "in province 10"),
        ({"key": "ss40", "agency": "sso.10.area13", "province_code": "10"}, InvalidRoutingRule, "not a known area"),
        (
            {"key": "ss40", "agency": "doe", "district_code": "3301", "province_code": "10"},
            InvalidRoutingRule,
            "not in",
        ),
    ],
)
async def test_routes_set_refuses_a_rule_that_cannot_apply(
    settings: InfrastructureSettings, pool: asyncpg.Pool, change: dict[str, str], refusal: type, problem: str
) -> None:
    before = await pool.fetch("SELECT * FROM routing_rules ORDER BY need_type")
    with pytest.raises(refusal, match=problem):
        await set_route(settings.database_url, **change)
    assert await pool.fetch("SELECT * FROM routing_rules ORDER BY need_type") == before


async def test_the_rule_everywhere_cannot_be_removed_and_a_missing_place_rule_is_named(
    settings: InfrastructureSettings,
) -> None:
    with pytest.raises(IncompleteRoutingTable, match="cannot be removed"):
        await unset_route(settings.database_url, key="ss40")
    with pytest.raises(InvalidRoutingRule, match="no rule for ss40 district 1026"):
        await unset_route(settings.database_url, key="ss40", district_code="1026")


@pytest.fixture(scope="module")
async def intake(intake_settings: IntakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Intake in this process, without key caching."""
    app = create_app(intake_settings.model_copy(update={"api_key_cache_s": 0.0}))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://intake") as client,
    ):
        yield client


async def test_an_office_key_reads_its_offices_cases_and_a_province_key_its_area_offices(
    intake: httpx.AsyncClient, pool: asyncpg.Pool, settings: InfrastructureSettings
) -> None:
    app = await issue_key(pool, Role.VOLUNTEER_APP, owner=f"app-{uuid.uuid4()}")
    submitted = await intake.post(
        "/v1/needs",
        json={"volunteer_id": "vol-10-0001", "subdistrict_code": "102601", "description": "ตกงาน หางานทำ"},
        headers={"Authorization": app},
    )
    need_id = submitted.json()["need_id"]
    # Intake's own copy of routing's decision, as cases.updated.v1 fills it: an area office's case.
    await pool.execute(
        "INSERT INTO need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening, routed_at)"
        " VALUES ($1, $2, 'doe', '10', 'agency.doe.10.area10', '{jobs}', false, now())",
        uuid.uuid4(), uuid.UUID(need_id),
    )  # fmt: skip

    async def office_key(*offices: str) -> str:
        key = await create_api_key(
            settings.database_url, role="agency", owner=None, agency="doe", provinces=(), valid_days=1, offices=offices
        )
        return f"Bearer {key.token}"

    readers = {
        "doe area 10": (await office_key("doe.10.area10"), 200),
        "doe area 3": (await office_key("doe.10.area3"), 404),
        "doe Bangkok": (await issue_key(pool, Role.AGENCY, agency=Agency.DOE, provinces=("10",)), 200),
        "doe national": (await issue_key(pool, Role.AGENCY, agency=Agency.DOE), 200),
        "doe Sisaket": (await issue_key(pool, Role.AGENCY, agency=Agency.DOE, provinces=("33",)), 404),
        "sso Bangkok": (await issue_key(pool, Role.AGENCY, agency=Agency.SSO, provinces=("10",)), 404),
    }
    for reader, (key, status) in readers.items():
        read = await intake.get(f"/v1/needs/{need_id}", headers={"Authorization": key})
        assert read.status_code == status, reader
        listed = await intake.get("/v1/needs?limit=500", headers={"Authorization": key})
        assert listed.status_code == 200, reader
        assert (need_id in {need["need_id"] for need in listed.json()}) == (status == 200), reader
    report = {"need_id": need_id, "agency": "doe", "status": "accepted", "note": "รับ", "at": "2026-12-05T01:00:00Z"}
    refused = await intake.post(
        f"/v1/needs/{need_id}/status", json=report, headers={"Authorization": readers["doe area 3"][0]}
    )
    assert refused.status_code == 404
    accepted = await intake.post(
        f"/v1/needs/{need_id}/status", json=report, headers={"Authorization": readers["doe area 10"][0]}
    )
    assert accepted.status_code == 202, accepted.text
    # An erasure reaches the office the case went to, on its own queue.
    admin = await issue_key(pool, Role.ADMIN)
    erased = await intake.delete(f"/v1/needs/{need_id}/personal-data", headers={"Authorization": admin})
    assert erased.json()["agencies_notified"] == ["doe"]
    [(topic, _, _)] = await read_matching(
        settings.kafka_bootstrap_servers, ["agency.doe.10", "agency.doe.10.area10"],
        wanted=lambda key, value: key == need_id.encode() and b"personal_data.erased" in value, count=1,
    )  # fmt: skip
    assert topic == "agency.doe.10.area10"


@pytest.mark.parametrize(
    ("offices", "problem"), [(("sso.10.area1",), "not an office of doe"), (("doe.10.area99",), "not a known area")]
)
async def test_a_key_for_an_office_of_another_agency_or_an_unknown_office_is_refused(
    settings: InfrastructureSettings, offices: tuple[str, ...], problem: str
) -> None:
    with pytest.raises(InvalidKeyScope, match=problem):
        await create_api_key(
            settings.database_url, role="agency", owner=None, agency="doe", provinces=(), valid_days=1, offices=offices
        )
