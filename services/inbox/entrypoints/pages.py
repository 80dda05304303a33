"""The inbox's HTML, rendered on the server: escaped, no inline script, readable on a phone."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlencode

from services.inbox.adapters.cases import CandidateCorrection, CaseFilter, TimelineEntry
from services.inbox.adapters.intake_reveal import RevealedIdentity
from services.inbox.domain.cases import Case, highlighted, time_left
from services.inbox.domain.officers import Officer
from services.inbox.domain.places import place_name
from services.inbox.domain.texts import Language, language_name, reason_text, text, timeline_text
from shared.case_status import ServiceLevels
from shared.contracts.need_types import Agency, CaseState, NeedType, OverdueKind, Term, label

THAI_TIME = timedelta(hours=7)
_WAITING_REFRESH_S = 2


def _t(key: str, language: Language) -> str:
    return escape(text(key, language))


def _label(code: str, term: type[Term], language: Language) -> str:
    return escape(label(code, term, language))


def _when(moment: datetime | None) -> str:
    return "" if moment is None else (moment + THAI_TIME).strftime("%Y-%m-%d %H:%M")


def _csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{escape(token)}">'


def layout(
    title: str, body: str, *, language: Language, officer: Officer | None, csrf: str, path: str,
    refresh_s: int | None = None,
) -> str:  # fmt: skip
    """The page around ``body``: header, language switch, log out; reloaded every ``refresh_s`` if given."""
    switch_to = "en" if language == "th" else "th"
    switch_url = f"/inbox/language/{switch_to}?{urlencode({'next': path})}"
    switch = f'<a class="lang" href="{escape(switch_url)}">{_t("other_language", language)}</a>'
    nav = ""
    if officer is not None:
        links = [
            f'<a href="/inbox">{_t("inbox", language)}</a>',
            f'<a href="/inbox?mine=1">{_t("my_cases", language)}</a>',
        ]
        if officer.screens:
            links.append(f'<a href="/inbox/screening">{_t("screening_queue", language)}</a>')
        if officer.office.agency is Agency.MOL:
            links.append(f'<a href="/inbox/follow-up">{_t("follow_up", language)}</a>')
        nav = (
            f'<nav>{" ".join(links)}<span class="who">{escape(officer.name)} · {escape(officer.office.name)}</span>'
            f'<form method="post" action="/inbox/logout" class="inline">{_csrf(csrf)}'
            f'<button type="submit">{_t("logout", language)}</button></form></nav>'
        )
    return (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        + (f'<meta http-equiv="refresh" content="{refresh_s}">' if refresh_s else "")
        + f"<title>{escape(title)} · {_t('title', language)}</title>"
        '<link rel="stylesheet" href="/inbox/static/inbox.css"><script src="/inbox/static/inbox.js" defer></script>'
        f"</head><body><header><h1>{_t('title', language)}</h1>{switch}</header>{nav}<main>{body}</main></body></html>"
    )


def message(kind: str, words: str) -> str:
    """A notice at the top of a page: ``error`` or ``ok``."""
    return f'<p class="{kind}" role="status">{escape(words)}</p>' if words else ""


def login_page(*, language: Language, csrf: str, error: str = "", notice: str = "") -> str:
    """The login form."""
    body = (
        f'{message("error", error)}{message("ok", notice)}<form method="post" action="/inbox/login" class="card">'
        f'{_csrf(csrf)}<label>{_t("name", language)}<input name="name" autocomplete="username" required></label>'
        f"<label>{_t('password', language)}"
        '<input name="password" type="password" autocomplete="current-password" required></label>'
        f'<button type="submit">{_t("login", language)}</button></form>'
    )
    return layout(text("login", language), body, language=language, officer=None, csrf=csrf, path="/inbox/login")


def welcome_page(*, token: str, language: Language, csrf: str, valid: bool, error: str = "") -> str:
    """The form a one-time link opens: set a password."""
    path = f"/inbox/welcome/{token}"
    if not valid:
        body = message("error", text("link_invalid", language))
    else:
        body = (
            f'{message("error", error)}<form method="post" action="{escape(path)}" class="card">{_csrf(csrf)}'
            f"<label>{_t('password', language)} ({_t('password_hint', language)})"
            '<input name="password" type="password" autocomplete="new-password" minlength="10" required></label>'
            f'<button type="submit">{_t("set_password", language)}</button></form>'
        )
    return layout(text("set_password", language), body, language=language, officer=None, csrf=csrf, path=path)


def _time_left(case: Case, *, now: datetime, levels: ServiceLevels, language: Language) -> str:
    left = time_left(case.due_at(levels), now=now)
    if left is None:
        return f'<span class="closed">{_t("closed", language)}</span>'
    hours = abs(left.total_seconds()) / 3600
    amount = f"{hours / 24:.1f} d" if hours >= 48 else f"{hours:.1f} h"
    if left.total_seconds() < 0:
        return f'<span class="overdue">{_t("overdue", language)} {amount}</span>'
    return f'<span class="left">{amount} {_t("left", language)}</span>'


def _types(case: Case, language: Language) -> str:
    if not case.types:
        return f'<span class="tag manual">{_t("manual", language)}</span>'
    return " ".join(f'<span class="tag">{_label(code, NeedType, language)}</span>' for code in case.types)


def _status(case: Case, language: Language) -> str:
    """Routing's status, and the officer's report still waiting for routing, if any."""
    shown = _label(case.status, CaseState, language)
    if case.reported is None:
        return shown
    return (f'{shown} <span class="waiting" data-reported="{case.reported}">{_t("waiting_for_routing", language)}: '
            f"{_label(case.reported, CaseState, language)}</span>")  # fmt: skip


def _holder(case: Case, language: Language) -> str:
    return escape(case.holder_name or text("unclaimed", language))


def case_rows(cases: Sequence[Case], *, now: datetime, levels: ServiceLevels, language: Language) -> str:
    """The inbox's table body (also what the page fetches to show new cases without a reload)."""
    if not cases:
        return f'<tr><td colspan="6">{_t("no_cases", language)}</td></tr>'
    return "".join(
        f'<tr data-case="{case.case_event_id}"><td>{_time_left(case, now=now, levels=levels, language=language)}</td>'
        f'<td>{_types(case, language)}<br><span class="excerpt">{escape(case.description[:80])}</span></td>'
        f"<td>{_status(case, language)}</td>"
        f"<td>{escape(place_name(case.subdistrict_code, language))}</td>"
        f"<td>{_holder(case, language)}</td>"
        f'<td><a href="/inbox/cases/{case.case_event_id}">{_t("open", language)}</a></td></tr>'
        for case in cases
    )


