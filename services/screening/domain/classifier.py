"""Screening (คัดกรอง): which need types a description is about, and how sure we are."""

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass

from services.screening.domain.evidence import Evidence, EvidenceWeigher
from services.screening.domain.language import LanguageDetector, LanguageGuess
from services.screening.domain.lexicon import Lexicon, load_lexicon
from services.screening.domain.matching import Matcher, tokenize, warm_up
from shared.contracts.need_types import NeedType

SUGGESTED_BY_VOLUNTEER = "suggested_by_volunteer"
_TYPE_ORDER = {need_type: index for index, need_type in enumerate(NeedType)}


@dataclass(frozen=True, slots=True)
class TypeAssessment:
    """One accepted need type with its confidence and the words that decided it."""

    type: NeedType
    confidence: float
    evidence: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Classification:
    """The screening result of one description; `types` is empty when it needs a person."""

    types: tuple[TypeAssessment, ...]
    language: str
    manual_reason: str | None
    disagreement: tuple[NeedType, ...]
    classifier_version: str


class Classifier:
    """Lexicon-based screening; immutable after construction, so safe to share between threads."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._scoring = lexicon.scoring
        self._language = LanguageDetector(lexicon.language)
        self._matcher = Matcher(lexicon.groups)
        self._weigher = EvidenceWeigher(lexicon)
        warm_up(" ".join(lexicon.negation))

    @classmethod
    def load(cls, path: pathlib.Path | None = None) -> "Classifier":
        """Build a classifier from lexicon files (default: the packaged lexicon)."""
        return cls(load_lexicon(path))

    @property
    def version(self) -> str:
        """Return the lexicon version stamped on every classification."""
        return self._lexicon.version

    def classify(self, text: str, suggested_types: Sequence[NeedType] = ()) -> Classification:
        """Screen one description; never raises on any str."""
        suggested = frozenset(NeedType(need_type) for need_type in suggested_types)
        normalised = self._lexicon.normalise(text[: self._scoring.max_chars])
        language = self._language.detect(normalised.text)
        if not language.supported:
            return self._manual(language, f"unsupported_language:{language.code}", suggested)
        if not normalised.text:
            return self._manual(language, "empty_text", suggested)

        tokens = tokenize(normalised.text)
        hits = self._matcher.find(normalised.text, tokens)
        weighed = self._weigher.weigh(normalised, tokens, hits)
        scores, evidence = _scores_by_type(weighed.evidence)

        accepted = []
        for need_type, score in scores.items():
            confidence = self._confidence(score)
            words = evidence[need_type]
            # The volunteer's suggestion can lift a type the text supports, never create one.
            if need_type in suggested and score > 0:
                boosted = self._confidence(score + self._scoring.suggestion_boost)
                if confidence < self._scoring.threshold_for(need_type) <= boosted:
                    words = (*words, SUGGESTED_BY_VOLUNTEER)
                confidence = boosted
            if confidence >= self._scoring.threshold_for(need_type):
                accepted.append(TypeAssessment(need_type, round(confidence, 4), words))
        accepted.sort(key=lambda item: (-item.confidence, _TYPE_ORDER[item.type]))

        if accepted:
            reason = None
        elif weighed.near_misses:
            reason = f"near_miss:{weighed.near_misses[0]}"
        elif any(score > 0 for score in scores.values()):
            reason = "low_confidence"
        else:
            reason = "no_type_matched"
        return Classification(
            types=tuple(accepted),
            language=language.code,
            manual_reason=reason,
            disagreement=_disagreement(suggested, {item.type for item in accepted}),
            classifier_version=self.version,
        )

    def _confidence(self, score: float) -> float:
        return score / (score + self._scoring.saturation) if score > 0 else 0.0

    def _manual(self, language: LanguageGuess, reason: str, suggested: frozenset[NeedType]) -> Classification:
        return Classification((), language.code, reason, _disagreement(suggested, set()), self.version)


def _scores_by_type(
    evidence: Sequence[Evidence],
) -> tuple[dict[NeedType, float], dict[NeedType, tuple[str, ...]]]:
    """Sum the best weight of each distinct word, so repeating a word adds nothing."""
    best: dict[NeedType, dict[str, float]] = {}
    for item in evidence:
        words = best.setdefault(item.type, {})
        words[item.text] = max(words.get(item.text, item.weight), item.weight)
    scores = {need_type: sum(words.values()) for need_type, words in best.items()}
    deciding = {
        need_type: tuple(word for word, weight in sorted(words.items(), key=lambda pair: -pair[1]) if weight > 0)
        for need_type, words in best.items()
    }
    return scores, deciding


def _disagreement(suggested: frozenset[NeedType], accepted: set[NeedType]) -> tuple[NeedType, ...]:
    """Types the volunteer and the classifier disagree on; none when nothing was suggested."""
    if not suggested:
        return ()
    return tuple(sorted(suggested ^ accepted, key=_TYPE_ORDER.__getitem__))
