"""Unit tests of the pattern prefilter: it may skip a pattern only where that pattern cannot match."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.screening.domain.lexicon import load_lexicon
from services.screening.domain.prefilter import PatternPrefilter, literal_openings

pytestmark = pytest.mark.unit

_PATTERNS = [pattern for group in load_lexicon().groups for pattern in group.patterns]
_PREFILTER = PatternPrefilter(_PATTERNS)
# Pieces of real descriptions and of the patterns' own words, so that random texts do match.
_PIECES = [
    "ไม่",
    "ได้",
    "อยาก",
    "ทำงาน",
    "หางาน",
    "ค่าจ้าง",
    "เงินเดือน",
    "ม.40",
    "ม.",
    "40",
    "12",
    " ",
    "\n",
    "สมัคร",
    "งาน",
    "รับ",
    "คน",
    "ไหม",
    "ยาบ้า",
    "ใน",
    "โรงงาน",
    "work",
    "jobs",
    "available",
    "looking for",
    "a",
    "new",
    "job",
    "section 40",
    "filipino",
    "อัตรา",
    "5",
    "year",
    "old",
    "-",
]


@pytest.mark.parametrize(
    ("pattern", "openings"),
    [
        ("(?:อยาก|ต้องการ)(?:จะ)?เป็นช่าง", {"อยาก", "ต้องการ"}),
        ("ตกงาน(?:มา)?\\s*\\d+", {"ตกงาน"}),
        (r"(?<![a-z])(?:work|jobs?)\s+available", {"work", "job"}),
        ("(?:เงิน|ค่า)(?:จ้าง|แรง)", {"เงินจ้าง", "เงินแรง", "ค่าจ้าง", "ค่าแรง"}),
        ("(?:ab)+c", {"ab"}),
        (r"\d+\s*อัตรา", None),
        ("(?:ไป)?ทำงาน", None),
        ("(?i)work", None),
    ],
)
def test_literal_openings_are_what_every_match_starts_with(pattern: str, openings: set[str] | None) -> None:
    assert literal_openings(re.compile(pattern)) == (None if openings is None else frozenset(openings))


@given(st.lists(st.sampled_from(_PIECES), max_size=12).map("".join))
def test_no_lexicon_pattern_that_matches_is_skipped(text: str) -> None:
    candidates = set(_PREFILTER.candidates(text))
    matching = {index for index, pattern in enumerate(_PATTERNS) if pattern.search(text)}
    assert matching <= candidates
