"""The officers' inbox in a real browser: headless Debian chromium driven by Playwright, on the whole pipeline.

The shared pipeline (tests/e2e/conftest.py) and one browser for the module. Officers are made
with ``needs-router officers create`` and set their passwords through the one-time link, as a
person would. Each test keeps a screenshot in test-artifacts/ (git-ignored). Without
/usr/bin/chromium (Debian's package, which `make test` installs) the tests fail with that
advice; they are never skipped.
"""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from playwright.async_api import Browser, Page, async_playwright

from shared.topics import CASE_STATUS
from tests.e2e.test_pipeline import RunningPipeline
from tests.polling import eventually
from tests.unit.factories import valid_national_id

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "ช้างเผือก-2026-secure"
CASE_WAIT_S = 60.0


@dataclass(frozen=True)
class Running:
    """The pipeline with the inbox beside it."""

    pipeline: RunningPipeline
    inbox_url: str

    @property
    def database_url(self) -> str:
        return self.pipeline.database_url


@pytest.fixture(scope="module")
def running(shared_pipeline: RunningPipeline) -> Running:
    """The shared ``needs-router up``, which runs the inbox beside the other services."""
    return Running(shared_pipeline, shared_pipeline.inbox_url)


def needs_router(running: Running, *arguments: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *arguments],
        env={**os.environ, "DATABASE_URL": running.database_url, "INBOX_PORT": running.inbox_url.rsplit(":", 1)[1]},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, f"needs-router {' '.join(arguments)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    assert await asyncio.to_thread(CHROMIUM.exists), f"{CHROMIUM} is missing: `make test-tools` installs it (as root)"
    ARTIFACTS.mkdir(exist_ok=True)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        await launched.close()


async def officer_page(
    running: Running, browser: Browser, *, office: str, screener: bool = False, head: bool = False
) -> Page:
    """A new officer, their password set through the link, logged in, in a phone-sized page of their own."""
    name = f"officer-{office}-{uuid.uuid4().hex[:6]}"
    output = needs_router(running, "officers", "create", "--name", name, "--office", office,
                          *(["--screener"] if screener else []), *(["--head"] if head else []))  # fmt: skip
    last = output.strip().splitlines()[-1]
    assert last.startswith(f"LOGIN_URL={running.inbox_url}/inbox/welcome/"), output
    context = await browser.new_context(viewport={"width": 420, "height": 900}, locale="th-TH")
    page = await context.new_page()
    await page.goto(last.removeprefix("LOGIN_URL="))
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/inbox/login**")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{running.inbox_url}/inbox")
    return page


NATIONAL_ID = valid_national_id()


def submit(running: Running, description: str, subdistrict: str, *, consent: bool) -> str:
    person = {"name": "สมหญิง ใจงาม", "national_id": NATIONAL_ID, "phone": "0812345678"}
    response = httpx.post(
        f"{running.pipeline.intake_url}/v1/needs",
        json={"volunteer_id": "vol-inbox-1", "subdistrict_code": subdistrict, "description": description,
              "person": person, "consent_to_share": consent},
        headers={"Authorization": f"Bearer {running.pipeline.app_key}"}, timeout=10,
    )  # fmt: skip
    assert response.status_code == 202, response.text
    need_id: str = response.json()["need_id"]
    return need_id


async def inbox_case(
    running: Running, need_id: str, office: str, *, status: str | None = None, manual: bool | None = None
) -> dict[str, Any]:
    """The inbox's copy of the need's case at ``office``, once it has one (in that status, if given)."""

    async def probe() -> dict[str, Any] | None:
        connection = await asyncpg.connect(running.database_url)
        try:
            row = await connection.fetchrow(
                "SELECT * FROM inbox.cases WHERE need_id = $1 AND office = $2"
                " AND ($3::boolean IS NULL OR manual_screening = $3) ORDER BY routed_at DESC LIMIT 1",
                uuid.UUID(need_id), office, manual,
            )  # fmt: skip
        finally:
            await connection.close()
        return dict(row) if row else None

    found = await eventually(probe, lambda row: row is not None and (status is None or row["status"] == status),
                             timeout_s=CASE_WAIT_S)  # fmt: skip
    assert found is not None, (need_id, office)
    assert status is None or found["status"] == status, (need_id, office, found)
    return found


