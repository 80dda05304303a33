"""Many words compiled into one regular expression shaped like a trie.

One pass of such a regex finds the longest listed word starting at each position, far
faster than a search per word.
"""

import re
from collections.abc import Iterable, Mapping

LATIN = re.compile(r"[a-z0-9]")
# Latin words must not be found inside longer Latin words ("ice" in "office").
_LATIN_BEFORE = r"(?<![a-z0-9])"
_LATIN_AFTER = r"(?![a-z0-9])"


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
        prefix = _LATIN_BEFORE if whole_latin_words and at_root and LATIN.match(char) else ""
        child = node[char]
        assert isinstance(child, dict)
        alternatives.append(
            prefix + re.escape(char) + _render(child, char, at_root=False, whole_latin_words=whole_latin_words)
        )
    if "" in node:
        # Listed last so that a longer word is preferred and this one is the fallback.
        alternatives.append(_LATIN_AFTER if whole_latin_words and LATIN.match(previous) else "")
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"
