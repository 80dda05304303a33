"""What GET /v1/dashboard/shadow answers: what promoting the shadow model would change.

Screening keeps the disagreements (``needs-router models shadow-report`` lists them too) and
gives them through its interface ``screening.shadow_disagreements_report`` (migration 0013), which
intake may call but whose tables it may not read.
"""

import uuid
from datetime import datetime

from pydantic import BaseModel

from shared.database import Connection

LATEST = 20
DESCRIPTION_CHARS = 200


class ShadowLine(BaseModel):
    """One need the shadow model typed otherwise than the live one did."""

    need_id: uuid.UUID
    description: str
    live_version: str
    live_types: list[str]
    shadow_types: list[str]
    screened_at: datetime


class ShadowPanel(BaseModel):
    """The shadow model running now (None: none), how often it disagreed, and the latest disagreements."""

    shadow_version: str | None
    disagreements: int
    latest: list[ShadowLine]


async def shadow_panel(connection: Connection) -> ShadowPanel:
    """The shadow model's disagreements with the live model, newest first."""
    rows = await connection.fetch(
        """
        SELECT shadow_version, disagreements, need_id, description, live_version, live_types, shadow_types,
               screened_at
        FROM screening.shadow_disagreements_report($1, $2)
        """,
        LATEST, DESCRIPTION_CHARS,
    )  # fmt: skip
    if not rows:
        return ShadowPanel(shadow_version=None, disagreements=0, latest=[])
    return ShadowPanel(
        shadow_version=rows[0]["shadow_version"],
        disagreements=rows[0]["disagreements"],
        latest=[ShadowLine(**{name: row[name] for name in ShadowLine.model_fields}) for row in rows if row["need_id"]],
    )
