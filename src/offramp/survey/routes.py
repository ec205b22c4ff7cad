"""Server-rendered survey pages: each page POSTs to the same address and gets the next one.

No JavaScript, no cookies. The routes parse the form, call respond/flow/session/vault, and render.
What a respondent meets when something goes wrong is always a page in their language that says
what to do, never a traceback, and never the loss of an answer already saved.

    GET  /s/{id}          consent (or the first page); nothing is stored by a visit
    POST /s/{id}          every page posts here: consent, answers, Back, "finish later"
    GET  /s/{id}/resume   the form for a resume code
    POST /s/{id}/resume   continue from a resume code
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from offramp.store.repository import NewResponse
from offramp.survey import flow, render, resume, ui
from offramp.survey.instrument import Instrument
from offramp.survey.ratelimit import Buckets
from offramp.survey.respond import advance
from offramp.survey.session import (
    SurveyState,
    load_state,
    load_state_async,
    save_state,
    save_state_async,
)
from offramp.vault.drafts import BadToken, new_token, token_hash
from offramp.vault.sealing import SealContext, seal
from offramp.web.i18n import choose_language
from offramp.web.services import PublishedInstrument, Services, services

MAX_FIELDS = 1000
"""More fields than any page has (a rank of 100 choices is 100 fields); more is not a person."""
MAX_FIELD_CHARS = 100_000
EXPENSIVE = 10.0
"""Token-bucket cost of deriving a resume code's key (argon2id), in page posts."""
LEAVE_URL = "https://duckduckgo.com/"
HONEYPOT = render.HONEYPOT


# -- plumbing -----------------------------------------------------------------------------------
def _published(request: Request, svc: Services, instrument_id: str) -> PublishedInstrument:
    preview = getattr(request.app.state, "survey_preview", None)
    if preview is not None:
        current = preview.current()
        if current.instrument.id == instrument_id:
            return current  # type: ignore[no-any-return]
    published = svc.instruments.get(instrument_id)
    if published is None:
        raise HTTPException(404, "There is no survey at this address.")
    return published


def _is_preview(request: Request) -> bool:
    return getattr(request.app.state, "survey_preview", None) is not None


def _buckets(request: Request, svc: Services) -> Buckets:
    buckets = getattr(request.app.state, "survey_buckets", None)
    if buckets is None:
        rate = float(getattr(svc.settings, "survey_rate", 200))
        burst = float(getattr(svc.settings, "survey_burst", 400))
        buckets = Buckets(rate, burst)
        request.app.state.survey_buckets = buckets
    assert isinstance(buckets, Buckets)
    return buckets


def _chrome(
    request: Request, svc: Services, instrument: Instrument, language: str, languages: bool = False
) -> render.Chrome:
    base = f"/s/{instrument.id}"
    return render.Chrome(
        lang=language,
        action=base,
        help_href=f"/go/help?lang={language}",
        leave_href=svc.settings.links.get("leave", LEAVE_URL),
        preview=_is_preview(request),
        languages=render.language_links(instrument, language, base) if languages else [],
    )


def _html(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status)


def _form_lists(pairs: Iterable[tuple[str, object]]) -> dict[str, list[str]]:
    """Posted (name, value) pairs as lists per name, each value capped; uploads are ignored."""
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        if isinstance(value, str):
            values.setdefault(key, []).append(value[:MAX_FIELD_CHARS])
    return values


