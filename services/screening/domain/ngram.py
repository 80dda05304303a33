"""A small statistical second opinion: character n-gram logistic regression, one per need type.

The weights are trained by `services.screening.training` on the labelled dev set and shipped
as a JSON file inside the package; nothing is downloaded and nothing but the standard library
runs here. Features are the character n-grams of the classifier's normalised text (spaces
between Thai letters already removed) plus whole Latin words, each counted once.
"""

import json
import math
import pathlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from shared.contracts.need_types import NeedType

DEFAULT_MODEL_PATH = pathlib.Path(__file__).resolve().parent.parent / "model" / "ngram.json"

# Weights are stored with three decimals; at run time they are whole thousandths.
WEIGHT_UNITS = 1000
# At run time a feature's thousandths for all types are packed into one integer, a field of
# _FIELD_BITS bits per type, each raised by _FIELD_OFFSET so that no field is negative, and
# a last field that counts the feature. Summing the packed integers of a text's features
# sums every type's column and counts the known features in one C-level pass; no field can
# overflow into the next below 2**(_FIELD_BITS - 33) features (weights under 2**32 units).
_FIELD_BITS = 64
_FIELD_OFFSET = 1 << 32
_FIELD_MASK = (1 << _FIELD_BITS) - 1
_LATIN_WORD = re.compile(r"[a-z][a-z0-9'-]*")
# Digits carry amounts and dates, not meaning; one shape keeps "ค้าง 3 เดือน" and "ค้าง 2 เดือน" alike.
_DIGITS = re.compile(r"\d+")


class ModelError(ValueError):
    """The model file is missing or malformed."""


def features(text: str, min_n: int, max_n: int) -> set[str]:
    """Return the distinct features of normalised text: character n-grams and Latin words."""
    padded = f" {_DIGITS.sub('0', text)} "
    length = len(padded)
    found = {padded[start : start + size] for size in range(min_n, max_n + 1) for start in range(length - size + 1)}
    found.update("w:" + word for word in _LATIN_WORD.findall(text))
    return found


@dataclass(frozen=True, slots=True)
class NgramModel:
    """One-vs-rest logistic regression over binary n-gram features, scaled by 1/sqrt(count)."""

    version: str
    types: tuple[NeedType, ...]
    min_n: int
    max_n: int
    bias: tuple[float, ...]
    weights: Mapping[str, Sequence[float]]
    _packed: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        packed = {feature: _pack(round(value * WEIGHT_UNITS) for value in row) for feature, row in self.weights.items()}
        object.__setattr__(self, "_packed", packed)

    def probabilities(self, text: str) -> dict[NeedType, float]:
        """Return the probability of every need type for normalised text."""
        found = features(text, self.min_n, self.max_n)
        if not found:
            return dict.fromkeys(self.types, 0.0)
        # One C-level pass: look every feature up (unknown ones add 0) and add the packed rows.
        # Weights are kept as integers (thousandths), so the sum is exact whatever the order.
        totals = _unpack(sum(map(self._packed.get, found, repeat(0))), len(self.types))
        scale = 1.0 / (WEIGHT_UNITS * math.sqrt(len(found)))
        return {
            need_type: _sigmoid(bias + total * scale)
            for need_type, bias, total in zip(self.types, self.bias, totals, strict=True)
        }

    def to_json(self) -> dict[str, Any]:
        """Return the model as plain JSON data (the format `load_model` reads)."""
        return {
            "version": self.version,
            "types": [need_type.value for need_type in self.types],
            "min_n": self.min_n,
            "max_n": self.max_n,
            "bias": list(self.bias),
            "weights": {feature: list(row) for feature, row in sorted(self.weights.items())},
        }


def model_from_json(data: Mapping[str, Any]) -> NgramModel:
    """Build a model from the data `NgramModel.to_json` returns."""
    try:
        types = tuple(NeedType(name) for name in data["types"])
        bias = tuple(float(value) for value in data["bias"])
        weights = {str(feature): tuple(float(value) for value in row) for feature, row in data["weights"].items()}
        model = NgramModel(
            version=str(data["version"]),
            types=types,
            min_n=int(data["min_n"]),
            max_n=int(data["max_n"]),
            bias=bias,
            weights=weights,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelError(f"malformed n-gram model: {error!r}") from error
    if len(bias) != len(types) or any(len(row) != len(types) for row in weights.values()):
        raise ModelError("malformed n-gram model: every weight row needs one value per type")
    return model


def load_model(path: pathlib.Path | None = None) -> NgramModel:
    """Load the packaged model (or one from path)."""
    path = DEFAULT_MODEL_PATH if path is None else path
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise ModelError(f"cannot read n-gram model {path}: {error}") from error
    if not isinstance(data, dict):
        raise ModelError(f"{path}: expected a JSON object")
    return model_from_json(data)


def _pack(units: Iterable[int]) -> int:
    """Return one feature's weights (whole units) packed into one integer, with a count of 1."""
    packed = 0
    shift = 0
    for unit in units:
        if abs(unit) >= _FIELD_OFFSET:
            raise ModelError(f"n-gram weight {unit / WEIGHT_UNITS} is too large")
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