async def need_status(running: Running, need_id: str) -> dict[str, Any]:
    """``GET /v1/needs/{id}``, as the volunteer app sees it."""
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.get(f"{running.pipeline.intake_url}/v1/needs/{need_id}",
                                  headers={"Authorization": f"Bearer {running.pipeline.app_key}"})  # fmt: skip
    body: dict[str, Any] = answer.json()
    return body


async def topic_events(running: Running, topic: str, need_id: str, *, until: int = 1) -> list[dict[str, Any]]:
    """The events about this need on ``topic``, from its beginning, once at least ``until`` arrived."""
    consumer = AIOKafkaConsumer(bootstrap_servers=running.pipeline.kafka,
                                enable_auto_commit=False, fetch_max_wait_ms=50)  # fmt: skip
    await consumer.start()
    found: list[dict[str, Any]] = []
    try:
        await consumer._client.force_metadata_update()
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = asyncio.get_running_loop().time() + CASE_WAIT_S
        while len(found) < until and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=200, max_records=1000)).values():
                found += [event for record in records if (event := json.loads(record.value or b"{}"))
                          .get("need_id") == need_id]  # fmt: skip
    finally:
        await consumer.stop()
    return found


# Every need the tests use, submitted at once when the module starts, so the pipeline works them
# while the officers log in.
NEEDS = {
    "ours": ("นายจ้างค้างจ่ายค่าจ้าง 2 เดือน ที่ศรีสะเกษ", "330101", True),
    "bangkok": ("นายจ้างค้างจ่ายค่าจ้าง 3 เดือน ในกรุงเทพ", "100101", True),
    "no_consent": ("ถูกเลิกจ้างโดยไม่ได้รับค่าชดเชย", "330101", False),
    "to_resolve": ("นายจ้างไม่จ่ายค่าล่วงเวลา", "330101", True),
    "misrouted": ("นายจ้างค้างจ่ายค่าจ้าง อยากได้งานใหม่ด้วย", "330101", True),
    "drug_tip": ("ขอบคุณครับ มีเรื่องอยากแจ้ง", "330101", True),
    "wanting_work": ("ขอบคุณค่ะ", "330101", True),
    "forged": ("นายจ้างค้างจ่ายค่าจ้างเดือนที่แล้ว", "330101", True),
}


@pytest.fixture(scope="module")
def needs(running: Running) -> dict[str, str]:
    return {
        name: submit(running, description, subdistrict, consent=consent)
        for name, (description, subdistrict, consent) in NEEDS.items()
    }


@pytest.fixture(scope="module")
async def dlpw_officer(running: Running, browser: Browser, needs: dict[str, str]) -> Page:
    return await officer_page(running, browser, office="dlpw.33")


async def screenshot(page: Page, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"inbox-{name}.png"), full_page=True)


