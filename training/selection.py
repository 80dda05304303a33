"""Choosing how the model joins the rules, by cross-validation on the training data only.

Each type's threshold is the one whose out-of-fold decisions (rules + model, exactly as
the classifier combines them) give that type the best F1 while staying precise; then the
settings that apply to all types are chosen for the best macro-F1. Folds keep a source
site's items together, so a threshold is judged on sites its model did not see.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from services.screening.domain.classifier import RuleAssessment, TypeAssessment, combine
from services.screening.domain.model import ModelSettings
from shared.contracts.need_types import NeedType
from training.fit import NEVER, TYPES, Assessed, FitOptions, fit

# A type the model adds must be right at least this often out of fold.
PRECISION_FLOOR = 0.92
THRESHOLD_GRID = tuple(round(0.2 + 0.05 * step, 2) for step in range(16))  # 0.20 ... 0.95
ADDITIONAL_GRID = (0.5, 0.6, 0.7, 0.8, 0.9, 1.01)
# Where the lexicon saw words for a type and judged them too weak (ประกันสังคม alone, a
# drug word with no workplace word), the model adds the type only at this probability (and
# its threshold); 1.01 lets the lexicon's verdict stand. On the training split the weak
# words were more often right than the verdict. Vetoes (negation, section 33/39, drug
# cases outside a workplace) are not weak words: they always hold.
SUPPORT_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, NEVER)
# migrant_labour's weak words are a nationality without a worker word, or ใบอนุญาต alone:
# near-misses by design (a factory moving to Cambodia, a restaurant's licence), which the
# team-written regression sets hold the classifier to. There the lexicon's verdict stands.
# So for ss40: ประกันสังคม without an informal-work word is an employee's (section 33) by the
# lexicon's design; with the snippets of train_more.jsonl the model learnt to add ss40 to "a
# company employee in hospital, can I use social security?", which the regression sets refuse.
LEXICON_VERDICT_STANDS = frozenset({NeedType.MIGRANT_LABOUR, NeedType.SS40})
# (weak_confidence, drop_below): a rule type accepted with less confidence than the first
# is dropped when the model's probability is below the second; (0, 0) never drops.
DROP_GRID = ((0.0, 0.0), *((weak, drop) for weak in (0.6, 0.8, 1.01) for drop in (0.05, 0.1, 0.2, 0.3)))


@dataclass(frozen=True, slots=True)
class View:
    """What the rules decided and what out-of-fold models said, for the items thresholds are chosen on."""

    rules: list[RuleAssessment]
    accepted: list[tuple[TypeAssessment, ...]]
    probabilities: list[dict[NeedType, float]]
    gold: list[frozenset[NeedType]]

    @classmethod
    def of(cls, assessed: Assessed, probabilities: Sequence[dict[NeedType, float]], items: Sequence[int]) -> "View":
        """The view of some of the assessed items (by index)."""
        return cls(
            [assessed.rules[i] for i in items],
            [assessed.accepted[i] for i in items],
            [probabilities[i] for i in items],
            [assessed.labels[i] for i in items],
        )


def fold_of(group: str, folds: int) -> int:
    """Return the fold of a group (a source site, or one item), stable across runs and machines."""
    return int.from_bytes(hashlib.sha256(group.encode("utf-8")).digest()[:8], "big") % folds


def out_of_fold(assessed: Assessed, groups: Sequence[str], options: FitOptions) -> list[dict[NeedType, float]]:
    """Return, for every item, the probabilities of a model fitted without its fold."""
    texts = [item.normalised for item in assessed.rules]
    fold = [fold_of(group, options.folds) for group in groups]
    result: list[dict[NeedType, float]] = [{} for _ in texts]
    for held in range(options.folds):
        kept = [index for index, value in enumerate(fold) if value != held]
        out = [index for index, value in enumerate(fold) if value == held]
        if not out:
            continue
        fitted = fit(
            [texts[i] for i in kept], [assessed.words[i] for i in kept], [assessed.labels[i] for i in kept], options
        )
        rows = fitted.probabilities([texts[i] for i in out], [assessed.words[i] for i in out])
        for index, row in zip(out, rows, strict=True):
            result[index] = dict(zip(TYPES, (float(value) for value in row), strict=True))
    return result


def decide(view: View, settings: ModelSettings | None) -> list[frozenset[NeedType]]:
    """Return the types chosen for every item (rules alone when settings is None)."""
    chosen = []
    for rules, accepted, probabilities in zip(view.rules, view.accepted, view.probabilities, strict=True):
        if settings is None or rules.manual_reason is not None:
            chosen.append(frozenset(item.type for item in accepted))
        else:
            chosen.append(frozenset(item.type for item in combine(accepted, rules, probabilities, settings)))
    return chosen


def scores(gold: Sequence[frozenset[NeedType]], guess: Sequence[frozenset[NeedType]]) -> dict[str, Any]:
    """Macro-F1, exact match and per-type precision, recall and F1 of guesses against gold labels."""
    per_type = {}
    for need_type in TYPES:
        tp = sum(1 for g, p in zip(gold, guess, strict=True) if need_type in g and need_type in p)
        fp = sum(1 for g, p in zip(gold, guess, strict=True) if need_type not in g and need_type in p)
        fn = sum(1 for g, p in zip(gold, guess, strict=True) if need_type in g and need_type not in p)
        per_type[need_type.value] = {
            "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
            "f1": round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else 0.0,
        }
    exact = sum(1 for g, p in zip(gold, guess, strict=True) if g == p) / len(gold) if gold else 0.0
    return {
        "macro_f1": round(float(np.mean([value["f1"] for value in per_type.values()])), 4),
        "exact_match": round(exact, 4),
        "per_type": per_type,
    }


def select(view: View) -> tuple[ModelSettings, dict[str, Any]]:
    """Choose per-type thresholds, then the settings shared by all types, then the thresholds again."""
    settings = ModelSettings(accept_probability=NEVER, type_probabilities={})
    settings = _thresholds(view, settings)
    verdict_stands = dict.fromkeys(LEXICON_VERDICT_STANDS, NEVER)
    best: tuple[tuple[float, ...], ModelSettings] | None = None
    for additional in ADDITIONAL_GRID:
        for support in SUPPORT_GRID:
            for weak, drop in DROP_GRID:
                candidate = replace(
                    settings,
                    additional_probability=additional,
                    support_probability=support,
                    type_supports=verdict_stands,
                    drop_below=drop,
                    weak_confidence=weak,
                )
                result = scores(view.gold, decide(view, candidate))
                # Ties go to the more conservative setting: the rules' own verdict stands.
                key = (result["macro_f1"], result["exact_match"], additional, support, -drop, -weak)
                if best is None or key > best[0]:
                    best = (key, candidate)
    assert best is not None
    settings = _thresholds(view, best[1])
    return settings, scores(view.gold, decide(view, settings))


def _thresholds(view: View, settings: ModelSettings) -> ModelSettings:
    """Per type, the threshold with the best out-of-fold F1 among those precise enough."""
    rules_alone = scores(view.gold, decide(view, None))["per_type"]
    chosen: dict[NeedType, float] = {}
    for need_type in TYPES:
        # Where the rules alone are less precise than the floor, the model must not make it worse.
        floor = min(PRECISION_FLOOR, rules_alone[need_type.value]["precision"])
        best: tuple[tuple[float, ...], float] | None = None
        for threshold in (*THRESHOLD_GRID, NEVER):
            trial = replace(settings, type_probabilities={**settings.type_probabilities, need_type: threshold})
            figures = scores(view.gold, decide(view, trial))["per_type"][need_type.value]
            precise = figures["precision"] >= floor or threshold == NEVER
            key = (float(precise), figures["f1"], threshold)
            if best is None or key > best[0]:
                best = (key, threshold)
        assert best is not None
        chosen[need_type] = best[1]
    return replace(settings, type_probabilities=chosen)
