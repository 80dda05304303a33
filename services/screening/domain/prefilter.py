"""Which lexicon patterns could match a text, found with one cheap pass before running any.

Running every pattern over every description was the costliest step of screening, yet a
description matches only a few. Most patterns must begin with one of a few literal words
(``(?:อยาก|ต้องการ)...``); a pattern whose opening words are all absent from the text
cannot match it, so it is not run. The result is exactly what running them all would give.
"""

import re
from collections.abc import Iterable, Sequence
from re import _parser  # type: ignore[attr-defined]  # the stdlib's own regex parser
from typing import Any

from services.screening.domain.trie import WordLists

# Beyond this many alternative openings a pattern is checked by its shorter, common opening.
_MAX_OPENINGS = 64
_REPEATS = (_parser.MAX_REPEAT, _parser.MIN_REPEAT, _parser.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (_parser.ASSERT, _parser.ASSERT_NOT, _parser.AT)


def literal_openings(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Return literal strings one of which starts every match, or None when there are none."""
    if pattern.flags & re.IGNORECASE:
        return None
    openings, _ = _sequence_openings(_parser.parse(pattern.pattern, pattern.flags))
    return None if "" in openings else frozenset(openings)


def _sequence_openings(items: Iterable[tuple[Any, Any]]) -> tuple[set[str], bool]:
    """Return the literal openings of a parsed sequence, and whether they are the whole of it."""
    openings = {""}
    for op, argument in items:
        if op is _parser.LITERAL:
            openings = {opening + chr(argument) for opening in openings}
            continue
        if op in _ZERO_WIDTH:  # lookarounds and anchors consume nothing
            continue
        if op is _parser.SUBPATTERN:
            _, added_flags, _, body = argument
            if added_flags & re.IGNORECASE:
                return openings, False
            alternatives = [_sequence_openings(body)]
        elif op is _parser.BRANCH:
            alternatives = [_sequence_openings(branch) for branch in argument[1]]
        elif op in _REPEATS and argument[0] >= 1:
            # At least one repetition: its openings start the match, and nothing after them is known.
            alternatives = [(_sequence_openings(argument[2])[0], False)]
        else:  # a character class, an optional part, a backreference: the literal opening ends here
            return openings, False
        endings = set().union(*(ending for ending, _ in alternatives))
        if len(openings) * len(endings) > _MAX_OPENINGS:
            return openings, False
        openings = {opening + ending for opening in openings for ending in endings}
        if not all(whole for _, whole in alternatives):
            return openings, False
    return openings, True


class PatternPrefilter:
    """Finds with one regex pass which patterns' openings occur in a text."""

    def __init__(self, patterns: Sequence[re.Pattern[str]]) -> None:
        openings = {index: literal_openings(pattern) for index, pattern in enumerate(patterns)}
        self._always = frozenset(index for index, found in openings.items() if found is None)
        # Openings are plain text: "work" may open a match inside "homework".
        self._openings = WordLists(
            {index: found for index, found in openings.items() if found is not None}, whole_latin_words=False
        )

    def candidates(self, text: str) -> list[int]:
        """Return, in order, the indices of the patterns that could match text."""
        return sorted(self._always | self._openings.present(text))
