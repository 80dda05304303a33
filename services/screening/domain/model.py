"""The statistical second opinion: one-vs-rest logistic regression over characters and words.

The model is trained outside the services (the `training` package, with scikit-learn) and
shipped as ONE self-contained JSON file: its features, weights, per-type thresholds, how it
joins the rules, and its own version. Nothing but the standard library scores it here.
Features are the character n-grams of the classifier's normalised text (spaces between
Thai letters already removed), whole Latin words, and the Thai words newmm cuts, each
counted once and scaled by 1/sqrt(number of features).
"""

import hashlib
import json
import math
import pathlib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from shared.contracts.need_types import NeedType

DEFAULT_MODEL_PATH = pathlib.Path(__file__).resolve().parent.parent / "model" / "screening_model.json"
MODEL_FORMAT = "needs-router.screening-model.v2"

# Weights are stored with seven decimals; at run time they are whole ten-millionths, so a
# text's sum is exact whatever the order and the scores match the trainer's within 1e-6.
WEIGHT_DECIMALS = 7
WEIGHT_UNITS = 10**WEIGHT_DECIMALS
# At run time a feature's units for all types are packed into one integer, a field of
# _FIELD_BITS bits per type, each raised by _FIELD_OFFSET so that no field is negative, and
# a last field that counts the feature. Summing the packed integers of a text's features
# sums every type's column and counts the known features in one C-level pass; no field can
# overflow into the next below 2**(_FIELD_BITS - 41) features (weights under 2**40 units).
_FIELD_BITS = 72
_FIELD_OFFSET = 1 << 40
_FIELD_MASK = (1 << _FIELD_BITS) - 1
_LATIN_WORD = re.compile(r"[a-z][a-z0-9'-]*")
_THAI_LETTER = re.compile("[\u0e01-\u0e2e]")
# Digits carry amounts and dates, not meaning; one shape keeps "ค้าง 3 เดือน" and "ค้าง 2 เดือน" alike.
_DIGITS = re.compile(r"\d+")
LATIN_PREFIX = "w:"
THAI_WORD_PREFIX = "t:"


class ModelError(ValueError):
    """The model file is missing or malformed."""


@dataclass(frozen=True, slots=True)
class ModelSettings:
    """How the model joins the rules (chosen by cross-validation when it was trained)."""

    # A type no rule accepted is added when the model's probability reaches this (per type
    # overrides in type_probabilities) and nothing in the text speaks against it.
    accept_probability: float
    type_probabilities: Mapping[NeedType, float]
    # A type with some rule evidence below the rule threshold needs at least this
    # (above 1: never; the lexicon's judgement of its own words stands); per type
    # overrides in type_supports.
    support_probability: float = 1.01
    type_supports: Mapping[NeedType, float] = field(default_factory=dict)
    # A rule-accepted type whose confidence is below weak_confidence is dropped when the
    # model's probability is below drop_below (0 = never drop).
    weak_confidence: float = 0.0
    drop_below: float = 0.0
    # When the rules already accepted some type, a further type needs at least this.
    additional_probability: float = 1.01
    # The model says nothing about a text with fewer letters than this ("ok", ".....").
    min_letters: int = 0

    def probability_for(self, need_type: NeedType) -> float:
        """Return the probability the model needs to add one type on its own."""
        return self.type_probabilities.get(need_type, self.accept_probability)

    def support_for(self, need_type: NeedType) -> float:
        """Return the probability the model needs to add a type the rules saw too weak words for."""
        return self.type_supports.get(need_type, self.support_probability)

    def to_json(self) -> dict[str, Any]:
        """Return the settings as the model file's "combine" object."""
        return {
            "accept_probability": self.accept_probability,
            "type_probabilities": {need_type.value: value for need_type, value in self.type_probabilities.items()},
            "support_probability": self.support_probability,
            "type_supports": {need_type.value: value for need_type, value in self.type_supports.items()},
            "weak_confidence": self.weak_confidence,
            "drop_below": self.drop_below,
            "additional_probability": self.additional_probability,
            "min_letters": self.min_letters,
        }


