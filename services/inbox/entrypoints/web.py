"""The inbox over HTTP: pages, forms and the list the page refreshes; each only translates to a use case."""

import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Annotated
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.inbox.adapters import cases as case_store
from services.inbox.adapters.cases import CaseFilter
from services.inbox.adapters.intake_reveal import IntakeReveal, RevealedIdentity, RevealFailed
from services.inbox.adapters.officers import Session
from services.inbox.domain.officers import WeakPassword
from services.inbox.domain.texts import LANGUAGES, Language, text
from services.inbox.entrypoints import pages
from services.inbox.use_cases import accounts, case_work
from services.inbox.use_cases.case_work import ActionRefused, CaseNotFound, Inbox, Report, Screening
from shared.contracts.need_types import Agency, CaseState, NeedType

SESSION_COOKIE = "inbox_session"
LOGIN_CSRF_COOKIE = "inbox_login_csrf"
LANGUAGE_COOKIE = "inbox_lang"
_STATIC = {"inbox.css": "text/css; charset=utf-8", "inbox.js": "text/javascript; charset=utf-8"}
# Only its own scripts and styles; forms post only to itself; never framed.
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class InboxResources:
    """What the pages need, made in the app's lifespan."""

    inbox: Inbox
    intake: IntakeReveal
    secure_cookies: bool
    session_for: timedelta
    limits: accounts.LoginLimits
    refresh_s: float


def _resources(request: Request) -> InboxResources:
    found: InboxResources = request.app.state.resources
    return found


Resources = Annotated[InboxResources, Depends(_resources)]


def _language(request: Request) -> Language:
    chosen = request.cookies.get(LANGUAGE_COOKIE, "th")
    return "en" if chosen == "en" else "th"


def _page(html: str, *, status_code: int = 200) -> HTMLResponse:
    return HTMLResponse(html, status_code=status_code, headers=_HEADERS)


def _now() -> datetime:
    return datetime.now(UTC)