async def _read_form(request: Request) -> dict[str, list[str]] | None:
    """The posted fields; None when they cannot be read (the caller answers 400)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        # What every browser sends for our forms. The standard library parses it in a tenth of
        # the time of the general multipart machinery behind request.form().
        try:
            body = (await request.body()).decode("utf-8", "replace")
            pairs = parse_qsl(body, keep_blank_values=True, encoding="utf-8",
                              errors="replace", max_num_fields=MAX_FIELDS)
        except ValueError:
            return None
        return _form_lists(pairs)
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except HTTPException:
        return None
    except Exception:
        return None
    return _form_lists(form.multi_items())


def _language(request: Request, instrument: Instrument, fields: dict[str, list[str]] | None) -> str:
    asked = (fields or {}).get("lang", [""])[0]
    if asked in instrument.languages:
        return asked
    return choose_language(request, instrument.languages, instrument.default_language)


def _notice(
    chrome: render.Chrome,
    key: str,
    status: int,
    title_key: str = "stop_title",
    restart: bool = True,
) -> Response:
    html = render.notice_html(
        chrome,
        ui.text(chrome.lang, title_key),
        ui.text(chrome.lang, key),
        restart=f"{chrome.action}?lang={chrome.lang}" if restart else None,
    )
    return _html(html, status)


# -- pages --------------------------------------------------------------------------------------
def _show(
    request: Request,
    svc: Services,
    instrument: Instrument,
    state: SurveyState,
    token: str,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    posted: Any = None,
    notice: str = "",
    walk: flow.Walk | None = None,
) -> Response:
    chrome = _chrome(request, svc, instrument, state.language, languages=state.page < 0)
    if state.page < 0:
        return _html(render.consent_html(chrome, instrument, token, state.arm), status)
    page = instrument.pages[state.page]
    html = render.page_html(
        chrome,
        instrument,
        state.page,
        state.answers,
        token,
        seed=state.seed,
        posted=posted,
        errors=errors,
        prefill=page.id not in state.page_seconds,
        notice=ui.text(state.language, notice) if notice else "",
        arm=state.arm,
        walk=walk,
    )
    return _html(html, status)


async def start(request: Request) -> Response:
    svc = services(request)
    published = _published(request, svc, request.path_params["instrument"])
    instrument = published.instrument
    language = _language(request, instrument, None)
    arm = request.query_params.get("arm", "none")
    if arm not in svc.catalogue.variants():
        arm = "none"
    state = SurveyState(instrument.id, published.version, language, arm)
    if instrument.consent is None:
        first = flow.next_page(instrument, -1, state.answers)
        state.page = first if first is not None else 0
    # Nothing is stored until the respondent posts the first page: a visit alone leaves no trace.
    return _show(request, svc, instrument, state, new_token())


def _fresh_state(
    svc: Services, instrument: Instrument, version: int, language: str, fields: dict[str, list[str]]
) -> SurveyState:
    arm = (fields.get("arm") or ["none"])[0]
    if arm not in svc.catalogue.variants():
        arm = "none"
    state = SurveyState(instrument.id, version, language, arm)
    if instrument.consent is None:
        first = flow.next_page(instrument, -1, state.answers)
        state.page = first if first is not None else 0
        state.furthest = state.page
    return state


async def submit(request: Request) -> Response:
    svc = services(request)
    published = _published(request, svc, request.path_params["instrument"])
    instrument = published.instrument
    fields = await _read_form(request)
    language = _language(request, instrument, fields)
    chrome = _chrome(request, svc, instrument, language)
    if fields is None:
        return _notice(chrome, "unreadable", 400, restart=False)
    if not _buckets(request, svc).take(instrument.id):
        return _notice(chrome, "busy", 429, title_key="busy_title", restart=False)
    if fields.get(HONEYPOT, [""])[0]:
        # Automated submissions fill the hidden field; they get the same page and store nothing.
        return _html(render.thanks_html(chrome, instrument))
    token = (fields.get("token") or [""])[0]
    try:
        state = await _load(svc, token, instrument.id)
        if state is None:
            already = await run_in_threadpool(svc.repository.has_submission, token_hash(token))
            if already:
                # A double click on the last page, or its replay: the first one was stored.
                return _html(render.thanks_html(chrome, instrument))
            if fields.get("page", [""])[0] != "consent" and instrument.consent is not None:
                return _notice(chrome, "expired", 400)
            state = _fresh_state(svc, instrument, published.version, language, fields)
    except BadToken:
        return _notice(chrome, "tampered", 400)
    if state.parked:
        return _html(
            render.resume_form_html(
                _chrome(request, svc, instrument, state.language),
                instrument,
                ui.text(state.language, "parked"),
            ),
            409,
        )
    if state.version != published.version and not _is_preview(request):
        instrument = await run_in_threadpool(_instrument_for, request, svc, published, state)
    step = advance(instrument, state, fields, time.time())
    ttl = svc.settings.draft_ttl_days
    if step.action == "decline":
        return RedirectResponse(f"/go/help?lang={state.language}", status_code=303)
    if step.action == "complete":
        chrome = _chrome(request, svc, instrument, state.language)
        if _is_preview(request):
            found = step.walk or flow.walk(instrument, state.answers)
            return _html(render.thanks_html(chrome, instrument, dict(found.effective)))
        record = _sealed_record(svc, instrument, state, token, step.walk)
        # Returns only after the commit, so "thank you" means stored.
        await svc.repository.store_response_async(record)
        return _html(render.thanks_html(chrome, instrument))
    if step.action == "park":
        if not _buckets(request, svc).take(instrument.id, EXPENSIVE):
            return _notice(chrome, "busy", 429, title_key="busy_title", restart=False)
        return await run_in_threadpool(_park, request, svc, instrument, state, token)
    if step.save:
        await save_state_async(svc.repository, token, state, ttl)
    return _show(
        request,
        svc,
        instrument,
        state,
        token,
        status=step.status,
        errors=step.errors,
        posted=step.posted,
        notice=step.notice,
        walk=step.walk,
    )


async def _load(svc: Services, token: str, instrument_id: str) -> SurveyState | None:
    """The respondent's draft. Where a read never waits for a writer (SQLite in WAL mode) it runs
    here on the event loop: it takes microseconds, and a trip to a worker thread costs more than
    that and makes the page work contend with the threads for the interpreter. On PostgreSQL (a
    network round trip) concurrent pages' reads share one statement in a worker thread. Saving
    works the same way (save_state_async)."""
    return await load_state_async(svc.repository, token, instrument_id)


def _park(request: Request, svc: Services, instrument: Instrument, state: SurveyState,
          token: str) -> Response:
    """"Finish later": the draft moves under a new resume code; the form's token is retired."""
    ttl = svc.settings.draft_ttl_days
    code = resume.new_code()
    parked_token = resume.token_for_code(code, instrument.id)
    save_state(svc.repository, parked_token, state, ttl)
    tombstone = SurveyState(instrument.id, state.version, state.language, state.arm, parked=True)
    save_state(svc.repository, token, tombstone, ttl)
    chrome = _chrome(request, svc, instrument, state.language)
    html = render.resume_code_html(
        chrome, instrument, code, parked_token, instrument.pages[state.page].id, ttl
    )
    return _html(html)