async def test_an_officer_sees_only_their_office_and_no_identity_the_topic_does_not_carry(
    running: Running, needs: dict[str, str], dlpw_officer: Page
) -> None:
    case = await inbox_case(running, needs["ours"], "dlpw.33")
    other_office = await inbox_case(running, needs["bangkok"], "dlpw.10")
    private = await inbox_case(running, needs["no_consent"], "dlpw.33")
    page = dlpw_officer
    await page.goto(f"{running.inbox_url}/inbox")

    await page.wait_for_selector(f"tr[data-case='{case['case_event_id']}']")
    assert await page.locator(f"tr[data-case='{other_office['case_event_id']}']").count() == 0
    await screenshot(page, "list")
    assert "กล่องงาน" in await page.inner_text("h2"), "Thai first"
    await page.click("a.lang")
    assert "Inbox" in await page.inner_text("h2"), "the English switch"
    await page.click("a.lang")
    arriving = submit(running, "นายจ้างค้างจ่ายค่าจ้างงวดล่าสุด", "330101", consent=True)
    new_case = await inbox_case(running, arriving, "dlpw.33")
    # The page was not reloaded: the new case appears in it by itself.
    await page.wait_for_selector(f"tr[data-case='{new_case['case_event_id']}']", timeout=30_000)

    guessed = await page.goto(f"{running.inbox_url}/inbox/cases/{other_office['case_event_id']}")
    assert guessed is not None
    assert guessed.status == 404

    await page.goto(f"{running.inbox_url}/inbox/cases/{private['case_event_id']}")
    shown = await page.inner_text("main")
    assert "สมหญิง" not in shown, "no consent: the topic carried no contact"
    assert "0812345678" not in shown
    assert await page.locator("form[action$='/reveal']").count() == 0, "only the labour office may reveal"

    await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
    shown = await page.inner_text("main")
    assert "สมหญิง ใจงาม" in shown, "with consent: the contact as the topic carries it"
    assert "x-xxxx-xxxxx-" in shown, "the national ID only masked, as the topic carries it"
    assert await page.locator("p.description mark").count() > 0, "evidence is highlighted in the text"
    await screenshot(page, "case")


async def test_accept_then_resolve_travels_as_an_agency_report(
    running: Running, needs: dict[str, str], dlpw_officer: Page
) -> None:
    need_id = needs["to_resolve"]
    case = await inbox_case(running, need_id, "dlpw.33")
    page = dlpw_officer
    await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
    await page.click("form[action$='/claim'] button")
    await page.wait_for_selector("p.ok")
    await page.goto(f"{running.inbox_url}/inbox?mine=1")
    assert await page.locator("tr[data-case]").count() == 1, "my cases: the one this officer claimed"
    await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
    await page.click("form[data-status=accepted] button")
    await page.wait_for_selector("form[data-status=resolved]")

    await inbox_case(running, need_id, "dlpw.33", status="accepted")
    reports = await topic_events(running, CASE_STATUS, need_id)
    assert [(r["agency"], r["status"]) for r in reports] == [("dlpw", "accepted")]

    seen = await eventually(lambda: need_status(running, need_id), lambda body: "accepted" in json.dumps(body),
                            timeout_s=CASE_WAIT_S)  # fmt: skip
    assert any(entry.get("status") == "accepted" for entry in seen["routed_to"]), seen

    await page.fill("form[data-status=resolved] input[name=outcome]", "นายจ้างจ่ายค่าล่วงเวลาครบแล้ว")
    await page.click("form[data-status=resolved] button")
    await page.wait_for_selector("p.ok")
    reports = await topic_events(running, CASE_STATUS, need_id, until=2)
    assert [r["status"] for r in reports] == ["accepted", "resolved"]
    assert reports[1]["outcome"] == "นายจ้างจ่ายค่าล่วงเวลาครบแล้ว"
    await screenshot(page, "resolved")


async def test_a_case_sent_back_as_misrouted_reaches_the_right_agency(
    running: Running, needs: dict[str, str], dlpw_officer: Page
) -> None:
    need_id = needs["misrouted"]
    case = await inbox_case(running, need_id, "dlpw.33")
    page = dlpw_officer
    await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
    form = page.locator("form[data-status=misrouted]")
    await form.locator("input[name=reason]").fill("เป็นเรื่องหางาน ไม่ใช่ค่าจ้าง")
    await form.locator("select[name=reroute_to]").select_option("doe")
    await form.locator("input[name=corrected_types][value=jobs]").check()
    await screenshot(page, "misrouted-form")
    await form.locator("button").click()
    await page.wait_for_selector("p.ok")

    arrived = await topic_events(running, "agency.doe.33", need_id)
    assert arrived, "the case reaches agency.doe.33"
    assert arrived[0]["agency"] == "doe"
    await inbox_case(running, need_id, "doe.33")
    refused = await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
    assert refused is not None
    assert refused.status == 200
    assert await page.locator("form[data-status=accepted]").count() == 0, "a misrouted case takes no more reports"


