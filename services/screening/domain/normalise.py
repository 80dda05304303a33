"""Text normalisation shared by the lexicon loader and the classifier.

Lexicon words and need descriptions go through the same function, so a word written
with Thai digits or spaces in the lexicon still matches the text a volunteer typed.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pythainlp import thai_above_vowels, thai_below_vowels, thai_follow_vowels, thai_lead_vowels, thai_tonemarks
from pythainlp.util import normalize as thai_normalize

# What pythainlp's normalize can change, in one search: it costs a sixth of screening's time,
# and most texts need none of it. Built from pythainlp's own character classes and rules
# (pinned version); tests check that skipping it never changes a result.
_ABOVE, _BELOW = thai_above_vowels, thai_below_vowels
_DANGLING = f"{_ABOVE}{_BELOW}{thai_tonemarks}\u0e3a\u0e4c\u0e4d\u0e4e"
_NO_REPEAT = f"{thai_follow_vowels}{thai_lead_vowels}{_ABOVE}{_BELOW}\u0e3a\u0e4c\u0e4d\u0e4e"
_THAI_NORMALIZE_CHANGES = re.compile(
    "|".join(
        (
            "[\u200b\u200c]",  # zero-width characters
            "  |[ \n]\n|\n[ \n]|^\\s|\\s$",  # repeated spaces and newlines, ends stripped
            f"^[{_DANGLING}]| [{_DANGLING}]",  # a mark with no letter: at the start, after a space
            "\u0e40\u0e40",  # two sara e for sara ae
            f"[{thai_tonemarks}\u0e4c][{_ABOVE}{_BELOW}]",  # tone mark typed before its vowel
            f"\u0e4d[{thai_tonemarks}]*\u0e32",  # nikhahit and sara aa for sara am
            f"[{thai_follow_vowels}][{thai_tonemarks}]",  # tone mark typed after a following vowel
            "[^\u0e24\u0e26]\u0e45",  # lakkhangyao for sara aa
            f"([{_NO_REPEAT}]) *\\1",  # a vowel or sign typed twice
            f"[{thai_tonemarks}]{{2,}}",  # tone marks typed twice
        )
    )
)
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")

# Typing habits that change the characters but not the word.
_THAI_SPELLING_FIXES = (
    ("\u0e4d\u0e32", "\u0e33"),  # nikhahit + sara aa typed instead of sara am (ำ)
    ("\u0e40\u0e40", "\u0e41"),  # two sara e typed instead of sara ae (แ)
)
_QUOTE_FIXES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})

# Control characters become spaces; invisible format characters (zero-width space,
# joiners, BOM, soft hyphen, direction marks) are dropped: Thai writers use them
# inside words, so removing them keeps the word whole.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# A tone mark or vowel sign typed twice in a row is a typo, never a different word.
_REPEATED_MARK = re.compile(r"([\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])\1+")
_SPACES = re.compile(r"[^\S\n]+")
_NEWLINES = re.compile(r" ?\n[\s]*")
# Thai has no spaces between words; a space between two Thai letters is a pause that a
# writer may or may not type, so phrases are matched with it removed.
_THAI_GAP = re.compile(r"(?<=[\u0e01-\u0e4e]) (?=[\u0e01-\u0e4e])")


@dataclass(frozen=True, slots=True)
class NormalisedText:
    """Normalised text plus the offsets where a space between Thai letters was removed."""

    text: str
    pauses: tuple[int, ...]


def normalise(text: str) -> str:
    """Return text in the canonical form the lexicon is written against."""
    # Lone surrogates cannot be encoded; they are replaced rather than allowed to raise.
    text = text.encode("utf-8", "replace").decode("utf-8")
    # pythainlp's rules first (vowel and tone mark typed in either order, which look the
    # same on screen); the project's own rules below then see one spelling of each word.
    if _THAI_NORMALIZE_CHANGES.search(text):
        text = thai_normalize(text)
    text = text.translate(_THAI_DIGITS).translate(_QUOTE_FIXES).lower()
    for wrong, right in _THAI_SPELLING_FIXES:
        text = text.replace(wrong, right)
    text = _INVISIBLE.sub("", _CONTROL.sub(" ", text))
    text = _REPEATED_MARK.sub(r"\1", text)
    text = _NEWLINES.sub("\n", _SPACES.sub(" ", text))
    return text.strip()


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A lexicon-defined substitution that gives variant spellings one form (ม 40 -> ม.40)."""

    pattern: re.Pattern[str]
    replacement: str


def normalise_for_matching(text: str, rewrites: Sequence[Rewrite] = ()) -> NormalisedText:
    """Normalise, apply rewrites, then remove spaces between Thai letters, remembering where."""
    text = normalise(text)
    # Rewrites run before the spaces go, so they can still see where a word starts.
    for rewrite in rewrites:
        text = rewrite.pattern.sub(rewrite.replacement, text)
    pauses: list[int] = []
    pieces: list[str] = []
    last = 0
    kept = 0
    for gap in _THAI_GAP.finditer(text):
        pieces.append(text[last : gap.start()])
        kept += gap.start() - last
        last = gap.end()
        pauses.append(kept)
    if not pauses:
        return NormalisedText(text, ())
    pieces.append(text[last:])
    return NormalisedText("".join(pieces), tuple(pauses))