def _instrument_for(
    request: Request, svc: Services, published: PublishedInstrument, state: SurveyState
) -> Instrument:
    """The version this respondent started on: a republished instrument does not move them."""
    if state.version == published.version or _is_preview(request):
        return published.instrument
    older = svc.repository.instrument_definition(published.instrument.id, state.version)
    return published.instrument if older is None else Instrument.from_json(older)


def _sealed_record(svc: Services, instrument: Instrument, state: SurveyState, token: str,
                   found: flow.Walk | None) -> NewResponse:
    """The response as the store takes it, its answers sealed: no database, so it runs on the
    event loop and only the commit goes to a worker thread (a thread busy with Python work
    would hold the interpreter the event loop needs)."""
    page_id = instrument.pages[state.page].id
    payload: dict[str, Any] = flow.final_answers(instrument, state.answers, found)
    payload["page_seconds"] = state.page_seconds
    day = dt.date.today()
    submission_id = token_hash(token)
    context = SealContext(
        instrument_id=instrument.id,
        instrument_version=state.version,
        page_id=page_id,
        arm=state.arm,
        language=state.language,
        day=day.isoformat(),
        submission_id=submission_id,  # binds the record to its row: a copy fails to open
    )
    sealed = seal(json.dumps(payload, ensure_ascii=False).encode("utf-8"), context, svc.recipients)
    return NewResponse(
        submission_id=submission_id,
        instrument_id=instrument.id,
        instrument_version=state.version,
        page_id=page_id,
        arm=state.arm,
        language=state.language,
        day=day,
        seconds=int(max(0.0, time.time() - state.started)),
        sealed=sealed,
        draft_token_hash=submission_id,
    )


# -- resume codes -------------------------------------------------------------------------------
async def resume_form(request: Request) -> Response:
    svc = services(request)
    instrument = _published(request, svc, request.path_params["instrument"]).instrument
    chrome = _chrome(request, svc, instrument, _language(request, instrument, None))
    return _html(render.resume_form_html(chrome, instrument))


async def resume_submit(request: Request) -> Response:
    svc = services(request)
    instrument = _published(request, svc, request.path_params["instrument"]).instrument
    fields = await _read_form(request)
    language = _language(request, instrument, fields)
    chrome = _chrome(request, svc, instrument, language)
    if fields is None:
        return _notice(chrome, "unreadable", 400, restart=False)
    if fields.get(HONEYPOT, [""])[0]:
        return _html(
            render.resume_form_html(chrome, instrument, ui.text(language, "resume_unknown")), 422
        )
    if not _buckets(request, svc).take(instrument.id, EXPENSIVE):
        return _notice(chrome, "busy", 429, title_key="busy_title", restart=False)
    code = resume.normalise((fields.get("code") or [""])[0])
    state: SurveyState | None = None
    token = ""
    if code is not None:
        token = await run_in_threadpool(resume.token_for_code, code, instrument.id)
        try:
            state = await run_in_threadpool(load_state, svc.repository, token, instrument.id)
        except BadToken:
            state = None
    if state is None or state.parked or state.page < 0:
        html = render.resume_form_html(chrome, instrument, ui.text(language, "resume_unknown"))
        return _html(html, 422)
    state.shown_at = time.time()
    published = _published(request, svc, instrument.id)
    instrument = await run_in_threadpool(_instrument_for, request, svc, published, state)
    return _show(request, svc, instrument, state, token)


routes = [
    Route("/s/{instrument}", start, methods=["GET"]),
    Route("/s/{instrument}", submit, methods=["POST"]),
    Route("/s/{instrument}/resume", resume_form, methods=["GET"]),
    Route("/s/{instrument}/resume", resume_submit, methods=["POST"]),
]
