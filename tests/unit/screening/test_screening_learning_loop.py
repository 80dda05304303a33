"""The learning loop's plain logic: the promotion gate, shadow comparison, model files and their versions."""

import json
from pathlib import Path

import pytest

from services.screening.domain.classifier import Classification, Classifier, TypeAssessment
from services.screening.domain.gate import gate_regressions
from services.screening.domain.model import DEFAULT_MODEL_PATH, ModelError
from services.screening.domain.shadow import ShadowDisagreement, compare
from shared.contracts.need_types import NeedType
from training.examples import CORRECTION_WEIGHT, read_examples, shipped_training_sets, training_examples


def figures(macro_f1: float, **recalls: float) -> dict[str, object]:
    per_type = {need_type.value: {"recall": recalls.get(need_type.value, 1.0)} for need_type in NeedType}
    return {"macro_f1": macro_f1, "per_type": per_type}


def test_the_gate_lets_through_a_candidate_no_lower_on_any_figure() -> None:
    assert gate_regressions(figures(0.95), figures(0.95)) == []
    assert gate_regressions(figures(0.96, jobs=0.9), figures(0.95, jobs=0.9)) == []


def test_the_gate_names_every_figure_that_dropped() -> None:
    dropped = gate_regressions(figures(0.94, skills=0.8, ss40=0.5), figures(0.95, skills=0.85))
    assert dropped == ["macro_f1: 0.94 < 0.95", "recall of skills: 0.8 < 0.85", "recall of ss40: 0.5 < 1.0"]


def test_a_better_macro_f1_does_not_excuse_a_type_whose_recall_dropped() -> None:
    assert gate_regressions(figures(0.99, drugs_workplace=0.87), figures(0.9)) == [
        "recall of drugs_workplace: 0.87 < 1.0"
    ]


def classification(version: str, *types: NeedType) -> Classification:
    return Classification(tuple(TypeAssessment(t, 0.9, ()) for t in types), "th", None, (), version)


def test_shadow_disagrees_only_on_the_set_of_types() -> None:
    live = classification("live-1", NeedType.JOBS, NeedType.SKILLS)
    assert compare(live, classification("shadow-2", NeedType.SKILLS, NeedType.JOBS)) is None
    assert compare(classification("live-1"), classification("shadow-2", NeedType.SKILLS)) == ShadowDisagreement(
        "live-1", "shadow-2", (), ("skills",)
    )


def test_the_shipped_model_file_loads_from_its_bytes_as_the_packaged_classifier() -> None:
    from_bytes = Classifier.from_model_bytes(DEFAULT_MODEL_PATH.read_bytes())
    assert from_bytes.version == Classifier.load().version
    assert from_bytes.classify("ตกงานมา 3 เดือน อยากหางานทำ") == Classifier.load().classify("ตกงานมา 3 เดือน อยากหางานทำ")


@pytest.mark.parametrize(
    ("data", "problem"),
    [(b"\xff\xfe", "not JSON"), (b"[1, 2]", "must be a JSON object"), (b'{"types": []}', "format. must be")],
)
def test_a_bad_model_file_is_refused_with_what_is_wrong(data: bytes, problem: str) -> None:
    with pytest.raises(ModelError, match=problem):
        Classifier.from_model_bytes(data)


def test_confirmed_corrections_count_several_times_in_the_training_data(tmp_path: Path) -> None:
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text(json.dumps({"text": "อยากเรียนทำเล็บ", "labels": ["skills"]}, ensure_ascii=False) + "\n")
    examples = training_examples([corrections])
    copies = [example for example in examples if example.text == "อยากเรียนทำเล็บ"]
    assert [example.labels for example in copies] == [frozenset({NeedType.SKILLS})] * CORRECTION_WEIGHT
    assert len({example.group(index) for index, example in enumerate(examples) if example in copies}) == 1
    assert len(examples) - CORRECTION_WEIGHT == len(read_examples(shipped_training_sets()))