@dataclass(frozen=True, slots=True)
class WordGate:
    """Character-only probabilities beyond which a type's decision needs no words (see ScreeningModel)."""

    add: Mapping[NeedType, float]
    drop: Mapping[NeedType, float]

    def to_json(self) -> dict[str, dict[str, float]]:
        """Return the gate as the model file's "word_gate" object."""
        return {
            "add": {need_type.value: value for need_type, value in self.add.items()},
            "drop": {need_type.value: value for need_type, value in self.drop.items()},
        }


OPEN_GATE = WordGate({}, {})


def features(text: str, words: Iterable[str], min_n: int, max_n: int) -> set[str]:
    """Return the distinct features of normalised text: character n-grams, Latin and Thai words."""
    return character_features(text, min_n, max_n) | word_features(words)


def character_features(text: str, min_n: int, max_n: int) -> set[str]:
    """Return the character n-grams (digits as 0) and whole Latin words of normalised text."""
    padded = f" {_DIGITS.sub('0', text)} "
    length = len(padded)
    found = {padded[start : start + size] for size in range(min_n, max_n + 1) for start in range(length - size + 1)}
    found.update(LATIN_PREFIX + word for word in _LATIN_WORD.findall(text))
    return found


def word_features(words: Iterable[str]) -> set[str]:
    """Return the Thai words among newmm's tokens as features (Latin words are character features)."""
    return {THAI_WORD_PREFIX + _DIGITS.sub("0", word) for word in words if _THAI_LETTER.search(word)}


@dataclass(frozen=True, slots=True)
class ScreeningModel:
    """One-vs-rest logistic regression over binary features, scaled by 1/sqrt(count)."""

    version: str
    types: tuple[NeedType, ...]
    min_n: int
    max_n: int
    bias: tuple[float, ...]
    weights: Mapping[str, Sequence[float]]
    settings: ModelSettings
    # Cutting words is the dearest step. Scored on its characters alone, a text whose
    # probability of a type is below that type's add gate never reached the type's
    # threshold in training once its words were added, and one at or above its drop gate
    # never fell below drop_below: its words are not cut for that type.
    word_gate: WordGate
    _packed: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        packed = {feature: _pack(round(value * WEIGHT_UNITS) for value in row) for feature, row in self.weights.items()}
        object.__setattr__(self, "_packed", packed)

    def probabilities(self, text: str, words: Iterable[str] = ()) -> dict[NeedType, float]:
        """Return the probability of every need type for normalised text and its newmm words."""
        found = features(text, words, self.min_n, self.max_n)
        return self._probabilities(self._packed_sum(found), len(found))

    def opinion(
        self,
        text: str,
        words: Callable[[], Iterable[str]],
        addable: Collection[NeedType],
        droppable: Collection[NeedType] = (),
    ) -> dict[NeedType, float] | None:
        """Return the probabilities, or None when no type can pass its word gate.

        `words` is called (the text cut) only when some type passes on characters alone.
        """
        characters = character_features(text, self.min_n, self.max_n)
        packed = self._packed_sum(characters)
        partial = self._probabilities(packed, len(characters))
        gate = self.word_gate
        if all(partial[need_type] < gate.add.get(need_type, 0.0) for need_type in addable) and all(
            partial[need_type] >= gate.drop.get(need_type, 2.0) for need_type in droppable
        ):
            return None
        # The sums are exact integers: the characters' sum plus the words' is the sum of both,
        # without looking the characters up a second time.
        words_only = word_features(words()) - characters
        return self._probabilities(packed + self._packed_sum(words_only), len(characters) + len(words_only))

    def _packed_sum(self, found: set[str]) -> int:
        # One C-level pass: look every feature up (unknown ones add 0) and add the packed rows.
        return sum(map(self._packed.get, found, repeat(0)))

    def _probabilities(self, packed: int, features: int) -> dict[NeedType, float]:
        """Every type's probability from the packed sum of a text's features and how many it has."""
        if not features:
            return dict.fromkeys(self.types, 0.0)
        totals = _unpack(packed, len(self.types))
        scale = 1.0 / (WEIGHT_UNITS * math.sqrt(features))
        return {
            need_type: _sigmoid(bias + total * scale)
            for need_type, bias, total in zip(self.types, self.bias, totals, strict=True)
        }

    def to_json(self) -> dict[str, Any]:
        """Return the model as plain JSON data (the format `model_from_json` reads)."""
        return {
            "format": MODEL_FORMAT,
            "version": self.version,
            "types": [need_type.value for need_type in self.types],
            "features": {"char_min_n": self.min_n, "char_max_n": self.max_n, "words": "newmm"},
            "combine": self.settings.to_json(),
            "word_gate": self.word_gate.to_json(),
            "bias": list(self.bias),
            "weights": {feature: list(row) for feature, row in sorted(self.weights.items())},
        }