def inbox_page(
    cases: Sequence[Case], chosen: CaseFilter, *, overdue_only: bool, mine: bool, officer: Officer, now: datetime,
    levels: ServiceLevels, language: Language, csrf: str, query: str, refresh_s: float,
) -> str:  # fmt: skip
    """The office's cases, due first, with filters."""
    statuses = "".join(
        f'<option value="{state.value}"{" selected" if chosen.status == state.value else ""}>'
        f"{_label(state.value, CaseState, language)}</option>"
        for state in CaseState
    )
    types = "".join(
        f'<option value="{need_type.value}"{" selected" if chosen.need_type == need_type.value else ""}>'
        f"{_label(need_type.value, NeedType, language)}</option>"
        for need_type in NeedType
    )
    filters = (
        '<form method="get" action="/inbox" class="filters">'
        f'<select name="status"><option value="">{_t("all_statuses", language)}</option>{statuses}</select>'
        f'<select name="type"><option value="">{_t("all_types", language)}</option>{types}</select>'
        f'<label><input type="checkbox" name="overdue" value="1"{" checked" if overdue_only else ""}>'
        f"{_t('overdue_only', language)}</label>"
        + ('<input type="hidden" name="mine" value="1">' if mine else "")
        + f'<button type="submit">{_t("filter", language)}</button></form>'
    )
    heading = text("my_cases", language) if mine else f"{text('inbox', language)} {officer.office.name}"
    table = (
        f'<table class="cases"><thead><tr><th>{_t("due", language)}</th><th>{_t("types", language)}</th>'
        f"<th>{_t('status', language)}</th><th>{_t('place', language)}</th><th>{_t('holder', language)}</th><th></th>"
        f'</tr></thead><tbody id="case-rows" data-refresh="/inbox/rows?{escape(query)}" data-every="{refresh_s}">'
        f"{case_rows(cases, now=now, levels=levels, language=language)}</tbody></table>"
    )
    body = f"<h2>{escape(heading)}</h2>{filters}{table}"
    return layout(heading, body, language=language, officer=officer, csrf=csrf, path="/inbox")


