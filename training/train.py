"""`train_model`: labelled examples in, one model file out."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.screening.domain.model import ModelSettings, model_to_bytes
from training.examples import LabelledExample
from training.fit import FitOptions, assess, export, fit, word_gate
from training.selection import View, decide, out_of_fold, scores, select


@dataclass(frozen=True, slots=True)
class Trained:
    """A model file and what cross-validation on its training data said about it."""

    model: bytes
    cross_validation: dict[str, Any]


# The fit cross-validation chose for the shipped model among binary features at C = 100 (the
# previous model's fit) and idf at C = 20, 100 and 300 (the README gives all four). One fit
# only: `train` on the shipped data plus a few corrections must not wander to a neighbour that
# scores lower on the gate (one did, in the learning-loop test) and a run stays short.
# Each run still chooses the thresholds and how the model joins the rules by cross-validation.
FIT_GRID = (FitOptions(c=20.0, idf=True),)


def train(examples: Sequence[LabelledExample], grid: Sequence[FitOptions] = FIT_GRID) -> Trained:
    """Choose the fit and the thresholds by cross-validation, then fit on every example and export."""
    assessed = assess(examples)
    groups = [example.group(index) for index, example in enumerate(examples)]
    # Thresholds are judged on real text; the team's own set only when there is nothing else.
    tuning = [index for index, example in enumerate(examples) if not example.written_by_team]
    tuning = tuning or list(range(len(examples)))
    best: tuple[tuple[float, float], FitOptions, View, ModelSettings, dict[str, Any]] | None = None
    tried = []
    for options in grid:
        view = View.of(assessed, out_of_fold(assessed, groups, options), tuning)
        settings, combined = select(view)
        key = (combined["macro_f1"], combined["exact_match"])
        tried.append({**_fit_json(options), "macro_f1": key[0], "exact_match": key[1]})
        if best is None or key > best[0]:
            best = (key, options, view, settings, combined)
    assert best is not None
    _, options, view, settings, combined = best
    texts = [item.normalised for item in assessed.rules]
    fitted = fit(texts, assessed.words, assessed.labels, options)
    model = export(fitted, settings, word_gate(export(fitted, settings), texts, assessed.words))
    report = {
        "items": len(examples),
        "tuned_on": len(tuning),
        "fit": _fit_json(options),
        "fits_tried": tried,
        "rules_only": scores(view.gold, decide(view, None)),
        "rules_and_model": combined,
        "combine": settings.to_json(),
        "version": model.version,
    }
    return Trained(model_to_bytes(model), report)


def _fit_json(options: FitOptions) -> dict[str, Any]:
    return {"c": options.c, "balanced": options.balanced, "idf": options.idf}


def train_model(examples: Sequence[LabelledExample]) -> bytes:
    """Return the model file trained on these examples (thresholds chosen by cross-validation)."""
    return train(examples).model
