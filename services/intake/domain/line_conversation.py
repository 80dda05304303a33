"""A volunteer's LINE conversation that becomes a need: the description, then where, then confirm.

Plain state machine: each incoming message gives the next state, the reply, and, once the
volunteer confirms, the need to submit. Texts are Thai, as volunteers read them.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from services.intake.domain.geography import (
    Place,
    UnknownSubdistrict,
    address_line,
    districts,
    locate,
    provinces,
    subdistricts,
)

# LINE allows 13 quick-reply buttons: 12 places and one for the next page.
_PAGE = 12
# LINE cuts a button's label at 20 characters.
_LABEL = 20
_MAX_DESCRIPTION = 5000
_CODE = re.compile(r"^\s*(?:link|เชื่อม)\s+([A-Za-z0-9]{4,16})\s*$", re.IGNORECASE)
_SUBDISTRICT_CODE = re.compile(r"^\s*([0-9]{6})\s*$")
_CONFIRM_WORDS = {"ยืนยัน", "confirm", "ok", "ตกลง"}
_CANCEL_WORDS = {"ยกเลิก", "cancel"}

CONFIRM = "confirm"
CANCEL = "cancel"

HOW_TO_LINK = (
    "บัญชี LINE นี้ยังไม่ได้เชื่อมกับรหัสอาสาสมัคร จึงยังแจ้งเรื่องไม่ได้: ขอรหัสเชื่อมบัญชีในแอปอาสาสมัคร"
    ' แล้วพิมพ์ที่นี่ว่า "เชื่อม <รหัส>" (หรือ "link <code>")'
)
LINK_REFUSED = "รหัสนี้ใช้ไม่ได้ (ไม่ถูกต้อง หมดอายุ หรือถูกใช้แล้ว): ขอรหัสใหม่ในแอปอาสาสมัคร"
START = "พิมพ์เล่าเรื่องที่ต้องการแจ้ง แล้วระบบจะถามว่าเกิดที่ไหน"
ASK_WHERE = "เรื่องนี้เกิดที่ไหน? เลือกจังหวัด อำเภอ และตำบลจากปุ่มด้านล่าง หรือพิมพ์รหัสตำบล 6 หลัก"
NO_BOUNDARIES = "ยังระบุตำบลจากตำแหน่งที่ส่งมาไม่ได้ (ระบบไม่มีข้อมูลขอบเขตตำบล): เลือกจากปุ่มด้านล่าง หรือพิมพ์รหัสตำบล 6 หลัก"
CANCELLED = "ยกเลิกเรื่องนี้แล้ว: พิมพ์เล่าเรื่องใหม่ได้เมื่อพร้อม"
TOO_LONG = f"เรื่องยาวเกิน {_MAX_DESCRIPTION} ตัวอักษร: กรุณาย่อให้สั้นลงแล้วส่งใหม่"


def linked(volunteer_id: str) -> str:
    """The reply to a LINE user just linked."""
    return f"เชื่อมบัญชี LINE กับอาสาสมัคร {volunteer_id} แล้ว: {START}"


def submitted(need_number: str) -> str:
    """The reply once the need is accepted: its number."""
    return f"รับเรื่องแล้ว เลขที่เรื่อง {need_number}\nเมื่อหน่วยงานรับเรื่องหรือเปลี่ยนสถานะ จะแจ้งให้ทราบที่นี่"


@dataclass(frozen=True, slots=True)
class Choice:
    """A quick-reply button: what it shows and the postback data it sends."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One text message, with quick-reply buttons if any."""

    text: str
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True, slots=True)
class Conversation:
    """What the volunteer said so far: the description, then (once chosen) the subdistrict."""

    description: str
    subdistrict_code: str | None = None


@dataclass(frozen=True, slots=True)
class Text:
    """A text message."""

    text: str


@dataclass(frozen=True, slots=True)
class Postback:
    """A quick-reply button pressed."""

    data: str


@dataclass(frozen=True, slots=True)
class Location:
    """A LINE location message: a point, which no shipped data can place in a subdistrict."""


Incoming = Text | Postback | Location


@dataclass(frozen=True, slots=True)
class Step:
    """What follows an incoming message: the conversation now, the reply, and the need to submit if confirmed."""

    conversation: Conversation | None
    reply: Reply
    confirmed: Conversation | None = None


