"""What intake does for a caller, whatever the channel (HTTP, a source's Kafka topic; Open311 or LINE later).

Each use case checks who may do it, works in one transaction, writes the audit line and wakes
the outbox relay. Entrypoints only translate: a request into arguments, an exception into an answer.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.intake.adapters import access_store as access
from services.intake.adapters import database, projection
from services.intake.adapters.need_clusters import relatives
from services.intake.adapters.outbox_relay import OutboxRelay
from services.intake.adapters.personal_data import PersonalDataCipher
from services.intake.domain.api_keys import Principal, Role
from services.intake.domain.geography import UnknownSubdistrict, locate
from services.intake.domain.source_submission import SUBMISSION_ID_REUSED, ReplyTo
from services.intake.domain.submission import NeedSubmission, accept
from shared.case_status import check_transition
from shared.contracts.events import CaseStatusReport, DeadLetter, Event, NeedSubmitted
from shared.contracts.need_types import Agency
from shared.contracts.submissions import FieldProblem
from shared.dead_letter_store import record_dead_letters
from shared.observability import need_id_var
from shared.topics import NEEDS_DEAD_LETTERS

log = logging.getLogger(__name__)


class NeedNotFound(LookupError):
    """No such need, or not the caller's to see: the same answer either way."""


class ReportForAnotherAgency(PermissionError):
    """An agency's key reporting on another agency's case."""


async def submit_need(
    *,
    submission: NeedSubmission,
    submitted_by: str,
    idempotency_key: str | None,
    now: datetime,
    pool: asyncpg.Pool,
    cipher: PersonalDataCipher,
    relay: OutboxRelay,
) -> uuid.UUID:
    """Accept a need: store it with its event in one statement; the same idempotency key gives the first need again.

    Raises ``UnknownSubdistrict``, ``database.IdempotencyKeyReused`` or ``IdempotencyKeyInFlight``.
    """
    event = _new_need(submission, now)
    need_id_var.set(str(event.need_id))
    # No audit line: the need's row records who submitted it and when (submitted_by, submitted_at).
    async with pool.acquire() as connection:
        stored = await database.store_need(
            connection, submission=submission, event=event, idempotency_key=idempotency_key,
            submitted_by=submitted_by, cipher=cipher,
        )  # fmt: skip
    if stored.created:
        relay.wake()
        log.info("accepted a need for province %s", event.province_code)
    return stored.need_id


def _new_need(submission: NeedSubmission, now: datetime) -> NeedSubmitted:
    return accept(submission, location=locate(submission.subdistrict_code), need_id=uuid.uuid4(), now=now)


@dataclass(frozen=True, slots=True)
class SourceNeed:
    """A source's submission that passed HTTP's checks: it becomes a need, or finds the one it became before."""

    reply_to: ReplyTo
    submission: NeedSubmission


@dataclass(frozen=True, slots=True)
class SourceRefusal:
    """A source's submission that is no need: its rejected receipt names each field's problem."""

    reply_to: ReplyTo
    errors: list[FieldProblem]


# What one record of a source's topic leads to; a dead letter is one no receipt can answer.
SourceOutcome = SourceNeed | SourceRefusal | DeadLetter
SUBMISSION_ID_REUSED_PROBLEM = FieldProblem(field="submission_id", problem=SUBMISSION_ID_REUSED)


