"""The one vocabulary: need types, agencies and case states, each with its Thai and English label.

Everything else derives from these enums: event contracts, CLI choices, the dashboard's labels,
the database's CHECK constraints, the default routing table and the agency client's text.
To add a need type: one line here, plus its lexicon and labelled examples (the README's "One
vocabulary" says which files, and to retrain the model).
To add an agency: one line here.
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Self, TypeVar

_T = TypeVar("_T", bound="Term")


# Enum swaps a class's own __new__ out once its members exist, so members are made here instead.
def _labelled(cls: type[_T], code: str, th: str, en: str) -> _T:
    term = str.__new__(cls, code)
    term._value_ = code
    term.th = th
    term.en = en
    return term


class Term(StrEnum):
    """A code of the domain, with how Thai and English readers see it."""

    _value_: str
    th: str
    en: str

    if TYPE_CHECKING:
        # Members are written as (code, labels...) tuples; the value is the code alone.
        @property
        def value(self) -> str:
            """The code."""

    # Hidden from type checkers, which would otherwise read Agency("doe") as a call to __new__.
    if not TYPE_CHECKING:

        def __new__(cls, code: str, th: str, en: str) -> Self:
            """A member whose value is ``code`` and which carries its labels."""
            return _labelled(cls, code, th, en)


class Agency(Term):
    """A provincial office of the Ministry of Labour that receives routed cases."""

    DOE = "doe", "สำนักงานจัดหางานจังหวัด", "Provincial Employment Office (DOE)"
    DSD = "dsd", "สถาบัน/สำนักงานพัฒนาฝีมือแรงงาน", "Skill Development Institute/Office (DSD)"
    SSO = "sso", "สำนักงานประกันสังคมจังหวัด", "Provincial Social Security Office (SSO)"
    DLPW = "dlpw", "สำนักงานสวัสดิการและคุ้มครองแรงงานจังหวัด", "Labour Protection and Welfare Office (DLPW)"
    MOL = "mol", "สำนักงานแรงงานจังหวัด", "Provincial Labour Office (MOL)"


# Needs nobody could type, or whose type no rule routes, reach a person here.
MANUAL_SCREENING_AGENCY = Agency.MOL


class NeedType(Term):
    """A kind of labour need, as named in DOMAIN.md."""

    default_agency: Agency

    if not TYPE_CHECKING:

        def __new__(cls, code: str, th: str, en: str, default_agency: Agency) -> Self:
            """A need type with its labels and its default agency."""
            need_type = _labelled(cls, code, th, en)
            need_type.default_agency = default_agency
            return need_type

    JOBS = "jobs", "หางาน / จัดหางาน", "Jobs and placement", Agency.DOE
    SKILLS = "skills", "ฝึกอาชีพ / พัฒนาฝีมือแรงงาน", "Skills and training", Agency.DSD
    SS40 = "ss40", "ประกันสังคมมาตรา 40", "Social security, section 40", Agency.SSO
    UNFAIR_LABOUR = "unfair_labour", "ค่าจ้าง / เลิกจ้างไม่เป็นธรรม", "Unfair labour practice", Agency.DLPW
    MIGRANT_LABOUR = "migrant_labour", "แรงงานต่างด้าว", "Migrant labour", Agency.DOE
    DRUGS_WORKPLACE = "drugs_workplace", "ยาเสพติดในสถานประกอบการ", "Drugs in the workplace", Agency.MOL


class CaseState(Term):
    """Where a routed case stands at its agency."""

    ROUTED = "routed", "รอรับเรื่อง", "Awaiting acceptance"
    ACCEPTED = "accepted", "รับเรื่องแล้ว", "Accepted"
    IN_PROGRESS = "in_progress", "กำลังดำเนินการ", "In progress"
    RESOLVED = "resolved", "แก้ไขแล้ว", "Resolved"
    MISROUTED = "misrouted", "ส่งผิดหน่วยงาน", "Misrouted"


class OverdueKind(Term):
    """Which service level a case has missed."""

    NOT_ACCEPTED = "not_accepted", "ยังไม่รับเรื่องภายในกำหนด", "Not accepted in time"
    NOT_RESOLVED = "not_resolved", "ยังไม่แก้ไขแล้วเสร็จภายในกำหนด", "Not resolved in time"


# How the dashboard and the agency client name a need screened by hand.
MANUAL_SCREENING_LABEL = {"th": "คัดกรองโดยเจ้าหน้าที่", "en": "Manual screening"}

LANGUAGES = ("th", "en")


def label(code: str, term: type[Term], language: str = "th") -> str:
    """The label of ``code`` in ``language``, or the code itself when this vocabulary does not know it.

    A newer producer may send a code this process has never heard of: it is shown, not fatal.
    """
    known = next((member for member in term if member.value == code), None)
    return code if known is None else str(getattr(known, language))
