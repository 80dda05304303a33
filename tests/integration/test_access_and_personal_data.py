"""Who may do what, and what happens to personal data: the security tests of intake."""

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from services.intake.adapters.access_store import audit_trail
from services.intake.app import create_app
from services.intake.domain.api_keys import Role
from services.intake.settings import IntakeSettings
from shared.contracts.need_types import Agency
from shared.settings import InfrastructureSettings
from tests.conftest import issue_key
from tests.topic_reader import read_matching
from tests.unit.factories import valid_national_id

HOSTILE = [
    "'; DROP TABLE needs; --",
    "<script>alert('x')</script>",
    "1 OR 1=1; SELECT pg_sleep(5)",
    "$(rm -rf /) `id` {{7*7}} %s%n",
    "ยาบ้า\u202e\u200b\U0001f600 ﷽",
]


@pytest.fixture(scope="module")
async def intake(intake_settings: IntakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Intake with key caching off (a revocation acts at once) and a small rate limit."""
    settings = intake_settings.model_copy(
        update={"api_key_cache_s": 0.0, "rate_limit_per_s": 5.0, "rate_limit_burst": 20}
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://intake") as client,
    ):
        yield client


def body(**changes: object) -> dict[str, object]:
    need: dict[str, object] = {
        "volunteer_id": "vol-33-0001",
        "subdistrict_code": "330101",
        "description": "มีการเสพยาบ้าในโรงงาน",
        "person": {"name": "สมชาย ใจดี", "national_id": valid_national_id(), "phone": "0812345678"},
        "consent_to_share": True,
    }
    need.update(changes)
    return need


async def submit(intake: httpx.AsyncClient, key: str, **changes: object) -> str:
    response = await intake.post("/v1/needs", json=body(**changes), headers={"Authorization": key})
    assert response.status_code == 202, response.text
    need_id: str = response.json()["need_id"]
    return need_id


async def route_to(pool: asyncpg.Pool, need_id: str, agency: Agency, province: str = "33") -> None:
    """Record a routed case as intake learns it from routing, so agency scopes can be checked."""
    await pool.execute(
        "INSERT INTO need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening, routed_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, false, now())",
        uuid.uuid4(), uuid.UUID(need_id), agency.value, province, f"agency.{agency.value}.{province}", ["jobs"],
    )  # fmt: skip


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-key", "Bearer nrk_0000000000000000_secret"],
)
async def test_requests_without_a_valid_key_get_401(intake: httpx.AsyncClient, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path in [("POST", "/v1/needs"), ("GET", f"/v1/needs/{uuid.uuid4()}")]:
        response = await intake.request(method, path, json=body(), headers=headers)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["errors"][0]["field"] == "header Authorization"


async def test_a_wrong_secret_for_a_real_key_id_gets_401(intake: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    real = await issue_key(pool, Role.VOLUNTEER_APP)
    forged = real.rsplit("_", 1)[0] + "_" + "A" * 43
    assert (await intake.post("/v1/needs", json=body(), headers={"Authorization": forged})).status_code == 401


async def test_expired_and_revoked_keys_get_401(intake: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    expired = await issue_key(pool, Role.VOLUNTEER_APP, valid_for=timedelta(seconds=-1))
    assert (await intake.post("/v1/needs", json=body(), headers={"Authorization": expired})).status_code == 401

    revoked = await issue_key(pool, Role.VOLUNTEER_APP)
    assert (await intake.post("/v1/needs", json=body(), headers={"Authorization": revoked})).status_code == 202
    key_id = revoked.split("_")[1]
    await pool.execute("UPDATE api_keys SET revoked_at = now() WHERE key_id = $1", key_id)
    assert (await intake.post("/v1/needs", json=body(), headers={"Authorization": revoked})).status_code == 401


async def test_a_key_of_the_wrong_role_gets_403(intake: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    agency = await issue_key(pool, Role.AGENCY, agency=Agency.DLPW)
    assert (await intake.post("/v1/needs", json=body(), headers={"Authorization": agency})).status_code == 403
    app = await issue_key(pool, Role.VOLUNTEER_APP)
    need_id = await submit(intake, app)
    erase = await intake.delete(f"/v1/needs/{need_id}/personal-data", headers={"Authorization": app})
    assert erase.status_code == 403


async def test_needs_are_shown_only_to_their_app_their_agencies_and_admins(
    intake: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    app_a = await issue_key(pool, Role.VOLUNTEER_APP, owner=f"app-a-{uuid.uuid4()}")
    app_b = await issue_key(pool, Role.VOLUNTEER_APP, owner=f"app-b-{uuid.uuid4()}")
    need_id = await submit(intake, app_a)
    await route_to(pool, need_id, Agency.DLPW, "33")
    readers = {
        "submitting app": (app_a, 200),
        "another app": (app_b, 404),
        "admin": (await issue_key(pool, Role.ADMIN), 200),
        "dlpw in Sisaket": (await issue_key(pool, Role.AGENCY, agency=Agency.DLPW, provinces=("33",)), 200),
        "dlpw national": (await issue_key(pool, Role.AGENCY, agency=Agency.DLPW), 200),
        "dlpw in Bangkok": (await issue_key(pool, Role.AGENCY, agency=Agency.DLPW, provinces=("10",)), 404),
        "doe in Sisaket": (await issue_key(pool, Role.AGENCY, agency=Agency.DOE, provinces=("33",)), 404),
    }
    for reader, (key, status) in readers.items():
        response = await intake.get(f"/v1/needs/{need_id}", headers={"Authorization": key})
        assert response.status_code == status, reader
    unknown = await intake.get(f"/v1/needs/{uuid.uuid4()}", headers={"Authorization": app_b})
    hidden = await intake.get(f"/v1/needs/{need_id}", headers={"Authorization": app_b})
    # The same answer, but for the path the caller sent (the problem's instance).
    assert {**unknown.json(), "instance": None} == {**hidden.json(), "instance": None}


async def test_hostile_strings_are_stored_and_returned_verbatim(
    intake: httpx.AsyncClient, pool: asyncpg.Pool, settings: InfrastructureSettings
) -> None:
    app = await issue_key(pool, Role.VOLUNTEER_APP)
    admin = await issue_key(pool, Role.ADMIN)
    for hostile in HOSTILE:
        need_id = await submit(
            intake, app, volunteer_id=hostile[:64], description=f"ตกงาน {hostile}",
            person={"name": hostile, "phone": "0812345678"},
        )  # fmt: skip
        stored = await pool.fetchrow("SELECT volunteer_id, description, person_name FROM needs WHERE need_id = $1",
                                     uuid.UUID(need_id))  # fmt: skip
        assert (stored["volunteer_id"], stored["description"], stored["person_name"]) == (
            hostile[:64],
            f"ตกงาน {hostile}",
            hostile,
        )
        revealed = await intake.post(
            f"/v1/needs/{need_id}/identity", headers={"Authorization": admin, "Reason": "security test"}
        )
        assert revealed.json()["name"] == hostile
        assert revealed.json()["volunteer_id"] == hostile[:64]
        key = need_id.encode()
        [(_, _, event)] = await read_matching(
            settings.kafka_bootstrap_servers, ["needs.submitted.v1"], wanted=lambda k, _, key=key: k == key, count=1
        )
        assert json.loads(event)["description"] == f"ตกงาน {hostile}"
    assert await pool.fetchval("SELECT count(*) FROM needs") > 0, "the table survived"


async def test_the_national_id_is_encrypted_at_rest_and_revealed_only_with_an_audit_line(
    intake: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    national_id = valid_national_id("330990001234")
    app = await issue_key(pool, Role.VOLUNTEER_APP)
    need_id = await submit(intake, app, person={"name": "สมหญิง", "national_id": national_id})
    row = await pool.fetchrow(
        "SELECT national_id_encrypted, national_id_masked FROM needs WHERE need_id = $1", uuid.UUID(need_id)
    )
    assert national_id.encode() not in row["national_id_encrypted"]
    assert row["national_id_masked"] == f"x-xxxx-xxxxx-{national_id[10:12]}-{national_id[12]}"

    await route_to(pool, need_id, Agency.MOL, "33")
    dsd = await issue_key(pool, Role.AGENCY, agency=Agency.DSD, provinces=("33",))
    mol_bangkok = await issue_key(pool, Role.AGENCY, agency=Agency.MOL, provinces=("10",))
    mol_sisaket = await issue_key(pool, Role.AGENCY, agency=Agency.MOL, provinces=("33",))
    for outsider in (dsd, mol_bangkok):
        refused = await intake.post(
            f"/v1/needs/{need_id}/identity", headers={"Authorization": outsider, "Reason": "curious"}
        )
        assert refused.status_code == 404
    revealed = await intake.post(
        f"/v1/needs/{need_id}/identity", headers={"Authorization": mol_sisaket, "Reason": "drug tip follow-up"}
    )
    assert revealed.status_code == 200
    assert revealed.json()["national_id"] == national_id

    async with pool.acquire() as connection:
        trail = await audit_trail(connection, uuid.UUID(need_id))
    assert [entry.action for entry in trail] == ["create", "reveal"]
    assert trail[1].detail == {"reason": "drug tip follow-up"}
    assert trail[1].actor_role == "agency"
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await pool.execute("DELETE FROM audit_log WHERE need_id = $1", uuid.UUID(need_id))


async def test_erasure_removes_personal_data_and_tells_the_agencies(
    intake: httpx.AsyncClient, pool: asyncpg.Pool, settings: InfrastructureSettings
) -> None:
    app = await issue_key(pool, Role.VOLUNTEER_APP)
    admin = await issue_key(pool, Role.ADMIN)
    need_id = await submit(intake, app)
    await route_to(pool, need_id, Agency.DLPW, "33")
    erased = await intake.delete(f"/v1/needs/{need_id}/personal-data", headers={"Authorization": admin})
    assert erased.status_code == 200, erased.text
    assert erased.json()["agencies_notified"] == ["dlpw"]
    row = await pool.fetchrow(
        "SELECT person_name, person_phone, national_id_encrypted, national_id_masked, personal_data_erased_at"
        " FROM needs WHERE need_id = $1",
        uuid.UUID(need_id),
    )
    assert list(row.values())[:4] == [None, None, None, None]
    assert row["personal_data_erased_at"] <= datetime.now(UTC)
    [(_, _, event)] = await read_matching(
        settings.kafka_bootstrap_servers, ["agency.dlpw.33"],
        wanted=lambda k, v: k == need_id.encode() and b"personal_data.erased" in v, count=1,
    )  # fmt: skip
    assert json.loads(event)["event_type"] == "personal_data.erased"
    async with pool.acquire() as connection:
        trail = await audit_trail(connection, uuid.UUID(need_id))
    assert [entry.action for entry in trail] == ["create", "erase"]
    missing = await intake.delete(f"/v1/needs/{uuid.uuid4()}/personal-data", headers={"Authorization": admin})
    assert missing.status_code == 404


async def test_a_key_over_its_rate_gets_429_with_retry_after(intake: httpx.AsyncClient, pool: asyncpg.Pool) -> None:
    app = await issue_key(pool, Role.VOLUNTEER_APP)
    statuses = [
        (await intake.get(f"/v1/needs/{uuid.uuid4()}", headers={"Authorization": app})).status_code for _ in range(30)
    ]
    assert statuses[:20] == [404] * 20
    assert 429 in statuses[20:]
    limited = await intake.get(f"/v1/needs/{uuid.uuid4()}", headers={"Authorization": app})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1


async def test_a_nul_character_is_refused_by_field_not_with_a_server_error(
    intake: httpx.AsyncClient, pool: asyncpg.Pool
) -> None:
    app = await issue_key(pool, Role.VOLUNTEER_APP)
    for field, changes in {
        "description": {"description": "ตกงาน\u0000"},
        "volunteer_id": {"volunteer_id": "vol\u0000"},
        "person.name": {"person": {"name": "สม\u0000ชาย"}},
    }.items():
        response = await intake.post("/v1/needs", json=body(**changes), headers={"Authorization": app})
        assert response.status_code == 422
        assert field in [error["field"] for error in response.json()["errors"]]


async def test_a_key_is_created_and_revoked_from_the_command_line(
    intake: httpx.AsyncClient, settings: InfrastructureSettings
) -> None:
    env = {**os.environ, "DATABASE_URL": settings.database_url}

    async def needs_router(*args: str) -> list[str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", *args, env=env, stdout=asyncio.subprocess.PIPE
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0
        return output.decode().splitlines()

    created = await needs_router("keys", "create", "--role", "volunteer_app")
    name, _, token = created[-1].partition("=")
    assert name == "API_KEY"
    assert (
        await intake.post("/v1/needs", json=body(), headers={"Authorization": f"Bearer {token}"})
    ).status_code == 202
    assert await needs_router("keys", "revoke", token) == [f"revoked {token.split('_')[1]}"]
    refused = await intake.post("/v1/needs", json=body(), headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401
