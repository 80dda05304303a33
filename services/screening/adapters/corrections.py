"""Corrections made by people: reviewed by a screener, then exported as labelled examples.

An agency's ``misrouted`` report is only a candidate: agencies have their own reasons to send
work back. Only what a screener confirmed teaches the next classifier version.
"""

import json

import asyncpg

from services.screening.domain.corrections import Correction, CorrectionNotFound, Review, ReviewedCorrection, labels_for
from shared.contracts.need_types import Agency, NeedType


async def list_corrections(connection: asyncpg.Connection, *, review: Review | None = None) -> list[ReviewedCorrection]:
    """Corrections, oldest first; only those in ``review`` when given."""
    rows = await connection.fetch(
        "SELECT correction_id, need_id, corrected_by, description, classified_types, corrected_agency,"
        " corrected_types, reason, corrected_at, review, reviewed_by, reviewed_at FROM screening_corrections"
        " WHERE $1::text IS NULL OR review = $1 ORDER BY correction_id",
        review.value if review else None,
    )
    return [
        ReviewedCorrection(
            **{
                **dict(row),
                "need_id": str(row["need_id"]),
                "review": Review(row["review"]),
                "classified_types": tuple(row["classified_types"]),
                "corrected_types": tuple(row["corrected_types"]),
            }
        )
        for row in rows
    ]


async def review_correction(connection: asyncpg.Connection, correction_id: int, *, verdict: Review, by: str) -> None:
    """Confirm or reject one correction, saying who did and when; a later review replaces an earlier one."""
    if verdict is Review.CANDIDATE:
        raise ValueError("review: a correction is confirmed or rejected, not made a candidate again")
    if not by.strip():
        raise ValueError("by: say who reviewed the correction")
    updated = await connection.fetchval(
        "UPDATE screening_corrections SET review = $2, reviewed_by = $3, reviewed_at = now()"
        " WHERE correction_id = $1 RETURNING correction_id",
        correction_id, verdict.value, by.strip(),
    )  # fmt: skip
    if updated is None:
        raise CorrectionNotFound(f"no correction with id {correction_id}")


async def export_corrections(database_url: str) -> tuple[list[str], int]:
    """Confirmed corrections as JSONL lines in the ``needs-router eval`` format, and how many could not be labelled.

    Candidates and rejected corrections are left out: they are not labels.
    """
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT description, classified_types, corrected_agency, corrected_types FROM screening_corrections"
            " WHERE review = 'confirmed' ORDER BY corrected_at"
        )
        rules = await connection.fetch("SELECT need_type, agency FROM routing_rules")
    finally:
        await connection.close()
    types_by_agency: dict[Agency, list[NeedType]] = {}
    for rule in rules:
        if rule["need_type"] in set(NeedType):
            types_by_agency.setdefault(Agency(rule["agency"]), []).append(NeedType(rule["need_type"]))
    lines, unlabelled = [], 0
    for row in rows:
        correction = Correction(
            row["description"], tuple(row["classified_types"]), row["corrected_agency"], tuple(row["corrected_types"])
        )
        labels = labels_for(correction, types_by_agency)
        if labels is None:
            unlabelled += 1
            continue
        lines.append(json.dumps({"text": correction.description, "labels": labels or ["other"]}, ensure_ascii=False))
    return lines, unlabelled
