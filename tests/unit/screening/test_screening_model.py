"""The statistical second opinion: the packaged model file, its scoring, and the rules' vetoes."""

import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from services.screening.domain.classifier import MODEL_EVIDENCE_PREFIX, Classifier
from services.screening.domain.lexicon import load_lexicon
from services.screening.domain.model import (
    DEFAULT_MODEL_PATH,
    MODEL_FORMAT,
    ModelError,
    features,
    load_model,
    model_from_bytes,
    model_from_json,
)
from shared.contracts.need_types import NeedType

pytestmark = pytest.mark.unit

_COMBINE = {
    "accept_probability": 0.9,
    "type_probabilities": {"jobs": 0.5},
    "support_probability": 1.01,
    "weak_confidence": 0.0,
    "drop_below": 0.0,
    "additional_probability": 1.01,
    "min_letters": 0,
}


def _model_json(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "format": MODEL_FORMAT,
        "version": "lr-test",
        "types": ["jobs", "skills"],
        "features": {"char_min_n": 2, "char_max_n": 2, "words": "newmm"},
        "combine": _COMBINE,
        "word_gate": {"add": {"jobs": 0.0, "skills": 0.0}, "drop": {}},
        "bias": [0.5, -0.5],
        "weights": {
            " a": [-3.96, 0.5],
            "ab": [2.0, -0.001],
            "b ": [-1.5, -2.5],
            "w:ab": [1.0, 0.0],
            "t:งาน": [0.25, 3.0],
        },
    }
    data.update(changes)
    return data


def test_packaged_model_is_one_small_self_contained_file() -> None:
    assert DEFAULT_MODEL_PATH.suffix == ".json"
    assert DEFAULT_MODEL_PATH.stat().st_size < 8_000_000
    data = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    assert data["format"] == MODEL_FORMAT
    assert set(data["combine"]["type_probabilities"]) == {need_type.value for need_type in NeedType}
    model = load_model()
    assert model.types == tuple(NeedType)
    assert model.version.startswith("lr-")
    # A nationality without a worker word, or a licence alone, stays the lexicon's near-miss.
    assert model.settings.support_for(NeedType.MIGRANT_LABOUR) > 1


def test_model_is_deterministic() -> None:
    text = "หลานสาวเรียนจบแล้ว ส่งใบสมัครไปหลายที่ยังเงียบ"
    first, second = load_model(), load_model()
    assert first.probabilities(text, ["หลาน"]) == second.probabilities(text, ["หลาน"])


def test_features_are_character_ngrams_latin_words_and_thai_words() -> None:
    found = features("ab 12", ["ab", " ", "12", "ตก", "งาน"], 2, 3)
    assert {" a", "ab", "b ", " ab", "ab ", "0 ", " 0 "} <= found
    assert {"w:ab", "t:ตก", "t:งาน"} <= found
    # Only Thai words become word features: Latin words are there already, spaces and digits mean nothing.
    assert not {"t:ab", "t: ", "t:12"} & found


def test_probabilities_add_every_known_feature_once_per_type() -> None:
    model = model_from_json(_model_json())
    # "ab" with the word งาน has five features (three bigrams of " ab ", the Latin word and
    # the Thai word); the sum is scaled by 1/sqrt(5).
    scale = 1 / math.sqrt(5)
    expected = [0.5 + (-3.96 + 2.0 - 1.5 + 1.0 + 0.25) * scale, -0.5 + (0.5 - 0.001 - 2.5 + 3.0) * scale]
    probabilities = model.probabilities("ab", ["งาน", "งาน"])
    assert list(probabilities) == [NeedType.JOBS, NeedType.SKILLS]
    assert list(probabilities.values()) == pytest.approx([1 / (1 + math.exp(-value)) for value in expected], abs=1e-9)


