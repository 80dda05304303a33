"""Unit tests of the evaluation helpers and of the classifier's scores on the development set."""

from pathlib import Path

import pytest

from services.screening.domain.classifier import Classifier
from services.screening.domain.evaluation import evaluate, format_table, load_labelled_jsonl
from shared.contracts.need_types import NeedType

DATA = Path(__file__).resolve().parents[2] / "data"

pytestmark = pytest.mark.unit


def test_development_set_meets_the_targets(classifier: Classifier) -> None:
    items = load_labelled_jsonl(DATA / "screening_dev.jsonl")
    assert len(items) >= 450
    result = evaluate(classifier, items)
    assert result["macro_f1"] >= 0.93  # type: ignore[operator]
    assert result["exact_match"] >= 0.85  # type: ignore[operator]


def test_result_has_the_agreed_shape(classifier: Classifier) -> None:
    items = [
        ("ตกงานมาสามเดือน อยากหางาน", frozenset({NeedType.JOBS})),
        ("ถนนเข้าหมู่บ้านเป็นหลุมเป็นบ่อ", frozenset[NeedType]()),
    ]
    result = evaluate(classifier, items)
    assert set(result) == {
        "per_type",
        "macro_f1",
        "micro_f1",
        "exact_match",
        "per_second",
        "items",
        "classifier_version",
    }
    per_type = result["per_type"]
    assert isinstance(per_type, dict)
    assert set(per_type) == {need_type.value for need_type in NeedType}
    assert per_type["jobs"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    # No support and no prediction: every score is defined as 0, not a division error.
    assert per_type["ss40"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert result["exact_match"] == 1.0
    assert result["items"] == 2
    assert result["classifier_version"] == classifier.version
    assert "macro_f1" in format_table(result)


def test_evaluating_nothing_does_not_divide_by_zero(classifier: Classifier) -> None:
    result = evaluate(classifier, [])
    assert result["macro_f1"] == 0.0
    assert result["exact_match"] == 0.0


def test_other_label_means_no_type() -> None:
    items = load_labelled_jsonl(DATA / "screening_dev.jsonl")
    assert any(labels == frozenset() for _, labels in items)


def test_a_bad_line_is_rejected_with_its_line_number() -> None:
    with pytest.raises(ValueError, match=r"screening_invalid\.jsonl:3: 'labels'"):
        load_labelled_jsonl(DATA / "screening_invalid.jsonl")
