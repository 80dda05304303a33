"""Fitting screening's model with scikit-learn and exporting it to the file the runtime reads.

One-vs-rest logistic regression over the runtime's own features (`features` in
services.screening.domain.model), so what is trained is exactly what is scored.
"""

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier

from services.screening.domain.classifier import Classifier, RuleAssessment, TypeAssessment
from services.screening.domain.lexicon import load_lexicon
from services.screening.domain.model import (
    OPEN_GATE,
    WEIGHT_DECIMALS,
    ModelSettings,
    ScreeningModel,
    WordGate,
    content_version,
    features,
    model_from_json,
)
from shared.contracts.need_types import NeedType
from training.examples import LabelledExample

TYPES = tuple(NeedType)
NEVER = 1.01
# The word gate sits this far below the lowest character-only probability seen to pass, for
# texts unlike any in training.
WORD_GATE_SLACK = 0.8


@dataclass(frozen=True, slots=True)
class FitOptions:
    """Hyper-parameters; the defaults are the ones the shipped model was trained with."""

    min_n: int = 2
    max_n: int = 4
    min_count: int = 2
    # Inverse L2 strength, as scikit-learn's LogisticRegression takes it.
    c: float = 20.0
    # Weigh each type's rare positives up to the weight of its negatives.
    balanced: bool = True
    folds: int = 5
    # Weigh each feature by its inverse document frequency, so a feature in every text
    # counts little. Folded into the exported weights: the runtime scores as before.
    idf: bool = False


@dataclass(frozen=True, slots=True)
class Assessed:
    """Examples as the rules see them: normalised text, newmm words, and the rules' verdict."""

    rules: list[RuleAssessment]
    accepted: list[tuple[TypeAssessment, ...]]
    words: list[tuple[str, ...]]
    labels: list[frozenset[NeedType]]


@dataclass(frozen=True, slots=True)
class Fitted:
    """A fitted one-vs-rest model and the feature columns it was fitted on."""

    estimator: OneVsRestClassifier
    columns: dict[str, int]
    options: FitOptions
    # Each column's factor before fitting (its idf, or 1); the exported weights carry it.
    scales: np.ndarray

    def matrix(self, texts: Sequence[str], words: Sequence[Sequence[str]]) -> csr_matrix:
        """Return the feature matrix of normalised texts, scaled as the runtime scales them."""
        return _matrix(
            [
                features(text, found, self.options.min_n, self.options.max_n)
                for text, found in zip(texts, words, strict=True)
            ],
            self.columns,
            self.scales,
        )

    def probabilities(self, texts: Sequence[str], words: Sequence[Sequence[str]]) -> np.ndarray:
        """Return one row of per-type probabilities for each normalised text."""
        return np.asarray(self.estimator.predict_proba(self.matrix(texts, words)))


def rules_only_classifier() -> Classifier:
    """The packaged lexicon's rules with no model: what the model is trained to complete."""
    return Classifier(load_lexicon(), None)


def assess(examples: Sequence[LabelledExample], classifier: Classifier | None = None) -> Assessed:
    """Run the rules over every example, keeping the normalised text and its words."""
    classifier = classifier or rules_only_classifier()
    rules = [classifier.assess_rules(example.text) for example in examples]
    accepted = [classifier.classify(example.text).types for example in examples]
    return Assessed(rules, accepted, [item.tokens.words for item in rules], [example.labels for example in examples])