def test_words_are_cut_only_when_a_candidate_passes_its_gate_on_characters() -> None:
    cut: list[str] = []

    def words() -> list[str]:
        cut.append("cut")
        return ["งาน"]

    closed = model_from_json(_model_json(word_gate={"add": {"jobs": 0.99, "skills": 0.99}, "drop": {}}))
    assert closed.opinion("ab", words, [NeedType.JOBS, NeedType.SKILLS]) is None
    assert cut == []
    half_open = model_from_json(_model_json(word_gate={"add": {"jobs": 0.99, "skills": 0.0}, "drop": {"jobs": 0.0}}))
    assert half_open.opinion("ab", words, [NeedType.JOBS]) is None
    assert half_open.opinion("ab", words, [], [NeedType.JOBS]) is None  # sure enough on characters to keep it
    assert half_open.opinion("ab", words, [NeedType.JOBS, NeedType.SKILLS]) == half_open.probabilities("ab", ["งาน"])
    assert cut == ["cut"]


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (_model_json(bias=[0.0]), "bias"),
        (_model_json(format="ngram-1"), "format"),
        ({key: value for key, value in _model_json().items() if key != "combine"}, "combine"),
        (_model_json(types=["jobs", "cooking"]), "cooking"),
    ],
)
def test_malformed_model_is_rejected_naming_the_field(data: dict[str, object], named: str) -> None:
    with pytest.raises(ModelError, match=named):
        model_from_json(data)


def test_model_bytes_that_are_not_json_are_rejected() -> None:
    with pytest.raises(ModelError, match="not JSON"):
        model_from_bytes(b"\xff{")


def test_classifier_from_model_bytes_names_that_model() -> None:
    classifier = Classifier.from_model_bytes(json.dumps(_model_json()).encode())
    assert classifier.version == f"{load_lexicon().version}+lr-test"


def test_version_names_the_model(classifier: Classifier) -> None:
    assert classifier.version == f"{load_lexicon().version}+{load_model().version}"


def test_model_off_in_data_means_rules_only() -> None:
    rules_only = Classifier(replace(load_lexicon(), model_enabled=False))
    assert "+" not in rules_only.version


