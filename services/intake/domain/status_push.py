"""What a volunteer is told on LINE when one of their cases changes.

The message leaves the country through LINE's servers, so it carries only the need number, the
new status and the agency's name: never the description, and never anyone's identity.
"""

import uuid
from dataclasses import dataclass
from typing import Literal

from shared.contracts.need_types import Agency, CaseState, OverdueKind, label

ChangeKind = Literal["status", "rerouted", "escalated"]
_REROUTED = "ส่งต่อมาที่หน่วยงานนี้แล้ว"


@dataclass(frozen=True, slots=True)
class CaseChange:
    """A change of one of a linked volunteer's cases, not pushed yet.

    ``push_id`` is the id of what changed (the status report, the routing or the escalation),
    so the same change is pushed once; ``status`` is a case state or, for an escalation, the
    service level that passed.
    """

    push_id: uuid.UUID
    need_id: uuid.UUID
    line_user_id: str
    kind: ChangeKind
    agency: str
    status: str


def push_text(change: CaseChange) -> str:
    """The Thai message for a change: need number, new status, agency name, and nothing else."""
    if change.kind == "escalated":
        status = f"{label(change.status, OverdueKind)} (ส่งเรื่องถึงสำนักงานแรงงานจังหวัดแล้ว)"
    elif change.kind == "rerouted":
        status = _REROUTED
    else:
        status = label(change.status, CaseState)
    return f"เรื่องเลขที่ {change.need_id}\nสถานะ: {status}\nหน่วยงาน: {label(change.agency, Agency)}"
