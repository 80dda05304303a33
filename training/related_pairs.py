"""The data the related-needs matching is weighted by and measured on.

    python -m training.related_pairs pairs   # training/data/related_reports.jsonl -> related_pairs.jsonl
    python -m training.related_pairs grams   # training/data/real/train.jsonl -> routing's 4-gram frequencies

``grams`` counts, for every 4-gram of the real-text training split (normalised as routing does)
held by at least ``MIN_DOCUMENTS`` texts, how many texts hold it: routing weighs a 4-gram by how
rare it is in real labour text. The
pairs are never counted, so the weights know nothing of the texts they are measured on.

training/data/related_reports.jsonl holds one report a line, ``{"incident", "type",
"province_code", "language", "source", "text"}``: a short excerpt of a public page (its
address in ``source``) about one workplace's problem, found with the stored-pages search. Two
reports of one ``incident`` come from different pages (mostly different outlets) about the same
workplace and event: the same factory's closure, the same raid, the same unpaid-wages case. A
report of its own incident is another workplace of a type and province that others have.

A related pair is two reports of one incident in one language (a lexical matcher cannot see
that an English and a Thai report agree), at most ``MAX_PAIRS_PER_INCIDENT`` per incident so one
much-reported story does not dominate. Unrelated pairs are hard ones: two reports of different
incidents with the same type and language, of the same province first, then of other provinces,
as many as there are related pairs in the half. Incidents are split into two halves (``choose``,
``report``) with about as many related pairs each, and every pair lies within one half, so the
threshold chosen on one half is reported on incidents and pages it never saw. The same reports
always give the same pairs.
"""

import argparse
import hashlib
import itertools
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.routing.domain.related_needs import GRAM_FREQUENCIES, GRAM_SIZE, letters
from services.routing.domain.related_pairs import PAIRS, SPLITS

DATA = Path(__file__).resolve().parent / "data"
REPORTS = DATA / "related_reports.jsonl"
CORPUS = DATA / "real" / "train.jsonl"
MAX_PAIRS_PER_INCIDENT = 15
# How often one report may be one side of an unrelated pair: enough partners for every half,
# not so many that one text decides the false-positive rate.
MAX_UNRELATED_PER_REPORT = 6
MIN_DOCUMENTS = 2


@dataclass(frozen=True, slots=True)
class Report:
    """One excerpt of a public page about one incident."""

    incident: str
    type: str
    province_code: str
    language: str
    source: str
    text: str


@dataclass(frozen=True, slots=True)
class Pair:
    """Two reports, whether they are about the same incident, and the half they belong to."""

    first: Report
    second: Report
    related: bool
    split: str

    def as_json(self) -> dict[str, object]:
        """The line the pair file holds."""
        return {
            "type": self.first.type,
            "related": self.related,
            "text_a": self.first.text,
            "source_a": self.first.source,
            "text_b": self.second.text,
            "source_b": self.second.source,
            "province_a": self.first.province_code,
            "province_b": self.second.province_code,
            "incident_a": self.first.incident,
            "incident_b": self.second.incident,
            "split": self.split,
        }