def test_services_never_import_the_training_libraries() -> None:
    code = (
        "import sys, services.cli, services.screening.app;"
        "from services.screening.domain.classifier import Classifier;"
        "Classifier.load().classify('ตกงานมาสามเดือน อยากหางานทำใกล้บ้าน');"
        "print(sorted(m for m in ('sklearn', 'numpy', 'scipy', 'training') if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_model_adds_a_paraphrase_without_keywords(classifier: Classifier) -> None:
    rules_only = Classifier(load_lexicon(), None)
    text = "ลูกชายจบ ปวส. มาครึ่งปีแล้ว ส่งใบสมัครไปทุกที่ก็เงียบ ยังหาที่ลงไม่ได้"
    combined = {item.type: item for item in classifier.classify(text).types}
    assert NeedType.JOBS in combined
    if NeedType.JOBS not in {item.type for item in rules_only.classify(text).types}:
        assert any(word.startswith(MODEL_EVIDENCE_PREFIX) for word in combined[NeedType.JOBS].evidence)


@pytest.mark.parametrize(
    ("text", "kept_out"),
    [
        ("ตำรวจบุกจับวัยรุ่นมั่วสุมเสพยาบ้าในหมู่บ้านเมื่อคืน", NeedType.DRUGS_WORKPLACE),
        ("ชาวบ้านแจ้งว่ามีบ้านในซอยเป็นแหล่งขายยาเสพติด ตำรวจจับผู้ต้องหาได้แล้ว", NeedType.DRUGS_WORKPLACE),
        ("เป็นพนักงานบริษัท จ่ายประกันสังคม ม.33 ทุกเดือน อยากถามสิทธิทำฟัน", NeedType.SS40),
        ("ลาออกแล้ว อยากส่งประกันสังคมต่อเองแบบมาตรา 39", NeedType.SS40),
        ("ไม่ได้อยากหางานนะคะ แค่อยากเรียนทำขนม", NeedType.JOBS),
    ],
)
def test_vetoes_hold_with_the_model(classifier: Classifier, text: str, kept_out: NeedType) -> None:
    assert kept_out not in {item.type for item in classifier.classify(text).types}


@pytest.mark.parametrize(
    "text",
    [
        "ကျွန်တော် အလုပ်ရှင်က လစာမပေးသေးဘူး ဘယ်မှာ တိုင်ရမလဲ",
        "ខ្ញុំចង់ដឹងពីរបៀបបន្តលិខិតអនុញ្ញាតការងារ",
        "ຂ້ອຍຢາກຊອກວຽກເຮັດຢູ່ໂຮງງານ",
    ],
)
def test_unsupported_scripts_stay_manual(classifier: Classifier, text: str) -> None:
    result = classifier.classify(text)
    assert result.types == ()
    assert result.manual_reason is not None
    assert result.manual_reason.startswith("unsupported_language:")


@pytest.mark.parametrize("text", ["ok", ".....", "   "])
def test_tiny_texts_stay_manual(classifier: Classifier, text: str) -> None:
    assert classifier.classify(text).types == ()


def _always_sure(type_supports: dict[str, float] | None = None) -> Classifier:
    """A model that finds every type very likely in any text: only the rules can stop it."""
    combine = {
        **_COMBINE,
        "accept_probability": 0.5,
        "type_probabilities": {},
        "additional_probability": 0.6,
        "type_supports": type_supports or {},
    }
    types = [need_type.value for need_type in NeedType]
    data = _model_json(
        types=types, combine=combine, bias=[5.0] * len(types), weights={}, word_gate={"add": {}, "drop": {}}
    )
    return Classifier.from_model_bytes(json.dumps(data).encode())


def test_an_overconfident_model_adds_types_the_rules_did_not_see() -> None:
    result = _always_sure().classify("ฝนตกหนักทั้งวัน ถนนหน้าบ้านน้ำท่วมขัง")
    assert {item.type for item in result.types} == set(NeedType)
    assert all(item.evidence[-1].startswith(MODEL_EVIDENCE_PREFIX) for item in result.types)


@pytest.mark.parametrize(
    ("text", "kept_out"),
    [
        ("ตำรวจบุกจับวัยรุ่นมั่วสุมเสพยาบ้าในหมู่บ้านเมื่อคืน", NeedType.DRUGS_WORKPLACE),
        ("เป็นพนักงานบริษัท จ่ายประกันสังคม ม.33 ทุกเดือน อยากถามสิทธิทำฟัน", NeedType.SS40),
        ("ไม่ได้อยากหางานนะคะ แค่อยากเรียนทำขนม", NeedType.JOBS),
    ],
)
def test_the_lexicon_vetoes_even_an_overconfident_model(text: str, kept_out: NeedType) -> None:
    assert kept_out not in {item.type for item in _always_sure().classify(text).types}
    # Vetoes are not weak words: they hold where the model may overrule the lexicon's weak words.
    anywhere = {need_type.value: 0.3 for need_type in NeedType}
    assert kept_out not in {item.type for item in _always_sure(anywhere).classify(text).types}


def test_a_type_the_rules_saw_weak_words_for_needs_its_own_support() -> None:
    settings = model_from_json(_model_json(combine={**_COMBINE, "type_supports": {"ss40": 0.4}})).settings
    assert settings.support_for(NeedType.SS40) == 0.4
    assert settings.support_for(NeedType.JOBS) == _COMBINE["support_probability"]
    # Model files written before supports were chosen per type still load.
    assert model_from_json(_model_json()).settings.type_supports == {}


def test_a_need_type_newer_than_the_model_is_decided_by_the_rules_alone() -> None:
    # A model trained before a type was added has no row for it; screening must not fail on it.
    newer = NeedType.UNFAIR_LABOUR.value
    data = json.loads(DEFAULT_MODEL_PATH.read_bytes())
    index = data["types"].index(newer)
    data["types"].pop(index)
    data["bias"].pop(index)
    for row in data["weights"].values():
        row.pop(index)
    for part in (data["combine"]["type_probabilities"], data["combine"]["type_supports"], *data["word_gate"].values()):
        part.pop(newer, None)
    older_model = Classifier(load_lexicon(), model_from_json(data))
    dev_set = Path(__file__).parents[2] / "data" / "screening_dev.jsonl"
    texts = [json.loads(line)["text"] for line in dev_set.read_text(encoding="utf-8").splitlines() if line.strip()]

    typed = [{item.type for item in older_model.classify(text).types} for text in texts]

    assert sum(NeedType.UNFAIR_LABOUR in types for types in typed) > len(texts) // 20, "the rules still type it"
