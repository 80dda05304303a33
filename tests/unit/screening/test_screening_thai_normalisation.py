"""Thai typed with a vowel and a tone mark in either order is screened the same."""

import re
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.screening.domain import normalise as normalise_module
from services.screening.domain.classifier import Classifier
from services.screening.domain.evaluation import load_labelled_jsonl
from services.screening.domain.normalise import normalise

pytestmark = pytest.mark.unit

DEV_SET = Path(__file__).resolve().parents[2] / "data" / "screening_dev.jsonl"
# An upper or lower vowel sign followed by a tone mark: the order Unicode and keyboards agree on.
_VOWEL_THEN_TONE = re.compile("([\u0e31\u0e34-\u0e3a])([\u0e48-\u0e4b])")


def _tone_first(text: str) -> str:
    return _VOWEL_THEN_TONE.sub(r"\2\1", text)


def test_tone_mark_typed_before_the_vowel_normalises_to_the_usual_order() -> None:
    assert normalise("ก\u0e48\u0e34น") == normalise("ก\u0e34\u0e48น") == "ก\u0e34\u0e48น"


def test_dev_texts_typed_tone_first_classify_as_typed_normally(classifier: Classifier) -> None:
    texts = [text for text, _ in load_labelled_jsonl(DEV_SET) if _VOWEL_THEN_TONE.search(text)]
    assert len(texts) >= 400
    changed = [
        text
        for text in texts
        if {item.type for item in classifier.classify(_tone_first(text)).types}
        != {item.type for item in classifier.classify(text).types}
    ]
    assert changed == []


_THAI_TYPING = "กขคงนมยรลวสหอะัาำิีึืุูเแโใไๅ่้๊๋็์ํฤฦ\u0e3a\u0e4e\u200b\u200c \nab"


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_THAI_TYPING, max_size=12))
def test_pythainlp_normalize_is_skipped_only_where_it_changes_nothing(text: str) -> None:
    assert normalise(text) == _reference_normalise(text)


def test_dev_texts_normalise_as_with_pythainlp_always_called() -> None:
    texts = [text for text, _ in load_labelled_jsonl(DEV_SET)]
    assert [normalise(text) for text in texts] == [_reference_normalise(text) for text in texts]


def _reference_normalise(text: str) -> str:
    """The project's normalise with pythainlp's normalize called on every text."""
    with patch.object(normalise_module, "_THAI_NORMALIZE_CHANGES", re.compile("")):
        return normalise(text)
