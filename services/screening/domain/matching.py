"""Finding lexicon words, patterns and markers in normalised text.

Words are matched on the string itself, not on tokens, so a phrase is found even where
the tokenizer cuts it differently. All words of a lexicon are compiled into one regular
expression shaped like a trie, so one pass over the text finds the longest word starting
at each position; patterns run only where a prefilter says they could match.
"""

import gc
import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pythainlp.tokenize import newmm

from services.screening.domain.lexicon import TermGroup
from services.screening.domain.prefilter import PatternPrefilter
from services.screening.domain.trie import LATIN, compile_words

# How many consecutive tokens a whole-token word or a marker may span.
_MAX_TOKENS_PER_WORD = 3


@dataclass(frozen=True, slots=True)
class Hit:
    """One piece of text that matched lexicon words or patterns."""

    start: int
    end: int
    text: str
    groups: tuple[TermGroup, ...]
    literal: bool  # a listed word or phrase, not a pattern with gaps

    def covers(self, other: "Hit") -> bool:
        """Tell whether this hit makes a hit inside it redundant."""
        if not (self.start <= other.start and other.end <= self.end):
            return False
        # A phrase means one thing as a whole; a pattern with gaps may span words that
        # are evidence for another type (เสพยาบ้า ... ทำร้ายลูกน้อง ... ในโรงงาน).
        other_types = {group.type for group in other.groups if group.type is not None}
        return self.literal or not other_types or bool(other_types & {group.type for group in self.groups})