def _description(case: Case) -> str:
    return "".join(
        f"<mark>{escape(piece)}</mark>" if is_evidence else escape(piece)
        for piece, is_evidence in highlighted(case.description, case.assessments)
    )


def _contact(case: Case, officer: Officer, *, language: Language, csrf: str, revealed: RevealedIdentity | None) -> str:
    lines = []
    if case.volunteer_id:
        lines.append(f"<dt>{_t('volunteer', language)}</dt><dd>{escape(case.volunteer_id)}</dd>")
    if case.contact is not None:
        for value in (case.contact.name, case.contact.phone, case.contact.national_id_masked):
            if value:
                lines.append(f"<dd>{escape(value)}</dd>")
    shown = f"<dl>{''.join(lines)}</dl>" if lines else f'<p class="muted">{_t("no_contact", language)}</p>'
    if revealed is not None:
        shown += (
            f'<dl class="revealed"><dt>{_t("reveal", language)}</dt><dd>{escape(revealed.volunteer_id)}</dd>'
            + "".join(
                f"<dd>{escape(value)}</dd>" for value in (revealed.name, revealed.phone, revealed.national_id) if value
            )
            + "</dl>"
        )
    if officer.may_reveal(case.province_code):
        shown += (
            f'<form method="post" action="/inbox/cases/{case.case_event_id}/reveal" class="inline-form">{_csrf(csrf)}'
            f'<label>{_t("reveal_reason", language)}<input name="reason" minlength="3" required></label>'
            f'<button type="submit" class="warn">{_t("reveal", language)}</button></form>'
        )
    return f"<section><h3>{_t('contact', language)}</h3>{shown}</section>"


def _type_checkboxes(name: str, language: Language, checked: Sequence[NeedType] = ()) -> str:
    return "".join(
        f'<label class="check"><input type="checkbox" name="{name}" value="{need_type.value}"'
        f"{' checked' if need_type in checked else ''}>{_label(need_type.value, NeedType, language)}</label>"
        for need_type in NeedType
    )


def _actions(case: Case, officer: Officer, colleagues: Sequence[Officer], *, language: Language, csrf: str) -> str:
    if not case.is_open:
        return ""
    base = f"/inbox/cases/{case.case_event_id}"
    parts = []
    if case.holder != officer.officer_id:
        parts.append(f'<form method="post" action="{base}/claim" class="inline">{_csrf(csrf)}'
                     f'<button type="submit">{_t("claim", language)}</button></form>')  # fmt: skip
    if officer.head and colleagues:
        options = "".join(f'<option value="{escape(c.name)}">{escape(c.name)}</option>' for c in colleagues)
        parts.append(f'<form method="post" action="{base}/assign" class="inline">{_csrf(csrf)}'
                     f'<select name="officer">{options}</select>'
                     f'<button type="submit">{_t("assign", language)}</button></form>')  # fmt: skip
    if case.reported is not None:
        # Nothing more to report until routing has taken or refused the report on its way.
        parts.append(f'<p class="waiting">{_t("waiting_for_routing", language)}: '
                     f"{_label(case.reported, CaseState, language)}</p>")  # fmt: skip
    elif case.manual_screening and officer.screens:
        parts.append(_screening_form(case, language=language, csrf=csrf))
    else:
        if case.status == "routed":
            parts.append(_status_form(base, "accepted", "accept", "", language=language, csrf=csrf))
        if case.status in {"accepted", "in_progress"}:
            parts.append(_status_form(base, "in_progress", "in_progress",
                                      f'<input name="note" placeholder="{_t("note", language)}">',
                                      language=language, csrf=csrf))  # fmt: skip
            parts.append(_status_form(base, "resolved", "resolve",
                                      f'<label>{_t("outcome", language)}<input name="outcome" required></label>',
                                      language=language, csrf=csrf))  # fmt: skip
        agencies = "".join(
            f'<option value="{agency.value}">{_label(agency.value, Agency, language)}</option>'
            for agency in Agency if agency is not case.agency
        )  # fmt: skip
        parts.append(_status_form(
            base, "misrouted", "misrouted",
            f'<label>{_t("reason", language)}<input name="reason" required></label>'
            f'<label>{_t("right_agency", language)}<select name="reroute_to">'
            f'<option value="">{_t("unknown_agency", language)}</option>{agencies}</select></label>'
            f'<fieldset><legend>{_t("corrected_types", language)}</legend>'
            f'{_type_checkboxes("corrected_types", language)}</fieldset>',
            language=language, csrf=csrf,
        ))  # fmt: skip
    return f'<section class="actions">{"".join(parts)}</section>'


