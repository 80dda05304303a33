"""Operators' model tasks: train and register a candidate, promote it through the gate, roll back, shadow."""

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from services.screening.adapters import model_registry as registry
from services.screening.domain.classifier import Classifier
from services.screening.domain.evaluation import evaluate, load_labelled_jsonl
from services.screening.domain.gate import gate_regressions

# The frozen real-text gate, in a checkout (the service image carries no training data: pass --gate there).
DEFAULT_GATE = Path(__file__).resolve().parents[3] / "training" / "data" / "real" / "gate.jsonl"
SHIPPED = "shipped"


class GateRefused(Exception):
    """The candidate scores lower than the live model on the gate."""

    def __init__(self, version: str, dropped: Sequence[str]) -> None:
        super().__init__(f"{version} not promoted: lower than the live model on the gate: {'; '.join(dropped)}")
        self.dropped = list(dropped)


@dataclass(frozen=True, slots=True)
class Promotion:
    """A promoted model and the gate figures that let it through."""

    version: str
    replaced: str
    candidate_gate: dict[str, Any]
    live_gate: dict[str, Any]


@asynccontextmanager
async def _connected(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    try:
        yield connection
    finally:
        await connection.close()


async def register_trained(database_url: str, data: bytes, summary: dict[str, Any]) -> tuple[str, bool]:
    """Register a trained model file as a candidate; its version, and False if it was there already."""
    version = Classifier.from_model_bytes(data).version
    async with _connected(database_url) as connection:
        return version, await registry.register_model(connection, version=version, data=data, summary=summary)


async def promote(database_url: str, version: str, *, gate: Path | None = None) -> Promotion:
    """Make a candidate live if it scores no lower than the live model on the gate (default: DEFAULT_GATE)."""
    gate = gate or DEFAULT_GATE
    if not gate.is_file():
        raise FileNotFoundError(f"gate: no gate set at {gate}; pass --gate FILE")
    items = load_labelled_jsonl(gate)
    async with _connected(database_url) as connection:
        if (await registry.get_model(connection, version)).state == "live":
            raise registry.RegistryError(f"{version} is already live")
        candidate = Classifier.from_model_bytes(await registry.model_file(connection, version))
        live_model = (await registry.active_models(connection)).get("live")
        if live_model is None:
            live, replaced = Classifier.load(), SHIPPED
        else:
            live = Classifier.from_model_bytes(await registry.model_file(connection, live_model.version))
            replaced = live_model.version
        candidate_gate, live_gate = _gate_figures(candidate, items), _gate_figures(live, items)
        await registry.record_gate(
            connection,
            version,
            {"gate": gate.name, "candidate": candidate_gate, "live": live_gate, "live_version": replaced},
        )
        dropped = gate_regressions(candidate_gate, live_gate)
        if dropped:
            raise GateRefused(version, dropped)
        await registry.make_live(connection, version)
    return Promotion(version, replaced, candidate_gate, live_gate)


def _gate_figures(classifier: Classifier, items: list[Any]) -> dict[str, Any]:
    figures = evaluate(classifier, items)
    figures.pop("per_second")  # a speed, not a quality: it differs between runs of the same model
    return figures


async def roll_back(database_url: str) -> str:
    """Make the previously live model live again; its version, or ``shipped``."""
    async with _connected(database_url) as connection:
        return await registry.rollback(connection) or SHIPPED


async def shadow(database_url: str, version: str | None) -> None:
    """Run a model in shadow next to the live one, or none (``version`` None)."""
    async with _connected(database_url) as connection:
        await registry.set_shadow(connection, version)


async def list_models(database_url: str) -> tuple[list[registry.RegisteredModel], str]:
    """Every registered model, and the live version (``shipped`` when none in the registry is)."""
    async with _connected(database_url) as connection:
        models = await registry.list_models(connection)
    live = next((model.version for model in models if model.state == "live"), None)
    return models, live or f"{SHIPPED} ({Classifier.load().version})"


async def shadow_report(database_url: str, *, limit: int) -> list[registry.ShadowReportLine]:
    """What the shadow model would change: the newest needs it typed differently."""
    async with _connected(database_url) as connection:
        return await registry.shadow_disagreements(connection, limit=limit)
