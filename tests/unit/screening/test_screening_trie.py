"""Unit tests of the trie-shaped word regexes: one pass must tell what a search per list would."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.screening.domain.trie import WordLists, compile_words

pytestmark = pytest.mark.unit

_LISTS = {
    "work": ("office", "ice", "iced tea", "โรงงาน", "โรง"),
    "drink": ("ice", "tea", "ชา", "ชาเย็น"),
    "short": ("งาน", "of"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("an office job", {"work"}),  # neither "ice" nor "of" is a word inside "office"
        ("iced tea", {"work", "drink"}),
        ("icedtea", set()),
        ("ไปโรงงาน", {"work", "short"}),
        ("ชาเย็น", {"drink"}),
        ("of ice", {"work", "drink", "short"}),
    ],
)
def test_word_lists_present_in_text(text: str, expected: set[str]) -> None:
    assert WordLists(_LISTS).present(text) == expected


@given(st.lists(st.sampled_from(["off", "ice", "d", " ", "tea", "of", "ชา", "เย็น", "โรง", "งาน", "x"]), max_size=8))
def test_one_pass_agrees_with_a_search_per_list(pieces: list[str]) -> None:
    text = "".join(pieces)
    one_search_each = set()
    for key, words in _LISTS.items():
        pattern = compile_words(words)
        if pattern is not None and pattern.search(text):
            one_search_each.add(key)
    assert WordLists(_LISTS).present(text) == one_search_each


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("ice", ["ice"]),
        ("ice-cold", ["ice"]),
        ("no ice", ["ice"]),
        ("ไอice", ["ice"]),
        ("\nice", ["ice"]),
        ("office", []),
        ("2ice", []),
        ("icy", []),
        ("ices", []),
        ("iced tea", ["iced tea"]),
    ],
)
def test_latin_words_are_found_only_whole(text: str, found: list[str]) -> None:
    pattern = compile_words(["ice", "iced tea"])
    assert pattern is not None
    assert [match.group() for match in pattern.finditer(text)] == found
