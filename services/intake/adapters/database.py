"""Intake's PostgreSQL: needs, their outbox records, and what the pipeline did with them (intake's copy)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from services.intake.adapters.personal_data import PersonalDataCipher
from services.intake.domain.submission import NeedSubmission
from shared.contracts.events import CaseStatusReport, Event, NeedSubmitted, PersonalDataErased
from shared.contracts.need_types import Agency
from shared.contracts.offices import Office
from shared.database import Connection
from shared.observability import traceparent_now
from shared.topics import CASE_STATUS, NEEDS_SUBMITTED


class IdempotencyKeyReused(ValueError):
    """An Idempotency-Key was already used for a different request."""


class IdempotencyKeyInFlight(ValueError):
    """The first request with this Idempotency-Key has not completed."""


@dataclass(frozen=True, slots=True)
class StoredNeed:
    """The outcome of storing a submission: the need id, and whether it was new."""

    need_id: uuid.UUID
    created: bool


# One statement for the need and its outbox record: a round trip per accepted need saved.
_STORE_NEED = """
    WITH need AS (
        INSERT INTO needs (need_id, volunteer_id, idempotency_key, request_digest, subdistrict_code,
            district_code, province_code, description, person_name, person_phone,
            national_id_encrypted, national_id_masked, consent_to_share, suggested_types,
            occurred_at, submitted_at, event_payload, submitted_by, national_id_key_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $21)
        ON CONFLICT (submitted_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING need_id
    ), queued AS (
        INSERT INTO outbox (topic, key, payload, traceparent)
        SELECT $19, convert_to(need_id::text, 'UTF8'), $17, $20 FROM need
    )
    SELECT need_id FROM need
"""


@dataclass(frozen=True, slots=True)
class NeedToStore:
    """A submission, the event it makes, and who sent it under which idempotency key."""

    submission: NeedSubmission
    event: NeedSubmitted
    idempotency_key: str | None
    submitted_by: str


def _store_arguments(need: NeedToStore, cipher: PersonalDataCipher, traceparent: str | None) -> tuple[object, ...]:
    submission, event = need.submission, need.event
    person = submission.person
    national_id = person.national_id if person else None
    sealed = cipher.seal(national_id, need_id=event.need_id) if national_id else None
    return (
        event.need_id, submission.volunteer_id, need.idempotency_key, submission.digest(), event.subdistrict_code,
        event.district_code, event.province_code, event.description,
        person.name if person else None, person.phone if person else None,
        sealed.value if sealed else None,
        person.national_id_masked() if person else None, submission.consent_to_share,
        [str(need_type) for need_type in event.suggested_types],
        event.occurred_at, event.submitted_at, event.model_dump_json().encode(), need.submitted_by, NEEDS_SUBMITTED,
        traceparent, sealed.key_id if sealed else None,
    )  # fmt: skip


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
    need = NeedToStore(submission, event, idempotency_key, submitted_by)
    inserted = await connection.fetchval(_STORE_NEED, *_store_arguments(need, cipher, traceparent_now()))
    if inserted is None:
        return await _earlier_need(connection, submitted_by, idempotency_key, submission.digest())
    return StoredNeed(need_id=event.need_id, created=True)


async def store_needs(
    connection: Connection, needs: Sequence[NeedToStore], *, cipher: PersonalDataCipher
) -> list[StoredNeed | None]:
    """``store_need`` for many, in order, in two round trips; None where the key was used for a different need.

    Within the caller's transaction, a need later in ``needs`` under the key of an earlier one
    finds that one. Raises ``IdempotencyKeyInFlight`` as ``store_need`` does.
    """
    if not needs:
        return []
    traceparent = traceparent_now()
    await connection.executemany(_STORE_NEED, [_store_arguments(need, cipher, traceparent) for need in needs])
    rows = await connection.fetch(
        "SELECT submitted_by, idempotency_key, need_id, request_digest FROM needs"
        " WHERE (submitted_by, idempotency_key) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        [need.submitted_by for need in needs], [need.idempotency_key for need in needs],
    )  # fmt: skip
    found = {(row["submitted_by"], row["idempotency_key"]): row for row in rows}
    stored: list[StoredNeed | None] = []
    for need in needs:
        row = found.get((need.submitted_by, need.idempotency_key))
        if row is None:  # another transaction that held the key rolled back in between
            raise IdempotencyKeyInFlight("the first request with this Idempotency-Key has not completed; retry")
        if row["need_id"] == need.event.need_id:
            stored.append(StoredNeed(need_id=need.event.need_id, created=True))
        else:
            same = row["request_digest"] == need.submission.digest()
            stored.append(StoredNeed(need_id=row["need_id"], created=False) if same else None)
    return stored


async def _earlier_need(
    connection: Connection, submitted_by: str, idempotency_key: str | None, digest: str
) -> StoredNeed:
    row = await connection.fetchrow(
        "SELECT need_id, request_digest FROM needs WHERE submitted_by = $1 AND idempotency_key = $2",
        submitted_by, idempotency_key,
    )  # fmt: skip
    if row is None:  # the other request's transaction rolled back between our two statements
        raise IdempotencyKeyInFlight("the first request with this Idempotency-Key has not completed; retry")
    if row["request_digest"] != digest:
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different need")
    return StoredNeed(need_id=row["need_id"], created=False)


NeedState = Literal["accepted", "screened", "routed", "in_progress", "resolved"]

# need_overall_status (migration 0008) is the one rule for a need's status as a whole.
OVERALL_STATUS = """need_overall_status(
    EXISTS (SELECT 1 FROM screening_results s WHERE s.need_id = n.need_id),
    ARRAY(SELECT r.status FROM need_cases r WHERE r.need_id = n.need_id)
)"""


@dataclass(frozen=True, slots=True)
class NeedStatus:
    """A need as the pipeline and the agencies have taken it so far."""

    need: asyncpg.Record
    screening: asyncpg.Record | None
    routed: list[asyncpg.Record]
    reports: list[asyncpg.Record]
    status: NeedState  # where the need stands as a whole (need_overall_status)

    @property
    def routed_offices(self) -> set[Office]:
        """The offices the need was forwarded to (a case's topic is its office's queue)."""
        return {Office.of_topic(row["topic"]) for row in self.routed}


async def need_status(connection: Connection, need_id: uuid.UUID) -> NeedStatus | None:
    """Everything the pipeline recorded about one need, or None if there is no such need."""
    need = await connection.fetchrow(
        "SELECT need_id, submitted_by, volunteer_id, subdistrict_code, district_code, province_code, submitted_at,"
        " suggested_types, personal_data_erased_at FROM needs WHERE need_id = $1",
        need_id,
    )
    if need is None:
        return None
    screening = await connection.fetchrow(
        "SELECT types, language, manual_reason, disagreement, classifier_version, screened_at"
        " FROM screening_results WHERE need_id = $1",
        need_id,
    )
    routed = await connection.fetch(
        "SELECT agency, topic, types, manual_screening, routed_at, status, status_at FROM need_cases"
        " WHERE need_id = $1 ORDER BY routed_at, agency",
        need_id,
    )
    reports = await connection.fetch(
        "SELECT agency, status, note, outcome, reason, reroute_to, reported_at FROM case_reports"
        " WHERE need_id = $1 ORDER BY reported_at, recorded_at",
        need_id,
    )
    # From the rows just read, so the status agrees with the cases shown beside it.
    status: NeedState = await connection.fetchval(
        "SELECT need_overall_status($1, $2::text[])", screening is not None, [row["status"] for row in routed]
    )
    return NeedStatus(need=need, screening=screening, routed=list(routed), reports=list(reports), status=status)


async def case_state(connection: Connection, need_id: uuid.UUID, agency: Agency) -> str | None:
    """Where one agency's case of a need stands (its newest); None if the need was never routed to it."""
    state: str | None = await connection.fetchval(
        # The open case first: a screener's decision may route the need again to the agency whose
        # manual-screening case it closed.
        "SELECT status FROM need_cases WHERE need_id = $1 AND agency = $2"
        " ORDER BY status IN ('routed', 'accepted', 'in_progress') DESC, routed_at DESC LIMIT 1",
        need_id, agency.value,
    )  # fmt: skip
    return state


async def status_report_recorded(connection: Connection, event_id: uuid.UUID) -> bool:
    """Routing has already applied the report with this id (intake's copy has routing's update of it)."""
    recorded: bool = await connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM case_reports WHERE event_id = $1)", event_id
    )
    return recorded


