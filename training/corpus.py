"""Splitting the collected real-text corpus into a training split and a frozen gate set.

    python -m training.corpus split RAW.jsonl... --out-dir training/data/real

Raw lines are {"text", "labels", "source", "lang"}. Duplicates are dropped; Burmese, Khmer
and Lao lines (by "lang" or by script) go to other_languages.jsonl; the rest is split BY
SOURCE SITE: sites are taken in the order of a hash of their name, and the first ones, up
to the gate's size and until every type is represented, form gate.jsonl; no training item
comes from a gate site. The same raw files always give the same split.

With --second-labels FILE (lines {"text", "labels"} from a second person who labelled the same
texts without seeing the first labels), only the lines both labelled alike are split; the
others go to disagreed.jsonl with both labellings, and summary.json gives the agreement. What
two careful readers do not agree on cannot be a fair measure of a classifier.
"""

import argparse
import hashlib
import json
import pathlib
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.screening.domain.evaluation import OTHER_LABEL, LabelledRecord, parse_labelled_line, source_site
from services.screening.domain.normalise import normalise
from shared.contracts.need_types import NeedType

OTHER_LANGUAGES = frozenset({"my", "km", "lo"})
_THAI_FIRST, _THAI_LAST = 0x0E01, 0x0E5B
_SCRIPTS = {"my": (0x1000, 0x109F), "km": (0x1780, 0x17FF), "lo": (0x0E80, 0x0EFF)}
# A line is in another language when this share of its letters is Burmese, Khmer or Lao.
_OTHER_SCRIPT_SHARE = 0.4
GATE_MIN_ITEMS = 400
# The gate holds at least this many items of every type, so each type's recall means something.
GATE_MIN_PER_TYPE = 25
# A site bigger than this share of the gate's size stays in training: one writer must not
# dominate the measure of how screening carries over to new writers.
GATE_MAX_SITE_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class RawLine:
    """One collected snippet: its labelled record, its site and its language."""

    record: LabelledRecord
    site: str
    lang: str


@dataclass(frozen=True, slots=True)
class Split:
    """The three sets written by `split`."""

    train: list[RawLine]
    gate: list[RawLine]
    other_languages: list[RawLine]
    duplicates: int
    # Lines the second labeller labelled otherwise, with the second labels ("unclear" included).
    disagreed: list[tuple[RawLine, list[str]]]
    second_labelled: bool


def read_raw(paths: Iterable[pathlib.Path]) -> list[RawLine]:
    """Read raw corpus files; every line needs text, labels and a source page address."""
    lines = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                record = parse_labelled_line(line, where)
                if not record.source:
                    raise ValueError(f"{where}: 'source' (the page's address) is required in the corpus")
                lang = json.loads(line).get("lang")
                if lang is not None and not isinstance(lang, str):
                    raise ValueError(f"{where}: 'lang' must be a language code such as 'th'")
                lines.append(RawLine(record, source_site(record.source), lang or _script_language(record.text)))
    return lines