def _status_form(base: str, status: str, words: str, fields: str, *, language: Language, csrf: str) -> str:
    return (
        f'<form method="post" action="{base}/status" class="card" data-status="{status}">{_csrf(csrf)}'
        f'<input type="hidden" name="status" value="{status}">{fields}'
        f'<button type="submit" name="action" value="{status}">{_t(words, language)}</button></form>'
    )


def _screening_form(case: Case, *, language: Language, csrf: str) -> str:
    why = escape(reason_text(case.manual_reason, language))
    spoken = case.language
    extra = ""
    if spoken:
        extra += f"<p><strong>{_t('language', language)}:</strong> {escape(language_name(spoken, language))}</p>"
    suggested = case.suggested_types()
    if case.near_miss:
        extra += (
            f"<p><strong>{_t('suggestion', language)}:</strong> "
            + (", ".join(_label(t.value, NeedType, language) for t in suggested) or escape(case.near_miss))
            + "</p>"
        )
    return (
        f'<form method="post" action="/inbox/cases/{case.case_event_id}/screen" class="card screening">{_csrf(csrf)}'
        f"<p><strong>{_t('why_here', language)}:</strong> {why}</p>{extra}"
        f"<fieldset><legend>{_t('types', language)}</legend>{_type_checkboxes('types', language, suggested)}</fieldset>"
        '<label class="check"><input type="checkbox" name="no_labour_need" value="1">'
        f"{_t('no_labour_need', language)}</label>"
        f'<label>{_t("thai_summary", language)}<textarea name="thai_summary" rows="2"></textarea></label>'
        f'<button type="submit">{_t("screen", language)}</button></form>'
    )


def case_page(
    case: Case, *, officer: Officer, timeline: Sequence[TimelineEntry], related: Sequence[Case],
    colleagues: Sequence[Officer], now: datetime, levels: ServiceLevels, language: Language, csrf: str,
    error: str = "", notice: str = "", revealed: RevealedIdentity | None = None,
) -> str:  # fmt: skip
    """One case: what it says, where it is, what happened, what can be done."""
    evidence = "".join(
        f'<li><span class="tag">{_label(item.type.value, NeedType, language)}</span> {item.confidence:.2f} '
        + ", ".join(f"<mark>{escape(word)}</mark>" for word in item.evidence)
        + "</li>"
        for item in case.assessments
    )
    events = "".join(
        f"<li><time>{_when(entry.at)}</time> {escape(timeline_text(entry.kind, language))}"
        + (f" {_label(entry.kind.partition(':')[2], CaseState, language)}" if ":" in entry.kind else "")
        + f" {escape(entry.detail)}</li>"
        for entry in timeline
    )
    related_items = "".join(
        f'<li><a href="/inbox/cases/{other.case_event_id}">{escape(other.office.name)}</a> '
        f"{_label(other.status, CaseState, language)}</li>"
        if officer.sees(other.office)
        else f"<li>{escape(other.office.name)} {_label(other.status, CaseState, language)}</li>"
        for other in related
    )
    body = (
        f"{message('error', error)}{message('ok', notice)}"
        f"<h2>{_types(case, language)} <small>{_status(case, language)}</small></h2>"
        f"<p>{_time_left(case, now=now, levels=levels, language=language)} · {_t('holder', language)}: "
        f'<span class="holder">{_holder(case, language)}</span></p>'
        f'<section><h3>{_t("description", language)}</h3><p class="description">{_description(case)}</p>'
        f'<p class="muted">{_t("evidence", language)}</p><ul>{evidence}</ul></section>'
        f"<section><h3>{_t('place', language)}</h3><p>{escape(place_name(case.subdistrict_code, language))}"
        f" ({escape(case.subdistrict_code)})</p></section>"
        f"{_contact(case, officer, language=language, csrf=csrf, revealed=revealed)}"
        f"{_actions(case, officer, colleagues, language=language, csrf=csrf)}"
        f'<section><h3>{_t("timeline", language)}</h3><ol class="timeline">{events}</ol></section>'
        + (f"<section><h3>{_t('related', language)}</h3><ul>{related_items}</ul></section>" if related else "")
    )
    path = f"/inbox/cases/{case.case_event_id}"
    # While a report waits, the page reloads itself to show routing's answer.
    return layout(case.description[:40], body, language=language, officer=officer, csrf=csrf, path=path,
                  refresh_s=_WAITING_REFRESH_S if case.reported else None)  # fmt: skip


