"""What an officer does with a case: read, claim or assign it, report on it, screen it by hand, reveal who is behind it.

A report travels on ``cases.status.v1`` exactly as an agency's would, checked first by the
same rules routing applies (``shared.case_status``), so a report that does not fit is refused
here, at once, with routing's reason. It then waits beside the case's status until routing's
``cases.updated.v1`` confirms it: when an agency's report races it, routing decides which came
first and the inbox shows only what routing accepted. A screener's decision travels to
screening on ``screening.decisions.v1``. Every action is audited with the officer's identity.
"""

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

import asyncpg
from pydantic import ValidationError

from services.inbox.adapters import cases as case_store
from services.inbox.adapters import officers as officer_store
from services.inbox.adapters.intake_reveal import RevealedIdentity
from services.inbox.domain.cases import Case, still_escalated
from services.inbox.domain.officers import Officer
from shared.case_status import ServiceLevels, check_transition
from shared.contracts.cloud_events import Source
from shared.contracts.events import CaseStatus, CaseStatusReport, ScreenerDecision
from shared.contracts.need_types import Agency, NeedType
from shared.kafka import OutgoingMessage
from shared.raw_records import describe_validation_error
from shared.topics import CASE_STATUS, SCREENER_DECISIONS

Publish = Callable[[Sequence[OutgoingMessage]], Awaitable[None]]


class CaseNotFound(LookupError):
    """No such case, or not the officer's office's: the same answer either way."""


class ActionRefused(ValueError):
    """An action that does not fit the case, with the reason."""


@dataclass(frozen=True, slots=True)
class Inbox:
    """An officer's inbox: the pool, the publisher and the service levels."""

    pool: asyncpg.Pool
    publish: Publish
    levels: ServiceLevels


async def list_cases(
    inbox: Inbox, officer: Officer, chosen: case_store.CaseFilter, *, overdue_only: bool, now: datetime
) -> list[Case]:
    """The officer's office's cases that fit the filter, what is due first first, closed cases last."""
    async with inbox.pool.acquire() as connection:
        found = await case_store.province_cases(connection, officer.office, chosen)
    cases = [case for case in found if officer.sees(case.office)]
    if overdue_only:
        cases = [case for case in cases if case.overdue(now=now, levels=inbox.levels)]
    never = datetime.max.replace(tzinfo=UTC)
    return sorted(cases, key=lambda case: (case.due_at(inbox.levels) or never, case.routed_at))


async def follow_up(inbox: Inbox, officer: Officer) -> list[Case]:
    """The province's cases routing escalated and still past that level, oldest first, for its labour office.

    Each names who holds it: claims and assignments are made here, so the inbox's own copy is
    where the holder is known (``case.escalated`` on the office's topic carries none).
    """
    if officer.office.agency is not Agency.MOL:
        raise CaseNotFound(officer.office.name)
    async with inbox.pool.acquire() as connection:
        found = await case_store.escalated_cases_of_province(connection, officer.office.province_code)
    return [case for case in found if still_escalated(case)]


async def open_case(inbox: Inbox, officer: Officer, case_event_id: uuid.UUID) -> Case:
    """One case of the officer's office; audited as a read."""
    async with inbox.pool.acquire() as connection:
        case = await case_store.case_by_id(connection, case_event_id)
        if case is None or not officer.sees(case.office):
            raise CaseNotFound(case_event_id)
        await officer_store.audit(
            connection, officer=officer, action="read", need_id=case.need_id, case=str(case.case_event_id)
        )
    return case


@dataclass(frozen=True, slots=True)
class Report:
    """What the officer filled in on the case page."""

    status: CaseStatus
    note: str = ""
    outcome: str | None = None
    reason: str | None = None
    reroute_to: Agency | None = None
    corrected_types: tuple[NeedType, ...] = ()


