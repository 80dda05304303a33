"""Screening (คัดกรอง): which need types a description is about, and how sure we are."""

import pathlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from services.screening.domain.evidence import Evidence, EvidenceWeigher
from services.screening.domain.language import LanguageDetector, LanguageGuess
from services.screening.domain.lexicon import Lexicon, load_lexicon
from services.screening.domain.matching import Matcher, Tokens, tokenize, warm_up
from services.screening.domain.model import ModelSettings, ScreeningModel, load_model, model_from_bytes
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


@dataclass(frozen=True, slots=True)
class RuleAssessment:
    """What the lexicon rules found in one description, before any type is accepted."""

    normalised: str
    language: LanguageGuess
    manual_reason: str | None  # set when the text cannot be screened at all
    scores: dict[NeedType, float]
    evidence: dict[NeedType, tuple[str, ...]]
    near_misses: tuple[str, ...]
    vetoed: frozenset[NeedType]
    tokens: Tokens  # cut lazily: only when a rule or the model asks for words


class Classifier:
    """Lexicon rules plus an optional statistical second opinion; immutable, so thread-safe."""

    def __init__(self, lexicon: Lexicon, model: ScreeningModel | None = None) -> None:
        self._lexicon = lexicon
        self._scoring = lexicon.scoring
        self._language = LanguageDetector(lexicon.language)
        self._matcher = Matcher(lexicon.groups)
        self._weigher = EvidenceWeigher(lexicon)
        self._model = model
        warm_up(" ".join(lexicon.negation))

    @classmethod
    def load(cls, path: pathlib.Path | None = None, model_path: pathlib.Path | None = None) -> "Classifier":
        """Build a classifier from lexicon files (default: the packaged lexicon and model).

        The model is loaded only when the lexicon's [model] table switches it on.
        """
        lexicon = load_lexicon(path)
        return cls(lexicon, load_model(model_path) if lexicon.model_enabled else None)

    @classmethod
    def from_model_bytes(cls, data: bytes) -> "Classifier":
        """Build a classifier from the packaged lexicon and the bytes of one model file."""
        return cls(load_lexicon(), model_from_bytes(data))

    @property
    def version(self) -> str:
        """Return the lexicon (and model) version stamped on every classification."""
        if self._model is None:
            return self._lexicon.version
        return f"{self._lexicon.version}+{self._model.version}"

    def assess_rules(self, text: str) -> RuleAssessment:
        """Run the lexicon rules on one description (used by classify and by model selection)."""
        normalised = self._lexicon.normalise(text[: self._scoring.max_chars])
        language = self._language.detect(normalised.text)
        tokens = tokenize(normalised.text)
        if not language.supported:
            reason = f"unsupported_language:{language.code}"
            return RuleAssessment(normalised.text, language, reason, {}, {}, (), _ALL, tokens)
        if not normalised.text:
            return RuleAssessment(normalised.text, language, "empty_text", {}, {}, (), _ALL, tokens)
        hits = self._matcher.find(normalised.text, tokens)
        weighed = self._weigher.weigh(normalised, tokens, hits)
        scores, evidence = _scores_by_type(weighed.evidence)
        return RuleAssessment(
            normalised.text, language, None, scores, evidence, weighed.near_misses, weighed.vetoed, tokens
        )

    def classify(self, text: str, suggested_types: Sequence[NeedType] = ()) -> Classification:
        """Screen one description; never raises on any str."""
        suggested = frozenset(NeedType(need_type) for need_type in suggested_types)
        rules = self.assess_rules(text)
        if rules.manual_reason is not None:
            return self._manual(rules.language, rules.manual_reason, suggested)
        scores = rules.scores

        accepted = []
        for need_type, score in scores.items():
            confidence = self._confidence(score)
            words = rules.evidence[need_type]
            # The volunteer's suggestion can lift a type the text supports, never create one.
            if need_type in suggested and score > 0:
                boosted = self._confidence(score + self._scoring.suggestion_boost)
                if confidence < self._scoring.threshold_for(need_type) <= boosted:
                    words = (*words, SUGGESTED_BY_VOLUNTEER)
                confidence = boosted
            if confidence >= self._scoring.threshold_for(need_type):
                accepted.append(TypeAssessment(need_type, round(confidence, 4), words))
        if self._model is not None:
            accepted = self._with_model(self._model, accepted, rules)
        accepted.sort(key=lambda item: (-item.confidence, _TYPE_ORDER[item.type]))

        if accepted:
            reason = None
        elif rules.near_misses:
            reason = f"near_miss:{rules.near_misses[0]}"
        elif any(score > 0 for score in scores.values()):
            reason = "low_confidence"
        else:
            reason = "no_type_matched"
        return Classification(
            types=tuple(accepted),
            language=rules.language.code,
            manual_reason=reason,
            disagreement=_disagreement(suggested, {item.type for item in accepted}),
            classifier_version=self.version,
        )

    def _with_model(
        self, model: ScreeningModel, accepted: list[TypeAssessment], rules: RuleAssessment
    ) -> list[TypeAssessment]:
        """Ask the model only where its answer could count, and cut words only where they could."""
        # A type added after the model was trained has no row in it: the rules alone decide it.
        candidates = model_candidates(accepted, rules, model.settings) & frozenset(model.types)
        if not candidates:
            return accepted
        taken = {item.type for item in accepted}
        probabilities = model.opinion(
            rules.normalised, lambda: rules.tokens.words, candidates - taken, candidates & taken
        )
        return accepted if probabilities is None else combine(accepted, rules, probabilities, model.settings)

    def _confidence(self, score: float) -> float:
        return score / (score + self._scoring.saturation) if score > 0 else 0.0

    def _manual(self, language: LanguageGuess, reason: str, suggested: frozenset[NeedType]) -> Classification:
        return Classification((), language.code, reason, _disagreement(suggested, set()), self.version)


