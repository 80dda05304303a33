"""The models a running screening process uses, swapped for newly promoted ones without a restart."""

import asyncio
import logging
from dataclasses import dataclass

from services.screening.adapters import model_registry as registry
from services.screening.domain.classifier import Classifier
from shared.periodic import every

log = logging.getLogger(__name__)


class ModelIntegrityError(Exception):
    """A model file's bytes do not match the hash recorded for it."""


@dataclass
class ScreeningModels:
    """The live classifier and, in shadow mode, a candidate beside it; the hashes say which files they came from.

    A hash of None is the model shipped in the package (live) or no model at all (shadow).
    """

    live: Classifier
    shadow: Classifier | None = None
    live_sha256: str | None = None
    shadow_sha256: str | None = None


async def load_models(connection: registry.Reader) -> ScreeningModels:
    """The models the registry says to run now."""
    models = ScreeningModels(live=await asyncio.to_thread(Classifier.load))
    await refresh_models(models, connection)
    return models


async def refresh_models(models: ScreeningModels, connection: registry.Reader) -> None:
    """Swap in the live and shadow models of the registry if they changed (a promotion, rollback or shadow)."""
    active = await registry.active_models(connection)
    live, shadow = active.get("live"), active.get("shadow")
    if (live.content_sha256 if live else None) != models.live_sha256:
        models.live = await _classifier(connection, live) if live else await asyncio.to_thread(Classifier.load)
        models.live_sha256 = live.content_sha256 if live else None
        log.info("screening now runs %s", models.live.version)
    if (shadow.content_sha256 if shadow else None) != models.shadow_sha256:
        models.shadow = await _classifier(connection, shadow) if shadow else None
        models.shadow_sha256 = shadow.content_sha256 if shadow else None
        log.info("shadow model: %s", models.shadow.version if models.shadow else "none")


async def _classifier(connection: registry.Reader, model: registry.ActiveModel) -> Classifier:
    data = await registry.model_file(connection, model.version)
    if registry.content_hash(data) != model.content_sha256:
        raise ModelIntegrityError(f"model {model.version}: file does not match its recorded sha256")
    # Building a classifier takes a moment of CPU: not on the loop that consumes and heartbeats.
    return await asyncio.to_thread(Classifier.from_model_bytes, data)


async def keep_models_fresh(models: ScreeningModels, connection: registry.Reader, *, interval_s: float) -> None:
    """Poll the registry for the life of the service."""
    await every(interval_s, lambda: refresh_models(models, connection), what="model refresh")
