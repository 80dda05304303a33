"""Intake's PostgreSQL: needs, their outbox records, and what the pipeline did with them."""

import uuid
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg

from services.intake.domain.submission import NeedSubmission
from shared.contracts.events import NeedSubmitted
from shared.database import Connection
from shared.topics import NEEDS_SUBMITTED


class IdempotencyConflict(ValueError):
    """An Idempotency-Key was reused for a different request."""


@dataclass(frozen=True, slots=True)
class StoredNeed:
    """The outcome of storing a submission: the need id, and whether it was new."""

    need_id: uuid.UUID
    created: bool


async def store_need(
    pool: asyncpg.Pool,
    *,
    submission: NeedSubmission,
    event: NeedSubmitted,
    idempotency_key: str | None,
) -> StoredNeed:
    """Store the need and its outbox record in one transaction (or find the earlier one)."""
    digest = submission.digest()
    payload = event.model_dump_json().encode()
    person = submission.person
    async with pool.acquire() as connection, connection.transaction():
        inserted = await connection.fetchval(
            """
            INSERT INTO needs (need_id, volunteer_id, idempotency_key, request_digest,
                subdistrict_code, district_code, province_code, description, person_name,
                person_phone, person_national_id, consent_to_share, suggested_types,
                occurred_at, submitted_at, event_payload)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
            ON CONFLICT (volunteer_id, idempotency_key) WHERE idempotency_key IS NOT NULL
            DO NOTHING
            RETURNING need_id
            """,
            event.need_id, event.volunteer_id, idempotency_key, digest,
            event.subdistrict_code, event.district_code, event.province_code, event.description,
            person.name if person else None, person.phone if person else None,
            person.national_id if person else None, event.consent_to_share,
            [str(need_type) for need_type in event.suggested_types],
            event.occurred_at, event.submitted_at, payload,
        )  # fmt: skip
        if inserted is None:
            return await _earlier_need(connection, event.volunteer_id, idempotency_key, digest)
        await connection.execute(
            "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
            NEEDS_SUBMITTED, str(event.need_id).encode(), payload,
        )  # fmt: skip
    return StoredNeed(need_id=event.need_id, created=True)


async def _earlier_need(
    connection: Connection, volunteer_id: str, idempotency_key: str | None, digest: str
) -> StoredNeed:
    row = await connection.fetchrow(
        "SELECT need_id, request_digest FROM needs WHERE volunteer_id = $1 AND idempotency_key = $2",
        volunteer_id, idempotency_key,
    )  # fmt: skip
    if row is None:  # the other request's transaction rolled back between our two statements
        raise IdempotencyConflict("the first request with this Idempotency-Key did not complete")
    if row["request_digest"] != digest:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different need")
    return StoredNeed(need_id=row["need_id"], created=False)


@dataclass(frozen=True, slots=True)
class NeedStatus:
    """A need as the pipeline has taken it so far."""

    need: asyncpg.Record
    screening: asyncpg.Record | None
    routed: list[asyncpg.Record]

    @property
    def status(self) -> Literal["accepted", "screened", "routed"]:
        """``routed`` once forwarded, ``screened`` once classified, else ``accepted``."""
        if self.routed:
            return "routed"
        return "screened" if self.screening else "accepted"


async def need_status(pool: asyncpg.Pool, need_id: uuid.UUID) -> NeedStatus | None:
    """Everything the pipeline recorded about one need, or None if there is no such need."""
    async with pool.acquire() as connection:
        need = await connection.fetchrow(
            "SELECT need_id, volunteer_id, subdistrict_code, district_code, province_code,"
            " submitted_at FROM needs WHERE need_id = $1",
            need_id,
        )
        if need is None:
            return None
        screening = await connection.fetchrow(
            "SELECT types, language, manual_reason, disagreement, classifier_version, screened_at"
            " FROM screenings WHERE need_id = $1",
            need_id,
        )
        routed = await connection.fetch(
            "SELECT agency, topic, types, manual_screening, routed_at FROM routed_cases"
            " WHERE need_id = $1 ORDER BY agency",
            need_id,
        )
    return NeedStatus(need=need, screening=screening, routed=list(routed))


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One event waiting to be published."""

    id: int
    topic: str
    key: bytes
    payload: bytes


async def take_outbox(connection: Connection, *, limit: int) -> list[OutboxRecord]:
    """Lock the oldest unpublished records; other relays skip them (call inside a transaction)."""
    rows: list[Any] = await connection.fetch(
        "SELECT id, topic, key, payload FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit,
    )
    return [OutboxRecord(row["id"], row["topic"], row["key"], row["payload"]) for row in rows]


async def forget_outbox(connection: Connection, ids: list[int]) -> None:
    """Drop records that the broker acknowledged."""
    await connection.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ids)