async def test_a_screener_types_manual_needs_which_are_routed_and_exported_as_corrections(
    running: Running, browser: Browser, needs: dict[str, str]
) -> None:
    drug_tip, wanting_work = needs["drug_tip"], needs["wanting_work"]
    manual_tip = await inbox_case(running, drug_tip, "mol.33")
    manual_work = await inbox_case(running, wanting_work, "mol.33")
    assert manual_tip["manual_screening"]
    assert manual_tip["contact"] is not None, "before screening, a need with consent travels with its contact"
    page = await officer_page(running, browser, office="mol.33", screener=True)

    # The labour office of the province may reveal who is behind a need; intake reveals and audits it.
    await page.goto(f"{running.inbox_url}/inbox/cases/{manual_tip['case_event_id']}")
    await page.fill("form[action$='/reveal'] input[name=reason]", "ต้องติดต่อผู้แจ้งเพื่อสอบถามเพิ่ม")
    await page.click("form[action$='/reveal'] button")
    await page.wait_for_selector("dl.revealed")
    assert NATIONAL_ID in await page.inner_text("dl.revealed")
    trail = await asyncio.to_thread(needs_router, running, "audit", "--need", drug_tip)
    assert "reveal" in trail

    await page.goto(f"{running.inbox_url}/inbox/screening")
    await page.wait_for_selector(f"tr[data-case='{manual_tip['case_event_id']}']")
    await screenshot(page, "screening-queue")
    for case, need_type in ((manual_tip, "drugs_workplace"), (manual_work, "jobs")):
        await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
        await page.check(f"form.screening input[name=types][value={need_type}]")
        await page.fill("form.screening textarea[name=thai_summary]", "ผู้แจ้งเล่าเพิ่มทางโทรศัพท์")
        await page.click("form.screening button")
        await page.wait_for_selector("p.ok")
    await screenshot(page, "screened")

    tip_cases = await topic_events(running, "agency.mol.33", drug_tip, until=2)
    routed = [event for event in tip_cases if event["types"] == ["drugs_workplace"]]
    assert routed, tip_cases
    assert routed[0]["event_id"] != manual_tip["case_event_id"], "the screened case has a new event id"
    assert routed[0]["volunteer_id"] is None, "a drug tip carries no identity"
    assert routed[0]["contact"] is None
    jobs = await topic_events(running, "agency.doe.33", wanting_work)
    assert jobs, "the need typed jobs reaches agency.doe.33"
    assert jobs[0]["types"] == ["jobs"]
    assert jobs[0]["contact"] is not None
    await inbox_case(running, drug_tip, "mol.33", status="resolved", manual=True)

    async def exported() -> str:
        return await asyncio.to_thread(needs_router, running, "eval-export")

    follow_up = await page.goto(f"{running.inbox_url}/inbox/follow-up")
    assert follow_up is not None
    assert follow_up.status == 200, "the labour office follows up the province's overdue cases"

    # The misrouted report of the test before waits as a candidate correction: the screener confirms it.
    sent_back = await inbox_case(running, needs["misrouted"], "dlpw.33")
    await page.goto(f"{running.inbox_url}/inbox/screening")
    review = f"form[action='/inbox/corrections/{sent_back['case_event_id']}/review']"
    await page.click(f"{review} button[value=confirm]")
    await page.wait_for_url("**/inbox/screening")
    assert await page.locator(review).count() == 0

    lines = await eventually(
        exported, lambda out: all(text in out for text in ("ขอบคุณค่ะ", "มีเรื่องอยากแจ้ง", "อยากได้งานใหม่ด้วย")),
        timeout_s=CASE_WAIT_S,
    )  # fmt: skip
    labelled = {json.loads(line)["text"].split("\n")[0]: json.loads(line)["labels"] for line in lines.splitlines()}
    assert labelled["ขอบคุณครับ มีเรื่องอยากแจ้ง"] == ["drugs_workplace"]
    assert labelled["ขอบคุณค่ะ"] == ["jobs"]
    assert labelled["นายจ้างค้างจ่ายค่าจ้าง อยากได้งานใหม่ด้วย"] == ["jobs"]