async def take_source_submissions(
    *, outcomes: Sequence[SourceOutcome], now: datetime, pool: asyncpg.Pool, cipher: PersonalDataCipher,
    relay: OutboxRelay,
) -> None:  # fmt: skip
    """Store what records of the sources' topics lead to, in record order and in one transaction.

    Each need with its outbox row and accepted receipt, each rejected receipt, each dead letter
    with its outbox row: all commit together or not at all, before the caller commits the offsets.
    A submission delivered again (in this batch or an earlier one) finds its need by (source,
    submission_id) and gets the same receipt again. Raises ``IdempotencyKeyInFlight``, and the
    database's errors (the transaction is then rolled back whole).
    """
    placed = [_placed(outcome, now) for outcome in outcomes]
    new = [database.NeedToStore(outcome.submission, event, outcome.reply_to.submission_id,
                                outcome.reply_to.submitted_by)
           for outcome, event in (entry for entry in placed if isinstance(entry, tuple))]  # fmt: skip
    letters = [outcome for outcome in outcomes if isinstance(outcome, DeadLetter)]
    queued: list[tuple[str, bytes, Event]] = []
    async with pool.acquire() as connection, connection.transaction():
        stored = iter(await database.store_needs(connection, new, cipher=cipher))
        for entry in placed:
            if isinstance(entry, DeadLetter):
                queued.append((NEEDS_DEAD_LETTERS, entry.key or str(entry.event_id).encode(), entry))
                continue
            reply_to = entry[0].reply_to if isinstance(entry, tuple) else entry.reply_to
            found = next(stored) if isinstance(entry, tuple) else None
            if found is not None:
                queued.append((reply_to.topic, reply_to.key, reply_to.accepted(found.need_id, now=now)))
                continue
            errors = entry.errors if isinstance(entry, SourceRefusal) else [SUBMISSION_ID_REUSED_PROBLEM]
            queued.append((reply_to.topic, reply_to.key, reply_to.rejected(errors, now=now)))
            log.info("rejected a submission from source %s: %s", reply_to.source, ", ".join(e.field for e in errors))
        await record_dead_letters(connection, letters)
        await database.queue_events(connection, queued)
    relay.wake()
    for letter in letters:
        log.warning("dead letter from %s[%d]@%d: %s", letter.source_topic,
                    letter.source_partition, letter.source_offset, letter.error)  # fmt: skip


def _placed(outcome: SourceOutcome, now: datetime) -> DeadLetter | SourceRefusal | tuple[SourceNeed, NeedSubmitted]:
    """A need with the event it makes, or its refusal if its subdistrict is unknown."""
    if not isinstance(outcome, SourceNeed):
        return outcome
    try:
        return outcome, _new_need(outcome.submission, now)
    except UnknownSubdistrict as unknown:
        return SourceRefusal(outcome.reply_to, [FieldProblem(field="subdistrict_code", problem=str(unknown))])


def may_read(caller: Principal, found: database.NeedStatus) -> bool:
    """The submitting app, an agency office the need was routed to (or its province's, or national), or an admin."""
    if caller.role is Role.ADMIN:
        return True
    if caller.role is Role.VOLUNTEER_APP:
        return bool(found.need["submitted_by"] == caller.owner)
    return any(caller.serves(office) for office in found.routed_offices)


def read_scope(caller: Principal) -> database.ReadScope:
    """The needs a caller may list, by the same rule as ``may_read``."""
    if caller.role is Role.VOLUNTEER_APP:
        return database.ReadScope(submitted_by=caller.owner, agency=None, offices=frozenset())
    if caller.role is Role.AGENCY:
        return database.ReadScope(submitted_by=None, agency=caller.agency, offices=caller.scope)
    return database.ReadScope(submitted_by=None, agency=None, offices=frozenset())


async def list_needs(
    *,
    caller: Principal,
    wanted: database.NeedFilter,
    after: database.ListPosition | None,
    limit: int,
    pool: asyncpg.Pool,
) -> list[database.NeedSummary]:
    """The newest needs the caller may read that ``wanted`` asks for, after ``after``."""
    async with pool.acquire() as connection:
        return await database.list_needs(connection, scope=read_scope(caller), wanted=wanted, after=after, limit=limit)