def read_second_labels(path: pathlib.Path) -> dict[str, list[str]]:
    """A second labelling: text -> its labels (need types, "other", or "unclear")."""
    labels: dict[str, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                record = json.loads(line)
                if not isinstance(record.get("text"), str) or not isinstance(record.get("labels"), list):
                    raise ValueError(f"{path}:{number}: expected {{'text': str, 'labels': [str, ...]}}")
                labels[record["text"]] = sorted(record["labels"])
    return labels


def split(
    lines: Sequence[RawLine],
    gate_min: int = GATE_MIN_ITEMS,
    per_type: int = GATE_MIN_PER_TYPE,
    second_labels: Mapping[str, Sequence[str]] | None = None,
) -> Split:
    """Drop duplicates, set other languages and disagreed labels apart, and split the rest by site."""
    seen: set[str] = set()
    unique = []
    for line in lines:
        key = " ".join(normalise(line.record.text).split())
        if key not in seen:
            seen.add(key)
            unique.append(line)
    other = [line for line in unique if _other_language(line)]
    screened = [line for line in unique if not _other_language(line)]
    disagreed: list[tuple[RawLine, list[str]]] = []
    if second_labels is not None:
        agreed = []
        for line in screened:
            second = sorted(second_labels.get(line.record.text, ["unlabelled"]))
            if second == _as_json(line)["labels"]:
                agreed.append(line)
            else:
                disagreed.append((line, second))
        screened = agreed
    by_site: dict[str, list[RawLine]] = {}
    for line in screened:
        by_site.setdefault(line.site, []).append(line)
    largest_site = max(int(gate_min * GATE_MAX_SITE_SHARE), 1)
    gate: list[RawLine] = []
    train: list[RawLine] = []
    for site in sorted(by_site, key=_site_order):
        items = by_site[site]
        if _gate_complete(gate, gate_min, per_type) or len(items) > largest_site:
            train.extend(items)
        else:
            gate.extend(items)
    if not _gate_complete(gate, gate_min, per_type):
        counts = _type_counts(gate)
        raise ValueError(
            f"not enough sites for a gate of {gate_min} items with {per_type} of each type:"
            f" got {len(gate)} items, {dict(counts)}"
        )
    return Split(train, gate, other, len(lines) - len(unique), disagreed, second_labels is not None)


def write_split(result: Split, out_dir: pathlib.Path) -> dict[str, object]:
    """Write train.jsonl, gate.jsonl, other_languages.jsonl and summary.json; return the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, lines in (("train", result.train), ("gate", result.gate), ("other_languages", result.other_languages)):
        text = "".join(json.dumps(_as_json(line), ensure_ascii=False) + "\n" for line in lines)
        (out_dir / f"{name}.jsonl").write_text(text, encoding="utf-8")
    if result.second_labelled:
        disagreed = "".join(
            json.dumps({**_as_json(line), "second_labels": second}, ensure_ascii=False) + "\n"
            for line, second in result.disagreed
        )
        (out_dir / "disagreed.jsonl").write_text(disagreed, encoding="utf-8")
    labelled_twice = len(result.train) + len(result.gate) + len(result.disagreed)
    summary: dict[str, object] = {"duplicates_dropped": result.duplicates}
    if result.second_labelled:
        summary["second_labelling"] = {
            "lines": labelled_twice,
            "agreed": labelled_twice - len(result.disagreed),
            "exact_agreement": round(1 - len(result.disagreed) / labelled_twice, 3) if labelled_twice else None,
        }
    summary |= {
        "train": {"items": len(result.train), "sites": len({line.site for line in result.train})},
        "gate": {"items": len(result.gate), "sites": len({line.site for line in result.gate})},
        "other_languages": dict(Counter(line.lang for line in result.other_languages)),
        "train_types": dict(_type_counts(result.train)),
        "gate_types": dict(_type_counts(result.gate)),
        "gate_items_per_site": dict(Counter(line.site for line in result.gate).most_common()),
    }
    (out_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return summary


def _site_order(site: str) -> str:
    return hashlib.sha256(site.encode("utf-8")).hexdigest()


def _gate_complete(gate: Sequence[RawLine], gate_min: int, per_type: int) -> bool:
    counts = _type_counts(gate)
    return len(gate) >= gate_min and all(counts[need_type.value] >= per_type for need_type in NeedType)


def _type_counts(lines: Iterable[RawLine]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in lines:
        counts.update(sorted(label.value for label in line.record.labels) or [OTHER_LABEL])
    return counts


def _other_language(line: RawLine) -> bool:
    return line.lang in OTHER_LANGUAGES or _script_language(line.record.text) in OTHER_LANGUAGES


def _script_language(text: str) -> str:
    """Return my, km or lo when that script holds enough of the letters; else th (any Thai) or en."""
    letters = [ord(char) for char in text if char.isalpha()]
    for code, (first, last) in _SCRIPTS.items():
        if letters and sum(1 for point in letters if first <= point <= last) / len(letters) >= _OTHER_SCRIPT_SHARE:
            return code
    return "th" if any(_THAI_FIRST <= point <= _THAI_LAST for point in letters) else "en"


def _as_json(line: RawLine) -> dict[str, object]:
    labels = sorted(label.value for label in line.record.labels) or [OTHER_LABEL]
    return {"text": line.record.text, "labels": labels, "source": line.record.source, "lang": line.lang}


def main(arguments: Sequence[str]) -> int:
    """Command line: split RAW... --out-dir DIR."""
    parser = argparse.ArgumentParser(prog="python -m training.corpus")
    commands = parser.add_subparsers(dest="command", required=True)
    splitting = commands.add_parser("split", help="dedupe, set other languages apart, split by site")
    splitting.add_argument("raw", nargs="+", type=pathlib.Path)
    splitting.add_argument("--out-dir", type=pathlib.Path, required=True)
    splitting.add_argument("--gate-min", type=int, default=GATE_MIN_ITEMS, help="least items in the gate")
    splitting.add_argument("--per-type", type=int, default=GATE_MIN_PER_TYPE, help="least gate items of each type")
    splitting.add_argument(
        "--second-labels", type=pathlib.Path, help="an independent second labelling: split only what both agree on"
    )
    args = parser.parse_args(arguments)
    try:
        second = read_second_labels(args.second_labels) if args.second_labels else None
        result = split(read_raw(args.raw), args.gate_min, args.per_type, second)
    except (OSError, ValueError) as error:
        sys.stderr.write(f"training.corpus: {error}\n")
        return 2
    summary = write_split(result, args.out_dir)
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
