"""Corrections made by people, exported as labelled examples to measure the next classifier version."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg

from shared.contracts.need_types import Agency, NeedType


@dataclass(frozen=True, slots=True)
class Correction:
    """What screening said, and what a person said instead."""

    description: str
    classified_types: tuple[str, ...]
    corrected_agency: str
    corrected_types: tuple[str, ...]


def labels_for(correction: Correction, types_by_agency: Mapping[Agency, Sequence[NeedType]]) -> list[str] | None:
    """The true labels: as stated by the agency, or else the one type the corrected agency handles.

    None when they cannot be told (the corrected agency handles several types and none was stated).
    """
    if correction.corrected_types:
        return sorted(correction.corrected_types)
    if correction.corrected_agency not in set(Agency):  # manual screening: no type can be inferred
        return None
    handled = types_by_agency.get(Agency(correction.corrected_agency), ())
    return [handled[0].value] if len(handled) == 1 else None


async def export_corrections(database_url: str) -> tuple[list[str], int]:
    """JSONL lines in the ``needs-router eval`` format, and how many corrections could not be labelled."""
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT description, classified_types, corrected_agency, corrected_types FROM screening_corrections"
            " ORDER BY corrected_at"
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
