"""What the screening tests share: one loaded classifier."""

import pytest

from services.screening.domain.classifier import Classifier


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    """The classifier with the packaged lexicon and model, loaded once."""
    return Classifier.load()
