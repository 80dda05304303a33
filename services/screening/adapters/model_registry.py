"""Screening's model registry in PostgreSQL: every model file, its hash, its state and its promotions."""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from shared.database import Connection

# Reads need no transaction: a running service reads through its pool.
Reader = Connection | asyncpg.Pool


class RegistryError(Exception):
    """A registry operation that cannot be done as asked."""


class UnknownModel(RegistryError):
    """No model has that version."""


class ModelConflict(RegistryError):
    """A model with that version but other content is already registered."""


@dataclass(frozen=True, slots=True)
class RegisteredModel:
    """One model version as listed (without its file)."""

    version: str
    content_sha256: str
    state: str
    training_summary: dict[str, Any]
    gate: dict[str, Any] | None
    created_at: datetime
    state_changed_at: datetime

    def summary(self) -> dict[str, object]:
        """The row as JSON data."""
        return {
            "version": self.version, "sha256": self.content_sha256, "state": self.state,
            "created_at": self.created_at.isoformat(), "state_changed_at": self.state_changed_at.isoformat(),
            "training": self.training_summary, "gate": self.gate,
        }  # fmt: skip


@dataclass(frozen=True, slots=True)
class ActiveModel:
    """A model screening must run: which one, and its hash to tell whether it changed."""

    version: str
    content_sha256: str


def content_hash(data: bytes) -> str:
    """The sha256 of a model file's bytes, as recorded."""
    return hashlib.sha256(data).hexdigest()


_COLUMNS = "version, content_sha256, state, training_summary, gate, created_at, state_changed_at"


def _registered(row: asyncpg.Record) -> RegisteredModel:
    gate = row["gate"]
    return RegisteredModel(
        row["version"], row["content_sha256"], row["state"], json.loads(row["training_summary"]),
        json.loads(gate) if gate is not None else None, row["created_at"], row["state_changed_at"],
    )  # fmt: skip


async def register_model(connection: Connection, *, version: str, data: bytes, summary: dict[str, Any]) -> bool:
    """Record a model file as a candidate; False when exactly this file is already registered."""
    digest = content_hash(data)
    inserted = await connection.fetchval(
        "INSERT INTO screening_models (version, content_sha256, model, training_summary) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT DO NOTHING RETURNING version",
        version, digest, data, json.dumps(summary, ensure_ascii=False),
    )  # fmt: skip
    if inserted is not None:
        return True
    existing = await connection.fetchrow(
        "SELECT version, content_sha256 FROM screening_models WHERE version = $1 OR content_sha256 = $2",
        version,
        digest,
    )
    if existing is None or (existing["version"], existing["content_sha256"]) != (version, digest):
        raise ModelConflict(f"version {version} (sha256 {digest[:12]}) clashes with registered {dict(existing or {})}")
    return False


async def list_models(connection: Connection) -> list[RegisteredModel]:
    """Every registered model, newest first."""
    rows = await connection.fetch(f"SELECT {_COLUMNS} FROM screening_models ORDER BY created_at DESC, version")
    return [_registered(row) for row in rows]


async def get_model(connection: Connection, version: str) -> RegisteredModel:
    """One registered model (without its file)."""
    row = await connection.fetchrow(f"SELECT {_COLUMNS} FROM screening_models WHERE version = $1", version)
    if row is None:
        raise UnknownModel(f"no model version {version}; see `needs-router models list`")
    return _registered(row)


async def model_file(connection: Reader, version: str) -> bytes:
    """The bytes of one registered model file."""
    data: bytes | None = await connection.fetchval("SELECT model FROM screening_models WHERE version = $1", version)
    if data is None:
        raise UnknownModel(f"no model version {version}; see `needs-router models list`")
    return data


async def active_models(connection: Reader) -> dict[str, ActiveModel]:
    """The live and the shadow model by state; a state missing has no model in the registry."""
    rows = await connection.fetch(
        "SELECT state, version, content_sha256 FROM screening_models WHERE state IN ('live', 'shadow')"
    )
    return {row["state"]: ActiveModel(row["version"], row["content_sha256"]) for row in rows}