def follow_up_page(cases: Sequence[Case], *, officer: Officer, language: Language, csrf: str) -> str:
    """The province's cases routing escalated, each with the level it missed, its office and who holds it."""
    rows = (
        "".join(
            f'<tr data-case="{case.case_event_id}">'
            f'<td><span class="overdue">{_label(case.escalated or "", OverdueKind, language)}</span></td>'
            f"<td>{escape(case.office.name)}</td><td>{_types(case, language)}</td>"
            f"<td>{_status(case, language)}</td>"
            f'<td class="holder">{_holder(case, language)}</td></tr>'
            for case in cases
        )
        or f'<tr><td colspan="5">{_t("no_cases", language)}</td></tr>'
    )
    body = (
        f"<h2>{_t('follow_up', language)} {escape(officer.office.province_code)}</h2>"
        f'<table class="cases"><thead><tr><th>{_t("escalated_for", language)}</th><th>{_t("office", language)}</th>'
        f"<th>{_t('types', language)}</th><th>{_t('status', language)}</th><th>{_t('holder', language)}</th></tr>"
        f"</thead><tbody>{rows}</tbody></table>"
    )
    return layout(text("follow_up", language), body, language=language, officer=officer, csrf=csrf,
                  path="/inbox/follow-up")  # fmt: skip


def screening_page(
    waiting: Sequence[Case], candidates: Sequence[CandidateCorrection], *, officer: Officer, now: datetime,
    levels: ServiceLevels, language: Language, csrf: str,
) -> str:  # fmt: skip
    """The screener's queue: needs waiting for manual screening, and misrouted reports to confirm or reject."""
    rows = (
        "".join(
            f'<tr data-case="{case.case_event_id}">'
            f"<td>{_time_left(case, now=now, levels=levels, language=language)}</td>"
            f"<td>{escape(reason_text(case.manual_reason, language))}"
            + (
                f" · {_t('language', language)}: {escape(language_name(case.language, language))}"
                if case.language
                else ""
            )
            + (f' · <span class="waiting">{_t("waiting_for_routing", language)}</span>' if case.reported else "")
            + f'</td><td class="description">{escape(case.description[:120])}</td>'
            f'<td><a href="/inbox/cases/{case.case_event_id}">{_t("screen", language)}</a></td></tr>'
            for case in waiting
        )
        or f'<tr><td colspan="4">{_t("no_cases", language)}</td></tr>'
    )
    corrections = "".join(
        f'<li class="card"><p>{escape(item.case.description[:200])}</p>'
        f"<p>{escape(item.case.agency.value)} → {escape(item.reroute_to or '?')} "
        f"({escape(', '.join(item.corrected_types))}): {escape(item.reason)}</p>"
        f'<form method="post" action="/inbox/corrections/{item.case.case_event_id}/review" class="inline">{_csrf(csrf)}'
        f'<button name="verdict" value="confirm" type="submit">{_t("confirm", language)}</button>'
        f'<button name="verdict" value="reject" type="submit">{_t("reject", language)}</button></form></li>'
        for item in candidates
    )
    body = (
        f"<h2>{_t('screening_queue', language)} {escape(officer.office.name)}</h2>"
        f'<table class="cases"><thead><tr><th>{_t("due", language)}</th><th>{_t("why_here", language)}</th>'
        f"<th>{_t('description', language)}</th><th></th></tr></thead><tbody>{rows}</tbody></table>"
        f'<h2>{_t("candidates", language)}</h2><ul class="plain">{corrections}</ul>'
    )
    return layout(text("screening_queue", language), body, language=language, officer=officer, csrf=csrf,
                  path="/inbox/screening")  # fmt: skip


def error_page(words: str, *, language: Language, officer: Officer | None, csrf: str) -> str:
    """A page that only says what went wrong."""
    return layout(words, message("error", words), language=language, officer=officer, csrf=csrf, path="/inbox")