async def test_a_screener_closes_a_manual_need_as_no_labour_need(
    running: Running, browser: Browser, needs: dict[str, str]
) -> None:
    need_id = submit(running, "สวัสดีค่ะ ขอบคุณเจ้าหน้าที่ทุกท่านมากนะคะ", "330101", consent=True)
    manual = await inbox_case(running, need_id, "mol.33", manual=True)
    page = await officer_page(running, browser, office="mol.33", screener=True)
    await page.goto(f"{running.inbox_url}/inbox/cases/{manual['case_event_id']}")
    await page.check("form.screening input[name=no_labour_need]")
    await page.click("form.screening button")
    await page.wait_for_selector("p.ok")

    closed = await inbox_case(running, need_id, "mol.33", status="resolved", manual=True)
    assert closed["reported_status"] is None, "routing closed it: the inbox shows routing's status"
    await page.goto(f"{running.inbox_url}/inbox/cases/{manual['case_event_id']}")
    assert "แก้ไขแล้ว" in await page.inner_text("h2 small"), "the case page shows it closed"
    assert await page.locator("form.screening").count() == 0
    await screenshot(page, "no-labour-need")

    seen = await eventually(lambda: need_status(running, need_id), lambda body: body.get("status") == "resolved",
                            timeout_s=CASE_WAIT_S)  # fmt: skip
    assert seen["status"] == "resolved", seen
    assert [(case["agency"], case["status"]) for case in seen["routed_to"]] == [("mol", "resolved")], seen

    async def exported() -> str:
        return await asyncio.to_thread(needs_router, running, "eval-export")

    lines = await eventually(exported, lambda out: "ขอบคุณเจ้าหน้าที่ทุกท่าน" in out, timeout_s=CASE_WAIT_S)
    labelled = {json.loads(line)["text"].split("\n")[0]: json.loads(line)["labels"] for line in lines.splitlines()}
    assert labelled["สวัสดีค่ะ ขอบคุณเจ้าหน้าที่ทุกท่านมากนะคะ"] == ["other"], "no labour need is a label of its own"


async def test_a_head_assigns_a_case_and_the_follow_up_names_who_holds_each_escalated_case(
    running: Running, browser: Browser, needs: dict[str, str]
) -> None:
    assigned_need = submit(running, "นายจ้างค้างจ่ายค่าจ้างพนักงานโรงงานทั้งแผนก", "330101", consent=True)
    unclaimed_need = submit(running, "นายจ้างค้างจ่ายค่าจ้างลูกจ้างรายวันมาสามงวด", "330101", consent=True)
    assigned = await inbox_case(running, assigned_need, "dlpw.33")
    unclaimed = await inbox_case(running, unclaimed_need, "dlpw.33")
    colleague = await officer_page(running, browser, office="dlpw.33")
    colleague_name = (await colleague.inner_text("nav .who")).split(" · ")[0]
    head = await officer_page(running, browser, office="dlpw.33", head=True)

    await head.goto(f"{running.inbox_url}/inbox/cases/{assigned['case_event_id']}")
    await head.select_option("form[action$='/assign'] select[name=officer]", label=colleague_name)
    await head.click("form[action$='/assign'] button")
    await head.wait_for_selector("p.ok")
    assert await head.inner_text("span.holder") == colleague_name

    await colleague.goto(f"{running.inbox_url}/inbox?mine=1")
    assert await colleague.locator("tr[data-case]").count() == 1, "my cases: the one the head assigned"
    await colleague.wait_for_selector(f"tr[data-case='{assigned['case_event_id']}']")
    await screenshot(colleague, "assigned-my-cases")

    # Four days pass for routing's service-level timers: its own escalation check (every
    # ESCALATION_INTERVAL_S) escalates both cases on agency.mol.33.
    connection = await asyncpg.connect(running.database_url)
    try:
        await connection.execute(
            "UPDATE routing.routed_cases SET routed_at = routed_at - interval '4 days' WHERE need_id = ANY($1::uuid[])",
            [uuid.UUID(assigned_need), uuid.UUID(unclaimed_need)],
        )
    finally:
        await connection.close()
    labour_office = await officer_page(running, browser, office="mol.33")
    rows = [f"tr[data-case='{case['case_event_id']}']" for case in (assigned, unclaimed)]

    async def follow_up() -> int:
        await asyncio.sleep(1.0)
        await labour_office.goto(f"{running.inbox_url}/inbox/follow-up")
        return sum([await labour_office.locator(row).count() for row in rows])

    assert await eventually(follow_up, lambda shown: shown == 2, timeout_s=120) == 2
    assert await labour_office.inner_text(f"{rows[0]} td.holder") == colleague_name
    assert await labour_office.inner_text(f"{rows[1]} td.holder") == "ยังไม่มีผู้รับเรื่อง"
    assert "ยังไม่รับเรื่องภายในกำหนด" in await labour_office.inner_text(rows[1])
    await screenshot(labour_office, "follow-up")


