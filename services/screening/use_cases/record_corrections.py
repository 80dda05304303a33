"""Screening's own corrections: a case an agency reported misrouted becomes a labelled example.

Built from routing's ``cases.updated.v1``; the need's text and classified types come from
screening's own screenings, so no other service writes screening's tables.
"""

from shared.batch_consumption import Produced
from shared.contracts.events import CaseUpdated

CONSUMER = "screening-corrections"


async def take_corrections(updates: list[CaseUpdated]) -> Produced[CaseUpdated]:
    """The updates that correct a screening (misrouted reports); nothing to publish."""
    return Produced(
        results=[update for update in updates if update.change == "status" and update.status == "misrouted"],
        messages=[],
    )
