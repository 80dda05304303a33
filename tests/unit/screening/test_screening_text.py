"""Unit tests of normalisation and language detection."""

import pytest

from services.screening.domain.language import LanguageDetector
from services.screening.domain.lexicon import load_lexicon
from services.screening.domain.normalise import normalise, normalise_for_matching

pytestmark = pytest.mark.unit


def test_thai_digits_become_arabic() -> None:
    assert normalise("ม.๔๐ จ่าย ๑๐๐ บาท") == "ม.40 จ่าย 100 บาท"


def test_typing_slips_are_fixed() -> None:
    # เเ typed for แ, ํ + า typed for ำ, a doubled tone mark, invisible zero-width spaces
    assert normalise("เเรงงาน ทํางาน ไม่่ได้\u200bรับ") == "แรงงาน ทำงาน ไม่ได้รับ"


def test_spaces_between_thai_words_are_removed_and_remembered() -> None:
    result = normalise_for_matching("ไม่ได้ รับ ค่าจ้าง work permit")
    assert result.text == "ไม่ได้รับค่าจ้าง work permit"
    assert result.pauses == (6, 9)


def test_lexicon_rewrites_give_section_abbreviations_one_form() -> None:
    lexicon = load_lexicon()
    assert lexicon.normalise("สมัคร ม 40").text == "สมัครม.40"
    assert lexicon.normalise("ผม 40 ปี").text == "ผม 40 ปี"


@pytest.mark.parametrize(
    ("text", "code", "supported"),
    [
        ("ตกงานมาสามเดือน", "th", True),
        ("unpaid wages", "en", True),
        ("โดน layoff", "mixed", True),
        ("ကျွန်တော့်အလုပ်ရှင်က", "my", False),
        ("ខ្ញុំកំពុងរកការងារធ្វើ", "km", False),
        ("ຂ້ອຍຊອກຫາວຽກເຮັດ", "lo", False),
        ("12345 !!!", "und", True),
    ],
)
def test_language_is_decided_by_script_share(text: str, code: str, supported: bool) -> None:
    guess = LanguageDetector(load_lexicon().language).detect(normalise(text))
    assert (guess.code, guess.supported) == (code, supported)