# A form the page did not make, posted from the page.
FORM = """([action, fields]) => {
    const form = document.createElement('form');
    form.method = 'post'; form.action = action;
    for (const [name, value] of fields) {
        const input = document.createElement('input');
        input.type = 'hidden'; input.name = name; input.value = value; form.appendChild(input);
    }
    document.body.appendChild(form); form.submit();
}"""


async def test_a_forged_form_is_refused(running: Running, needs: dict[str, str], dlpw_officer: Page) -> None:
    need_id = needs["forged"]
    case = await inbox_case(running, need_id, "dlpw.33")
    page = dlpw_officer
    await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
    # The officer's own session, but a form the page did not make: no valid CSRF token.
    await page.evaluate(
        FORM, [f"/inbox/cases/{case['case_event_id']}/status", [["csrf", "forged"], ["status", "accepted"]]]
    )
    await page.wait_for_selector("p.error")
    assert "CSRF" in await page.inner_text("main")
    await screenshot(page, "csrf-refused")
    assert (await inbox_case(running, need_id, "dlpw.33"))["status"] == "routed"

    # With the page's own token, a report that does not fit the case is refused with routing's reason.
    await page.goto(f"{running.inbox_url}/inbox/cases/{case['case_event_id']}")
    token = await page.get_attribute("input[name=csrf]", "value")
    await page.evaluate(FORM, [f"/inbox/cases/{case['case_event_id']}/status",
                               [["csrf", token], ["status", "resolved"], ["outcome", "done"]]])  # fmt: skip
    await page.wait_for_selector("p.error")
    assert "a case routed at dlpw cannot become resolved; allowed: accepted, misrouted" in await page.inner_text(
        "p.error"
    )


async def test_the_inbox_serves_its_metrics_outside_the_inbox_path(running: Running, needs: dict[str, str]) -> None:
    await inbox_case(running, needs["to_resolve"], "dlpw.33")

    async def scraped() -> httpx.Response:
        async with httpx.AsyncClient() as client:
            return await client.get(f"{running.inbox_url}/metrics")

    response = await eventually(scraped, lambda r: 'needs_router_messages_in_total{consumer="inbox"' in r.text)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'needs_router_consumer_lag{consumer="inbox"' in response.text


async def test_failed_logins_are_limited_and_a_disabled_officer_is_logged_out_at_once(
    running: Running, browser: Browser, needs: dict[str, str]
) -> None:
    page = await officer_page(running, browser, office="sso.33")
    name = (await page.inner_text("nav .who")).split(" · ")[0]
    async with httpx.AsyncClient(base_url=running.inbox_url, timeout=10) as client:
        answers = []
        for _ in range(6):
            form = await client.get("/inbox/login")
            csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
            answer = await client.post("/inbox/login", data={"csrf": csrf, "name": name, "password": "wrong-password"})
            answers.append(answer.status_code)
    assert answers == [401] * 5 + [429]

    needs_router(running, "officers", "disable", "--name", name)
    after = await page.goto(f"{running.inbox_url}/inbox")
    assert after is not None
    assert page.url.endswith("/inbox/login"), "a disabled officer's session ended at once"
