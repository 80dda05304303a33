"""The promotion gate: a candidate model may not score lower than the live one on any gate figure."""

from collections.abc import Mapping
from typing import Any


def gate_regressions(candidate: Mapping[str, Any], live: Mapping[str, Any]) -> list[str]:
    """Each gate figure the candidate dropped, as "figure: candidate < live"; empty when it may be promoted.

    Both arguments are ``needs-router eval`` results on the same gate set: macro-F1 and every
    type's recall count.
    """
    dropped = []
    if candidate["macro_f1"] < live["macro_f1"]:
        dropped.append(f"macro_f1: {candidate['macro_f1']} < {live['macro_f1']}")
    for need_type, scores in live["per_type"].items():
        recall = candidate["per_type"][need_type]["recall"]
        if recall < scores["recall"]:
            dropped.append(f"recall of {need_type}: {recall} < {scores['recall']}")
    return dropped