async def report(inbox: Inbox, officer: Officer, case_event_id: uuid.UUID, filled: Report, *, now: datetime) -> None:
    """Report on the case as its agency would, on ``cases.status.v1``; refused with the reason when it does not fit.

    It is checked against routing's status and then waits for routing: two reporters at once
    are both checked against the same status, and routing, which applies reports in order,
    refuses the second with the same reason (it becomes a dead letter). The projection learns
    which one routing took from ``cases.updated.v1``.
    """
    case = await open_case(inbox, officer, case_event_id)
    if case.manual_screening and filled.status == "misrouted" and filled.reroute_to is None:
        raise ActionRefused("reroute_to: a case in manual screening is screened, not sent back to itself")
    try:
        status_report = CaseStatusReport.model_validate(
            {"need_id": case.need_id, "agency": case.agency, "status": filled.status, "note": filled.note,
             "at": now, "outcome": filled.outcome or None, "reason": filled.reason or None,
             "reroute_to": filled.reroute_to, "corrected_types": filled.corrected_types}
        )  # fmt: skip
    except ValidationError as invalid:
        raise ActionRefused(describe_validation_error(invalid)) from None
    try:
        check_transition(case.status, status_report.status, agency=case.agency.value)
    except ValueError as invalid:
        raise ActionRefused(str(invalid)) from None
    await inbox.publish(
        [OutgoingMessage.of(status_report, topic=CASE_STATUS, key=str(case.need_id).encode(), source=Source.INBOX)]
    )
    detail = " ".join(
        part for part in (officer.name + ":", filled.outcome or filled.reason or filled.note,
                          f"→ {filled.reroute_to.value}" if filled.reroute_to else "") if part
    )  # fmt: skip
    async with inbox.pool.acquire() as connection, connection.transaction():
        await case_store.record_report(
            connection, case, event_id=status_report.event_id, status=status_report.status, detail=detail, at=now
        )
        await officer_store.audit(
            connection,
            officer=officer,
            action=f"status:{status_report.status}",
            need_id=case.need_id,
            case=str(case.case_event_id),
            report=str(status_report.event_id),
        )


async def claim(inbox: Inbox, officer: Officer, case_event_id: uuid.UUID, *, now: datetime) -> None:
    """The officer takes the case: it is theirs in "my cases" and the follow-up names them."""
    await _assign(inbox, officer, case_event_id, to=officer, now=now)


async def assign(inbox: Inbox, officer: Officer, case_event_id: uuid.UUID, *, to_name: str, now: datetime) -> None:
    """A head of office gives the case to one of the office's officers."""
    if not officer.head:
        raise ActionRefused("only a head of office assigns cases")
    async with inbox.pool.acquire() as connection:
        colleagues = await officer_store.officers_of(connection, officer.office)
    chosen = next((colleague for colleague in colleagues if colleague.name == to_name), None)
    if chosen is None:
        raise ActionRefused(f"officer: no active officer named {to_name!r} in {officer.office.name}")
    await _assign(inbox, officer, case_event_id, to=chosen, now=now)


async def _assign(inbox: Inbox, officer: Officer, case_event_id: uuid.UUID, *, to: Officer, now: datetime) -> None:
    case = await open_case(inbox, officer, case_event_id)
    if not case.is_open:
        raise ActionRefused(f"the case is {case.status}: there is nothing left to hold")
    async with inbox.pool.acquire() as connection, connection.transaction():
        await case_store.hold(connection, case, holder=to.officer_id, event_id=uuid.uuid4(), detail=to.name, at=now)
        await officer_store.audit(
            connection, officer=officer, action="assign", need_id=case.need_id, case=str(case.case_event_id), to=to.name
        )


async def colleagues(inbox: Inbox, officer: Officer) -> list[Officer]:
    """The officers a head of office may assign a case to."""
    async with inbox.pool.acquire() as connection:
        return await officer_store.officers_of(connection, officer.office)


@dataclass(frozen=True, slots=True)
class Screening:
    """A screener's decision on a need in manual screening: its types, or no labour need."""

    types: tuple[NeedType, ...]
    no_labour_need: bool
    thai_summary: str = ""


