"""Labelled examples to train on, and the sets the shipped model is trained on."""

import pathlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from services.screening.domain.evaluation import load_labelled_records, source_site
from shared.contracts.need_types import NeedType

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
# The team-written set the model has always been trained on; the blind sets stay regression tests.
TEAM_TRAINING_SET = REPO_ROOT / "tests" / "data" / "screening_dev.jsonl"
REAL_TEXT_DIR = pathlib.Path(__file__).resolve().parent / "data" / "real"
REAL_TRAINING_SET = REAL_TEXT_DIR / "train.jsonl"
# Snippets collected after the gate was frozen, only from sites the gate has none of, and
# with no passage in common with a gate snippet: trained on; the split is not re-run for them.
REAL_TRAINING_ADDED = REAL_TEXT_DIR / "train_after_gate.jsonl"
# A second such collection, under the same two rules, aimed at the types the gate found weakest
# (drugs in workplaces, jobs, unfair labour, ss40) and at their near-misses. Labelled once.
REAL_TRAINING_MORE = REAL_TEXT_DIR / "train_more.jsonl"
# Never trained or tuned on: it measures how screening carries over to sites it never saw.
REAL_GATE_SET = REAL_TEXT_DIR / "gate.jsonl"
REAL_OTHER_LANGUAGES = REAL_TEXT_DIR / "other_languages.jsonl"


@dataclass(frozen=True, slots=True)
class LabelledExample:
    """One text and its true need types (empty: none of them, "other")."""

    text: str
    labels: frozenset[NeedType]
    # The page's address: cross-validation keeps a site's items in one fold.
    source: str | None = None
    # Text the team wrote to match its own lexicon: trained on, but thresholds are chosen on
    # real text, where the rules alone are not near perfect.
    written_by_team: bool = False

    def group(self, index: int) -> str:
        """The cross-validation group: the source site, or the item alone."""
        return source_site(self.source) if self.source else f"item:{index}"


def read_examples(paths: Iterable[pathlib.Path]) -> list[LabelledExample]:
    """Read labelled JSONL files (the `needs-router eval` format), in order."""
    return [
        LabelledExample(record.text, record.labels, record.source, path.resolve() == TEAM_TRAINING_SET.resolve())
        for path in paths
        for record in load_labelled_records(path)
    ]


def shipped_training_sets(corrections: Sequence[pathlib.Path] = ()) -> list[pathlib.Path]:
    """The files the shipped model is trained on, plus any corrections files."""
    return [TEAM_TRAINING_SET, REAL_TRAINING_SET, REAL_TRAINING_ADDED, REAL_TRAINING_MORE, *corrections]


# A confirmed correction is a person's verdict on real wording; one copy among thousands of
# examples could be outvoted by them, so each one counts this many times.
CORRECTION_WEIGHT = 5


def training_examples(corrections: Sequence[pathlib.Path] = ()) -> list[LabelledExample]:
    """The shipped training sets plus every confirmed correction, each counted CORRECTION_WEIGHT times.

    A correction's copies share one cross-validation group, so no fold is scored on a copy of
    what it was fitted on.
    """
    corrected = [
        replace(example, source=f"correction:{index}") for index, example in enumerate(read_examples(corrections))
    ]
    return read_examples(shipped_training_sets()) + corrected * CORRECTION_WEIGHT