def _set_cookie(response: Response, name: str, value: str, *, secure: bool, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/inbox", httponly=True, samesite="strict", secure=secure)


async def _form(request: Request) -> dict[str, list[str]]:
    # Forms are urlencoded; parsed here so that no multipart parser is needed.
    return parse_qs((await request.body()).decode("utf-8", errors="replace"), keep_blank_values=True)


def _first(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0].strip()


def _same(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


class NotLoggedIn(Exception):
    """No live session: the page sends the officer to the login form."""


class ForgedForm(Exception):
    """A form without the session's CSRF token."""


async def _session(request: Request, resources: Resources) -> Session:
    token = request.cookies.get(SESSION_COOKIE, "")
    found = await accounts.current_session(token=token, now=_now(), pool=resources.inbox.pool) if token else None
    if found is None:
        raise NotLoggedIn
    return found


Officer = Annotated[Session, Depends(_session)]


async def _form_before_login(request: Request) -> tuple[dict[str, list[str]], str]:
    """A form posted without a session (login, password): its token must match the cookie set with the form."""
    form = await _form(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not _same(_first(form, "csrf"), expected):
        raise ForgedForm
    return form, expected


async def _checked_form(request: Request, session: Session) -> dict[str, list[str]]:
    form = await _form(request)
    if not _same(_first(form, "csrf"), session.csrf_token):
        raise ForgedForm
    return form


@router.get("/inbox/readyz")
async def ready(resources: Resources) -> Response:
    """200 once the inbox started (its database answered); for supervisors and compose."""
    async with resources.inbox.pool.acquire() as connection:
        await connection.fetchval("SELECT 1")
    return Response("ready", media_type="text/plain")


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    """Prometheus metrics (aggregate counters, no personal data), outside ``/inbox`` so a proxy need not expose them."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


@router.get("/inbox/static/{name}")
async def static_file(name: str) -> Response:
    """The page's own style sheet and script."""
    media_type = _STATIC.get(name)
    if media_type is None:
        return Response(status_code=404)
    return Response(_package_file(name), media_type=media_type, headers=_HEADERS)


@cache
def _package_file(name: str) -> bytes:
    return (resources.files("services.inbox") / "static" / name).read_bytes()


@router.get("/inbox/language/{language}")
async def choose_language(language: str, next: str = "/inbox") -> Response:
    """Switch between Thai and English; back to the page the officer was on."""
    target = next if next.startswith("/inbox") else "/inbox"
    response = RedirectResponse(target, status_code=303)
    if language in LANGUAGES:
        response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 86400, path="/inbox", samesite="strict")
    return response


@router.get("/inbox/login")
async def login_form(request: Request, resources: Resources, notice: str = "") -> Response:
    """The login form, with a CSRF token of its own (no session yet)."""
    csrf = secrets.token_urlsafe(32)
    language = _language(request)
    words = text("password_set", language) if notice == "password_set" else ""
    response = _page(pages.login_page(language=language, csrf=csrf, notice=words))
    _set_cookie(response, LOGIN_CSRF_COOKIE, csrf, secure=resources.secure_cookies, max_age=3600)
    return response


@router.post("/inbox/login")
async def log_in(request: Request, resources: Resources) -> Response:
    """Check name and password (rate-limited); start a server-side session in an HttpOnly, SameSite cookie."""
    form, expected = await _form_before_login(request)
    language = _language(request)
    address = request.client.host if request.client else "unknown"
    try:
        session = await accounts.log_in(
            name=_first(form, "name"), password=(form.get("password") or [""])[0], address=address,
            limits=resources.limits, session_for=resources.session_for, now=_now(), pool=resources.inbox.pool,
        )  # fmt: skip
    except accounts.TooManyFailedLogins as limited:
        page = pages.login_page(language=language, csrf=expected, error=text("too_many", language))
        response = _page(page, status_code=429)
        response.headers["Retry-After"] = str(limited.retry_after_s)
        return response
    except accounts.LoginRefused:
        page = pages.login_page(language=language, csrf=expected, error=text("login_refused", language))
        return _page(page, status_code=401)
    logged_in = RedirectResponse("/inbox", status_code=303)
    _set_cookie(logged_in, SESSION_COOKIE, session.token, secure=resources.secure_cookies,
                max_age=int(resources.session_for.total_seconds()))  # fmt: skip
    logged_in.delete_cookie(LOGIN_CSRF_COOKIE, path="/inbox")
    return logged_in


@router.post("/inbox/logout")
async def log_out(request: Request, resources: Resources, session: Officer) -> Response:
    """End the session."""
    await _checked_form(request, session)
    await accounts.log_out(token=request.cookies.get(SESSION_COOKIE, ""), officer=session.officer,
                           pool=resources.inbox.pool)  # fmt: skip
    response = RedirectResponse("/inbox/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/inbox")
    return response


@router.get("/inbox/welcome/{token}")
async def welcome(token: str, request: Request, resources: Resources) -> Response:
    """The one-time link: a form for setting the password."""
    csrf = secrets.token_urlsafe(32)
    valid = await accounts.link_valid(token=token, now=_now(), pool=resources.inbox.pool)
    response = _page(pages.welcome_page(token=token, language=_language(request), csrf=csrf, valid=valid),
                     status_code=200 if valid else 404)  # fmt: skip
    _set_cookie(response, LOGIN_CSRF_COOKIE, csrf, secure=resources.secure_cookies, max_age=3600)
    return response


@router.post("/inbox/welcome/{token}")
async def set_password(token: str, request: Request, resources: Resources) -> Response:
    """Spend the link on a password (argon2id)."""
    form, expected = await _form_before_login(request)
    language = _language(request)
    try:
        await accounts.set_password(token=token, password=(form.get("password") or [""])[0], now=_now(),
                                    pool=resources.inbox.pool)  # fmt: skip
    except WeakPassword as weak:
        page = pages.welcome_page(token=token, language=language, csrf=expected, valid=True, error=str(weak))
        return _page(page, status_code=422)
    except accounts.LinkNotValid:
        return _page(pages.welcome_page(token=token, language=language, csrf=expected, valid=False), status_code=404)
    return RedirectResponse("/inbox/login?notice=password_set", status_code=303)


def _filter(request: Request, session: Session) -> tuple[CaseFilter, bool, bool]:
    query = request.query_params
    status = query.get("status") or None
    need_type = query.get("type") or None
    mine = query.get("mine") == "1"
    chosen = CaseFilter(
        status=status if status in {state.value for state in CaseState} else None,
        need_type=need_type if need_type in {t.value for t in NeedType} else None,
        holder=session.officer.officer_id if mine else None,
    )
    return chosen, query.get("overdue") == "1", mine


@router.get("/inbox")
async def inbox_page(request: Request, resources: Resources, session: Officer) -> Response:
    """The office's cases, due first."""
    chosen, overdue_only, mine = _filter(request, session)
    now = _now()
    cases = await case_work.list_cases(resources.inbox, session.officer, chosen, overdue_only=overdue_only, now=now)
    return _page(pages.inbox_page(
        cases, chosen, overdue_only=overdue_only, mine=mine, officer=session.officer, now=now,
        levels=resources.inbox.levels, language=_language(request), csrf=session.csrf_token,
        query=urlencode(request.query_params), refresh_s=resources.refresh_s,
    ))  # fmt: skip


@router.get("/inbox/rows")
async def inbox_rows(request: Request, resources: Resources, session: Officer) -> Response:
    """The table's rows alone: the page fetches them to show new cases without a reload."""
    chosen, overdue_only, _ = _filter(request, session)
    now = _now()
    cases = await case_work.list_cases(resources.inbox, session.officer, chosen, overdue_only=overdue_only, now=now)
    return _page(pages.case_rows(cases, now=now, levels=resources.inbox.levels, language=_language(request)))


async def _case_page(
    request: Request, resources: InboxResources, session: Session, case_event_id: uuid.UUID, *,
    error: str = "", notice: str = "", revealed: RevealedIdentity | None = None, status_code: int = 200,
) -> Response:  # fmt: skip
    inbox, officer = resources.inbox, session.officer
    language = _language(request)
    try:
        case = await case_work.open_case(inbox, officer, case_event_id)
    except CaseNotFound:
        page = pages.error_page(
            text("not_found", language), language=language, officer=officer, csrf=session.csrf_token
        )
        return _page(page, status_code=404)
    async with inbox.pool.acquire() as connection:
        timeline = await case_store.timeline(connection, case.case_event_id)
        related = await case_store.related_cases(connection, case)
    colleagues = await case_work.colleagues(inbox, officer) if officer.head else []
    return _page(pages.case_page(
        case, officer=officer, timeline=timeline, related=related, colleagues=colleagues, now=_now(),
        levels=inbox.levels, language=language, csrf=session.csrf_token, error=error, notice=notice, revealed=revealed,
    ), status_code=status_code)  # fmt: skip


@router.get("/inbox/cases/{case_event_id}")
async def case_page(
    case_event_id: uuid.UUID, request: Request, resources: Resources, session: Officer, done: str = ""
) -> Response:
    """One case of the officer's office; any other is 404, as if it did not exist."""
    notice = text("sent", _language(request)) if done else ""
    return await _case_page(request, resources, session, case_event_id, notice=notice)


async def _act(
    request: Request, resources: InboxResources, session: Session, case_event_id: uuid.UUID, action: str,
    form: dict[str, list[str]],
) -> Response:  # fmt: skip
    inbox, officer, now = resources.inbox, session.officer, _now()
    try:
        if action == "status":
            await case_work.report(inbox, officer, case_event_id, _report(form), now=now)
        elif action == "claim":
            await case_work.claim(inbox, officer, case_event_id, now=now)
        elif action == "assign":
            await case_work.assign(inbox, officer, case_event_id, to_name=_first(form, "officer"), now=now)
        elif action == "screen":
            await case_work.screen(inbox, officer, case_event_id, _screening(form), now=now)
        elif action == "reveal":
            revealed = await case_work.reveal(inbox, officer, case_event_id, reason=_first(form, "reason"),
                                              intake=resources.intake)  # fmt: skip
            return await _case_page(request, resources, session, case_event_id, revealed=revealed)
        else:
            return Response(status_code=404)
    except ActionRefused as refused:
        return await _case_page(request, resources, session, case_event_id, error=str(refused), status_code=422)
    except RevealFailed as failed:
        return await _case_page(request, resources, session, case_event_id, error=str(failed), status_code=502)
    return RedirectResponse(f"/inbox/cases/{case_event_id}?done={action}", status_code=303)


@router.post("/inbox/cases/{case_event_id}/{action}")
async def case_action(
    case_event_id: uuid.UUID, action: str, request: Request, resources: Resources, session: Officer
) -> Response:
    """Accept, work, resolve, send back, claim, assign, screen or reveal; every form carries the CSRF token."""
    form = await _checked_form(request, session)
    return await _act(request, resources, session, case_event_id, action, form)


def _types(form: dict[str, list[str]], name: str) -> tuple[NeedType, ...]:
    known = {need_type.value: need_type for need_type in NeedType}
    return tuple(known[value] for value in form.get(name, []) if value in known)


def _report(form: dict[str, list[str]]) -> Report:
    status = _first(form, "status")
    if status not in {"accepted", "in_progress", "resolved", "misrouted"}:
        raise ActionRefused("status: one of accepted, in_progress, resolved, misrouted")
    reroute = _first(form, "reroute_to")
    known = {agency.value: agency for agency in Agency}
    if reroute and reroute not in known:
        raise ActionRefused(f"reroute_to: {reroute!r} is no agency")
    return Report(
        status=status,  # type: ignore[arg-type]  # checked above against CaseStatus
        note=_first(form, "note"), outcome=_first(form, "outcome") or None, reason=_first(form, "reason") or None,
        reroute_to=known.get(reroute), corrected_types=_types(form, "corrected_types"),
    )  # fmt: skip


def _screening(form: dict[str, list[str]]) -> Screening:
    return Screening(
        types=_types(form, "types"), no_labour_need=_first(form, "no_labour_need") == "1",
        thai_summary=_first(form, "thai_summary"),
    )  # fmt: skip


@router.get("/inbox/screening")
async def screening_queue(request: Request, resources: Resources, session: Officer) -> Response:
    """The screener's queue: needs waiting for manual screening, and misrouted reports to review."""
    officer, language = session.officer, _language(request)
    if not officer.screens:
        page = pages.error_page(
            text("not_found", language), language=language, officer=officer, csrf=session.csrf_token
        )
        return _page(page, status_code=404)
    now = _now()
    waiting = await case_work.list_cases(
        resources.inbox, officer, CaseFilter(manual_only=True), overdue_only=False, now=now
    )
    async with resources.inbox.pool.acquire() as connection:
        candidates = await case_store.candidate_corrections(connection, officer.office.province_code)
    return _page(pages.screening_page(waiting, candidates, officer=officer, now=now, levels=resources.inbox.levels,
                                      language=language, csrf=session.csrf_token))  # fmt: skip


@router.get("/inbox/follow-up")
async def follow_up(request: Request, resources: Resources, session: Officer) -> Response:
    """The provincial labour office's follow-up: the province's cases routing escalated, and who holds each."""
    language = _language(request)
    try:
        escalated = await case_work.follow_up(resources.inbox, session.officer)
    except CaseNotFound:
        page = pages.error_page(text("not_found", language), language=language, officer=session.officer,
                                csrf=session.csrf_token)  # fmt: skip
        return _page(page, status_code=404)
    return _page(pages.follow_up_page(escalated, officer=session.officer, language=language,
                                      csrf=session.csrf_token))  # fmt: skip


@router.post("/inbox/corrections/{case_event_id}/review")
async def review_correction(
    case_event_id: uuid.UUID, request: Request, resources: Resources, session: Officer
) -> Response:
    """A screener confirms or rejects a misrouted report as a correction."""
    form = await _checked_form(request, session)
    language = _language(request)
    try:
        await case_work.review_correction(resources.inbox, session.officer, case_event_id,
                                          confirm=_first(form, "verdict") == "confirm", now=_now())  # fmt: skip
    except (ActionRefused, CaseNotFound) as refused:
        page = pages.error_page(str(refused) or text("not_found", language), language=language,
                                officer=session.officer, csrf=session.csrf_token)  # fmt: skip
        return _page(page, status_code=404 if isinstance(refused, CaseNotFound) else 422)
    return RedirectResponse("/inbox/screening", status_code=303)


async def not_logged_in(request: Request, _: Exception) -> Response:
    """A page asked for without a session: to the login form (a refresh of the rows: 401)."""
    if request.method == "GET" and not request.url.path.startswith("/inbox/rows"):
        return RedirectResponse("/inbox/login", status_code=303)
    return Response("not logged in", status_code=401, headers=_HEADERS)


async def forged_form(request: Request, _: Exception) -> Response:
    """A form without the session's CSRF token: refused."""
    language = _language(request)
    return _page(
        pages.error_page(text("forbidden", language), language=language, officer=None, csrf=""), status_code=403
    )
