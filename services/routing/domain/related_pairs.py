"""How well the related-needs matching does on labelled pairs of real text, and the threshold chosen from it.

training/data/related_pairs.jsonl (built by ``python -m training.related_pairs pairs``): one pair
a line, ``{"type", "related", "text_a", "source_a", "text_b", "source_b", ..., "split"}``;
``split`` is ``choose`` (the half the threshold is chosen on) or ``report`` (the half only
reported). ``needs-router related-pairs`` prints both.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from services.routing.domain.related_needs import features, letters, similarity

PAIRS = Path(__file__).resolve().parents[3] / "training" / "data" / "related_pairs.jsonl"
SPLITS = ("choose", "report")
# The precision a threshold must reach on the choose half: a wrong link merges two workplaces' cases.
REQUIRED_PRECISION = 0.9


@dataclass(frozen=True, slots=True)
class ScoredPair:
    """One labelled pair and how alike the matcher finds its texts."""

    related: bool
    split: str
    score: float


@dataclass(frozen=True, slots=True)
class Figures:
    """Precision and recall of ``score >= threshold`` on some pairs."""

    threshold: float
    pairs: int
    related: int
    true_positives: int
    false_positives: int

    @property
    def precision(self) -> float:
        """Of the pairs called related, the share that are (1.0 when none is called related)."""
        called = self.true_positives + self.false_positives
        return self.true_positives / called if called else 1.0

    @property
    def recall(self) -> float:
        """Of the related pairs, the share called related."""
        return self.true_positives / self.related if self.related else 0.0


def load_scored(path: Path = PAIRS) -> list[ScoredPair]:
    """Every pair of the file, scored by the matcher."""
    scored = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            pair = json.loads(line)
            score = similarity(features(letters(pair["text_a"])), features(letters(pair["text_b"])))
            scored.append(ScoredPair(related=bool(pair["related"]), split=pair["split"], score=score))
    return scored


def figures(pairs: Sequence[ScoredPair], threshold: float) -> Figures:
    """Precision and recall of calling pairs at or above ``threshold`` related."""
    called = [pair for pair in pairs if pair.score >= threshold]
    return Figures(
        threshold=threshold,
        pairs=len(pairs),
        related=sum(pair.related for pair in pairs),
        true_positives=sum(pair.related for pair in called),
        false_positives=sum(not pair.related for pair in called),
    )


def choose_threshold(pairs: Sequence[ScoredPair]) -> Figures | None:
    """The highest threshold with the best recall whose precision is at least ``REQUIRED_PRECISION``; None if none has.

    Only scores that occur are tried: between two of them precision and recall do not change.
    """
    reaching = [
        found
        for found in (figures(pairs, score) for score in sorted({pair.score for pair in pairs if pair.score > 0}))
        if found.precision >= REQUIRED_PRECISION and found.true_positives
    ]
    return max(reaching, key=lambda found: (found.recall, found.threshold), default=None)


def report(path: Path, threshold: float) -> str:
    """The figures at ``threshold`` on each half, and the threshold the choose half would pick."""
    scored = load_scored(path)
    lines = [f"{path}: {len(scored)} pairs, {sum(pair.related for pair in scored)} related"]
    for split in SPLITS:
        found = figures([pair for pair in scored if pair.split == split], threshold)
        lines.append(
            f"{split:>7}: threshold {threshold:.4f}  precision {found.precision:.3f}  recall {found.recall:.3f}"
            f"  ({found.true_positives} of {found.related} related pairs found, {found.false_positives} false,"
            f" {found.pairs} pairs)"
        )
    chosen = choose_threshold([pair for pair in scored if pair.split == "choose"])
    lines.append(
        f"chosen on 'choose' for precision >= {REQUIRED_PRECISION}: "
        + (f"{chosen.threshold:.4f} (recall {chosen.recall:.3f})" if chosen else "none reaches it")
    )
    return "\n".join(lines)
