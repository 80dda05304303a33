"""The shipped model on real text: the frozen gate set of unseen sites, and other languages."""

import json

import pytest

from services.screening.domain.classifier import Classifier
from services.screening.domain.evaluation import evaluate, load_labelled_records
from training.corpus import OTHER_LANGUAGES
from training.examples import (
    REAL_GATE_SET,
    REAL_OTHER_LANGUAGES,
    REAL_TRAINING_ADDED,
    REAL_TRAINING_MORE,
    REAL_TRAINING_SET,
)

pytestmark = pytest.mark.unit

# Issue 13's targets. Never lowered to fit the model: the gate measures it.
GATE_MACRO_F1 = 0.93
GATE_EXACT_MATCH = 0.88
GATE_TYPE_RECALL = 0.88
GATE_TYPE_PRECISION = 0.90
REAL_TRAINING_FILES = (REAL_TRAINING_SET, REAL_TRAINING_ADDED, REAL_TRAINING_MORE)


def test_gate_is_large_and_from_sites_training_never_saw() -> None:
    gate = load_labelled_records(REAL_GATE_SET)
    train = [record for path in REAL_TRAINING_FILES for record in load_labelled_records(path)]
    assert len(gate) >= 400
    assert {record.site for record in gate}.isdisjoint(record.site for record in train)
    assert all(record.source for record in gate)
    assert all(record.source for record in train)


# A passage this long in common means the same text published twice (a syndicated story).
SHARED_PASSAGE = 40


def _passages(text: str) -> set[str]:
    flat = " ".join(text.split())
    return {flat[start : start + SHARED_PASSAGE] for start in range(max(len(flat) - SHARED_PASSAGE + 1, 1))}


def test_snippets_added_after_the_gate_share_no_passage_with_it() -> None:
    gate = set().union(*(_passages(record.text) for record in load_labelled_records(REAL_GATE_SET)))
    added = load_labelled_records(REAL_TRAINING_ADDED) + load_labelled_records(REAL_TRAINING_MORE)
    assert [record.text[:60] for record in added if not _passages(record.text).isdisjoint(gate)] == []


def test_snippets_added_after_the_gate_keep_both_labellings_and_why_they_were_resolved() -> None:
    lines = [json.loads(line) for line in REAL_TRAINING_ADDED.read_text(encoding="utf-8").splitlines()]
    assert lines
    for line in lines:
        agreed = line["first_labels"] == line["second_labels"]
        assert (agreed and "resolution" not in line and line["labels"] == line["first_labels"]) or (
            not agreed and line["resolution"]
        ), line["text"][:60]


# Open, and measured honestly: the shipped model is far from the targets on real text (see the
# README, "Screening's model"), and two independent labellers agree on only 85% of such lines.
# Strict: the day the model meets them, this test fails until the mark is removed.
@pytest.mark.xfail(strict=True, reason="issue 13: the shipped model does not reach the gate targets yet")
def test_shipped_model_passes_the_gate(classifier: Classifier) -> None:
    records = load_labelled_records(REAL_GATE_SET)
    result = evaluate(classifier, [(record.text, record.labels) for record in records])
    per_type = result["per_type"]
    assert isinstance(per_type, dict)
    missed = [f"macro_f1 {result['macro_f1']}"] if result["macro_f1"] < GATE_MACRO_F1 else []  # type: ignore[operator]
    if result["exact_match"] < GATE_EXACT_MATCH:  # type: ignore[operator]
        missed.append(f"exact_match {result['exact_match']}")
    for name, figures in per_type.items():
        if figures["recall"] < GATE_TYPE_RECALL or figures["precision"] < GATE_TYPE_PRECISION:
            missed.append(f"{name} precision {figures['precision']} recall {figures['recall']}")
    assert missed == []


# What the shipped model scored on the gate when it was shipped: a model that scores lower on any
# of these must not ship (as `models promote` refuses such a candidate).
SHIPPED_GATE_MACRO_F1 = 0.821
SHIPPED_GATE_RECALL = {"jobs": 0.712, "skills": 0.818, "ss40": 0.783, "unfair_labour": 0.719,
                       "migrant_labour": 0.904, "drugs_workplace": 0.66}  # fmt: skip


def test_shipped_model_is_no_worse_on_the_gate_than_when_it_shipped(classifier: Classifier) -> None:
    records = load_labelled_records(REAL_GATE_SET)
    result = evaluate(classifier, [(record.text, record.labels) for record in records])
    per_type = result["per_type"]
    assert isinstance(per_type, dict)
    assert result["macro_f1"] >= SHIPPED_GATE_MACRO_F1  # type: ignore[operator]
    assert {name: per_type[name]["recall"] >= floor for name, floor in SHIPPED_GATE_RECALL.items()} == dict.fromkeys(
        SHIPPED_GATE_RECALL, True
    )


def test_other_languages_go_to_manual_screening_with_the_language_named(classifier: Classifier) -> None:
    lines = [json.loads(line) for line in REAL_OTHER_LANGUAGES.read_text(encoding="utf-8").splitlines()]
    assert {line["lang"] for line in lines} == set(OTHER_LANGUAGES)
    wrong = [
        (line["lang"], result.manual_reason, line["text"][:60])
        for line in lines
        if (result := classifier.classify(line["text"])).types
        or result.manual_reason != f"unsupported_language:{line['lang']}"
    ]
    assert wrong == []
