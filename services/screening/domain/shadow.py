"""Shadow mode: what a candidate model would have said, next to what the live model did say."""

from dataclasses import dataclass

from services.screening.domain.classifier import Classification


@dataclass(frozen=True, slots=True)
class ShadowDisagreement:
    """The live and the shadow model typed one description differently."""

    live_version: str
    shadow_version: str
    live_types: tuple[str, ...]
    shadow_types: tuple[str, ...]


def compare(live: Classification, shadow: Classification) -> ShadowDisagreement | None:
    """The disagreement between two classifications of one text, or None when they chose the same types."""
    live_types = tuple(sorted(item.type.value for item in live.types))
    shadow_types = tuple(sorted(item.type.value for item in shadow.types))
    if live_types == shadow_types:
        return None
    return ShadowDisagreement(live.classifier_version, shadow.classifier_version, live_types, shadow_types)
