"""The dashboard's figures for one period, read in one consistent snapshot."""

from collections import Counter
from datetime import datetime
from functools import cache

import geothai

from services.intake.adapters import dashboard_queries as queries
from services.intake.domain.dashboard_models import (
    AgencyFigure,
    Dashboard,
    DeadLettersFigure,
    Durations,
    NeedsFigure,
    OverdueCase,
    OverdueFigure,
    PeriodView,
    Province,
    ProvinceCount,
    ProvinceRow,
    ServiceLevelsView,
    TypeCount,
)
from services.intake.domain.dashboard_period import Period
from shared.case_status import ServiceLevels, overdue
from shared.contracts.need_types import Agency, CaseState, NeedType
from shared.database import Connection

MANUAL = "manual"
STATUSES = tuple(state.value for state in CaseState)
OLDEST_OVERDUE = 20
LATEST_DEAD_LETTERS = 10
_NO_DURATIONS = Durations(cases=0, median_hours=None, p90_hours=None)


async def dashboard(connection: Connection, *, period: Period, now: datetime, levels: ServiceLevels) -> Dashboard:
    """Every figure of ``period``; overdue means past a service level at ``now``."""
    async with connection.transaction(isolation="repeatable_read", readonly=True):
        total, screened = await queries.need_totals(connection, period)
        by_type = await queries.needs_by_type(connection, period)
        by_province = await queries.needs_by_province(connection, period)
        counts = await queries.case_counts(connection, period)
        durations = await queries.durations_by_agency(connection, period)
        # Only a case older than the shorter service level can be late; the rule itself is shared.
        candidates = await queries.open_cases_routed_before(
            connection, period, now - min(levels.accept_within, levels.resolve_within)
        )
        by_consumer = await queries.dead_letters_by_consumer(connection, period)
        latest = await queries.latest_dead_letters(connection, period, limit=LATEST_DEAD_LETTERS)
    late = [
        OverdueCase(
            need_id=case.need_id, agency=case.agency, province_code=case.province_code, status=case.status,
            routed_at=case.routed_at, overdue=kind, escalated=case.escalated,
        )
        for case in candidates
        if (kind := overdue(case.status, case.routed_at, now=now, levels=levels)) is not None
    ]  # fmt: skip
    return Dashboard(
        period=PeriodView(first_day=period.first, last_day=period.last, start=period.start, end=period.end),
        generated_at=now,
        service_levels=ServiceLevelsView(
            accept_within_hours=levels.accept_within.total_seconds() / 3600,
            resolve_within_hours=levels.resolve_within.total_seconds() / 3600,
        ),
        needs=NeedsFigure(
            total=total,
            screened=screened,
            unscreened=total - screened,
            by_type=type_counts(by_type),
            by_province=[
                ProvinceCount(**province(code).model_dump(), needs=needs)
                for code, needs in sorted(by_province.items(), key=lambda item: (-item[1], item[0]))
            ],
        ),
        agencies=agency_figures(counts, durations, late),
        overdue=OverdueFigure(
            total=len(late),
            not_accepted=sum(case.overdue == "not_accepted" for case in late),
            not_resolved=sum(case.overdue == "not_resolved" for case in late),
            oldest=late[:OLDEST_OVERDUE],
        ),
        dead_letters=DeadLettersFigure(
            total=sum(line.dead_letters for line in by_consumer), by_consumer=by_consumer, latest=latest
        ),
        provinces=province_rows(by_province, counts, late),
    )


def type_counts(by_type: dict[str, int]) -> list[TypeCount]:
    """Every need type and ``manual``, in DOMAIN.md's order, zeros included; unknown types last."""
    known = [*NeedType, MANUAL]
    others = sorted(set(by_type) - set(known))
    return [TypeCount(type=name, needs=by_type.get(name, 0)) for name in [*known, *others]]


def agency_figures(
    counts: list[queries.CaseCount],
    durations: dict[str, tuple[Durations, Durations]],
    late: list[OverdueCase],
) -> list[AgencyFigure]:
    """The five agencies (and any other found), zeros included."""
    names = [*Agency, *sorted({count.agency for count in counts} - set(Agency))]
    overdue_by_agency = Counter(case.agency for case in late)
    figures = []
    for name in names:
        by_status = dict.fromkeys(STATUSES, 0)
        escalated = 0
        for count in counts:
            if count.agency == name:
                by_status[count.status] = by_status.get(count.status, 0) + count.cases
                escalated += count.escalated
        to_accept, to_resolve = durations.get(name, (_NO_DURATIONS, _NO_DURATIONS))
        figures.append(
            AgencyFigure(
                agency=name, routed=sum(by_status.values()),
                open=sum(by_status[status] for status in queries.OPEN_STATUSES),
                by_status=by_status, overdue=overdue_by_agency[name], escalated=escalated,
                to_accept=to_accept, to_resolve=to_resolve,
            )
        )  # fmt: skip
    return figures


def province_rows(needs: dict[str, int], counts: list[queries.CaseCount], late: list[OverdueCase]) -> list[ProvinceRow]:
    """Every province (all 77, for the map), with its needs and cases."""
    routed: Counter[str] = Counter()
    still_open: Counter[str] = Counter()
    resolved: Counter[str] = Counter()
    for count in counts:
        routed[count.province_code] += count.cases
        if count.status in queries.OPEN_STATUSES:
            still_open[count.province_code] += count.cases
        elif count.status == "resolved":
            resolved[count.province_code] += count.cases
    late_by_province = Counter(case.province_code for case in late)
    codes = sorted({item.code for item in geothai.provinces()} | set(needs) | set(routed))
    return [
        ProvinceRow(
            **province(code).model_dump(), needs=needs.get(code, 0), routed=routed[code], open=still_open[code],
            overdue=late_by_province[code], resolved=resolved[code],
        )
        for code in codes
    ]  # fmt: skip


@cache
def province(code: str) -> Province:
    """A province's names; an unknown code keeps the code as its name."""
    found = geothai.province(code)
    if found is None:
        return Province(code=code, name_th=code, name_en=code)
    return Province(code=code, name_th=found.name_th, name_en=found.name_en)