async def read_need(
    *, need_id: uuid.UUID, caller: Principal, pool: asyncpg.Pool, projection_wait_s: float
) -> database.NeedStatus:
    """Where a need stands, for a caller who may see it; the read is audited.

    An agency may read a need as soon as its case is on its topic: intake's copy of routing's
    decisions is waited for, at most ``projection_wait_s``.
    """
    need_id_var.set(str(need_id))
    if caller.role is Role.AGENCY and caller.agency is not None:
        await projection.wait_for_case(pool, need_id, caller.agency, within_s=projection_wait_s)
    async with pool.acquire() as connection:
        found = await database.need_status(connection, need_id)
        if found is None or not may_read(caller, found):
            raise NeedNotFound(need_id)
        await access.audit(connection, actor=caller, action="read", need_id=need_id)
    return found


async def read_relatives(*, need_id: uuid.UUID, caller: Principal, pool: asyncpg.Pool) -> list[database.NeedStatus]:
    """The other needs of the need's cluster (probably the same problem) that the caller may read."""
    async with pool.acquire() as connection:
        found = [await database.need_status(connection, other) for other in await relatives(connection, need_id)]
    return [status for status in found if status is not None and may_read(caller, status)]


async def report_case_status(
    *, report: CaseStatusReport, caller: Principal, pool: asyncpg.Pool, relay: OutboxRelay, projection_wait_s: float
) -> None:
    """Queue an agency's report for routing, which applies it; the same report again is queued once.

    A report on a case just read from the agency's topic waits, at most ``projection_wait_s``,
    for intake's copy of routing's decision. Raises ``ReportForAnotherAgency``, ``NeedNotFound``
    or ``InvalidTransition``.
    """
    if caller.role is Role.AGENCY and report.agency is not caller.agency:
        raise ReportForAnotherAgency(f"a {caller.agency} key may report only for its agency")
    await projection.wait_for_case(pool, report.need_id, report.agency, within_s=projection_wait_s)
    async with pool.acquire() as connection, connection.transaction():
        found = await database.need_status(connection, report.need_id)
        if found is None or not may_read(caller, found):
            raise NeedNotFound(report.need_id)
        # A retry of a report already applied must not be judged against the state it brought about.
        if not await database.status_report_recorded(connection, report.event_id):
            check_transition(
                await database.case_state(connection, report.need_id, report.agency),
                report.status,
                agency=report.agency,
            )
            await database.queue_status_report(connection, report)
            await access.audit(connection, actor=caller, action=f"status:{report.status}", need_id=report.need_id)
    relay.wake()


async def reveal_identity(
    *, need_id: uuid.UUID, reason: str, caller: Principal, pool: asyncpg.Pool, cipher: PersonalDataCipher
) -> database.Identity:
    """Who reported a need and who it is about, for admins or its province's labour office; audited with the reason."""
    async with pool.acquire() as connection:
        found = await database.need_status(connection, need_id)
        labour_office = caller.agency is Agency.MOL and found is not None
        if found is None or not (
            caller.role is Role.ADMIN or (labour_office and caller.serves_province(found.need["province_code"]))
        ):
            raise NeedNotFound(need_id)
        identity = await database.reveal_identity(connection, need_id, cipher)
        await access.audit(connection, actor=caller, action="reveal", need_id=need_id, detail={"reason": reason})
    if identity is None:
        raise NeedNotFound(need_id)
    return identity


async def erase_personal_data(
    *, need_id: uuid.UUID, now: datetime, caller: Principal, pool: asyncpg.Pool, relay: OutboxRelay
) -> list[Agency]:
    """Erase the person's data of a need and tell every agency it went to to purge theirs (PDPA); audited."""
    async with pool.acquire() as connection, connection.transaction():
        agencies = await database.erase_personal_data(connection, need_id, now=now)
        if agencies is None:
            raise NeedNotFound(need_id)
        await access.audit(
            connection, actor=caller, action="erase", need_id=need_id,
            detail={"agencies_notified": [agency.value for agency in agencies]},
        )  # fmt: skip
    relay.wake()
    return agencies
