"""What an agency's officer reads: each event on the agency's topic, in Thai.

The text is read tolerantly: a code this client's vocabulary does not know (a need type,
agency or overdue kind added by a newer producer) is shown as the code, never refused.
"""

import json
from datetime import datetime
from uuid import UUID

import geothai
from pydantic import BaseModel, ValidationError

from shared.contracts.events import CaseLinked, PersonalDataErased, RoutedCase
from shared.contracts.need_types import Agency, NeedType, OverdueKind, label
from shared.contracts.person import Contact
from shared.thai_time import in_thai_time


class _AssessmentAsSent(BaseModel):
    type: str
    confidence: float


class CaseAsSent(BaseModel):
    """The parts of a routed case an officer reads, with codes kept as sent."""

    need_id: UUID
    agency: str
    office: str | None = None
    province_code: str
    subdistrict_code: str
    assessments: tuple[_AssessmentAsSent, ...] = ()
    manual_screening: bool
    manual_reason: str | None = None
    description: str
    routed_at: datetime
    volunteer_id: str | None = None
    contact: Contact | None = None


class _EscalationAsSent(BaseModel):
    need_id: UUID
    agency: str
    overdue: str
    routed_at: datetime


def _office(case: CaseAsSent) -> str:
    # The agency's code as sent, and the area office where the case names one (doe.10.area3).
    area = (case.office or "").split(".")[2:]
    return ".".join([case.agency, case.province_code, *area])


def _place(subdistrict_code: str) -> str:
    subdistrict = geothai.subdistrict(subdistrict_code)
    if subdistrict is None:
        return subdistrict_code
    district = geothai.district(subdistrict.district_code)
    province = geothai.province(subdistrict.province_code)
    return (
        f"ต.{subdistrict.name_th} อ.{district.name_th if district else '-'} จ.{province.name_th if province else '-'}"
    )


def render_case(case: CaseAsSent) -> str:
    """A routed case as a short Thai report."""
    types = (
        ", ".join(f"{label(item.type, NeedType)} (ความมั่นใจ {item.confidence:.2f})" for item in case.assessments)
        or "ต้องคัดกรองด้วยเจ้าหน้าที่"
    )
    if case.contact is None:
        contact = "ไม่เปิดเผย (ไม่ได้รับความยินยอม หรือเป็นเบาะแสยาเสพติด)"
    else:
        contact = " ".join(
            part for part in (case.contact.name, case.contact.phone, case.contact.national_id_masked) if part
        )
    lines = [
        f"━━ เรื่องใหม่ถึง{label(case.agency, Agency)} ({_office(case)})",
        f"รหัสเรื่อง: {case.need_id}",
        f"ประเภท: {types}",
        f"พื้นที่: {_place(case.subdistrict_code)}",
        f"รายละเอียด: {case.description}",
        f"ผู้ติดต่อ: {contact}",
        f"อาสาสมัครผู้แจ้ง: {case.volunteer_id or 'ไม่เปิดเผย'}",
        f"ส่งต่อเมื่อ: {in_thai_time(case.routed_at):%Y-%m-%d %H:%M} น. (เวลาไทย)",
    ]
    if case.manual_screening:
        lines.insert(3, f"คัดกรองด้วยเจ้าหน้าที่: {case.manual_reason or '-'}")
    return "\n".join(lines)


def render_event(value: bytes) -> tuple[str, RoutedCase | None]:
    """Any event on an agency topic as Thai text, and the routed case if it is one this client can report on.

    A case that names a code outside this client's vocabulary is shown but not returned: a
    status report about it would name codes the contracts here cannot check.
    """
    document = json.loads(value)
    event_type = document.get("event_type", "case.routed") if isinstance(document, dict) else None
    if event_type == "personal_data.erased":
        erased = PersonalDataErased.model_validate_json(value)
        return f"━━ ลบข้อมูลส่วนบุคคลของเรื่อง {erased.need_id} แล้ว: โปรดลบสำเนาในระบบของท่าน", None
    if event_type == "case.escalated":
        escalated = _EscalationAsSent.model_validate_json(value)
        return (
            f"━━ เรื่อง {escalated.need_id} ที่ส่งถึง{label(escalated.agency, Agency)} "
            f"{label(escalated.overdue, OverdueKind)} (ส่งต่อเมื่อ {in_thai_time(escalated.routed_at):%Y-%m-%d})",
            None,
        )
    if event_type == "case.linked":
        linked = CaseLinked.model_validate_json(value)
        related = ", ".join(str(need_id) for need_id in linked.related_need_ids)
        return f"━━ เรื่อง {linked.need_id} อาจเป็นปัญหาเดียวกับเรื่อง {related} (กลุ่ม {linked.cluster_id})", None
    text = render_case(CaseAsSent.model_validate_json(value))
    try:
        return text, RoutedCase.model_validate_json(value)
    except ValidationError:
        return text, None
