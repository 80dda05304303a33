"""Intake over HTTP against the real PostgreSQL and broker."""

import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.settings import InfrastructureSettings
from shared.topics import NEEDS_SUBMITTED
from tests.polling import eventually
from tests.topic_reader import read_matching
from tests.unit.factories import valid_national_id


@pytest.fixture(scope="module")
async def client(intake_settings: IntakeSettings, volunteer_app: dict[str, str]) -> AsyncIterator[httpx.AsyncClient]:
    """Intake in this process, called as the tests' volunteer app."""
    app = create_app(intake_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake", headers=volunteer_app) as http:
            yield http


def need_body(volunteer_id: str, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "volunteer_id": volunteer_id,
        "subdistrict_code": "330101",
        "description": "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน",
        "person": {"name": "สมหญิง", "national_id": valid_national_id(), "phone": "0812345678"},
        "consent_to_share": True,
    }
    body.update(changes)
    return body


async def count_needs(pool: asyncpg.Pool, volunteer_id: str) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM needs WHERE volunteer_id = $1", volunteer_id)
    return count


async def test_an_accepted_need_is_stored_and_published_keyed_by_its_id(
    client: httpx.AsyncClient, settings: InfrastructureSettings, pool: asyncpg.Pool, unique: str
) -> None:
    response = await client.post("/v1/needs", json=need_body(f"vol-{unique}"))
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "accepted"
    need_id = response.json()["need_id"]

    [(_, _, value)] = await read_matching(
        settings.kafka_bootstrap_servers, [NEEDS_SUBMITTED], wanted=lambda k, _: k == need_id.encode(), count=1
    )
    event = json.loads(value)
    assert (event["need_id"], event["province_code"], event["district_code"]) == (need_id, "33", "3301")
    assert valid_national_id() not in value.decode()
    assert "สมหญิง" not in value.decode()
    in_outbox = await eventually(
        lambda: pool.fetchval("SELECT count(*) FROM outbox WHERE key = $1", need_id.encode()), lambda n: n == 0
    )
    assert in_outbox == 0

    status = await client.get(f"/v1/needs/{need_id}")
    assert status.status_code == 200
    assert status.json()["status"] in {"accepted", "screened", "routed"}


async def test_a_retry_with_the_same_idempotency_key_returns_the_same_need(
    client: httpx.AsyncClient, settings: InfrastructureSettings, pool: asyncpg.Pool, unique: str
) -> None:
    volunteer = f"vol-{unique}"
    headers = {"Idempotency-Key": f"key-{unique}"}
    first = await client.post("/v1/needs", json=need_body(volunteer), headers=headers)
    again = await client.post("/v1/needs", json=need_body(volunteer), headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["need_id"] == again.json()["need_id"]
    assert await count_needs(pool, volunteer) == 1

    different = await client.post("/v1/needs", json=need_body(volunteer, description="ตกงาน"), headers=headers)
    assert different.status_code == 422
    assert different.json()["errors"][0]["field"] == "header Idempotency-Key"

    published = await read_matching(
        settings.kafka_bootstrap_servers, [NEEDS_SUBMITTED],
        wanted=lambda k, _: k == first.json()["need_id"].encode(), count=2, timeout_s=3,
    )  # fmt: skip
    assert len(published) == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (lambda v: need_body(v, subdistrict_code="999999"), 422, "subdistrict_code"),
        (lambda v: need_body(v, subdistrict_code="33-101"), 422, "subdistrict_code"),
        (lambda v: {k: x for k, x in need_body(v).items() if k != "description"}, 422, "description"),
        (lambda v: need_body(v, description="ก" * 6000), 422, "description"),
        (lambda v: need_body(v, person={"national_id": "1101700230701"}), 422, "person.national_id"),
        (lambda v: need_body(v, suggested_types=["housing"]), 422, "suggested_types.0"),
    ],
)
async def test_invalid_needs_are_refused_naming_the_field_and_nothing_is_kept(
    client: httpx.AsyncClient, pool: asyncpg.Pool, unique: str, body: object, status: int, field: str
) -> None:
    volunteer = f"vol-{unique}"
    response = await client.post("/v1/needs", json=body(volunteer))  # type: ignore[operator]
    assert response.status_code == status, response.text
    assert field in [error["field"] for error in response.json()["errors"]]
    assert await count_needs(pool, volunteer) == 0


async def test_a_body_that_is_not_json_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/needs", content=b"volunteer=1", headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert "JSON" in response.json()["errors"][0]["problem"]


async def test_a_megabyte_description_is_refused_before_it_is_read_whole(
    client: httpx.AsyncClient, unique: str
) -> None:
    response = await client.post("/v1/needs", json=need_body(f"vol-{unique}", description="ก" * 1_000_000))
    assert response.status_code == 413
    assert response.json()["errors"][0]["field"] == "body"


async def test_unknown_and_malformed_need_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"/v1/needs/{uuid.uuid4()}")).status_code == 404
    malformed = await client.get("/v1/needs/not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"] == "need_id"


async def test_health_readiness_and_documents(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz", headers={"Authorization": ""})).json() == {"status": "ok"}
    ready = await client.get("/readyz", headers={"Authorization": ""})
    assert ready.status_code == 200, ready.text
    assert "/v1/needs" in (await client.get("/openapi.json")).json()["paths"]
    channels = (await client.get("/asyncapi.json")).json()["channels"]
    assert {"needs.submitted.v1", "needs.screened.v1", "needs.dlq.v1"} <= set(channels)
