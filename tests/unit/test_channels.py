"""Open311's mapping, the LINE conversation, the webhook signature and the pushed text, without I/O."""

import base64
import hashlib
import hmac
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from linebot.v3.webhook import SignatureValidator
from pydantic import SecretStr

from services.intake.adapters.line_api import message, signature_valid
from services.intake.domain import line_conversation as talk
from services.intake.domain import open311
from services.intake.domain.status_push import CaseChange, push_text
from services.intake.settings import IntakeSettings
from shared.contracts.need_types import NeedType
from shared.settings import MissingInfrastructure
from tests.unit.factories import valid_national_id

FORM = {"service_code": "unfair_labour", "account_id": "vol-1", "description": "ค้างจ่ายค่าจ้าง", "address_id": "330101"}


def test_services_are_the_need_types_and_screen() -> None:
    assert open311.service_codes() == {need_type.value for need_type in NeedType} | {"screen"}


def test_an_open311_form_becomes_the_same_submission_as_v1_needs() -> None:
    submission = open311.submission({**FORM, "first_name": "สมหญิง", "last_name": "ใจงาม", "phone": "0812345678",
                                     "attribute[national_id]": valid_national_id(),
                                     "attribute[consent_to_share]": "true", "email": "x@example.org"})  # fmt: skip
    assert (submission.volunteer_id, submission.subdistrict_code) == ("vol-1", "330101")
    assert submission.suggested_types == ["unfair_labour"]
    assert submission.person is not None
    assert (submission.person.name, submission.person.phone) == ("สมหญิง ใจงาม", "0812345678")
    assert submission.consent_to_share
    screen = open311.submission(
        {**FORM, "service_code": "screen", "address_id": "", "attribute[subdistrict_code]": "100101"}
    )
    assert (screen.suggested_types, screen.subdistrict_code) == ([], "100101")


@pytest.mark.parametrize(
    ("changes", "parameter", "problem"),
    [
        ({"lat": "15.1", "long": "104.3"}, "lat", "address_id"),
        ({"service_code": "potholes"}, "service_code", "screen"),
        ({"address_id": ""}, "address_id", "required"),
        ({"address_id": "12345"}, "address_id", "pattern"),
        ({"account_id": ""}, "account_id", "at least 1"),
        ({"description": "   "}, "description", "blank"),
        ({"phone": "call me"}, "phone", "pattern"),
        ({"attribute[national_id]": "1234567890123"}, "attribute[national_id]", "check digit"),
        ({"attribute[consent_to_share]": "maybe"}, "attribute[consent_to_share]", "true or false"),
    ],
)
def test_a_refused_open311_form_names_its_own_parameter(changes: dict[str, str], parameter: str, problem: str) -> None:
    with pytest.raises(open311.Open311Refusal) as refused:
        open311.submission({**FORM, **changes})
    assert refused.value.parameter == parameter
    assert problem in refused.value.problem


def test_open311_status_follows_the_need() -> None:
    assert open311.status("resolved") == "closed"
    assert {open311.status(state) for state in ("accepted", "screened", "routed", "in_progress")} == {"open"}
    assert open311.need_states("closed") == {"resolved"}
    assert "resolved" not in open311.need_states("open")
    assert "รับเรื่องแล้ว" in open311.status_notes({"dlpw": "accepted"})
    with pytest.raises(open311.Open311Refusal):
        open311.need_states("pending")


@given(st.text(max_size=2000), st.text(min_size=1, max_size=40))
def test_the_signature_check_agrees_with_line_bot_sdk(text: str, secret: str) -> None:
    body = text.encode()
    good = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    forged = base64.b64encode(hmac.new(secret.encode() + b"x", body, hashlib.sha256).digest()).decode()
    sdk = SignatureValidator(secret)
    assert signature_valid(secret, body, good)
    assert sdk.validate(text, good)
    assert not signature_valid(secret, body, forged)
    assert not sdk.validate(text, forged)
    assert not signature_valid(secret, body, None)
    assert not signature_valid("", body, good)


def walk(*incoming: talk.Incoming) -> talk.Step:
    conversation = None
    step = talk.Step(None, talk.Reply(""))
    for message_in in incoming:
        step = talk.next_step(conversation, message_in)
        conversation = step.conversation
    return step