def link_code(text: str) -> str | None:
    """The one-time code in ``เชื่อม <code>`` or ``link <code>``, if the text is one."""
    found = _CODE.match(text)
    return found.group(1).upper() if found else None


def next_step(conversation: Conversation | None, incoming: Incoming) -> Step:
    """Where a linked volunteer's conversation goes with this message."""
    if _is(incoming, CANCEL, _CANCEL_WORDS):
        return Step(None, Reply(CANCELLED))
    if conversation is None:
        return _describe(incoming)
    if conversation.subdistrict_code is not None and _is(incoming, CONFIRM, _CONFIRM_WORDS):
        return Step(None, Reply(""), confirmed=conversation)
    return _where(conversation, incoming)


def _is(incoming: Incoming, data: str, words: set[str]) -> bool:
    if isinstance(incoming, Postback):
        return incoming.data == data
    return isinstance(incoming, Text) and incoming.text.strip().lower() in words


def _describe(incoming: Incoming) -> Step:
    if not isinstance(incoming, Text) or not incoming.text.strip():
        return Step(None, Reply(START))
    if len(incoming.text) > _MAX_DESCRIPTION:
        return Step(None, Reply(TOO_LONG))
    return Step(Conversation(incoming.text.strip()), _provinces_page(ASK_WHERE, 0))


def _where(conversation: Conversation, incoming: Incoming) -> Step:
    if isinstance(incoming, Location):
        return Step(conversation, _provinces_page(NO_BOUNDARIES, 0))
    if isinstance(incoming, Text):
        typed = _SUBDISTRICT_CODE.match(incoming.text)
        if typed is None:
            return _ask_again(conversation)
        return _chosen(conversation, typed.group(1))
    level, _, rest = incoming.data.partition(":")
    code, _, page = rest.partition(":")
    page_number = int(page) if page.isdigit() else 0
    if level == "provinces":
        return Step(conversation, _provinces_page(ASK_WHERE, page_number))
    if level == "province":
        return Step(conversation, _page("เลือกอำเภอ", districts(code), page_number, "district", f"province:{code}"))
    if level == "district":
        return Step(conversation, _page("เลือกตำบล", subdistricts(code), page_number, "subdistrict", f"district:{code}"))
    if level == "subdistrict":
        return _chosen(conversation, code)
    return _ask_again(conversation)


def _ask_again(conversation: Conversation) -> Step:
    if conversation.subdistrict_code is not None:
        return Step(conversation, _confirmation(conversation))
    return Step(conversation, _provinces_page(ASK_WHERE, 0))


def _chosen(conversation: Conversation, subdistrict_code: str) -> Step:
    try:
        locate(subdistrict_code)
    except UnknownSubdistrict:
        return Step(conversation, _provinces_page(f"{subdistrict_code} ไม่ใช่รหัสตำบลของไทย: {ASK_WHERE}", 0))
    where = Conversation(conversation.description, subdistrict_code)
    return Step(where, _confirmation(where))


def _confirmation(conversation: Conversation) -> Reply:
    assert conversation.subdistrict_code is not None
    summary = conversation.description if len(conversation.description) <= 100 else conversation.description[:99] + "…"
    text = f"แจ้งเรื่อง: {summary}\nที่: {address_line(conversation.subdistrict_code)}\nยืนยันส่งเรื่องนี้ไหม?"
    return Reply(text, (Choice("ยืนยัน", CONFIRM), Choice("ยกเลิก", CANCEL), Choice("เปลี่ยนสถานที่", "provinces::0")))


def _provinces_page(text: str, page: int) -> Reply:
    return _page(text, provinces(), page, "province", "provinces")


def _page(text: str, places: Sequence[Place], page: int, level: str, this_list: str) -> Reply:
    """One page of places as buttons, and a button to the next page (the first again after the last)."""
    pages = max(1, -(-len(places) // _PAGE))
    page %= pages
    shown = places[page * _PAGE : (page + 1) * _PAGE]
    choices = [Choice(_label(place.name), f"{level}:{place.code}") for place in shown]
    if pages > 1:
        choices.append(Choice(f"ถัดไป ({page + 1}/{pages})", _next(this_list, page + 1)))
    return Reply(text, tuple(choices))


def _next(this_list: str, page: int) -> str:
    # level:code:page; the list of provinces has no code.
    return f"{this_list}:{page}" if ":" in this_list else f"{this_list}::{page}"


def _label(name: str) -> str:
    return name if len(name) <= _LABEL else name[: _LABEL - 1] + "…"
