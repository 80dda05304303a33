"""The n-gram second opinion: packaged weights, determinism, training, and the rules' vetoes."""

import json
import math
from dataclasses import replace

import pytest

from services.screening.domain.classifier import MODEL_EVIDENCE_PREFIX, Classifier
from services.screening.domain.lexicon import load_lexicon
from services.screening.domain.ngram import DEFAULT_MODEL_PATH, ModelError, load_model, model_from_json
from services.screening.training import SEED, folds, train_dev_model
from shared.contracts.need_types import NeedType


def test_packaged_model_is_small_and_loads() -> None:
    assert DEFAULT_MODEL_PATH.suffix == ".json"
    assert DEFAULT_MODEL_PATH.stat().st_size < 2_000_000
    model = load_model()
    assert model.types == tuple(NeedType)
    assert model.version == "ngram-1"


def test_model_is_deterministic() -> None:
    text = "หลานสาวเรียนจบแล้ว ส่งใบสมัครไปหลายที่ยังเงียบ"
    first, second = load_model(), load_model()
    assert first.probabilities(text) == second.probabilities(text) == first.probabilities(text)


def test_probabilities_add_every_known_feature_once_per_type() -> None:
    weights = {" a": (-3.96, 0.5), "ab": (2.0, -0.001), "b ": (-1.5, -2.5), "w:ab": (1.0, 0.0), "zz": (9.0, 9.0)}
    model = model_from_json(
        {"version": "x", "types": ["jobs", "skills"], "min_n": 2, "max_n": 2, "bias": [0.5, -0.5], "weights": weights}
    )
    # "ab" has four features (three bigrams of " ab " and the word); the sum is scaled by 1/sqrt(4).
    expected = [0.5 + (-3.96 + 2.0 - 1.5 + 1.0) / 2, -0.5 + (0.5 - 0.001 - 2.5) / 2]
    probabilities = model.probabilities("ab")
    assert list(probabilities) == [NeedType.JOBS, NeedType.SKILLS]
    assert list(probabilities.values()) == pytest.approx([1 / (1 + math.exp(-value)) for value in expected])


def test_malformed_model_is_rejected() -> None:
    with pytest.raises(ModelError):
        model_from_json({"version": "x", "types": ["jobs"], "min_n": 2, "max_n": 3, "bias": [0.0, 1.0], "weights": {}})


def test_training_reproduces_the_shipped_weights() -> None:
    shipped = json.loads(DEFAULT_MODEL_PATH.read_text(encoding="utf-8"))
    assert train_dev_model().to_json() == shipped


def test_folds_are_a_fixed_partition() -> None:
    parts = folds(23, 5, SEED)
    assert parts == folds(23, 5, SEED)
    assert sorted(index for part in parts for index in part) == list(range(23))


def test_version_names_the_model(classifier: Classifier) -> None:
    assert classifier.version.endswith("+ngram-1")
    assert classifier.version.startswith(load_lexicon().version)


def test_model_off_in_data_means_rules_only() -> None:
    lexicon = load_lexicon()
    rules_only = Classifier.load() if not lexicon.model.enabled else Classifier(lexicon, None)
    assert "+" not in rules_only.version


def test_model_adds_a_paraphrase_without_keywords(classifier: Classifier) -> None:
    lexicon = load_lexicon()
    rules_only = Classifier(replace(lexicon, model=replace(lexicon.model, enabled=False)))
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