async def record_gate(connection: Connection, version: str, gate: dict[str, Any]) -> None:
    """Keep the gate figures of a promotion attempt with the model."""
    await connection.execute(
        "UPDATE screening_models SET gate = $2 WHERE version = $1", version, json.dumps(gate, ensure_ascii=False)
    )


async def make_live(connection: Connection, version: str) -> None:
    """Make one model live, retiring the live one; remembered so that a rollback can undo it."""
    async with connection.transaction():
        await _set_state(connection, "retired", "state = 'live'")
        await _set_state(connection, "live", "version = $2", version)
        await connection.execute("INSERT INTO screening_model_promotions (version) VALUES ($1)", version)


async def rollback(connection: Connection) -> str | None:
    """Retire the live model and make the one live before it live again; None: the shipped model is live."""
    async with connection.transaction():
        undone = await connection.fetchval(
            "UPDATE screening_model_promotions SET rolled_back_at = now() WHERE promotion_id ="
            " (SELECT max(promotion_id) FROM screening_model_promotions WHERE rolled_back_at IS NULL)"
            " RETURNING version"
        )
        if undone is None:
            raise RegistryError("nothing to roll back: no model was promoted (the shipped model is live)")
        await _set_state(connection, "retired", "state = 'live'")
        previous: str | None = await connection.fetchval(
            "SELECT version FROM screening_model_promotions WHERE rolled_back_at IS NULL"
            " ORDER BY promotion_id DESC LIMIT 1"
        )
        if previous is not None:
            await _set_state(connection, "live", "version = $2", previous)
        return previous


async def set_shadow(connection: Connection, version: str | None) -> None:
    """Run ``version`` in shadow next to the live model (None: no shadow); the former shadow is a candidate again."""
    async with connection.transaction():
        await _set_state(connection, "candidate", "state = 'shadow'")
        if version is None:
            return
        if (await get_model(connection, version)).state == "live":
            raise RegistryError(f"{version} is live: only another model can run in its shadow")
        await _set_state(connection, "shadow", "version = $2", version)


async def _set_state(connection: Connection, state: str, where: str, *arguments: object) -> None:
    # The partial unique indexes allow one live and one shadow model; states change in a transaction.
    await connection.execute(
        f"UPDATE screening_models SET state = $1, state_changed_at = now() WHERE {where}", state, *arguments
    )


@dataclass(frozen=True, slots=True)
class ShadowReportLine:
    """One need the shadow model typed otherwise, with its text."""

    need_id: str
    description: str
    live_version: str
    live_types: tuple[str, ...]
    shadow_version: str
    shadow_types: tuple[str, ...]
    screened_at: datetime

    def summary(self) -> dict[str, object]:
        """The line as JSON data."""
        return {
            "need_id": self.need_id, "description": self.description, "live_version": self.live_version,
            "live_types": list(self.live_types), "shadow_version": self.shadow_version,
            "shadow_types": list(self.shadow_types), "screened_at": self.screened_at.isoformat(),
        }  # fmt: skip


async def shadow_disagreements(connection: Reader, *, limit: int) -> list[ShadowReportLine]:
    """The newest disagreements of the shadow model, newest first."""
    rows = await connection.fetch(
        """
        SELECT d.need_id, coalesce(convert_from(s.event_payload, 'UTF8')::jsonb -> 'need' ->> 'description', '')
                AS description, d.live_version, d.live_types, d.shadow_version, d.shadow_types, d.screened_at
        FROM shadow_disagreements AS d LEFT JOIN screenings AS s USING (need_id)
        ORDER BY d.screened_at DESC, d.need_id LIMIT $1
        """,
        limit,
    )
    return [
        ShadowReportLine(
            **{
                **dict(row),
                "need_id": str(row["need_id"]),
                "live_types": tuple(row["live_types"]),
                "shadow_types": tuple(row["shadow_types"]),
            }
        )
        for row in rows
    ]