async def queue_status_report(connection: Connection, report: CaseStatusReport) -> None:
    """Publish an agency's report on ``cases.status.v1`` through the outbox; routing applies it."""
    await queue_event(connection, topic=CASE_STATUS, key=str(report.need_id).encode(), event=report)


async def recorded_sources(pool: asyncpg.Pool, names: set[str]) -> set[str]:
    """Those of ``names`` that are recorded sources (`needs-router sources add`)."""
    rows = await pool.fetch("SELECT name FROM sources WHERE name = ANY($1::text[])", sorted(names))
    return {row["name"] for row in rows}


async def queue_event(connection: Connection, *, topic: str, key: bytes, event: Event) -> None:
    """Publish an event through the outbox: it leaves when the caller's transaction commits."""
    await connection.execute(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)", topic, key, event.model_dump_json().encode()
    )


async def queue_events(connection: Connection, events: Sequence[tuple[str, bytes, Event]]) -> None:
    """Publish (topic, key, event)s through the outbox, in this order, when the caller's transaction commits."""
    if events:
        await connection.executemany(
            "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
            [(topic, key, event.model_dump_json().encode()) for topic, key, event in events],
        )


@dataclass(frozen=True, slots=True)
class NeedSummary:
    """One line of a list of needs."""

    need_id: uuid.UUID
    status: NeedState
    province_code: str
    subdistrict_code: str
    submitted_at: datetime
    updated_at: datetime
    suggested_types: list[str]
    agencies: list[str]
    cases: dict[str, str]  # agency -> where its case stands


