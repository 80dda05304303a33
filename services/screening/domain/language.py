"""Language of a description, guessed from the share of letters in each script."""

import re
from dataclasses import dataclass

from services.screening.domain.lexicon import LanguageSettings

UNDETERMINED = "und"
MIXED = "mixed"


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """The language label and whether the classifier can read that language."""

    code: str
    supported: bool


class LanguageDetector:
    """Counts letters per script with one precompiled character class per script."""

    def __init__(self, settings: LanguageSettings) -> None:
        self._settings = settings
        # Runs of letters, not single letters: counting by run lengths makes one string per run.
        self._scripts = tuple(
            (code, re.compile("[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in ranges) + "]+"))
            for code, ranges in settings.scripts
        )

    def detect(self, text: str) -> LanguageGuess:
        """Return the language of normalised text (lower case, so Latin is a-z)."""
        counts = {code: sum(map(len, script.findall(text))) for code, script in self._scripts}
        total = sum(counts.values())
        if total == 0:
            return LanguageGuess(UNDETERMINED, supported=True)
        shares = sorted(((count / total, code) for code, count in counts.items()), reverse=True)
        unsupported = [
            (share, code)
            for share, code in shares
            if code in self._settings.unsupported and share >= self._settings.unsupported_share
        ]
        if unsupported:
            return LanguageGuess(unsupported[0][1], supported=False)
        if len(shares) > 1 and shares[1][0] >= self._settings.mixed_share:
            return LanguageGuess(MIXED, supported=True)
        return LanguageGuess(shares[0][1], supported=True)
