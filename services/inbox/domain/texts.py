"""The inbox's words in Thai (first) and English."""

from typing import Literal

Language = Literal["th", "en"]
LANGUAGES: tuple[Language, ...] = ("th", "en")

_TEXTS: dict[str, tuple[str, str]] = {
    "title": ("กล่องงานเจ้าหน้าที่", "Officers' inbox"),
    "login": ("เข้าสู่ระบบ", "Log in"),
    "logout": ("ออกจากระบบ", "Log out"),
    "name": ("ชื่อ", "Name"),
    "password": ("รหัสผ่าน", "Password"),
    "set_password": ("ตั้งรหัสผ่าน", "Set your password"),
    "password_hint": ("อย่างน้อย 10 ตัวอักษร", "At least 10 characters"),
    "password_set": ("ตั้งรหัสผ่านแล้ว เข้าสู่ระบบได้เลย", "Password set: you can log in now"),
    "link_invalid": (
        "ลิงก์นี้ใช้แล้วหรือหมดอายุ ขอลิงก์ใหม่จากผู้ดูแลระบบ",
        "This link was used or has expired; ask an operator for a new one",
    ),
    "login_refused": ("ชื่อหรือรหัสผ่านไม่ถูกต้อง", "Wrong name or password"),
    "too_many": ("เข้าสู่ระบบผิดหลายครั้งเกินไป โปรดลองใหม่ภายหลัง", "Too many failed logins; try again later"),
    "inbox": ("กล่องงาน", "Inbox"),
    "my_cases": ("งานของฉัน", "My cases"),
    "screening_queue": ("คิวคัดกรอง", "Screening queue"),
    "follow_up": ("ติดตามเรื่องเกินกำหนด", "Overdue follow-up"),
    "office": ("หน่วยงาน", "Office"),
    "all_statuses": ("ทุกสถานะ", "All statuses"),
    "all_types": ("ทุกประเภท", "All types"),
    "overdue_only": ("เฉพาะที่เกินกำหนด", "Overdue only"),
    "filter": ("กรอง", "Filter"),
    "due": ("กำหนด", "Due"),
    "left": ("เหลือ", "left"),
    "overdue": ("เกินกำหนด", "overdue"),
    "closed": ("ปิดแล้ว", "closed"),
    "status": ("สถานะ", "Status"),
    "types": ("ประเภท", "Types"),
    "place": ("พื้นที่", "Place"),
    "holder": ("ผู้รับผิดชอบ", "Held by"),
    "unclaimed": ("ยังไม่มีผู้รับเรื่อง", "unclaimed"),
    "waiting_for_routing": ("รอระบบส่งต่อบันทึก", "waiting for routing"),
    "escalated_for": ("เกินกำหนด", "Escalated for"),
    "open": ("เปิด", "Open"),
    "no_cases": ("ไม่มีเรื่องในกล่องงาน", "No cases here"),
    "description": ("รายละเอียด", "Description"),
    "timeline": ("ลำดับเหตุการณ์", "Timeline"),
    "related": ("เรื่องที่เกี่ยวข้อง", "Related cases"),
    "contact": ("ผู้ติดต่อ", "Contact"),
    "volunteer": ("อาสาสมัคร", "Volunteer"),
    "no_contact": (
        "ไม่มีข้อมูลผู้ติดต่อในเรื่องนี้ (ไม่ได้รับความยินยอม หรือเป็นเบาะแสยาเสพติด)",
        "No contact on this case (no consent, or a drug tip)",
    ),
    "reveal": ("เปิดเผยตัวตน", "Reveal identity"),
    "reveal_reason": ("เหตุผลที่ต้องเปิดเผย (บันทึกไว้ตรวจสอบ)", "Why you need it (audited)"),
    "claim": ("รับผิดชอบเรื่องนี้", "Claim this case"),
    "assign": ("มอบหมายให้", "Assign to"),
    "accept": ("รับเรื่อง", "Accept"),
    "in_progress": ("กำลังดำเนินการ", "In progress"),
    "resolve": ("แก้ไขแล้ว", "Resolve"),
    "outcome": ("ผลการดำเนินการ", "Outcome"),
    "misrouted": ("ส่งผิดหน่วยงาน", "Misrouted"),
    "reason": ("เหตุผล", "Reason"),
    "right_agency": ("หน่วยงานที่ถูกต้อง", "The right agency"),
    "unknown_agency": ("ไม่ทราบ (ส่งคัดกรองใหม่)", "Not known (back to screening)"),
    "corrected_types": ("ประเภทที่ถูกต้อง", "Corrected types"),
    "note": ("หมายเหตุ", "Note"),
    "send": ("ส่ง", "Send"),
    "screen": ("คัดกรอง", "Screen"),
    "no_labour_need": ("ไม่ใช่ความต้องการด้านแรงงาน (ปิดเรื่อง)", "No labour need (close)"),
    "thai_summary": ("สรุปเป็นภาษาไทย", "Thai summary"),
    "language": ("ภาษา", "Language"),
    "why_here": ("เหตุที่มาคัดกรอง", "Why it is here"),
    "suggestion": ("ข้อเสนอจากระบบ", "Suggestion"),
    "candidates": ("ข้อแก้ไขที่รอยืนยัน", "Corrections to confirm"),
    "confirm": ("ยืนยัน", "Confirm"),
    "reject": ("ปฏิเสธ", "Reject"),
    "not_found": ("ไม่พบเรื่องนี้", "No such case"),
    "forbidden": ("คำขอถูกปฏิเสธ (CSRF)", "Request refused (CSRF)"),
    "refused": ("ทำไม่ได้", "Refused"),
    "sent": ("ส่งแล้ว", "Sent"),
    "other_language": ("English", "ไทย"),
    "manual": ("คัดกรองโดยเจ้าหน้าที่", "Manual screening"),
    "evidence": ("คำที่เป็นหลักฐานถูกเน้นสี", "Evidence words are highlighted"),
}