async def screen(
    inbox: Inbox, officer: Officer, case_event_id: uuid.UUID, decided: Screening, *, now: datetime
) -> ScreenerDecision:
    """Send a screener's decision to screening; the need's manual case is closed by routing when it routes it."""
    if not officer.screens:
        raise ActionRefused("only a screener of the provincial labour office screens needs by hand")
    case = await open_case(inbox, officer, case_event_id)
    if not case.manual_screening:
        raise ActionRefused("this case is not waiting for manual screening")
    if case.reported is not None:
        raise ActionRefused("a decision on this need is already on its way: routing has not closed the case yet")
    if decided.no_labour_need == bool(decided.types):
        raise ActionRefused("types: pick at least one type, or close the need as no labour need (not both)")
    decision = _decision(
        officer, case, now=now, kind="no_labour_need" if decided.no_labour_need else "typed",
        types=decided.types, thai_summary=decided.thai_summary.strip(),
    )  # fmt: skip
    await inbox.publish([_decision_message(decision)])
    summary = ", ".join(need_type.value for need_type in decided.types) or "no labour need"
    async with inbox.pool.acquire() as connection, connection.transaction():
        await case_store.record_report(
            connection, case, event_id=decision.event_id, status="resolved",
            detail=f"{officer.name}: screened by hand: {summary}", at=now,
        )  # fmt: skip
        await officer_store.audit(
            connection,
            officer=officer,
            action=f"screen:{decision.decision}",
            need_id=case.need_id,
            case=str(case.case_event_id),
            types=[t.value for t in decided.types],
        )
    return decision


async def review_correction(
    inbox: Inbox, officer: Officer, case_event_id: uuid.UUID, *, confirm: bool, now: datetime
) -> None:
    """A screener confirms or rejects an agency's misrouted report as a correction for the learning loop."""
    if not officer.screens:
        raise ActionRefused("only a screener of the provincial labour office reviews corrections")
    async with inbox.pool.acquire() as connection:
        case = await case_store.case_by_id(connection, case_event_id)
    if case is None or case.province_code != officer.office.province_code:
        raise CaseNotFound(case_event_id)
    decision = _decision(
        officer, case, now=now, kind="correction_confirmed" if confirm else "correction_rejected",
        correction_of=case.agency,
    )  # fmt: skip
    await inbox.publish([_decision_message(decision)])
    async with inbox.pool.acquire() as connection, connection.transaction():
        await case_store.review_correction(connection, case, verdict="confirmed" if confirm else "rejected")
        await officer_store.audit(
            connection,
            officer=officer,
            action=f"correction:{decision.decision}",
            need_id=case.need_id,
            case=str(case.case_event_id),
        )


def _decision(
    officer: Officer,
    case: Case,
    *,
    now: datetime,
    kind: Literal["typed", "no_labour_need", "correction_confirmed", "correction_rejected"],
    types: tuple[NeedType, ...] = (),
    thai_summary: str = "",
    correction_of: Agency | None = None,
) -> ScreenerDecision:
    try:
        return ScreenerDecision(
            event_id=uuid.uuid4(), need_id=case.need_id, decision=kind, types=types, correction_of=correction_of,
            thai_summary=thai_summary, screener=officer.identity, office=officer.office.name, decided_at=now,
        )  # fmt: skip
    except ValidationError as invalid:
        raise ActionRefused(describe_validation_error(invalid)) from None


def _decision_message(decision: ScreenerDecision) -> OutgoingMessage:
    return OutgoingMessage.of(
        decision, topic=SCREENER_DECISIONS, key=str(decision.need_id).encode(), source=Source.INBOX
    )


class Revealer(Protocol):
    """Intake's audited reveal."""

    async def reveal(self, need_id: uuid.UUID, *, reason: str) -> RevealedIdentity:
        """Who is behind the need; intake audits it with the reason."""


async def reveal(
    inbox: Inbox, officer: Officer, case_event_id: uuid.UUID, *, reason: str, intake: Revealer
) -> RevealedIdentity:
    """Who is behind a need, for the provincial labour office of its province only; audited here and by intake."""
    case = await open_case(inbox, officer, case_event_id)
    if not officer.may_reveal(case.province_code):
        raise CaseNotFound(case_event_id)
    if len(reason.strip()) < 3:
        raise ActionRefused("reason: say why you need to see who is behind this need")
    async with inbox.pool.acquire() as connection:
        await officer_store.audit(
            connection,
            officer=officer,
            action="reveal",
            need_id=case.need_id,
            case=str(case.case_event_id),
            reason=reason.strip(),
        )
    return await intake.reveal(case.need_id, reason=f"{officer.identity}: {reason.strip()}")
