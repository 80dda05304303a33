"""Scoring the classifier against labelled descriptions (precision, recall, F1, speed)."""

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from services.screening.domain.classifier import Classifier
from shared.contracts.need_types import NeedType

# In labelled files, "other" marks a description that fits none of the need types.
OTHER_LABEL = "other"

LabelledItem = tuple[str, frozenset[NeedType]]
NO_SOURCE = "(no source)"


@dataclass(frozen=True, slots=True)
class LabelledRecord:
    """One line of a labelled file: the text, its true types, and where it was taken from."""

    text: str
    labels: frozenset[NeedType]
    source: str | None = None

    @property
    def site(self) -> str:
        """The source page's site (host without "www."), or NO_SOURCE."""
        return source_site(self.source) if self.source else NO_SOURCE


# Second-level suffixes under which an organisation registers its own name (mol.go.th).
_SHARED_SUFFIXES = frozenset(
    {
        "co.th",
        "go.th",
        "or.th",
        "ac.th",
        "in.th",
        "net.th",
        "co.uk",
        "org.uk",
        "com.mm",
        "gov.mm",
        "org.mm",
        "com.kh",
        "gov.kh",
        "org.kh",
        "com.la",
        "gov.la",
    }
)


def source_site(source: str) -> str:
    """Return the site of a page address: its registered domain (th.example.com -> example.com)."""
    host = (urlsplit(source).hostname or source).lower()
    labels = host.split(".")
    if all(label.isdigit() for label in labels):  # an IP address is a site of its own
        return host
    keep = 3 if ".".join(labels[-2:]) in _SHARED_SUFFIXES else 2
    return ".".join(labels[-keep:])


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


class InvalidLabelledLine(ValueError):
    """A line of a labelled JSONL file that is not {"text": ..., "labels": [...]}; says which and why."""


def load_labelled_jsonl(path: Path) -> list[LabelledItem]:
    """Read lines of {"text": ..., "labels": [...]}; ["other"] means no type."""
    return [(record.text, record.labels) for record in load_labelled_records(path)]


def load_labelled_records(path: Path) -> list[LabelledRecord]:
    """Read lines of {"text", "labels"} with an optional "source" (the page's address)."""
    return parse_labelled_records(path.read_text(encoding="utf-8"), path)


def parse_labelled_records(text: str, path: Path) -> list[LabelledRecord]:
    """The labelled records of a JSONL text read from ``path`` (named in errors with the line)."""
    # Split on newlines only: JSON strings may hold U+2028 and the like, which splitlines() breaks on.
    lines = enumerate(text.split("\n"), start=1)
    return [parse_labelled_line(line, f"{path}:{number}") for number, line in lines if line.strip()]


def evaluate_by_source(classifier: Classifier, records: Sequence[LabelledRecord]) -> dict[str, dict[str, object]]:
    """Score the classifier on each source site's items separately, largest site first."""
    by_site: dict[str, list[LabelledItem]] = {}
    for record in records:
        by_site.setdefault(record.site, []).append((record.text, record.labels))
    ordered = sorted(by_site.items(), key=lambda pair: (-len(pair[1]), pair[0]))
    return {site: evaluate(classifier, items) for site, items in ordered}


def format_by_source(results: dict[str, dict[str, object]]) -> str:
    """Render per-site results: one line per site with its items, exact match and each type's F1.

    A site's macro-F1 averages only the types it has items of ("-" marks the others): a type a
    site never mentions would otherwise count as an F1 of 0.
    """
    names = [need_type.value for need_type in NeedType]
    header = f"{'site':<32}{'items':>6}{'macro_f1':>9}{'exact':>7}" + "".join(f"{name[:9]:>10}" for name in names)
    lines = [header]
    for site, result in results.items():
        per_type = result["per_type"]
        assert isinstance(per_type, dict)
        seen = [float(per_type[name]["f1"]) for name in names if per_type[name]["support"]]
        macro = f"{sum(seen) / len(seen):>9.3f}" if seen else f"{'-':>9}"
        cells = "".join(
            f"{per_type[name]['f1']:>10.3f}" if per_type[name]["support"] else f"{'-':>10}" for name in names
        )
        lines.append(f"{site[:31]:<32}{result['items']:>6}{macro}{result['exact_match']:>7.3f}{cells}")
    return "\n".join(lines)


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


def parse_labelled_line(line: str, where: str) -> LabelledRecord:
    """Parse one labelled JSONL line; `where` (file:line) starts every error message."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        raise InvalidLabelledLine(f"{where}: not valid JSON ({error.msg})") from error
    if not isinstance(record, dict):
        raise InvalidLabelledLine(f"{where}: expected a JSON object with 'text' and 'labels'")
    text, labels, source = record.get("text"), record.get("labels"), record.get("source")
    if not isinstance(text, str):
        raise InvalidLabelledLine(f"{where}: 'text' must be a string")
    if source is not None and not isinstance(source, str):
        raise InvalidLabelledLine(f"{where}: 'source' must be a string (the page's address) when present")
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise InvalidLabelledLine(f"{where}: 'labels' must be a non-empty list of strings")
    if labels == [OTHER_LABEL]:
        return LabelledRecord(text, frozenset(), source)
    if OTHER_LABEL in labels:
        raise InvalidLabelledLine(f"{where}: '{OTHER_LABEL}' cannot be combined with need types")
    known = {need_type.value for need_type in NeedType}
    unknown = [label for label in labels if label not in known]
    if unknown:
        raise InvalidLabelledLine(f"{where}: unknown label(s) {unknown}; use {sorted(known)} or ['{OTHER_LABEL}']")
    return LabelledRecord(text, frozenset(NeedType(label) for label in labels), source)


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return _round(precision), _round(recall), _round(f1)


def _round(value: float) -> float:
    return round(value, 4)