def fit(
    texts: Sequence[str], words: Sequence[Sequence[str]], labels: Sequence[frozenset[NeedType]], options: FitOptions
) -> Fitted:
    """Fit one logistic regression per need type on normalised texts and their words."""
    for need_type in TYPES:
        present = sum(1 for gold in labels if need_type in gold)
        if present in (0, len(labels)):
            raise ValueError(f"labels: every need type needs examples with and without it; {need_type} has {present}")
    found = [features(text, items, options.min_n, options.max_n) for text, items in zip(texts, words, strict=True)]
    counts = Counter(feature for item in found for feature in item)
    vocabulary = sorted(feature for feature, count in counts.items() if count >= options.min_count)
    columns = {feature: column for column, feature in enumerate(vocabulary)}
    scales = _idf(counts, vocabulary, len(found)) if options.idf else np.ones(len(vocabulary))
    targets = np.array([[1 if need_type in gold else 0 for need_type in TYPES] for gold in labels])
    estimator = OneVsRestClassifier(
        LogisticRegression(
            C=options.c,
            class_weight="balanced" if options.balanced else None,
            solver="liblinear",
            random_state=0,
            max_iter=1000,
        )
    )
    estimator.fit(_matrix(found, columns, scales), targets)
    return Fitted(estimator, columns, options, scales)


def export(fitted: Fitted, settings: ModelSettings, gate: WordGate = OPEN_GATE) -> ScreeningModel:
    """Return the runtime model of a fitted estimator, named by its content (no word gate: always cut)."""
    coefficients = np.vstack([estimator.coef_[0] for estimator in fitted.estimator.estimators_]) * fitted.scales
    bias = [float(estimator.intercept_[0]) for estimator in fitted.estimator.estimators_]
    weights = {}
    for feature, column in fitted.columns.items():
        row = [round(float(value), WEIGHT_DECIMALS) for value in coefficients[:, column]]
        if any(row):
            weights[feature] = row
    data = ScreeningModel(
        version="",
        types=TYPES,
        min_n=fitted.options.min_n,
        max_n=fitted.options.max_n,
        bias=tuple(round(value, WEIGHT_DECIMALS) for value in bias),
        weights=weights,
        settings=settings,
        word_gate=gate,
    ).to_json()
    data["version"] = content_version(data)
    return model_from_json(data)


def word_gate(model: ScreeningModel, texts: Sequence[str], words: Sequence[Sequence[str]]) -> WordGate:
    """Character-only probabilities beyond which no training text's words changed a decision."""
    full = [model.probabilities(text, found) for text, found in zip(texts, words, strict=True)]
    partial = [model.probabilities(text, ()) for text in texts]
    settings = model.settings
    add, drop = {}, {}
    for need_type in TYPES:
        # The lowest probability at which the model adds this type: its own threshold, or its
        # support where the rules saw weak words for it.
        threshold = min(settings.probability_for(need_type), settings.support_for(need_type))
        reached = [alone[need_type] for alone, both in zip(partial, full, strict=True) if both[need_type] >= threshold]
        add[need_type] = NEVER if threshold > 1 else round(min(reached, default=threshold) * WORD_GATE_SLACK, 4)
        if settings.drop_below > 0:
            fell = [
                alone[need_type]
                for alone, both in zip(partial, full, strict=True)
                if both[need_type] < settings.drop_below
            ]
            drop[need_type] = round(max(fell, default=settings.drop_below) / WORD_GATE_SLACK, 4)
    return WordGate(add, drop)


def _idf(counts: Counter[str], vocabulary: Sequence[str], texts: int) -> np.ndarray:
    """Smoothed inverse document frequency of every column, as scikit-learn's TfidfTransformer has it."""
    return np.array([math.log((1 + texts) / (1 + counts[feature])) + 1 for feature in vocabulary])


def _matrix(found: Sequence[set[str]], columns: dict[str, int], scales: np.ndarray) -> csr_matrix:
    """Rows of binary features times their column's factor, scaled by 1/sqrt(all features of the text)."""
    indptr: list[int] = [0]
    indices: list[int] = []
    values: list[float] = []
    for item in found:
        known = sorted(columns[feature] for feature in item if feature in columns)
        scale = 1.0 / math.sqrt(len(item)) if item else 0.0
        indices.extend(known)
        values.extend(scale * float(scales[column]) for column in known)
        indptr.append(len(indices))
    return csr_matrix((values, indices, indptr), shape=(len(found), len(columns)), dtype=np.float64)