def content_version(data: Mapping[str, Any]) -> str:
    """Return a version naming the model's content: the same training gives the same version."""
    content = {key: value for key, value in data.items() if key != "version"}
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    return f"lr-{digest[:12]}"


def model_to_bytes(model: ScreeningModel) -> bytes:
    """Return the model file: compact, stable JSON on one line."""
    return (json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def model_from_json(data: Mapping[str, Any]) -> ScreeningModel:
    """Build a model from the data `ScreeningModel.to_json` returns, naming the field that is wrong."""
    if data.get("format") != MODEL_FORMAT:
        raise ModelError(f"model file 'format' must be {MODEL_FORMAT!r}, not {data.get('format')!r}")
    try:
        types = tuple(NeedType(name) for name in data["types"])
        bias = tuple(float(value) for value in data["bias"])
        weights = {str(feature): tuple(float(value) for value in row) for feature, row in data["weights"].items()}
        settings = _settings(data["combine"])
        model = ScreeningModel(
            version=str(data["version"]),
            types=types,
            min_n=int(data["features"]["char_min_n"]),
            max_n=int(data["features"]["char_max_n"]),
            bias=bias,
            weights=weights,
            settings=settings,
            word_gate=WordGate(
                add={NeedType(key): float(value) for key, value in data["word_gate"]["add"].items()},
                drop={NeedType(key): float(value) for key, value in data["word_gate"]["drop"].items()},
            ),
        )
    except KeyError as error:
        raise ModelError(f"model file lacks the field {error}") from error
    except (TypeError, ValueError, AttributeError) as error:
        raise ModelError(f"malformed model file: {error}") from error
    if len(bias) != len(types) or any(len(row) != len(types) for row in weights.values()):
        raise ModelError("malformed model file: 'bias' and every 'weights' row need one value per type")
    return model


def model_from_bytes(data: bytes) -> ScreeningModel:
    """Build a model from the bytes of one model file."""
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"model file is not JSON: {error}") from error
    if not isinstance(parsed, dict):
        raise ModelError("model file must be a JSON object")
    return model_from_json(parsed)


def load_model(path: pathlib.Path | None = None) -> ScreeningModel:
    """Load the packaged model (or one from path)."""
    path = DEFAULT_MODEL_PATH if path is None else path
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelError(f"cannot read model file {path}: {error}") from error
    return model_from_bytes(data)


def _settings(raw: Mapping[str, Any]) -> ModelSettings:
    return ModelSettings(
        accept_probability=float(raw["accept_probability"]),
        type_probabilities={NeedType(key): float(value) for key, value in raw["type_probabilities"].items()},
        support_probability=float(raw["support_probability"]),
        # Absent from model files written before supports were chosen per type.
        type_supports={NeedType(key): float(value) for key, value in raw.get("type_supports", {}).items()},
        weak_confidence=float(raw["weak_confidence"]),
        drop_below=float(raw["drop_below"]),
        additional_probability=float(raw["additional_probability"]),
        min_letters=int(raw["min_letters"]),
    )


def _pack(units: Iterable[int]) -> int:
    """Return one feature's weights (whole units) packed into one integer, with a count of 1."""
    packed = 0
    shift = 0
    for unit in units:
        if abs(unit) >= _FIELD_OFFSET:
            raise ModelError(f"model weight {unit / WEIGHT_UNITS} is too large")
        packed |= (unit + _FIELD_OFFSET) << shift
        shift += _FIELD_BITS
    return packed | 1 << shift


def _unpack(total: int, types: int) -> list[int]:
    """Return the per-type sums of a sum of packed weights."""
    offset = (total >> (_FIELD_BITS * types)) * _FIELD_OFFSET  # each feature raised each field once
    return [((total >> (_FIELD_BITS * index)) & _FIELD_MASK) - offset for index in range(types)]


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)
