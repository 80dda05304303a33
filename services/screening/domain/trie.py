"""Many words compiled into one regular expression shaped like a trie.

One pass of such a regex finds the longest listed word starting at each position, far
faster than a search per word.
"""

import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

LATIN = re.compile(r"[a-z0-9]")
# Latin words must not be found inside longer Latin words ("ice" in "office"). The check
# before a word comes after its first letter ("i" then: no Latin letter before that "i"):
# when every alternative opens with a letter, the regex engine skips at once the positions
# where no word can start, and tests a lookbehind only where the letter is there.
_LATIN_BEFORE = "(?<![a-z0-9]{})"
_LATIN_AFTER = r"(?![a-z0-9])"
Key = TypeVar("Key", bound=Hashable)


def compile_words(words: Iterable[str], *, whole_latin_words: bool = True) -> re.Pattern[str] | None:
    """Compile words into one trie-shaped regex that matches the longest word at a position.

    With whole_latin_words, a word that begins or ends with a Latin letter or digit is only
    found where it is not part of a longer Latin word.
    """
    trie: dict[str, dict[str, object]] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})  # type: ignore[assignment]
        node[""] = {}
    if not trie:
        return None
    return re.compile(_render(trie, "", at_root=True, whole_latin_words=whole_latin_words))


def _render(node: Mapping[str, object], previous: str, *, at_root: bool, whole_latin_words: bool) -> str:
    alternatives = []
    for char in sorted(key for key in node if key):
        opening = re.escape(char)
        if whole_latin_words and at_root and LATIN.match(char):
            opening += _LATIN_BEFORE.format(opening)
        child = node[char]
        assert isinstance(child, dict)
        alternatives.append(opening + _render(child, char, at_root=False, whole_latin_words=whole_latin_words))
    if "" in node:
        # Listed last so that a longer word is preferred and this one is the fallback.
        alternatives.append(_LATIN_AFTER if whole_latin_words and LATIN.match(previous) else "")
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


class WordLists(Generic[Key]):
    """Tells which of several word lists have a word in a text, with one regex pass for all.

    The pass finds the longest word of any list at each position. A word of some list found
    there is that word or a beginning of it (with whole_latin_words, one that does not run on
    into more Latin letters), so each word stands for every list holding such a beginning.
    """

    def __init__(self, lists: Mapping[Key, Iterable[str]], *, whole_latin_words: bool = True) -> None:
        word_sets = {key: frozenset(words) for key, words in lists.items()}
        every_word = frozenset().union(*word_sets.values())
        self._keys_by_word = {
            word: frozenset(
                key
                for key, words in word_sets.items()
                if any(_found_with(shorter, word, whole_latin_words) for shorter in words)
            )
            for word in every_word
        }
        compiled = compile_words(every_word, whole_latin_words=whole_latin_words)
        self._scan = None if compiled is None else re.compile(f"(?=({compiled.pattern}))")

    def present(self, text: str) -> frozenset[Key]:
        """Return the keys of the lists with at least one word in text."""
        if self._scan is None:
            return frozenset()
        return frozenset().union(*map(self._keys_by_word.__getitem__, set(self._scan.findall(text))))


def _found_with(shorter: str, word: str, whole_latin_words: bool) -> bool:
    """Tell whether shorter is found wherever word is found (as compile_words matches them)."""
    if not word.startswith(shorter):
        return False
    runs_on = (
        whole_latin_words and len(shorter) < len(word) and LATIN.match(shorter[-1]) and LATIN.match(word[len(shorter)])
    )
    return not runs_on