@dataclass(frozen=True, slots=True)
class ListPosition:
    """Where a list of needs, newest first, stopped: the last need it gave."""

    submitted_at: datetime
    need_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class ReadScope:
    """Which needs a caller may read: its own app's, its agency's in its offices, or (all empty) every one.

    ``offices``: a whole province's office covers its area offices; none, with an agency: national.
    """

    submitted_by: str | None
    agency: Agency | None
    offices: frozenset[Office]


@dataclass(frozen=True, slots=True)
class NeedFilter:
    """What a list asks for, within the caller's scope; empty fields ask for anything."""

    volunteer_id: str | None = None
    statuses: frozenset[str] = frozenset()
    submitted_from: datetime | None = None
    submitted_to: datetime | None = None
    # The first suggested type, or "screen" for none (Open311's service_code).
    first_suggestion: str | None = None
    without_drug_tips: bool = False
    need_ids: frozenset[uuid.UUID] = frozenset()


_DRUG_TIP = "drugs_workplace"


async def list_needs(
    connection: Connection, *, scope: ReadScope, wanted: NeedFilter, after: ListPosition | None, limit: int
) -> list[NeedSummary]:
    """The newest needs visible to a caller (after ``after``) that ``wanted`` asks for."""
    rows = await connection.fetch(
        f"""
        SELECT * FROM (
            SELECT n.need_id, n.province_code, n.subdistrict_code, n.submitted_at, n.suggested_types,
                   {OVERALL_STATUS} AS status,
                   ARRAY(SELECT r.agency FROM need_cases r WHERE r.need_id = n.need_id
                         ORDER BY r.agency) AS agencies,
                   ARRAY(SELECT r.status FROM need_cases r WHERE r.need_id = n.need_id
                         ORDER BY r.agency) AS case_states,
                   GREATEST(n.submitted_at, (SELECT max(GREATEST(r.routed_at, r.status_at))
                                             FROM need_cases r WHERE r.need_id = n.need_id)) AS updated_at
            FROM needs n
            WHERE ($1::text IS NULL OR n.volunteer_id = $1)
              AND ($2::text IS NULL OR n.submitted_by = $2)
              AND ($3::text IS NULL
                   OR EXISTS (SELECT 1 FROM need_cases a WHERE a.need_id = n.need_id AND a.agency = $3
                              AND (cardinality($4::text[]) = 0 OR a.topic = ANY($4::text[])
                                   OR a.topic LIKE ANY($15::text[]))))
              AND ($5::timestamptz IS NULL OR (n.submitted_at, n.need_id) < ($5, $6::uuid))
              AND ($9::timestamptz IS NULL OR n.submitted_at >= $9)
              AND ($10::timestamptz IS NULL OR n.submitted_at <= $10)
              AND ($11::text IS NULL OR coalesce(n.suggested_types[1], 'screen') = $11)
              AND NOT ($12 AND ($13 = ANY(n.suggested_types)
                   OR EXISTS (SELECT 1 FROM need_cases d WHERE d.need_id = n.need_id AND $13 = ANY(d.types))
                   OR EXISTS (SELECT 1 FROM screening_results s WHERE s.need_id = n.need_id
                              AND s.types @> jsonb_build_array(jsonb_build_object('type', $13::text)))))
              AND (cardinality($14::uuid[]) = 0 OR n.need_id = ANY($14::uuid[]))
            ORDER BY n.submitted_at DESC, n.need_id DESC
        ) AS visible
        WHERE cardinality($7::text[]) = 0 OR status = ANY($7::text[])
        LIMIT $8
        """,
        wanted.volunteer_id, scope.submitted_by, scope.agency.value if scope.agency else None,
        sorted(office.topic for office in scope.offices),
        after.submitted_at if after else None, after.need_id if after else None,
        sorted(wanted.statuses), limit, wanted.submitted_from, wanted.submitted_to, wanted.first_suggestion,
        wanted.without_drug_tips, _DRUG_TIP, sorted(wanted.need_ids),
        sorted(office.topic + ".%" for office in scope.offices if office.area is None),
    )  # fmt: skip
    return [
        NeedSummary(
            need_id=row["need_id"],
            status=row["status"],
            province_code=row["province_code"],
            subdistrict_code=row["subdistrict_code"],
            submitted_at=row["submitted_at"],
            updated_at=row["updated_at"],
            suggested_types=list(row["suggested_types"]),
            agencies=list(row["agencies"]),
            cases=dict(zip(row["agencies"], row["case_states"], strict=True)),
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
        "SELECT volunteer_id, person_name, person_phone, national_id_encrypted, national_id_key_id,"
        " personal_data_erased_at FROM needs WHERE need_id = $1",
        need_id,
    )
    if row is None:
        return None
    sealed = row["national_id_encrypted"]
    return Identity(
        volunteer_id=row["volunteer_id"],
        name=row["person_name"],
        phone=row["person_phone"],
        national_id=cipher.open(sealed, key_id=row["national_id_key_id"], need_id=need_id) if sealed else None,
        erased=row["personal_data_erased_at"] is not None,
    )


async def erase_personal_data(connection: Connection, need_id: uuid.UUID, *, now: datetime) -> list[Agency] | None:
    """Erase the person's fields and queue an erasure event for each agency the need went to (in a transaction).

    Returns those agencies, or None if there is no such need.
    """
    province = await connection.fetchval(
        "UPDATE needs SET person_name = NULL, person_phone = NULL, national_id_encrypted = NULL,"
        " national_id_key_id = NULL, national_id_masked = NULL, personal_data_erased_at = $2"
        " WHERE need_id = $1 RETURNING province_code",
        need_id, now,
    )  # fmt: skip
    if province is None:
        return None
    # Each office's queue the need's cases went to (a Bangkok case: its area office's).
    offices = [
        Office.of_topic(row["topic"])
        for row in await connection.fetch("SELECT DISTINCT topic FROM need_cases WHERE need_id = $1", need_id)
    ]
    await connection.executemany(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
        [(office.topic, str(need_id).encode(), _erasure(need_id, office.agency, province, now)) for office in offices],
    )
    return sorted({office.agency for office in offices})


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


_STUCK_NEEDS = """
SELECT n.need_id, n.event_payload
FROM needs n
WHERE coalesce(n.redriven_at, n.submitted_at) < now() - make_interval(secs => $1)
  AND NOT EXISTS (SELECT 1 FROM need_cases r WHERE r.need_id = n.need_id)
  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.key = convert_to(n.need_id::text, 'UTF8'))
ORDER BY n.submitted_at
LIMIT $2
FOR UPDATE OF n SKIP LOCKED
"""


async def queue_stuck_needs_again(connection: Connection, *, topic: str, after_s: float, limit: int) -> int:
    """Queue on ``topic`` again the needs with no case ``after_s`` after they were accepted or last queued again.

    Needs still waiting in the outbox are not stuck. Returns how many were queued.
    """
    rows = await connection.fetch(_STUCK_NEEDS, after_s, limit)
    if not rows:
        return 0
    await connection.executemany(
        "INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
        [(topic, str(row["need_id"]).encode(), row["event_payload"]) for row in rows],
    )
    await connection.execute(
        "UPDATE needs SET redriven_at = now(), redrive_count = redrive_count + 1 WHERE need_id = ANY($1::uuid[])",
        [row["need_id"] for row in rows],
    )
    return len(rows)


# Resolved: every case that was not sent back as misrouted is resolved, the last one before the cutoff.
_RESOLVED_BEFORE = """
SELECT n.need_id FROM needs n
WHERE n.personal_data_erased_at IS NULL
  AND EXISTS (SELECT 1 FROM need_cases r WHERE r.need_id = n.need_id AND r.status = 'resolved')
  AND NOT EXISTS (SELECT 1 FROM need_cases r
                  WHERE r.need_id = n.need_id AND r.status NOT IN ('resolved', 'misrouted'))
  AND (SELECT max(resolved_at) FROM need_cases r WHERE r.need_id = n.need_id) < $1
LIMIT $2
FOR UPDATE OF n SKIP LOCKED
"""


async def needs_resolved_before(connection: Connection, before: datetime, *, limit: int) -> list[uuid.UUID]:
    """Needs with personal data whose cases were all resolved before ``before``, locked for erasure."""
    return [row["need_id"] for row in await connection.fetch(_RESOLVED_BEFORE, before, limit)]
