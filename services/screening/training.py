"""Training the n-gram second opinion of screening, deterministically, on the dev set only.

    python -m services.screening.training          # train on the dev set, write model/ngram.json
    python -m services.screening.training --cv     # 5-fold cross-validation report only

Everything is plain Python with a fixed seed, so the same dev set always gives the same
weights. One-vs-rest logistic regression is trained with Adagrad and L2 on binary
character n-gram features (see `services.screening.domain.ngram`).
"""

import json
import math
import pathlib
import random
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from services.screening.domain.lexicon import Lexicon, load_lexicon
from services.screening.domain.ngram import DEFAULT_MODEL_PATH, WEIGHT_UNITS, NgramModel, features
from services.screening.evaluation import load_labelled_jsonl
from shared.contracts.need_types import NeedType

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
DEV_SET = REPO_ROOT / "tests" / "data" / "screening_dev.jsonl"
MODEL_VERSION = "ngram-1"
SEED = 20261103
# Weights are shipped with as many decimals as the run-time integer units hold (1000 -> 3).
_DECIMALS = len(str(WEIGHT_UNITS)) - 1


@dataclass(frozen=True, slots=True)
class TrainingSettings:
    """Hyper-parameters; the defaults are the ones the shipped model was trained with."""

    min_n: int = 2
    max_n: int = 4
    min_count: int = 2
    epochs: int = 12
    learning_rate: float = 0.5
    l2: float = 1e-4
    seed: int = SEED


def normalised_texts(lexicon: Lexicon, texts: Sequence[str]) -> list[str]:
    """Normalise texts exactly as the classifier does before screening."""
    limit = lexicon.scoring.max_chars
    return [lexicon.normalise(text[:limit]).text for text in texts]


def train(
    texts: Sequence[str],
    labels: Sequence[frozenset[NeedType]],
    settings: TrainingSettings = TrainingSettings(),
) -> NgramModel:
    """Train one logistic regression per need type on normalised texts."""
    types = tuple(NeedType)
    feature_sets = [features(text, settings.min_n, settings.max_n) for text in texts]
    counts = Counter(feature for found in feature_sets for feature in found)
    vocabulary = sorted(feature for feature, count in counts.items() if count >= settings.min_count)
    index = {feature: position for position, feature in enumerate(vocabulary)}
    rows = [sorted(index[feature] for feature in found if feature in index) for found in feature_sets]
    scales = [1.0 / math.sqrt(len(found)) if found else 0.0 for found in feature_sets]
    targets = [[1.0 if need_type in gold else 0.0 for need_type in types] for gold in labels]

    weights = [[0.0] * len(vocabulary) for _ in types]
    squares = [[1e-8] * len(vocabulary) for _ in types]
    bias = [0.0] * len(types)
    bias_squares = [1e-8] * len(types)
    order = list(range(len(rows)))
    generator = random.Random(settings.seed)
    rate, l2 = settings.learning_rate, settings.l2
    for _ in range(settings.epochs):
        generator.shuffle(order)
        for item in order:
            row, scale, target = rows[item], scales[item], targets[item]
            for position in range(len(types)):
                w, g2 = weights[position], squares[position]
                score = bias[position] + scale * sum(w[column] for column in row)
                error = _sigmoid(score) - target[position]
                bias_squares[position] += error * error
                bias[position] -= rate * error / math.sqrt(bias_squares[position])
                for column in row:
                    gradient = error * scale + l2 * w[column]
                    g2[column] += gradient * gradient
                    w[column] -= rate * gradient / math.sqrt(g2[column])

    digits = _DECIMALS
    shipped: dict[str, tuple[float, ...]] = {}
    for feature, position in index.items():
        row_weights = tuple(round(weights[kind][position], digits) for kind in range(len(types)))
        if any(row_weights):
            shipped[feature] = row_weights
    return NgramModel(
        version=MODEL_VERSION,
        types=types,
        min_n=settings.min_n,
        max_n=settings.max_n,
        bias=tuple(round(value, digits) for value in bias),
        weights=shipped,
    )


def folds(count: int, k: int = 5, seed: int = SEED) -> list[list[int]]:
    """Split item indices into k deterministic, shuffled folds."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    return [sorted(order[start::k]) for start in range(k)]


def out_of_fold_probabilities(
    texts: Sequence[str],
    labels: Sequence[frozenset[NeedType]],
    settings: TrainingSettings = TrainingSettings(),
    k: int = 5,
) -> list[dict[NeedType, float]]:
    """Return, for every item, the probabilities of a model trained without its fold."""
    result: list[dict[NeedType, float]] = [{} for _ in texts]
    for held_out in folds(len(texts), k, settings.seed):
        held = set(held_out)
        kept = [index for index in range(len(texts)) if index not in held]
        model = train([texts[index] for index in kept], [labels[index] for index in kept], settings)
        for index in held_out:
            result[index] = model.probabilities(texts[index])
    return result


def load_dev(path: pathlib.Path = DEV_SET) -> tuple[list[str], list[frozenset[NeedType]]]:
    """Read the labelled dev set as raw texts and label sets."""
    items = load_labelled_jsonl(path)
    return [text for text, _ in items], [labels for _, labels in items]


def train_dev_model(
    path: pathlib.Path = DEV_SET,
    settings: TrainingSettings = TrainingSettings(),
) -> NgramModel:
    """Train the shipped model: the packaged lexicon's normalisation, the whole dev set."""
    texts, labels = load_dev(path)
    return train(normalised_texts(load_lexicon(), texts), labels, settings)


def write_model(model: NgramModel, path: pathlib.Path = DEFAULT_MODEL_PATH) -> None:
    """Write the model as compact, stable JSON (sorted keys, one line)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(model.to_json(), ensure_ascii=False, separators=(",", ":"))
    path.write_text(text + "\n", encoding="utf-8")


def _sigmoid(value: float) -> float:
    if value >= 0:
        return 1.0 / (1.0 + math.exp(-value))
    exp = math.exp(value)
    return exp / (1.0 + exp)


def main(arguments: Sequence[str]) -> int:
    """Train and write the model, or with --cv report cross-validation only."""
    if "--cv" in arguments:
        from services.screening.model_selection import cross_validation_report

        sys.stdout.write(json.dumps(cross_validation_report(), indent=2) + "\n")
        return 0
    model = train_dev_model()
    write_model(model)
    sys.stdout.write(f"wrote {DEFAULT_MODEL_PATH} ({len(model.weights)} features)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
