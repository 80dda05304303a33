"""LINE's side of intake on the real PostgreSQL: kept events worked on, and each case change pushed once."""

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from faststream.kafka import KafkaBroker

from services.intake.adapters.line_api import LineMessaging
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher
from services.intake.domain import line_conversation as talk
from services.intake.settings import IntakeSettings
from services.intake.use_cases import line_channel
from services.intake.use_cases.line_channel import LineChannel
from tests.line_stand_in import LineStandIn, line_stand_in

TOKEN = "stand-in-access-token"


@pytest.fixture(scope="module")
def line() -> Iterator[LineStandIn]:
    with line_stand_in(TOKEN) as stand_in:
        yield stand_in


@pytest.fixture
async def channel(
    line: LineStandIn, pool: asyncpg.Pool, broker: KafkaBroker, intake_settings: IntakeSettings
) -> AsyncIterator[LineChannel]:
    messaging = LineMessaging(base_url=line.url, access_token=TOKEN)
    cipher = PersonalDataCipher.from_base64(intake_settings.personal_data_key.get_secret_value())
    yield LineChannel(
        channel_secret="secret", messaging=messaging, pool=pool, cipher=cipher, relay=OutboxRelay(pool, broker),
        clock=lambda: datetime.now(UTC),
    )  # fmt: skip
    await messaging.close()


def text_event(user: str, text: str) -> dict[str, object]:
    return {
        "type": "message", "mode": "active", "timestamp": 0, "replyToken": uuid.uuid4().hex,
        "webhookEventId": uuid.uuid4().hex, "source": {"type": "user", "userId": user},
        "message": {"type": "text", "id": "1", "quoteToken": "q", "text": text},
    }  # fmt: skip


async def test_kept_events_are_worked_on_in_order_and_their_text_is_not_kept(
    channel: LineChannel, line: LineStandIn, pool: asyncpg.Pool, unique: str
) -> None:
    user = f"U{unique}"
    first, again = text_event(user, "ตกงาน"), text_event(user, "ตกงาน")
    again["webhookEventId"] = first["webhookEventId"]  # LINE redelivering it
    events = line_channel.webhook_events({"events": [first, again]})
    await line_channel.keep_webhook_events(events=events, pool=pool)
    await line_channel.keep_webhook_events(events=events, pool=pool)

    while await channel.work_on_events():
        pass
    [reply] = line.replies(str(first["replyToken"]))
    assert reply["text"] == talk.HOW_TO_LINK  # not linked: told how, and no need
    kept = await pool.fetch(
        "SELECT event, processed_at FROM line_events WHERE webhook_event_id = $1", first["webhookEventId"]
    )
    assert [(row["event"], row["processed_at"] is not None) for row in kept] == [(None, True)]
    assert not line.refused


async def test_each_change_of_a_linked_volunteers_cases_is_pushed_once(
    channel: LineChannel, line: LineStandIn, pool: asyncpg.Pool, unique: str
) -> None:
    """Intake pushes from its own copy of routing's case updates, seeded here as routing's events would fill it."""
    user, volunteer, app = f"U{unique}", f"vol-{unique}", f"app-{unique}"
    now = datetime.now(UTC)
    need_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO line_links (line_user_id, volunteer_id, submitted_by, linked_at) VALUES ($1, $2, $3, $4)",
        user, volunteer, app, now - timedelta(minutes=5),
    )  # fmt: skip
    await pool.execute(
        "INSERT INTO needs (need_id, volunteer_id, request_digest, subdistrict_code, district_code, province_code,"
        " description, submitted_at, event_payload, submitted_by)"
        " VALUES ($1, $2, 'd', '330101', '3301', '33', 'ค้างจ่ายค่าจ้าง', $3, '{}', $4)",
        need_id, volunteer, now - timedelta(minutes=4), app,
    )  # fmt: skip
    routed = "INSERT INTO need_cases (event_id, need_id, agency, province_code, topic, types, manual_screening,"
    routed += " routed_at, status, escalated) VALUES ($1, $2, $3, '33', $4, '{unfair_labour}', false, $5, $6, $7)"
    await pool.execute(routed, uuid.uuid4(), need_id, "dlpw", "agency.dlpw.33", now - timedelta(minutes=3),
                       "misrouted", ["not_accepted"])  # fmt: skip
    await pool.execute(
        "INSERT INTO case_reports (event_id, need_id, agency, status, reason, reroute_to, reported_at,"
        " recorded_at) VALUES ($1, $2, 'dlpw', 'misrouted', 'เป็นเรื่องฝึกอาชีพ', 'dsd', $3, $3)",
        uuid.uuid4(), need_id, now - timedelta(minutes=2),
    )  # fmt: skip
    await pool.execute(routed, uuid.uuid4(), need_id, "dsd", "agency.dsd.33", now - timedelta(minutes=1), "routed", [])

    while await channel.push_changes():
        pass
    texts = sorted(message["text"].split("\n", 1)[1] for message, _ in line.pushes(user))
    assert texts == sorted(
        [
            "สถานะ: ส่งต่อมาที่หน่วยงานนี้แล้ว\nหน่วยงาน: สถาบัน/สำนักงานพัฒนาฝีมือแรงงาน",
            "สถานะ: ส่งผิดหน่วยงาน\nหน่วยงาน: สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด",
            "สถานะ: ยังไม่รับเรื่องภายในกำหนด (ส่งเรื่องถึงสำนักงานแรงงานจังหวัดแล้ว)\nหน่วยงาน: สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด",
        ]
    )
    assert all(message["text"].startswith(f"เรื่องเลขที่ {need_id}\n") for message, _ in line.pushes(user))
    assert "ฝึกอาชีพ" not in json.dumps([message for message, _ in line.pushes(user)], ensure_ascii=False)
    assert await channel.push_changes() == 0  # once each
    assert not line.refused


async def test_an_event_not_shaped_as_line_documents_is_set_aside_with_why_and_the_rest_go_on(
    channel: LineChannel, line: LineStandIn, pool: asyncpg.Pool, unique: str
) -> None:
    malformed = {**text_event(f"U{unique}", ""), "type": "postback", "postback": "not an object"}
    after = text_event(f"U{unique}", "ตกงาน")
    await line_channel.keep_webhook_events(
        events=line_channel.webhook_events({"events": [malformed, after]}), pool=pool
    )

    while await channel.work_on_events():
        pass
    failure = await pool.fetchval(
        "SELECT failure FROM line_events WHERE webhook_event_id = $1", malformed["webhookEventId"]
    )
    assert failure.startswith("AttributeError")
    assert line.replies(str(after["replyToken"]))


async def test_stale_events_conversations_and_codes_are_forgotten(
    channel: LineChannel, pool: asyncpg.Pool, unique: str
) -> None:
    long_ago = datetime.now(UTC) - timedelta(days=40)
    await pool.execute(
        "INSERT INTO line_events (webhook_event_id, event, processed_at, failure) VALUES ($1, '{}', $2, 'x')",
        f"old-{unique}", long_ago,
    )  # fmt: skip
    await pool.execute(
        "INSERT INTO line_conversations (line_user_id, description, updated_at) VALUES ($1, 'ตกงาน', $2)",
        f"U{unique}", long_ago,
    )  # fmt: skip
    await channel.forget_stale()
    assert await pool.fetchval("SELECT count(*) FROM line_events WHERE webhook_event_id = $1", f"old-{unique}") == 0
    assert await pool.fetchval("SELECT count(*) FROM line_conversations WHERE line_user_id = $1", f"U{unique}") == 0
