"""Training: the features it fits on, the exported file, and what the runtime makes of it."""

import json
from pathlib import Path

import pytest

from services.screening.domain.classifier import Classifier
from services.screening.domain.model import MODEL_FORMAT, ModelSettings, model_from_bytes, model_to_bytes
from training.examples import TEAM_TRAINING_SET, LabelledExample, read_examples
from training.fit import TYPES, FitOptions, assess, export, fit
from training.selection import fold_of
from training.train import train, train_model

pytestmark = pytest.mark.unit

ONE_FIT = (FitOptions(c=20.0),)


@pytest.fixture(scope="module")
def examples() -> list[LabelledExample]:
    # Every fourth item of the team's set: all types, and quick to fit.
    return read_examples([TEAM_TRAINING_SET])[::4]


# With idf the factors are folded into the exported weights: the runtime must still agree.
@pytest.mark.parametrize("options", [FitOptions(), FitOptions(idf=True)], ids=["binary", "idf"])
def test_exported_model_scores_as_scikit_learn_does(examples: list[LabelledExample], options: FitOptions) -> None:
    assessed = assess(examples)
    texts = [item.normalised for item in assessed.rules]
    fitted = fit(texts, assessed.words, assessed.labels, options)
    model = model_from_bytes(
        model_to_bytes(export(fitted, ModelSettings(accept_probability=0.5, type_probabilities={})))
    )
    unseen = assess(read_examples([TEAM_TRAINING_SET])[1::40])
    unseen_texts = [item.normalised for item in unseen.rules]
    expected = fitted.probabilities(unseen_texts, unseen.words)
    assert len(unseen_texts) > 20
    for text, words, row in zip(unseen_texts, unseen.words, expected, strict=True):
        runtime = model.probabilities(text, words)
        assert [runtime[need_type] for need_type in TYPES] == pytest.approx(list(row), abs=1e-6)


def test_training_writes_one_model_file_the_classifier_loads(examples: list[LabelledExample]) -> None:
    data = train(examples, ONE_FIT).model
    assert data == train(examples, ONE_FIT).model  # same examples, same file
    parsed = json.loads(data)
    assert parsed["format"] == MODEL_FORMAT
    assert set(parsed["combine"]["type_probabilities"]) == {need_type.value for need_type in TYPES}
    classifier = Classifier.from_model_bytes(data)
    assert classifier.version.endswith("+" + parsed["version"])
    assert [item.type.value for item in classifier.classify("ตกงานมาสามเดือน อยากหางานทำ").types] == ["jobs"]


def test_a_type_without_examples_is_refused_by_name() -> None:
    examples = [LabelledExample("ตกงาน อยากหางาน", frozenset({TYPES[0]}))] * 3 + [LabelledExample("สวัสดี", frozenset())]
    with pytest.raises(ValueError, match="skills"):
        train_model(examples)


def test_folds_keep_a_site_together_and_do_not_move() -> None:
    assert fold_of("pantip.com", 5) == fold_of("pantip.com", 5)
    assert {fold_of(f"site{index}.example", 5) for index in range(50)} == set(range(5))
    example = LabelledExample("x", frozenset(), "https://th.pantip.com/topic/1")
    assert example.group(3) == "pantip.com"
    assert LabelledExample("x", frozenset()).group(3) == "item:3"


def test_the_team_set_is_marked_as_written_by_the_team(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text('{"text": "หางาน", "labels": ["jobs"], "source": "https://a.example/1"}\n', encoding="utf-8")
    team, other = read_examples([TEAM_TRAINING_SET])[0], read_examples([real])[0]
    assert team.written_by_team
    assert not other.written_by_team
    assert other.source == "https://a.example/1"