LANGUAGE_NAMES: dict[str, tuple[str, str]] = {
    "my": ("พม่า", "Burmese"),
    "km": ("เขมร", "Khmer"),
    "lo": ("ลาว", "Lao"),
}


_REASONS: dict[str, tuple[str, str]] = {
    "no_type_matched": ("ไม่พบประเภทที่ตรงกับข้อความ", "No type matched the text"),
    "low_confidence": ("ระบบไม่มั่นใจในประเภท", "The classifier was not sure enough"),
    "unsupported_language": ("เขียนเป็นภาษาที่ระบบอ่านไม่ได้", "Written in a language the classifier cannot read"),
    "near_miss": ("เกือบตรงกับกฎ", "Nearly matched a rule"),
    "misrouted": ("ส่งกลับโดยหน่วยงาน", "Sent back by an agency"),
}
_TIMELINE: dict[str, tuple[str, str]] = {
    "routed": ("ส่งถึงหน่วยงาน", "Routed to"),
    "held": ("ผู้รับผิดชอบ", "Held by"),
    "erased": ("ลบข้อมูลส่วนบุคคลแล้ว", "Personal data erased"),
    "escalated": ("เกินกำหนด แจ้งสำนักงานแรงงานจังหวัด", "Overdue, escalated"),
    "status": ("เจ้าหน้าที่รายงาน", "Officer reported"),
    "routing": ("ระบบส่งต่อบันทึกแล้ว", "Recorded by routing"),
    "refused": ("ระบบส่งต่อปฏิเสธรายงาน (มีรายงานอื่นมาก่อน)", "Refused by routing (another report came first)"),
}


def text(key: str, language: Language) -> str:
    """The words for ``key`` in ``language``."""
    thai, english = _TEXTS[key]
    return thai if language == "th" else english


def language_name(code: str, language: Language) -> str:
    """A language's name, or its code when it has none here."""
    names = LANGUAGE_NAMES.get(code)
    return code if names is None else names[0] if language == "th" else names[1]


def _pick(words: tuple[str, str], language: Language) -> str:
    return words[0] if language == "th" else words[1]


def reason_text(reason: str | None, language: Language) -> str:
    """Why a need waits for a screener, in words: ``near_miss:rule`` becomes "Nearly matched a rule: rule"."""
    if not reason:
        return ""
    if reason.startswith("misrouted by "):
        return f"{_pick(_REASONS['misrouted'], language)} {reason.removeprefix('misrouted by ')}"
    code, _, detail = reason.partition(":")
    if code == "unsupported_language":
        detail = language_name(detail, language)
    known = _REASONS.get(code)
    return reason if known is None else _pick(known, language) + (f": {detail}" if detail else "")


def timeline_text(kind: str, language: Language) -> str:
    """A timeline line's kind in words (``status:accepted`` is told by the caller's status label)."""
    known = _TIMELINE.get(kind.partition(":")[0])
    return kind if known is None else _pick(known, language)
