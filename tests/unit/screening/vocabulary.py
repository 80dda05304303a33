"""Short names for the need types, and the set a classification assigned."""

from services.screening.domain.classifier import Classification
from shared.contracts.need_types import NeedType

JOBS = NeedType.JOBS
SKILLS = NeedType.SKILLS
SS40 = NeedType.SS40
UNFAIR = NeedType.UNFAIR_LABOUR
MIGRANT = NeedType.MIGRANT_LABOUR
DRUGS = NeedType.DRUGS_WORKPLACE


def types_of(result: Classification) -> set[NeedType]:
    """The types a classification assigned."""
    return {assessment.type for assessment in result.types}