class Tokens:
    """Tokens of a text with the offset where each starts, cut on first use.

    Most descriptions contain no negation, contrast or whole-word entry, and then need no
    tokens at all; the tokenizer is the most expensive step, so it only runs when asked.
    """

    __slots__ = ("_starts", "_words", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._words: tuple[str, ...] | None = None
        self._starts: tuple[int, ...] = ()

    @property
    def words(self) -> tuple[str, ...]:
        """Return the tokens, cutting the text with newmm the first time."""
        if self._words is None:
            self._words, self._starts = _cut(self.text)
        return self._words

    @property
    def starts(self) -> tuple[int, ...]:
        """Return the offset of each token."""
        if self._words is None:
            self._words, self._starts = _cut(self.text)
        return self._starts

    def index_at(self, offset: int) -> int:
        """Return the index of the token that contains a character offset."""
        return max(bisect_right(self.starts, offset) - 1, 0)


def tokenize(text: str) -> Tokens:
    """Return the (lazily cut) tokens of text."""
    return Tokens(text)


def warm_up(sample: str) -> None:
    """Make pythainlp load its dictionary now rather than during the first request."""
    _cut(sample)
    # The dictionary is hundreds of thousands of objects that live as long as the process. Frozen
    # (with whatever else is loaded by now), they are left out of the cyclic garbage collector's
    # full collections, which traversed them all each time, a large share of the classifier's CPU
    # in a run that keeps its results (docs/performance-notes.md).
    gc.freeze()


def _cut(text: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    # newmm.segment is the engine behind word_tokenize(engine="newmm") without its wrapper's
    # per-call overhead; it keeps every character, spaces included. Offline: it uses the
    # dictionary bundled with pythainlp.
    words = tuple(newmm.segment(text))
    starts = []
    offset = 0
    for word in words:
        found = text.find(word, offset)  # defensive: recompute rather than trust the sum
        offset = found if found >= 0 else offset
        starts.append(offset)
        offset += len(word)
    return words, tuple(starts)


def find_words(pattern: re.Pattern[str] | None, text: str) -> list[tuple[int, str]]:
    """Return (offset, word) for each word found, including words that overlap a longer one's end."""
    if pattern is None:
        return []
    found = []
    for match in pattern.finditer(text):
        start, end = match.span()
        found.append((start, match.group()))
        # A scan that skips to the end of each match is fast but misses a word that starts
        # inside this one and runs past it (ลา|ออก|จากงาน): look for those explicitly.
        for inner in range(start + 1, end):
            overlapping = pattern.match(text, inner)
            if overlapping is not None and overlapping.end() > end:
                found.append((inner, overlapping.group()))
                break
    return found


class Matcher:
    """Finds every lexicon group's words and patterns in one text."""

    def __init__(self, groups: Sequence[TermGroup]) -> None:
        # Groups are referred to by number: a hit lists each distinct group once, and hashing
        # a TermGroup hashes all its words and patterns, so that is done once, here.
        self._groups = tuple(dict.fromkeys(groups))
        number = {group: index for index, group in enumerate(self._groups)}
        self._substring_words: dict[str, list[int]] = {}
        self._token_words: dict[str, list[int]] = {}
        self._patterns: list[tuple[re.Pattern[str], int]] = []
        for group in groups:
            index = self._token_words if group.whole_token else self._substring_words
            for word in group.words:
                index.setdefault(word, []).append(number[group])
            self._patterns.extend((pattern, number[group]) for pattern in group.patterns)
        self._trie = compile_words(self._substring_words)
        self._prefilter = PatternPrefilter([pattern for pattern, _ in self._patterns])

    def find(self, text: str, tokens: Tokens) -> list[Hit]:
        """Return the hits in text, dropping any hit that lies inside a longer one."""
        spans: dict[tuple[int, int], list[int]] = {}
        literal: set[tuple[int, int]] = set()
        for start, word in find_words(self._trie, text):
            spans.setdefault((start, start + len(word)), []).extend(self._substring_words[word])
            literal.add((start, start + len(word)))
        if self._token_words:
            for span in find_token_sequences(self._token_words, tokens):
                spans.setdefault(span, []).extend(self._token_words[text[span[0] : span[1]]])
                literal.add(span)
        for index in self._prefilter.candidates(text):
            pattern, group = self._patterns[index]
            for match in pattern.finditer(text):
                if match.end() > match.start():
                    spans.setdefault((match.start(), match.end()), []).append(group)
        return _outermost(
            Hit(start, end, text[start:end], self._distinct(numbers), (start, end) in literal)
            for (start, end), numbers in spans.items()
        )

    def _distinct(self, numbers: Iterable[int]) -> tuple[TermGroup, ...]:
        """Return the groups with these numbers, each once, in order of first mention."""
        return tuple(map(self._groups.__getitem__, dict.fromkeys(numbers)))


def find_token_sequences(words: Mapping[str, object], tokens: Tokens) -> list[tuple[int, int]]:
    """Return spans where one to three consecutive tokens spell a word of `words`."""
    # Cheap substring test first: without a candidate the text need not be tokenized.
    if not any(word in tokens.text for word in words):
        return []
    spans = []
    count = len(tokens.words)
    first_chars = {word[0] for word in words}
    for first in range(count):
        if tokens.words[first][:1] not in first_chars:
            continue
        joined = ""
        for last in range(first, min(first + _MAX_TOKENS_PER_WORD, count)):
            joined += tokens.words[last]
            if joined in words:
                spans.append((tokens.starts[first], tokens.starts[last] + len(tokens.words[last])))
    return spans


def _outermost(hits: Iterable[Hit]) -> list[Hit]:
    # Longest first, so a hit is only compared with the longer hits already kept.
    ordered = sorted(hits, key=lambda hit: (hit.start - hit.end, hit.start))
    kept: list[Hit] = []
    for hit in ordered:
        if not any(other.covers(hit) for other in kept):
            kept.append(hit)
    # A word that starts inside a neutral word and runs past it splits that word wrongly.
    neutral = [hit for hit in kept if hit.literal and all(group.type is None for group in hit.groups)]
    kept = [hit for hit in kept if not any(word.start < hit.start < word.end < hit.end for word in neutral)]
    kept.sort(key=lambda hit: hit.start)
    return kept


class MarkerFinder:
    """Finds negation or contrast words: Thai ones as whole tokens, Latin ones by word boundary."""

    def __init__(self, words: Sequence[str]) -> None:
        # A Thai marker must be a whole token: แต่ (but) is also the start of แต่งงาน (marry).
        self._thai = {word: True for word in words if not LATIN.search(word)}
        self._latin = compile_words(word for word in words if LATIN.search(word))

    def find(self, text: str, tokens: Tokens) -> list[tuple[int, int]]:
        """Return the (start, end) spans of markers, in text order."""
        spans = find_token_sequences(self._thai, tokens)
        spans.extend((start, start + len(word)) for start, word in find_words(self._latin, text))
        return sorted(set(spans))