_ALL = frozenset(NeedType)
MODEL_EVIDENCE_PREFIX = "model:"


def model_candidates(
    accepted: Sequence[TypeAssessment], rules: RuleAssessment, settings: ModelSettings
) -> frozenset[NeedType]:
    """Return the types whose probability could change what `combine` returns."""
    if not _long_enough(rules, settings):
        return frozenset()
    droppable = {item.type for item in accepted if item.confidence < settings.weak_confidence and settings.drop_below}
    if rules.near_misses:
        return frozenset(droppable)
    taken = {item.type for item in accepted}
    addable = {
        need_type
        for need_type in NeedType
        if need_type not in taken
        and need_type not in rules.vetoed
        and _needed(need_type, taken, rules, settings) <= 1.0
    }
    return frozenset(droppable | addable)


def combine(
    accepted: Sequence[TypeAssessment],
    rules: RuleAssessment,
    probabilities: dict[NeedType, float],
    settings: ModelSettings,
) -> list[TypeAssessment]:
    """Join the rules' accepted types with the model's opinion.

    The model may add a type where the lexicon is silent: no word for it at all, no
    negation, conceded clause or near-miss rule. It may also drop a barely accepted rule
    type it finds very unlikely (off when drop_below = 0).
    """
    if not _long_enough(rules, settings):
        return list(accepted)
    result = []
    for item in accepted:
        probability = probabilities.get(item.type, 0.0)
        if item.confidence < settings.weak_confidence and probability < settings.drop_below:
            continue
        result.append(item)
    # A near-miss rule that changed the evidence means the lexicon recognised what this is
    # not; the model then adds nothing.
    if rules.near_misses:
        return result
    taken = {item.type for item in accepted}
    for need_type, probability in probabilities.items():
        if need_type in taken or need_type in rules.vetoed:
            continue
        if probability >= _needed(need_type, taken, rules, settings):
            words = rules.evidence.get(need_type, ())
            evidence = (*words, f"{MODEL_EVIDENCE_PREFIX}{probability:.2f}")
            result.append(TypeAssessment(need_type, round(probability, 4), evidence))
    return result


def _long_enough(rules: RuleAssessment, settings: ModelSettings) -> bool:
    # Counting stops at min_letters: a long text need not be counted to the end.
    letters = islice(filter(str.isalpha, rules.normalised), settings.min_letters)
    return sum(1 for _ in letters) >= settings.min_letters


def _needed(need_type: NeedType, taken: set[NeedType], rules: RuleAssessment, settings: ModelSettings) -> float:
    """The probability at which the model adds a type the rules did not accept."""
    needed = settings.probability_for(need_type)
    if taken:
        needed = max(needed, settings.additional_probability)
    if rules.scores.get(need_type, 0.0) > 0:
        # The lexicon saw words for this type and judged them too weak (ประกันสังคม
        # alone, ยา outside a workplace): above 1 its verdict stands.
        needed = max(needed, settings.support_for(need_type))
    return needed


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
