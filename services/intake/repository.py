"""Intake's PostgreSQL: needs, their outbox records, and what the pipeline did with them."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from services.intake.domain.submission import NeedSubmission
from services.intake.personal_data import PersonalDataCipher
from shared.contracts.events import CaseStatusReport, NeedSubmitted, PersonalDataErased
from shared.contracts.need_types import Agency
from shared.database import Connection
from shared.observability import traceparent_now
from shared.topics import CASE_STATUS, NEEDS_SUBMITTED, agency_topic


class IdempotencyConflict(ValueError):
    """An Idempotency-Key was reused for a different request."""


@dataclass(frozen=True, slots=True)
class StoredNeed:
    """The outcome of storing a submission: the need id, and whether it was new."""

    need_id: uuid.UUID
    created: bool


async def store_need(
    connection: Connection,
    *,
    submission: NeedSubmission,
    event: NeedSubmitted,
    idempotency_key: str | None,
    submitted_by: str,
    cipher: PersonalDataCipher,
) -> StoredNeed:
    """Store the need and its outbox record in one statement, or find the earlier one.

    Idempotency keys are scoped to the submitting app (the key's owner).
    """
    digest = submission.digest()
    payload = event.model_dump_json().encode()
    person = submission.person
    national_id = person.national_id if person else None
    # One statement for the need and its outbox record: a round trip per accepted need saved.
    inserted = await connection.fetchval(
        """
        WITH need AS (
            INSERT INTO needs (need_id, volunteer_id, idempotency_key, request_digest, subdistrict_code,
                district_code, province_code, description, person_name, person_phone,
                national_id_encrypted, national_id_masked, consent_to_share, suggested_types,
                occurred_at, submitted_at, event_payload, submitted_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            ON CONFLICT (submitted_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
            RETURNING need_id
        ), queued AS (
            INSERT INTO outbox (topic, key, payload, traceparent)
            SELECT $19, convert_to(need_id::text, 'UTF8'), $17, $20 FROM need
        )
        SELECT need_id FROM need
        """,
        event.need_id, submission.volunteer_id, idempotency_key, digest, event.subdistrict_code,
        event.district_code, event.province_code, event.description,
        person.name if person else None, person.phone if person else None,
        cipher.seal(national_id, need_id=event.need_id) if national_id else None,
        person.national_id_masked() if person else None, submission.consent_to_share,
        [str(need_type) for need_type in event.suggested_types],
        event.occurred_at, event.submitted_at, payload, submitted_by, NEEDS_SUBMITTED, traceparent_now(),
    )  # fmt: skip
    if inserted is None:
        return await _earlier_need(connection, submitted_by, idempotency_key, digest)
    return StoredNeed(need_id=event.need_id, created=True)


async def _earlier_need(
    connection: Connection, submitted_by: str, idempotency_key: str | None, digest: str
) -> StoredNeed:
    row = await connection.fetchrow(
        "SELECT need_id, request_digest FROM needs WHERE submitted_by = $1 AND idempotency_key = $2",
        submitted_by, idempotency_key,
    )  # fmt: skip
    if row is None:  # the other request's transaction rolled back between our two statements
        raise IdempotencyConflict("the first request with this Idempotency-Key did not complete")
    if row["request_digest"] != digest:
        raise IdempotencyConflict("this Idempotency-Key was already used for a different need")
    return StoredNeed(need_id=row["need_id"], created=False)


NeedState = Literal["accepted", "screened", "routed", "in_progress", "resolved"]


def overall_status(*, screened: bool, case_states: Sequence[str]) -> NeedState:
    """Where a need stands as a whole.

    ``resolved`` once every live case (those not sent back as misrouted) is resolved;
    ``in_progress`` once an agency accepted it; else ``routed``, ``screened`` or ``accepted``.
    """
    live = [state for state in case_states if state != "misrouted"]
    if live and all(state == "resolved" for state in live):
        return "resolved"
    if any(state in {"accepted", "in_progress", "resolved"} for state in live):
        return "in_progress"
    if case_states:
        return "routed"
    return "screened" if screened else "accepted"


@dataclass(frozen=True, slots=True)
class NeedStatus:
    """A need as the pipeline and the agencies have taken it so far."""

    need: asyncpg.Record
    screening: asyncpg.Record | None
    routed: list[asyncpg.Record]
    reports: list[asyncpg.Record]

    @property
    def status(self) -> NeedState:
        """Where the need stands as a whole (see overall_status)."""
        return overall_status(screened=self.screening is not None, case_states=[row["status"] for row in self.routed])

    @property
    def routed_agencies(self) -> set[Agency]:
        """The agencies the need was forwarded to."""
        return {Agency(row["agency"]) for row in self.routed}


async def need_status(connection: Connection, need_id: uuid.UUID) -> NeedStatus | None:
    """Everything the pipeline recorded about one need, or None if there is no such need."""
    need = await connection.fetchrow(
        "SELECT need_id, submitted_by, subdistrict_code, district_code, province_code, submitted_at,"
        " personal_data_erased_at FROM needs WHERE need_id = $1",
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
        "SELECT agency, topic, types, manual_screening, routed_at, status, status_at FROM routed_cases"
        " WHERE need_id = $1 ORDER BY routed_at, agency",
        need_id,
    )
    reports = await connection.fetch(
        "SELECT agency, status, note, outcome, reason, reroute_to, reported_at FROM case_status_history"
        " WHERE need_id = $1 ORDER BY reported_at, recorded_at",
        need_id,
    )
    return NeedStatus(need=need, screening=screening, routed=list(routed), reports=list(reports))


async def case_state(connection: Connection, need_id: uuid.UUID, agency: Agency) -> str | None:
    """Where one agency's case of a need stands; None if the need was never routed to it."""
    state: str | None = await connection.fetchval(
        "SELECT status FROM routed_cases WHERE need_id = $1 AND agency = $2", need_id, agency.value
    )
    return state


async def queue_status_report(connection: Connection, report: CaseStatusReport) -> None:
    """Publish an agency's report on ``cases.status.v1`` through the outbox; routing applies it."""
    await connection.execute(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
        CASE_STATUS, str(report.need_id).encode(), report.model_dump_json().encode(),
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class NeedSummary:
    """One line of a list of needs."""

    need_id: uuid.UUID
    status: NeedState
    province_code: str
    submitted_at: datetime
    agencies: list[str]


async def list_needs(
    connection: Connection,
    *,
    volunteer_id: str | None,
    submitted_by: str | None,
    agency: Agency | None,
    provinces: frozenset[str],
    limit: int,
) -> list[NeedSummary]:
    """The newest needs visible to a caller, with their overall status."""
    rows = await connection.fetch(
        """
        SELECT n.need_id, n.province_code, n.submitted_at, s.need_id IS NOT NULL AS screened,
               coalesce(array_agg(r.agency ORDER BY r.agency) FILTER (WHERE r.agency IS NOT NULL), '{}') AS agencies,
               coalesce(array_agg(r.status) FILTER (WHERE r.status IS NOT NULL), '{}') AS case_states
        FROM needs n
        LEFT JOIN screenings s ON s.need_id = n.need_id
        LEFT JOIN routed_cases r ON r.need_id = n.need_id
        WHERE ($1::text IS NULL OR n.volunteer_id = $1)
          AND ($2::text IS NULL OR n.submitted_by = $2)
          AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM routed_cases a WHERE a.need_id = n.need_id AND a.agency = $3))
          AND (cardinality($4::text[]) = 0 OR n.province_code = ANY($4::text[]))
        GROUP BY n.need_id, s.need_id
        ORDER BY n.submitted_at DESC
        LIMIT $5
        """,
        volunteer_id, submitted_by, agency.value if agency else None, sorted(provinces), limit,
    )  # fmt: skip
    return [
        NeedSummary(
            need_id=row["need_id"],
            status=overall_status(screened=row["screened"], case_states=row["case_states"]),
            province_code=row["province_code"],
            submitted_at=row["submitted_at"],
            agencies=list(row["agencies"]),
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a need is about and who reported it, decrypted for an audited reveal."""

    volunteer_id: str
    name: str | None
    phone: str | None
    national_id: str | None
    erased: bool


async def reveal_identity(connection: Connection, need_id: uuid.UUID, cipher: PersonalDataCipher) -> Identity | None:
    """The identity stored with a need, national ID decrypted."""
    row = await connection.fetchrow(
        "SELECT volunteer_id, person_name, person_phone, national_id_encrypted, personal_data_erased_at"
        " FROM needs WHERE need_id = $1",
        need_id,
    )
    if row is None:
        return None
    sealed = row["national_id_encrypted"]
    return Identity(
        volunteer_id=row["volunteer_id"],
        name=row["person_name"],
        phone=row["person_phone"],
        national_id=cipher.open(sealed, need_id=need_id) if sealed else None,
        erased=row["personal_data_erased_at"] is not None,
    )


async def erase_personal_data(connection: Connection, need_id: uuid.UUID, *, now: datetime) -> list[Agency] | None:
    """Erase the person's fields and queue an erasure event for each agency the need went to (in a transaction).

    Returns those agencies, or None if there is no such need.
    """
    province = await connection.fetchval(
        "UPDATE needs SET person_name = NULL, person_phone = NULL, national_id_encrypted = NULL,"
        " national_id_masked = NULL, personal_data_erased_at = $2 WHERE need_id = $1 RETURNING province_code",
        need_id, now,
    )  # fmt: skip
    if province is None:
        return None
    agencies = [
        Agency(row["agency"])
        for row in await connection.fetch("SELECT DISTINCT agency FROM routed_cases WHERE need_id = $1", need_id)
    ]
    await connection.executemany(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
        [
            (agency_topic(agency, province), str(need_id).encode(), _erasure(need_id, agency, province, now))
            for agency in agencies
        ],
    )
    return agencies


_ERASED_NAMESPACE = uuid.UUID("e7a4d0c2-8b1f-4f6a-9c3e-2d5b7a9e1f04")


def _erasure(need_id: uuid.UUID, agency: Agency, province: str, now: datetime) -> bytes:
    event = PersonalDataErased(
        event_id=uuid.uuid5(_ERASED_NAMESPACE, f"{need_id}:{agency.value}"),
        need_id=need_id,
        agency=agency,
        province_code=province,
        erased_at=now,
    )
    return event.model_dump_json().encode()


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """One event waiting to be published."""

    id: int
    topic: str
    key: bytes
    payload: bytes
    traceparent: str | None


async def take_outbox(connection: Connection, *, limit: int) -> list[OutboxRecord]:
    """Lock the oldest unpublished records; other relays skip them (call inside a transaction)."""
    rows: list[Any] = await connection.fetch(
        "SELECT id, topic, key, payload, traceparent FROM outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        limit,
    )
    return [OutboxRecord(row["id"], row["topic"], row["key"], row["payload"], row["traceparent"]) for row in rows]


async def forget_outbox(connection: Connection, ids: list[int]) -> None:
    """Drop records that the broker acknowledged."""
    await connection.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", ids)
