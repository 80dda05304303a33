"""The classifier alone, on one core: how many descriptions a second it screens."""

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from services.screening.domain.classifier import Classification, Classifier


@dataclass(frozen=True, slots=True)
class ScreeningRun:
    """Descriptions screened per second, and what they were screened as (a check of the workload)."""

    per_s: float
    outcomes: Counter[str]


def measure_screening(descriptions: Sequence[str], *, budget_s: float) -> ScreeningRun:
    """Classify descriptions in order until all are done or ``budget_s`` has passed."""
    classifier = Classifier.load()  # loads the lexicon and pythainlp's dictionary: not timed
    results: list[Classification] = []
    started = time.perf_counter()
    for text in descriptions:
        results.append(classifier.classify(text, ()))
        if len(results) % 100 == 0 and time.perf_counter() - started > budget_s:
            break
    elapsed_s = time.perf_counter() - started
    return ScreeningRun(per_s=len(results) / elapsed_s, outcomes=Counter(_outcome(result) for result in results))


def _outcome(result: Classification) -> str:
    if result.types:
        return "+".join(sorted(item.type.value for item in result.types))
    return f"manual ({(result.manual_reason or '').split(':')[0]})"
