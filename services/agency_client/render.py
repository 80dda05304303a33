"""What an agency's officer reads: each event on the agency's topic, in Thai."""

import json

import geothai

from services.agency_client.thai_labels import AGENCY_TH, NEED_TYPE_TH, OVERDUE_TH
from shared.contracts.events import CaseEscalated, PersonalDataErased, RoutedCase
from shared.contracts.need_types import Agency


def _place(subdistrict_code: str) -> str:
    subdistrict = geothai.subdistrict(subdistrict_code)
    if subdistrict is None:
        return subdistrict_code
    district = geothai.district(subdistrict.district_code)
    province = geothai.province(subdistrict.province_code)
    return (
        f"ต.{subdistrict.name_th} อ.{district.name_th if district else '-'} จ.{province.name_th if province else '-'}"
    )


def render_case(case: RoutedCase) -> str:
    """A routed case as a short Thai report."""
    types = (
        ", ".join(f"{NEED_TYPE_TH[item.type]} (ความมั่นใจ {item.confidence:.2f})" for item in case.assessments)
        or "ต้องคัดกรองด้วยเจ้าหน้าที่"
    )
    if case.contact is None:
        contact = "ไม่เปิดเผย (ไม่ได้รับความยินยอม หรือเป็นเบาะแสยาเสพติด)"
    else:
        contact = " ".join(
            part for part in (case.contact.name, case.contact.phone, case.contact.national_id_masked) if part
        )
    lines = [
        f"━━ เรื่องใหม่ถึง{AGENCY_TH[case.agency]} ({case.agency.value}.{case.province_code})",
        f"รหัสเรื่อง: {case.need_id}",
        f"ประเภท: {types}",
        f"พื้นที่: {_place(case.subdistrict_code)}",
        f"รายละเอียด: {case.description}",
        f"ผู้ติดต่อ: {contact}",
        f"อาสาสมัครผู้แจ้ง: {case.volunteer_id or 'ไม่เปิดเผย'}",
        f"ส่งต่อเมื่อ: {case.routed_at:%Y-%m-%d %H:%M} UTC",
    ]
    if case.manual_screening:
        lines.insert(3, f"คัดกรองด้วยเจ้าหน้าที่: {case.manual_reason or '-'}")
    return "\n".join(lines)


def render_event(value: bytes) -> tuple[str, RoutedCase | None]:
    """Any event on an agency topic as Thai text, and the routed case if it is one."""
    document = json.loads(value)
    event_type = document.get("event_type", "case.routed") if isinstance(document, dict) else None
    if event_type == "personal_data.erased":
        erased = PersonalDataErased.model_validate_json(value)
        return f"━━ ลบข้อมูลส่วนบุคคลของเรื่อง {erased.need_id} แล้ว: โปรดลบสำเนาในระบบของท่าน", None
    if event_type == "case.escalated":
        escalated = CaseEscalated.model_validate_json(value)
        return (
            f"━━ เรื่อง {escalated.need_id} ที่ส่งถึง{AGENCY_TH[Agency(escalated.agency)]} "
            f"{OVERDUE_TH[escalated.overdue]} (ส่งต่อเมื่อ {escalated.routed_at:%Y-%m-%d})",
            None,
        )
    case = RoutedCase.model_validate_json(value)
    return render_case(case), case