def test_a_conversation_is_description_then_where_then_confirm() -> None:
    asked = walk(talk.Text("ค้างจ่ายค่าจ้าง"))
    assert asked.reply.text == talk.ASK_WHERE
    assert len(asked.reply.choices) == 13
    assert all(len(choice.label) <= 20 for choice in asked.reply.choices)
    districts = walk(talk.Text("ค้างจ่ายค่าจ้าง"), talk.Postback("province:33"))
    assert "district:3301" in [choice.data for choice in districts.reply.choices]
    chosen = walk(talk.Text("ค้างจ่ายค่าจ้าง"), talk.Postback("district:3301"), talk.Postback("subdistrict:330101"))
    assert chosen.conversation == talk.Conversation("ค้างจ่ายค่าจ้าง", "330101")
    assert [choice.data for choice in chosen.reply.choices][:2] == [talk.CONFIRM, talk.CANCEL]
    confirmed = walk(talk.Text("ค้างจ่ายค่าจ้าง"), talk.Text("330101"), talk.Postback(talk.CONFIRM))
    assert confirmed.confirmed == talk.Conversation("ค้างจ่ายค่าจ้าง", "330101")
    assert confirmed.conversation is None


def test_pages_of_provinces_go_round_and_a_location_or_unknown_code_asks_again() -> None:
    first = walk(talk.Text("ตกงาน"))
    next_page = [choice.data for choice in first.reply.choices][-1]
    assert next_page == "provinces::1"
    second = walk(talk.Text("ตกงาน"), talk.Postback(next_page))
    assert second.reply.choices[0] != first.reply.choices[0]
    assert walk(talk.Text("ตกงาน"), talk.Location()).reply.text == talk.NO_BOUNDARIES
    unknown = walk(talk.Text("ตกงาน"), talk.Text("999999"))
    assert unknown.conversation == talk.Conversation("ตกงาน")
    assert "999999" in unknown.reply.text
    assert walk(talk.Text("ตกงาน"), talk.Text("ยกเลิก")).conversation is None
    assert walk(talk.Postback(talk.CONFIRM)).confirmed is None


def test_link_codes_are_read_from_either_language() -> None:
    assert talk.link_code("เชื่อม abcd2345") == "ABCD2345"
    assert talk.link_code("link ABCD2345 ") == "ABCD2345"
    assert talk.link_code("ค้างจ่ายค่าจ้าง") is None


def test_a_reply_becomes_a_line_text_with_postback_buttons() -> None:
    sent = message(talk.Reply("ที่ไหน", (talk.Choice("ศรีสะเกษ", "province:33"),)))
    [item] = sent["quickReply"]["items"]
    assert item["action"] == {"type": "postback", "label": "ศรีสะเกษ", "data": "province:33", "displayText": "ศรีสะเกษ"}


def test_a_push_carries_the_need_number_status_and_agency_only() -> None:
    need_id = uuid.uuid4()
    change = CaseChange(uuid.uuid4(), need_id, "U1", "status", "dlpw", "accepted")
    assert push_text(change) == (f"เรื่องเลขที่ {need_id}\nสถานะ: รับเรื่องแล้ว\nหน่วยงาน: สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด")
    assert "ส่งต่อ" in push_text(CaseChange(uuid.uuid4(), need_id, "U1", "rerouted", "dsd", "routed"))
    assert "ภายในกำหนด" in push_text(CaseChange(uuid.uuid4(), need_id, "U1", "escalated", "doe", "not_accepted"))


def test_half_of_lines_settings_refuses_to_start() -> None:
    base = {"kafka_bootstrap_servers": "kafka:9092", "database_url": "postgresql://db/needs"}
    half = IntakeSettings(**base, personal_data_key=SecretStr("k"), line_channel_secret=SecretStr("s"))
    with pytest.raises(MissingInfrastructure, match="LINE_CHANNEL_ACCESS_TOKEN"):
        half.require()
    both = half.model_copy(update={"line_channel_access_token": SecretStr("t")})
    assert both.require().line_enabled()
