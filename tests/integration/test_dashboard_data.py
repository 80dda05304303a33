"""The dashboard's data over HTTP, against the real PostgreSQL: every figure of a seeded month."""

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.contracts.need_types import Agency
from tests.dashboard_seed import THAI, Seeded, seed_month, thai_time, utc

SEEDED_AGENCIES = ("doe", "dsd", "sso", "dlpw", "mol")  # the agencies dashboard_seed routes cases to

YEAR = 2001  # no other test writes rows dated 2001; the browser test uses 2002


@pytest.fixture(scope="module")
async def client(intake_settings: IntakeSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Intake in this process, with no key: each test says who it calls as."""
    app = create_app(intake_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as http:
            yield http


@pytest.fixture(scope="module")
async def seeded(pool: asyncpg.Pool) -> Seeded:
    return await seed_month(pool, YEAR)


@pytest.fixture(scope="module")
async def month(client: httpx.AsyncClient, admin: dict[str, str], seeded: Seeded) -> dict[str, Any]:
    response = await client.get(
        "/v1/dashboard", params={"from": str(seeded.first_day), "to": str(seeded.last_day)}, headers=admin
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    figures: dict[str, Any] = response.json()
    return figures


def test_the_period_is_whole_days_in_thai_time(month: dict[str, Any]) -> None:
    assert month["period"] == {
        "first_day": "2001-03-01",
        "last_day": "2001-03-31",
        "start": "2001-03-01T00:00:00+07:00",
        "end": "2001-04-01T00:00:00+07:00",
    }
    assert month["service_levels"] == {"accept_within_hours": 72.0, "resolve_within_hours": 720.0}


def test_needs_by_type_and_by_province(month: dict[str, Any]) -> None:
    needs = month["needs"]
    # 8 needs from 1 March 00:00 to 31 March 23:59 Thai time; the ones a minute outside are not counted.
    assert (needs["total"], needs["screened"], needs["unscreened"]) == (8, 7, 1)
    assert {line["type"]: line["needs"] for line in needs["by_type"]} == {
        "jobs": 1, "skills": 1, "ss40": 1, "unfair_labour": 2, "migrant_labour": 1, "drugs_workplace": 1, "manual": 1,
    }  # fmt: skip
    assert [line["type"] for line in needs["by_type"]][-1] == "manual"
    assert needs["by_province"] == [
        {"code": "33", "name_th": "ศรีสะเกษ", "name_en": "Si Sa Ket", "needs": 4},
        {"code": "10", "name_th": "กรุงเทพมหานคร", "name_en": "Bangkok", "needs": 2},
        {"code": "14", "name_th": "พระนครศรีอยุธยา", "name_en": "Phra Nakhon Si Ayutthaya", "needs": 1},
        {"code": "50", "name_th": "เชียงใหม่", "name_en": "Chiang Mai", "needs": 1},
    ]


def test_routed_cases_backlog_and_escalations_by_agency(month: dict[str, Any]) -> None:
    agencies = {line["agency"]: line for line in month["agencies"]}
    assert list(agencies) == [agency.value for agency in Agency]
    counts = {
        name: (line["routed"], line["open"], line["overdue"], line["escalated"])
        for name, line in agencies.items()
        if name in SEEDED_AGENCIES
    }
    assert counts == {
        "doe": (2, 1, 1, 1),
        "dsd": (1, 0, 0, 0),
        "sso": (1, 0, 0, 0),
        "dlpw": (2, 1, 1, 1),
        "mol": (2, 1, 1, 2),
    }
    statuses = ["routed", "accepted", "in_progress", "resolved", "misrouted"]
    assert {name: [agencies[name]["by_status"][status] for status in statuses] for name in SEEDED_AGENCIES} == {
        "doe": [0, 1, 0, 1, 0],
        "dsd": [0, 0, 0, 1, 0],
        "sso": [0, 0, 0, 0, 1],
        "dlpw": [0, 0, 1, 1, 0],
        "mol": [1, 0, 0, 1, 0],
    }


def test_median_and_90th_percentile_hours_to_accept_and_to_resolve(month: dict[str, Any]) -> None:
    times = {
        line["agency"]: (line["to_accept"], line["to_resolve"])
        for line in month["agencies"]
        if line["agency"] in SEEDED_AGENCIES
    }

    def durations(cases: int, median: float | None, p90: float | None) -> dict[str, Any]:
        return {"cases": cases, "median_hours": median, "p90_hours": p90}

    # percentile_cont interpolates: doe accepted in 4 h and 10 h -> median 7, p90 4 + 0.9 * 6 = 9.4.
    assert times == {
        "doe": (durations(2, 7.0, 9.4), durations(1, 100.0, 100.0)),
        "dsd": (durations(1, 1.0, 1.0), durations(1, 24.0, 24.0)),
        "sso": (durations(0, None, None), durations(0, None, None)),
        "dlpw": (durations(2, 4.0, 5.6), durations(1, 48.0, 48.0)),
        "mol": (durations(1, 3.0, 3.0), durations(1, 30.0, 30.0)),
    }


def test_overdue_cases_are_the_open_ones_past_a_service_level(month: dict[str, Any], seeded: Seeded) -> None:
    overdue = month["overdue"]
    assert (overdue["total"], overdue["not_accepted"], overdue["not_resolved"]) == (3, 1, 2)
    assert [
        (line["need_id"], line["agency"], line["province_code"], line["status"], line["overdue"], line["routed_at"])
        for line in overdue["oldest"]
    ] == [
        (str(seeded.needs["n1"]), "doe", "33", "accepted", "not_resolved", utc(thai_time(YEAR, 3, 2))),
        (str(seeded.needs["n2"]), "dlpw", "33", "in_progress", "not_resolved", utc(thai_time(YEAR, 3, 5))),
        (str(seeded.needs["n4"]), "mol", "10", "routed", "not_accepted", utc(thai_time(YEAR, 3, 10))),
    ]


def test_dead_letters_by_consumer_and_the_latest_with_their_errors(month: dict[str, Any], seeded: Seeded) -> None:
    letters = month["dead_letters"]
    assert letters["total"] == 3
    assert letters["by_consumer"] == [
        {"consumer": "screening", "dead_letters": 2, "not_replayed": 1},
        {"consumer": "routing", "dead_letters": 1, "not_replayed": 1},
    ]
    assert [(line["consumer"], line["error"], line["replayed_at"] is not None) for line in letters["latest"]] == [
        ("screening", "schema_version 2 is not supported", True),
        ("routing", seeded.dead_letter_error, False),
        ("screening", "Expecting value: line 1 column 1 (char 0)", False),
    ]


def test_the_province_table_has_every_province_with_its_figures(month: dict[str, Any]) -> None:
    rows = {row["code"]: row for row in month["provinces"]}
    assert len(rows) == 77
    fields = ("needs", "routed", "open", "overdue", "resolved")
    active = {code: tuple(row[name] for name in fields) for code, row in rows.items() if row["needs"] or row["routed"]}
    assert active == {"33": (4, 5, 2, 2, 3), "10": (2, 2, 1, 1, 1), "50": (1, 1, 0, 0, 0), "14": (1, 0, 0, 0, 0)}
    assert (rows["96"]["name_th"], rows["96"]["name_en"]) == ("นราธิวาส", "Narathiwat")


async def test_a_need_posted_today_is_in_the_default_period(
    client: httpx.AsyncClient, admin: dict[str, str], volunteer_app: dict[str, str], unique: str
) -> None:
    async def needs_now() -> tuple[int, int]:
        response = await client.get("/v1/dashboard", headers=admin)
        assert response.status_code == 200, response.text
        period = response.json()["period"]
        today = datetime.now(THAI).date()
        assert (period["first_day"], period["last_day"]) == (str(today - timedelta(days=29)), str(today))
        provinces = {row["code"]: row["needs"] for row in response.json()["provinces"]}
        return response.json()["needs"]["total"], provinces["96"]

    before = await needs_now()
    body = {"volunteer_id": f"vol-{unique}", "subdistrict_code": "960101", "description": "ตกงาน อยากหางานทำ"}
    assert (await client.post("/v1/needs", json=body, headers=volunteer_app)).status_code == 202
    assert await needs_now() == (before[0] + 1, before[1] + 1)


async def test_only_an_admin_key_reads_the_figures(client: httpx.AsyncClient, volunteer_app: dict[str, str]) -> None:
    no_key = await client.get("/v1/dashboard")
    assert no_key.status_code == 401
    assert no_key.json()["errors"][0]["field"] == "header Authorization"
    not_admin = await client.get("/v1/dashboard", headers=volunteer_app)
    assert not_admin.status_code == 403
    assert set(not_admin.json()) == {"type", "title", "status", "detail", "instance", "errors"}  # no figures


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2001-13-01"}, "from"),
        ({"to": "31/03/2001"}, "to"),
        ({"from": "2001-03-31", "to": "2001-03-01"}, "to"),
        ({"from": "1999-12-31", "to": "2000-01-10"}, "from"),
        ({"from": "2001-01-01", "to": "2003-01-02"}, "from"),
        ({"to": "9999-12-31"}, "to"),
    ],
)
async def test_an_invalid_period_is_refused_naming_the_field(
    client: httpx.AsyncClient, admin: dict[str, str], query: dict[str, str], field: str
) -> None:
    response = await client.get("/v1/dashboard", params=query, headers=admin)
    assert response.status_code == 422, response.text
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_the_page_and_its_files_are_served_without_data(client: httpx.AsyncClient) -> None:
    page = await client.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert '<html lang="th">' in page.text
    assert 'name="viewport"' in page.text
    for name, media_type in [("dashboard.js", "text/javascript"), ("charts.js", "text/javascript"),
                             ("vocabulary.js", "text/javascript"), ("dashboard.css", "text/css")]:  # fmt: skip
        served = await client.get(f"/dashboard/static/{name}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(media_type)
    for name in ["nothing.js", "..%2Froutes.py", "../routes.py"]:
        assert (await client.get(f"/dashboard/static/{name}")).status_code == 404
