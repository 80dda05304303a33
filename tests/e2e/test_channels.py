"""Needs arriving by Open311 and by LINE, through the whole pipeline as `needs-router up` runs it.

Open311 is driven by `georeport` (a GeoReport v2 client from PyPI) against intake's real port;
LINE by signed webhooks that line-bot-sdk's own parser accepts, with intake talking to a stand-in
Messaging API on 127.0.0.1 that checks each request as LINE would.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, TypeVar

import asyncpg
import httpx
import pytest
import requests
from georeport import GeoReport
from linebot.v3 import WebhookParser
from linebot.v3.messaging import ApiClient, Configuration, MessagingApi, PushMessageRequest, TextMessage
from linebot.v3.webhooks import MessageEvent, PostbackEvent

from shared.contracts.need_types import NeedType
from tests.e2e.shared_pipeline import LINE_ACCESS_TOKEN as ACCESS_TOKEN
from tests.e2e.shared_pipeline import LINE_CHANNEL_SECRET as CHANNEL_SECRET
from tests.e2e.test_pipeline import RunningPipeline, create_key_from_the_command_line
from tests.line_stand_in import LineStandIn

T = TypeVar("T")


@pytest.fixture(scope="module")
def line(shared_line: LineStandIn) -> LineStandIn:
    return shared_line


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: RunningPipeline) -> RunningPipeline:
    return shared_pipeline


def waited(probe: Callable[[], T], done: Callable[[T], bool], *, timeout_s: float = 40) -> T:
    deadline = time.monotonic() + timeout_s
    while True:
        result = probe()
        if done(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def report(pipeline: RunningPipeline, need_id: str, agency_key: str, status: str, **extra: str) -> None:
    body = {"agency": "dlpw", "status": status, "at": datetime.now(UTC).isoformat(), **extra}
    url = f"{pipeline.intake_url}/v1/needs/{need_id}/status"
    response = httpx.post(url, json=body, headers=bearer(agency_key), timeout=10)
    assert response.status_code == 202, response.text


def case_status(pipeline: RunningPipeline, need_id: str, app_key: str) -> dict[str, Any]:
    return httpx.get(f"{pipeline.intake_url}/v1/needs/{need_id}", headers=bearer(app_key), timeout=10).json()


# --- Open311 ---------------------------------------------------------------------------------


def test_an_open311_client_creates_a_request_reads_it_and_sees_the_agency_resolve_it(pipeline: RunningPipeline) -> None:
    app_key = create_key_from_the_command_line(pipeline.database_url, "volunteer_app")
    dlpw = create_key_from_the_command_line(pipeline.database_url, "agency", "--agency", "dlpw", "--province", "33")
    root = f"{pipeline.intake_url}/open311/v2"
    # georeport sends no key on reads; it takes one as HTTP Basic from the URL, which intake accepts.
    client = GeoReport(root.replace("http://", f"http://api_key:{app_key}@"))

    codes = {service["service_code"] for service in client.get_service_list()}
    assert codes == {need_type.value for need_type in NeedType} | {"screen"}
    definition = client.get_service_definition("unfair_labour")
    assert "subdistrict_code" in [attribute["code"] for attribute in definition["attributes"]]

    form = {
        "api_key": app_key, "service_code": "unfair_labour", "account_id": "vol-open311",
        "description": "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน", "address_id": "330101", "email": "not-kept@example.org",
    }  # fmt: skip
    created = requests.post(f"{root}/requests.json", data=form, timeout=10)
    assert created.status_code == 200, created.text
    [answer] = created.json()
    request_id = answer["service_request_id"]
    assert answer["account_id"] == "vol-open311"

    read = client.get_service_request(request_id)
    assert (read["service_request_id"], read["status"], read["service_code"]) == (request_id, "open", "unfair_labour")
    assert read["address_id"] == "330101"
    assert read["zipcode"] == "33000"
    assert "description" not in read  # reads are as GET /v1/needs/{id}: no description, no identity

    routed = waited(lambda: client.get_service_request(request_id), lambda r: bool(r["agency_responsible"]))
    assert routed["agency_responsible"] == "สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด"
    report(pipeline, request_id, dlpw, "accepted")
    waited(lambda: case_status(pipeline, request_id, app_key), lambda need: need["status"] == "in_progress")
    report(pipeline, request_id, dlpw, "resolved", outcome="นายจ้างจ่ายครบแล้ว")
    closed = waited(lambda: client.get_service_request(request_id), lambda r: r["status"] == "closed")
    assert closed["status"] == "closed"
    assert "แก้ไขแล้ว" in closed["status_notes"]

    as_xml = GeoReport(client.root_address, output_format="xml").get_service_request(request_id)
    assert (as_xml["service_request_id"], as_xml["status"]) == (request_id, "closed")
    listed = client.get_service_requests(status="closed", service_code="unfair_labour")
    assert request_id in [line["service_request_id"] for line in listed]
    assert client.get_service_requests(status="open", service_code="unfair_labour") == []
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert client.get_service_requests(start_date=tomorrow) == []

    # Another app's key sees none of it; an agency sees what was routed to it.
    other_app = create_key_from_the_command_line(pipeline.database_url, "volunteer_app")
    assert requests.get(f"{root}/requests.json", params={"api_key": other_app}, timeout=10).json() == []
    assert requests.get(f"{root}/requests/{request_id}.json", auth=("api_key", dlpw), timeout=10).status_code == 200


def test_open311_never_lists_a_drug_tip_and_answers_errors_in_the_spec_format(pipeline: RunningPipeline) -> None:
    app_key = create_key_from_the_command_line(pipeline.database_url, "volunteer_app")
    root = f"{pipeline.intake_url}/open311/v2"
    form = {"api_key": app_key, "account_id": "vol-tip", "description": "มีการเสพยาบ้าในโรงงาน", "address_id": "330101"}
    tip = requests.post(f"{root}/requests.json", data={**form, "service_code": "drugs_workplace"}, timeout=10)
    # A tip sent as "screen" is one once screening says so.
    screened_tip = requests.post(f"{root}/requests.json", data={**form, "service_code": "screen"}, timeout=10)
    jobs = {**form, "service_code": "screen", "description": "ตกงานมา 3 เดือน อยากหางานทำใกล้บ้าน"}
    other = requests.post(f"{root}/requests.json", data=jobs, timeout=10)
    assert tip.status_code == screened_tip.status_code == other.status_code == 200
    client = GeoReport(root.replace("http://", f"http://api_key:{app_key}@"))
    for created in (screened_tip, other):
        request_id = created.json()[0]["service_request_id"]
        waited(partial(client.get_service_request, request_id), lambda request: bool(request["agency_responsible"]))
    listed = requests.get(f"{root}/requests.json", params={"api_key": app_key}, timeout=10).json()
    assert [line["service_request_id"] for line in listed] == [other.json()[0]["service_request_id"]]

    placed = requests.post(
        f"{root}/requests.json", data={**form, "service_code": "jobs", "lat": "15.1", "long": "104.3"}, timeout=10
    )
    assert placed.status_code == 400
    [error] = placed.json()
    assert error["code"] == 400
    assert "address_id" in error["description"]
    no_key = requests.post(f"{root}/requests.xml", data={k: v for k, v in form.items() if k != "api_key"}, timeout=10)
    assert no_key.status_code == 401
    assert no_key.headers["content-type"].startswith("text/xml")
    assert b"<errors><error><code>401</code>" in no_key.content
    retried = [
        requests.post(f"{root}/requests.json", data={**form, "service_code": "jobs"}, timeout=10,
                      headers={"Idempotency-Key": f"retry-{app_key[-8:]}"}).json()[0]["service_request_id"]
        for _ in range(2)
    ]  # fmt: skip
    assert retried[0] == retried[1]  # as on POST /v1/needs: the retry gives the first request
    unknown = requests.post(
        f"{root}/requests.json", data={**form, "service_code": "jobs", "address_id": "999999"}, timeout=10
    )
    assert unknown.status_code == 400
    assert "address_id" in unknown.json()[0]["description"]


# --- LINE ------------------------------------------------------------------------------------


def sign(body: bytes) -> str:
    return base64.b64encode(hmac.new(CHANNEL_SECRET.encode(), body, hashlib.sha256).digest()).decode()


class LineUser:
    """A LINE user talking to the channel: each message is a signed webhook, as LINE sends it."""

    def __init__(self, pipeline: RunningPipeline, line: LineStandIn) -> None:
        self.user_id = "U" + uuid.uuid4().hex
        self.pipeline = pipeline
        self.line = line

    def event(self, kind: str, content: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
        return {
            "type": kind, **content, "mode": "active", "timestamp": int(time.time() * 1000),
            "source": {"type": "user", "userId": self.user_id}, "replyToken": uuid.uuid4().hex,
            "webhookEventId": event_id or uuid.uuid4().hex.upper()[:26], "deliveryContext": {"isRedelivery": False},
        }  # fmt: skip

    def send(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Post the event signed; return the reply it gets."""
        body = json.dumps({"destination": "U" + "0" * 32, "events": [event]}, ensure_ascii=False).encode()
        signature = sign(body)
        [parsed] = WebhookParser(CHANNEL_SECRET).parse(body.decode(), signature)  # LINE's own check and parser
        assert isinstance(parsed, MessageEvent | PostbackEvent)
        answer = httpx.post(
            f"{self.pipeline.intake_url}/channels/line/webhook", content=body,
            headers={"X-Line-Signature": signature, "Content-Type": "application/json"}, timeout=10,
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        return waited(lambda: self.line.replies(event["replyToken"]), bool, timeout_s=20)

    def says(self, text: str) -> list[dict[str, Any]]:
        message = {"type": "text", "id": str(secrets.randbits(60)), "quoteToken": "q" + uuid.uuid4().hex, "text": text}
        return self.send(self.event("message", {"message": message}))

    def presses(self, data: str, event_id: str | None = None) -> list[dict[str, Any]]:
        return self.send(self.event("postback", {"postback": {"data": data}}, event_id))


def buttons(reply: list[dict[str, Any]]) -> dict[str, str]:
    return {item["action"]["label"]: item["action"]["data"] for item in reply[0].get("quickReply", {}).get("items", [])}


def needs_submitted_as(database_url: str, owner: str) -> int:
    async def count() -> int:
        connection = await asyncpg.connect(database_url)
        try:
            found: int = await connection.fetchval("SELECT count(*) FROM intake.needs WHERE submitted_by = $1", owner)
        finally:
            await connection.close()
        return found

    return asyncio.run(count())


def test_the_stand_in_takes_what_line_bot_sdk_sends(line: LineStandIn) -> None:
    configuration = Configuration(host=line.url, access_token=ACCESS_TOKEN)
    with ApiClient(configuration) as client:
        MessagingApi(client).push_message(
            PushMessageRequest(to="U" + "1" * 32, messages=[TextMessage(text="ทดสอบ")]),
            x_line_retry_key=str(uuid.uuid4()),
        )
    assert line.pushes("U" + "1" * 32)
    assert not line.refused


def test_a_forged_or_missing_signature_gets_401_before_the_body_is_read(pipeline: RunningPipeline) -> None:
    url = f"{pipeline.intake_url}/channels/line/webhook"
    body = json.dumps({"destination": "U0", "events": []}).encode()
    forged = base64.b64encode(hmac.new(b"not the secret", body, hashlib.sha256).digest()).decode()
    assert httpx.post(url, content=body, headers={"X-Line-Signature": forged}, timeout=10).status_code == 401
    assert httpx.post(url, content=body, timeout=10).status_code == 401
    assert httpx.post(url, content=b"not even json", headers={"X-Line-Signature": "x"}, timeout=10).status_code == 401
    assert (
        httpx.post(url, content=b"not json", headers={"X-Line-Signature": sign(b"not json")}, timeout=10).status_code
        == 400
    )


def test_a_signed_line_conversation_creates_a_need_and_the_volunteer_is_pushed_its_acceptance(
    pipeline: RunningPipeline, line: LineStandIn
) -> None:
    owner = f"line-app-{uuid.uuid4().hex[:8]}"
    app_key = create_key_from_the_command_line(pipeline.database_url, "volunteer_app", "--owner", owner)
    volunteer = LineUser(pipeline, line)

    [how_to_link] = volunteer.says("นายจ้างไม่จ่ายค่าจ้าง")
    assert "เชื่อม" in how_to_link["text"]
    assert needs_submitted_as(pipeline.database_url, owner) == 0

    issued = httpx.post(
        f"{pipeline.intake_url}/channels/line/link-codes", json={"volunteer_id": "vol-line"}, headers=bearer(app_key),
        timeout=10,
    )  # fmt: skip
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    assert "vol-line" in volunteer.says(f"เชื่อม {code}")[0]["text"]
    assert "ใช้ไม่ได้" in LineUser(pipeline, line).says(f"link {code}")[0]["text"]  # once only

    description = "นายจ้างค้างจ่ายค่าจ้าง 2 เดือน ถูกเลิกจ้างโดยไม่ได้รับค่าชดเชย"
    provinces = buttons(volunteer.says(description))
    assert len(provinces) == 13  # 12 provinces and the next page
    location = {"type": "location", "id": "1", "latitude": 15.118, "longitude": 104.32, "address": "ศรีสะเกษ"}
    assert "ขอบเขต" in volunteer.send(volunteer.event("message", {"message": location}))[0]["text"]
    page = provinces
    while "ศรีสะเกษ" not in page:
        page = buttons(volunteer.presses(next(data for label, data in page.items() if label.startswith("ถัดไป"))))
    districts = buttons(volunteer.presses(page["ศรีสะเกษ"]))
    subdistricts = buttons(volunteer.presses(districts["เมืองศรีสะเกษ"]))
    confirm = volunteer.presses(subdistricts["เมืองเหนือ"])
    assert "ต.เมืองเหนือ อ.เมืองศรีสะเกษ จ.ศรีสะเกษ" in confirm[0]["text"]
    confirming_event = uuid.uuid4().hex.upper()[:26]
    [submitted] = volunteer.presses(buttons(confirm)["ยืนยัน"], event_id=confirming_event)
    need_id = submitted["text"].split("เลขที่เรื่อง ")[1].split()[0]
    need = case_status(pipeline, need_id, app_key)
    assert need["subdistrict_code"] == "330101"

    # LINE redelivering the confirming event makes no second need.
    again = volunteer.event("postback", {"postback": {"data": "confirm"}}, confirming_event)
    body = json.dumps({"destination": "U0", "events": [again]}).encode()
    redelivered = httpx.post(f"{pipeline.intake_url}/channels/line/webhook", content=body,
                             headers={"X-Line-Signature": sign(body)}, timeout=10)  # fmt: skip
    assert redelivered.status_code == 200
    assert needs_submitted_as(pipeline.database_url, owner) == 1

    routed = waited(lambda: case_status(pipeline, need_id, app_key), lambda n: n["status"] == "routed")
    assert [case["agency"] for case in routed["routed_to"]] == ["dlpw"]
    dlpw = create_key_from_the_command_line(pipeline.database_url, "agency", "--agency", "dlpw", "--province", "33")
    report(pipeline, need_id, dlpw, "accepted")
    [(pushed, headers)] = waited(lambda: volunteer.line.pushes(volunteer.user_id), bool)
    assert pushed["text"] == f"เรื่องเลขที่ {need_id}\nสถานะ: รับเรื่องแล้ว\nหน่วยงาน: สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด"
    assert "ค่าจ้าง" not in pushed["text"]  # never the description
    uuid.UUID(headers["x-line-retry-key"])
    assert not line.refused
