"""Text normalisation shared by the lexicon loader and the classifier.

Lexicon words and need descriptions go through the same function, so a word written
with Thai digits or spaces in the lexicon still matches the text a volunteer typed.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

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