def load_reports(path: Path) -> list[Report]:
    """Every report of the file, each page once."""
    reports = [Report(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    sources = [report.source for report in reports]
    if len(set(sources)) != len(sources):
        raise ValueError(f"{path}: a source appears twice; each page is one report")
    return reports


def _order(*keys: str) -> str:
    # A fixed order that does not follow the file's: the same pairs on any machine and any edit order.
    return hashlib.sha256("\x00".join(keys).encode()).hexdigest()


def related_pairs(reports: Sequence[Report]) -> dict[str, list[tuple[Report, Report]]]:
    """The related pairs of each incident: reports in one language, at most ``MAX_PAIRS_PER_INCIDENT``."""
    by_incident: dict[str, list[Report]] = defaultdict(list)
    for report in reports:
        by_incident[report.incident].append(report)
    pairs = {}
    for incident, members in by_incident.items():
        same_language = [(a, b) for a, b in itertools.combinations(members, 2) if a.language == b.language]
        same_language.sort(key=lambda pair: _order(pair[0].source, pair[1].source))
        pairs[incident] = same_language[:MAX_PAIRS_PER_INCIDENT]
    return pairs


def halves(reports: Sequence[Report], related: dict[str, list[tuple[Report, Report]]]) -> dict[str, str]:
    """Each incident's half: the largest first, each to the half with fewer related pairs so far.

    Incidents with no related pair (single reports) alternate within their (type, province,
    language), so both halves get unrelated partners of each kind.
    """
    split_of: dict[str, str] = {}
    counts = dict.fromkeys(SPLITS, 0)
    for incident in sorted((i for i in related if related[i]), key=lambda i: (-len(related[i]), _order(i))):
        half = min(SPLITS, key=lambda split: (counts[split], SPLITS.index(split)))
        split_of[incident] = half
        counts[half] += len(related[incident])
    singles: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for report in reports:
        if report.incident not in split_of and report.incident not in singles[_kind(report)]:
            singles[_kind(report)].append(report.incident)
    for incidents in singles.values():
        for index, incident in enumerate(sorted(incidents, key=_order)):
            split_of[incident] = SPLITS[index % 2]
    return split_of


def _kind(report: Report) -> tuple[str, str, str]:
    return report.type, report.province_code, report.language


def unrelated_pairs(reports: Sequence[Report], *, wanted: int) -> list[tuple[Report, Report]]:
    """``wanted`` pairs of reports of different incidents, same type and language; same province first."""
    candidates = [
        (a, b)
        for a, b in itertools.combinations(reports, 2)
        if a.incident != b.incident and a.type == b.type and a.language == b.language
    ]
    candidates.sort(
        key=lambda pair: (pair[0].province_code != pair[1].province_code, _order(pair[0].source, pair[1].source))
    )
    uses: dict[str, int] = defaultdict(int)
    chosen: list[tuple[Report, Report]] = []
    for a, b in candidates:
        if len(chosen) == wanted:
            break
        if uses[a.source] < MAX_UNRELATED_PER_REPORT and uses[b.source] < MAX_UNRELATED_PER_REPORT:
            chosen.append((a, b))
            uses[a.source] += 1
            uses[b.source] += 1
    return chosen


def build(reports: Sequence[Report]) -> list[Pair]:
    """The labelled pairs of both halves."""
    related = related_pairs(reports)
    split_of = halves(reports, related)
    pairs = []
    for split in SPLITS:
        members = [report for report in reports if split_of[report.incident] == split]
        positives = [pair for incident, found in related.items() if split_of[incident] == split for pair in found]
        pairs += [Pair(a, b, True, split) for a, b in positives]
        pairs += [Pair(a, b, False, split) for a, b in unrelated_pairs(members, wanted=len(positives))]
    return pairs


def _summary(pairs: Iterable[Pair]) -> str:
    lines = []
    listed = list(pairs)
    for split in SPLITS:
        in_half = [pair for pair in listed if pair.split == split]
        related = sum(pair.related for pair in in_half)
        same_province = sum(
            not pair.related and pair.first.province_code == pair.second.province_code for pair in in_half
        )
        lines.append(
            f"{split}: {len(in_half)} pairs, {related} related, {len(in_half) - related} unrelated"
            f" ({same_province} of them in one province)"
        )
    return "\n".join(lines)


def gram_frequencies(texts: Iterable[str]) -> tuple[int, dict[str, int]]:
    """How many texts there are, and how many of them hold each 4-gram, as routing reads it."""
    held: Counter[str] = Counter()
    documents = 0
    for text in texts:
        normalised = letters(text)
        held.update({normalised[start : start + GRAM_SIZE] for start in range(len(normalised) - GRAM_SIZE + 1)})
        documents += 1
    # A 4-gram of one text is as rare as an unseen one to routing, and leaving them out keeps the
    # table routing looks every 4-gram up in small enough to stay in the processor's caches.
    return documents, {gram: count for gram, count in sorted(held.items()) if count >= MIN_DOCUMENTS}


def main(arguments: Sequence[str]) -> int:
    """Write the pair file from the reports, or routing's 4-gram frequencies from the corpus."""
    parser = argparse.ArgumentParser(prog="python -m training.related_pairs")
    commands = parser.add_subparsers(dest="command", required=True)
    pairs_command = commands.add_parser("pairs", help="the labelled pairs from the reports")
    pairs_command.add_argument("--reports", type=Path, default=REPORTS)
    pairs_command.add_argument("--out", type=Path, default=PAIRS)
    grams_command = commands.add_parser("grams", help="routing's 4-gram frequencies from the real-text corpus")
    grams_command.add_argument("--corpus", type=Path, default=CORPUS)
    grams_command.add_argument("--out", type=Path, default=GRAM_FREQUENCIES)
    options = parser.parse_args(arguments)
    if options.command == "grams":
        lines = options.corpus.read_text(encoding="utf-8").splitlines()
        documents, held = gram_frequencies(json.loads(line)["text"] for line in lines if line.strip())
        table = {"documents": documents, "documents_with": held}
        options.out.write_text(json.dumps(table, ensure_ascii=False, separators=(",", ":")) + "\n", "utf-8")
        sys.stdout.write(f"{options.out}: {len(held)} 4-grams of {documents} texts\n")
        return 0
    pairs = build(load_reports(options.reports))
    options.out.write_text("".join(json.dumps(pair.as_json(), ensure_ascii=False) + "\n" for pair in pairs), "utf-8")
    sys.stdout.write(f"{options.out}: {len(pairs)} pairs\n{_summary(pairs)}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
