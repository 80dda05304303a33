"""The HTTP contract other teams build against: problem details, Location, pagination, idempotent reports."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from jsonschema_rs import Draft202012Validator

from services.intake.app import create_app
from services.intake.domain.api_keys import Role
from services.intake.settings import IntakeSettings
from shared.contracts.need_types import Agency
from tests.conftest import issue_key
from tests.integration.test_access_and_personal_data import route_to
from tests.integration.test_intake_api import need_body

PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "errors"}


@pytest.fixture(scope="module")
async def client(intake_settings: IntakeSettings, volunteer_app: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Intake in this process, called as the tests' volunteer app."""
    app = create_app(intake_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", headers=volunteer_app) as http:
            yield http


def assert_problem(response: httpx.Response, status: int, field: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == PROBLEM_MEMBERS
    assert (problem["type"], problem["status"], problem["instance"]) == ("about:blank", status, response.url.path)
    assert problem["title"]
    assert field in problem["detail"]
    assert field in [error["field"] for error in problem["errors"]]


async def test_every_refusal_is_problem_details(client: httpx.AsyncClient, unique: str) -> None:
    assert_problem(await client.post("/v1/needs", json=need_body(f"vol-{unique}", description="")), 422, "description")
    assert_problem(await client.get("/v1/needs/not-a-uuid"), 422, "need_id")
    assert_problem(await client.get(f"/v1/needs/{uuid.uuid4()}"), 404, "need_id")
    assert_problem(await client.get("/v1/nothing-here"), 404, "path")
    assert_problem(await client.get("/v1/needs", headers={"Authorization": ""}), 401, "header Authorization")
    too_large = need_body(f"vol-{unique}", description="ก" * 100_000)
    assert_problem(await client.post("/v1/needs", json=too_large), 413, "body")

    not_utf8 = await client.post(
        "/v1/needs", content=b'{"volunteer_id": "\xff"}', headers={"content-type": "application/json"}
    )
    assert_problem(not_utf8, 400, "body")

    wrong_method = await client.put("/v1/needs")
    assert_problem(wrong_method, 405, "method")
    assert set(wrong_method.headers["allow"].split(", ")) >= {"GET", "POST"}


async def test_an_accepted_need_says_where_to_follow_it(client: httpx.AsyncClient, unique: str) -> None:
    accepted = await client.post("/v1/needs", json=need_body(f"vol-{unique}"))
    assert accepted.status_code == 202
    assert accepted.headers["location"] == f"/v1/needs/{accepted.json()['need_id']}"
    followed = await client.get(accepted.headers["location"])
    assert followed.status_code == 200
    assert followed.json()["need_id"] == accepted.json()["need_id"]


async def test_a_key_reused_for_another_need_gets_422(client: httpx.AsyncClient, unique: str) -> None:
    headers = {"Idempotency-Key": f"key-{unique}"}
    assert (await client.post("/v1/needs", json=need_body(f"vol-{unique}"), headers=headers)).status_code == 202
    other = await client.post("/v1/needs", json=need_body(f"vol-{unique}", description="ตกงาน"), headers=headers)
    assert_problem(other, 422, "header Idempotency-Key")


async def submit_many(client: httpx.AsyncClient, volunteer: str, count: int) -> list[str]:
    """Needs of one volunteer, oldest first."""
    need_ids = []
    for _ in range(count):
        response = await client.post("/v1/needs", json=need_body(volunteer))
        assert response.status_code == 202
        need_ids.append(response.json()["need_id"])
    return need_ids


async def test_a_list_is_read_page_by_page_through_its_link_header(client: httpx.AsyncClient, unique: str) -> None:
    volunteer = f"vol-{unique}"
    need_ids = await submit_many(client, volunteer, 5)
    pages: list[list[str]] = []
    url: str | None = f"/v1/needs?volunteer_id={volunteer}&limit=2"
    while url is not None:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        pages.append([line["need_id"] for line in response.json()])
        url = response.links.get("next", {}).get("url")
    assert [len(page) for page in pages] == [2, 2, 1]
    assert [need_id for page in pages for need_id in page] == need_ids[::-1]

    forged = await client.get("/v1/needs", params={"cursor": "bm90LWEtY3Vyc29y"})
    assert_problem(forged, 422, "cursor")


async def test_a_status_filter_finds_matches_older_than_many_non_matches(
    client: httpx.AsyncClient, pool: asyncpg.Pool, unique: str
) -> None:
    volunteer = f"vol-{unique}"
    oldest, *newer = await submit_many(client, volunteer, 7)
    await route_to(pool, oldest, Agency.DLPW)

    routed = await client.get("/v1/needs", params={"volunteer_id": volunteer, "status": "routed", "limit": 1})
    assert [line["need_id"] for line in routed.json()] == [oldest]
    assert "link" not in routed.headers
    accepted = await client.get("/v1/needs", params={"volunteer_id": volunteer, "status": "accepted", "limit": 6})
    assert [line["need_id"] for line in accepted.json()] == newer[::-1]


@pytest.mark.parametrize(
    ("screened", "case_states", "overall"),
    [
        (False, [], "accepted"),
        (True, [], "screened"),
        (True, ["routed"], "routed"),
        (True, ["misrouted"], "routed"),
        (True, ["routed", "accepted"], "in_progress"),
        (True, ["resolved", "routed"], "in_progress"),
        (True, ["resolved", "misrouted"], "resolved"),
    ],
)
async def test_the_overall_status_rule(
    pool: asyncpg.Pool, screened: bool, case_states: list[str], overall: str
) -> None:
    assert await pool.fetchval("SELECT need_overall_status($1, $2::text[])", screened, case_states) == overall


async def test_a_status_report_needs_no_need_id_and_stays_idempotent_on_retry(
    client: httpx.AsyncClient, pool: asyncpg.Pool, unique: str
) -> None:
    [need_id] = await submit_many(client, f"vol-{unique}", 1)
    await route_to(pool, need_id, Agency.DLPW)
    dlpw = {"Authorization": await issue_key(pool, Role.AGENCY, agency=Agency.DLPW)}
    report = {"agency": "dlpw", "status": "accepted", "at": "2026-12-01T09:00:00+07:00"}
    url = f"/v1/needs/{need_id}/status"

    first = await client.post(url, json=report, headers=dlpw)
    assert first.status_code == 202, first.text
    assert first.headers["location"] == f"/v1/needs/{need_id}"
    assert first.json()["need_id"] == need_id
    same_need = await client.post(url, json={**report, "need_id": need_id}, headers=dlpw)
    assert same_need.json()["event_id"] == first.json()["event_id"]
    assert_problem(await client.post(url, json={**report, "need_id": str(uuid.uuid4())}, headers=dlpw), 422, "need_id")

    # Routing applies the report as it does from cases.status.v1 and intake's copy learns it; then the
    # agency's retry arrives.
    await pool.execute("UPDATE need_cases SET status = 'accepted' WHERE need_id = $1", uuid.UUID(need_id))
    await pool.execute(
        "INSERT INTO case_reports (event_id, need_id, agency, status, reported_at)"
        " VALUES ($1, $2, 'dlpw', 'accepted', now()) ON CONFLICT DO NOTHING",
        uuid.UUID(first.json()["event_id"]), uuid.UUID(need_id),
    )  # fmt: skip
    retried = await client.post(url, json=report, headers=dlpw)
    assert retried.status_code == 202, retried.text
    assert retried.json() == first.json()
    audited = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE need_id = $1 AND action = 'status:accepted'", uuid.UUID(need_id)
    )
    assert audited == 2  # the first report and the one naming its need; the retry after routing added none

    later = {**report, "at": "2026-12-01T10:00:00+07:00"}
    assert_problem(await client.post(url, json=later, headers=dlpw), 409, "status")


async def test_the_openapi_document_names_operations_security_and_every_error_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = {
        operation["operationId"]: (path, operation)
        for path, methods in document["paths"].items()
        for operation in methods.values()
    }
    assert {"submitNeed", "getNeed", "listNeeds", "reportCaseStatus", "revealIdentity", "erasePersonalData",
            "getDashboard", "getShadowDisagreements", "getRelatedNeedClusters", "checkLiveness", "checkReadiness",
            "open311ListServices", "open311GetServiceDefinition", "open311CreateRequest", "open311GetRequest",
            "open311ListRequests", "receiveLineWebhook", "createLineLinkCode"} == set(operations)  # fmt: skip
    assert document["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for operation_id, (path, operation) in operations.items():
        # Open311 answers errors in its own spec's format, in the format the path asks for.
        error_media = ["application/json", "text/xml"] if path.startswith("/open311/") else ["application/problem+json"]
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == error_media, (operation_id, status)
        if operation.get("security"):
            assert {"401", "429", "503"} <= set(operation["responses"]), operation_id
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
            assert "Retry-After" in operation["responses"]["429"]["headers"]
    assert "Location" in operations["submitNeed"][1]["responses"]["202"]["headers"]
    assert "Link" in operations["listNeeds"][1]["responses"]["200"]["headers"]
    assert "503" in operations["checkReadiness"][1]["responses"]


def documented(document: dict[str, Any], operation: tuple[str, str], status: int) -> Draft202012Validator:
    """A validator of the body the OpenAPI document gives for ``status`` of ``operation`` (path, method)."""
    path, method = operation
    [(media_type, content)] = document["paths"][path][method]["responses"][str(status)]["content"].items()
    assert media_type == "application/problem+json"
    return Draft202012Validator({**content["schema"], "components": document["components"]})


async def test_an_unreachable_database_gets_503_problem_details_as_documented(
    intake_settings: IntakeSettings, volunteer_app: dict[str, str]
) -> None:
    app = create_app(intake_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", headers=volunteer_app) as http:
            document = (await http.get("/openapi.json")).json()
            await app.state.resources.pool.close()  # as a database that went away would leave it

            listed = await http.get("/v1/needs")
            assert_problem(listed, 503, "service")
            assert int(listed.headers["retry-after"]) >= 1
            documented(document, ("/v1/needs", "get"), 503).validate(listed.json())

            ready = await http.get("/readyz")
            assert ready.status_code == 503
            assert ready.headers["content-type"] == "application/problem+json"
            assert ready.json()["checks"]["database"] is False
            documented(document, ("/readyz", "get"), 503).validate(ready.json())
