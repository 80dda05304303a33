"""Scoring the classifier against labelled descriptions (precision, recall, F1, speed)."""

import json
import time
from collections.abc import Iterable
from pathlib import Path

from services.screening.domain.classifier import Classifier
from shared.contracts.need_types import NeedType

# In labelled files, "other" marks a description that fits none of the need types.
OTHER_LABEL = "other"

LabelledItem = tuple[str, frozenset[NeedType]]


def evaluate(classifier: Classifier, items: Iterable[LabelledItem]) -> dict[str, object]:
    """Classify every item and return per-type and overall scores plus throughput."""
    labelled = list(items)
    started = time.perf_counter()
    predicted = [frozenset(item.type for item in classifier.classify(text).types) for text, _ in labelled]
    elapsed = time.perf_counter() - started

    per_type: dict[str, dict[str, float | int]] = {}
    total_tp = total_fp = total_fn = 0
    pairs = [(gold, guess) for (_, gold), guess in zip(labelled, predicted, strict=True)]
    for need_type in NeedType:
        tp = sum(1 for gold, guess in pairs if need_type in gold and need_type in guess)
        fp = sum(1 for gold, guess in pairs if need_type not in gold and need_type in guess)
        fn = sum(1 for gold, guess in pairs if need_type in gold and need_type not in guess)
        precision, recall, f1 = _prf(tp, fp, fn)
        per_type[need_type.value] = {"precision": precision, "recall": recall, "f1": f1, "support": tp + fn}
        total_tp, total_fp, total_fn = total_tp + tp, total_fp + fp, total_fn + fn

    exact = sum(1 for gold, guess in pairs if gold == guess)
    return {
        "per_type": per_type,
        "macro_f1": _round(sum(float(scores["f1"]) for scores in per_type.values()) / len(per_type)),
        "micro_f1": _prf(total_tp, total_fp, total_fn)[2],
        "exact_match": _round(exact / len(labelled)) if labelled else 0.0,
        "per_second": round(len(labelled) / elapsed, 1) if elapsed > 0 else 0.0,
        "items": len(labelled),
        "classifier_version": classifier.version,
    }


def load_labelled_jsonl(path: Path) -> list[LabelledItem]:
    """Read lines of {"text": ..., "labels": [...]}; ["other"] means no type."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                items.append(_parse_line(line, number, path))
    return items


def format_table(result: dict[str, object]) -> str:
    """Render an evaluation result as a plain-text table."""
    per_type = result["per_type"]
    assert isinstance(per_type, dict)
    lines = [f"{'type':<20}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for name, scores in per_type.items():
        lines.append(
            f"{name:<20}{scores['precision']:>10.3f}{scores['recall']:>10.3f}{scores['f1']:>10.3f}{scores['support']:>9}"
        )
    lines.append("")
    for key in ("macro_f1", "micro_f1", "exact_match", "per_second", "items", "classifier_version"):
        lines.append(f"{key:<20}{result[key]}")
    return "\n".join(lines)


def _parse_line(line: str, number: int, path: Path) -> LabelledItem:
    where = f"{path}:{number}"
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"{where}: not valid JSON ({error.msg})") from error
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object with 'text' and 'labels'")
    text, labels = record.get("text"), record.get("labels")
    if not isinstance(text, str):
        raise ValueError(f"{where}: 'text' must be a string")
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise ValueError(f"{where}: 'labels' must be a non-empty list of strings")
    if labels == [OTHER_LABEL]:
        return text, frozenset()
    if OTHER_LABEL in labels:
        raise ValueError(f"{where}: '{OTHER_LABEL}' cannot be combined with need types")
    known = {need_type.value for need_type in NeedType}
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise ValueError(f"{where}: unknown label(s) {unknown}; use {sorted(known)} or ['{OTHER_LABEL}']")
    return text, frozenset(NeedType(label) for label in labels)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return _round(precision), _round(recall), _round(f1)


def _round(value: float) -> float:
    return round(value, 4)
