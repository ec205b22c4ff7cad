"""Server-rendered survey pages: each page POSTs to the same address and gets the next one.

No JavaScript, no cookies. The routes parse the form, call flow/session/vault, and render.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from offramp.survey import flow
from offramp.survey.instrument import Instrument, pick
from offramp.survey.session import SurveyState, load_state, save_state
from offramp.vault.drafts import BadToken, new_token, token_hash
from offramp.vault.sealing import SealContext, seal
from offramp.web.i18n import choose_language
from offramp.web.services import PublishedInstrument, Services, services
from offramp.web.templating import render

MAX_FIELDS = 500
HONEYPOT = "website"


def _published(svc: Services, instrument_id: str) -> PublishedInstrument:
    published = svc.instruments.get(instrument_id)
    if published is None:
        raise HTTPException(404, "There is no survey at this address.")
    return published


def _page_html(
    svc: Services,
    instrument: Instrument,
    state: SurveyState,
    token: str,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    language = state.language
    fallback = instrument.default_language
    if state.page < 0:
        html = render(
            "consent.html",
            lang=language,
            instrument=instrument,
            title=pick(instrument.title, language, fallback),
            consent=pick(instrument.consent or {}, language, fallback),
            token=token,
            arm=state.arm,
            action=f"/s/{instrument.id}",
        )
        return HTMLResponse(html, status)
    page = instrument.pages[state.page]
    questions = []
    for question in flow.visible_questions(page, state.answers):
        value = state.answers.get(question.name)
        questions.append(
            {
                "q": question,
                "label": pick(question.label, language, fallback),
                "hint": pick(question.hint, language, fallback) if question.hint else "",
                "choices": [
                    (c.value, pick(c.label, language, fallback))
                    for c in flow.visible_choices(question, state.answers)
                ],
                "value": value,
                "selected": set(value) if isinstance(value, list) else {value},
                "error": (errors or {}).get(question.name, ""),
            }
        )
    shown_pages = [
        i for i in range(len(instrument.pages)) if flow.page_is_shown(instrument.pages[i], state.answers)
    ]
    position = shown_pages.index(state.page) + 1 if state.page in shown_pages else state.page + 1
    html = render(
        "page.html",
        lang=language,
        title=pick(page.title, language, fallback) or pick(instrument.title, language, fallback),
        questions=questions,
        token=token,
        page_id=page.id,
        position=position,
        total=max(len(shown_pages), position),
        action=f"/s/{instrument.id}",
        has_back=flow.previous_page(instrument, state.page, state.answers) is not None,
        honeypot=HONEYPOT,
        errors=bool(errors),
    )
    return HTMLResponse(html, status)


def _notice(language: str, title: str, message: str, status: int, help_link: bool = True) -> Response:
    html = render("notice.html", lang=language, title=title, message=message, help_link=help_link)
    return HTMLResponse(html, status)


async def start(request: Request) -> Response:
    svc = services(request)
    published = _published(svc, request.path_params["instrument"])
    instrument = published.instrument
    language = choose_language(request, instrument.languages, instrument.default_language)
    arm = request.query_params.get("arm", "none")
    if arm not in svc.catalogue.variants():
        arm = "none"
    state = SurveyState(instrument.id, published.version, language, arm)
    if instrument.consent is None:
        state.page = flow.next_page(instrument, -1, state.answers) or 0
    # Nothing is stored until the respondent posts the first page: a visit alone leaves no trace.
    return _page_html(svc, instrument, state, new_token())


def _form_lists(form: FormData) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            values.setdefault(key, []).append(value)
    return values


async def submit(request: Request) -> Response:
    svc = services(request)
    published = _published(svc, request.path_params["instrument"])
    instrument = published.instrument
    try:
        form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    except Exception:  # noqa: BLE001 - any malformed form is the same answer to the respondent
        raise HTTPException(400, "The form could not be read. Please go back and try again.") from None
    fields = _form_lists(form)
    token = (fields.get("token") or [""])[0]
    language = instrument.default_language
    try:
        state = await run_in_threadpool(load_state, svc.repository, token, instrument.id)
    except BadToken:
        return _notice(
            language, "This form cannot continue",
            "This page's form was changed or has expired. Please start the survey again.", 400,
        )
    if state is None:
        already = await run_in_threadpool(svc.repository.has_submission, _submission_id(token))
        if already:
            return _thanks(instrument, language)
        if fields.get("page", [""])[0] != "consent" and instrument.consent is not None:
            return _notice(
                language, "This form cannot continue",
                "This survey page has expired. Please start the survey again.", 400,
            )
        state = _fresh_state(svc, instrument, published.version, fields)
    language = state.language
    if fields.get(HONEYPOT, [""])[0]:
        # Automated submissions fill the hidden field; they get the same page and store nothing.
        return _thanks(instrument, language)
    posted_page = fields.get("page", [""])[0]
    current_id = "consent" if state.page < 0 else instrument.pages[state.page].id
    if posted_page != current_id:
        # A replayed or out-of-order page: show where the respondent really is, nothing lost.
        return _page_html(svc, instrument, state, token)
    nav = fields.get("nav", ["next"])[0]
    if state.page < 0:
        if nav != "accept":
            return RedirectResponse(f"/go/help?lang={language}", status_code=303)
        first = flow.next_page(instrument, -1, state.answers)
        state.page = first if first is not None else 0
        state.shown_at = time.time()
        await run_in_threadpool(save_state, svc.repository, token, state, svc.settings.draft_ttl_days)
        return _page_html(svc, instrument, state, token)

    page = instrument.pages[state.page]
    result = flow.parse_page(instrument, page, fields, state.answers, language)
    state.page_seconds[page.id] = state.page_seconds.get(page.id, 0) + int(
        max(0.0, time.time() - state.shown_at)
    )
    if nav == "back":
        state.answers = {**state.answers, **{k: v for k, v in result.answers.items()
                                              if k not in result.errors}}
        previous = flow.previous_page(instrument, state.page, state.answers)
        if previous is not None:
            state.page = previous
        state.shown_at = time.time()
        await run_in_threadpool(save_state, svc.repository, token, state, svc.settings.draft_ttl_days)
        return _page_html(svc, instrument, state, token)
    if result.errors:
        state.answers = result.answers
        return _page_html(svc, instrument, state, token, result.errors, status=422)
    state.answers = result.answers
    following = flow.next_page(instrument, state.page, state.answers)
    if following is not None:
        state.page = following
        state.shown_at = time.time()
        await run_in_threadpool(save_state, svc.repository, token, state, svc.settings.draft_ttl_days)
        return _page_html(svc, instrument, state, token)
    await run_in_threadpool(_complete, svc, instrument, state, token, page.id)
    return _thanks(instrument, language)


def _fresh_state(
    svc: Services, instrument: Instrument, version: int, fields: dict[str, list[str]]
) -> SurveyState:
    language = (fields.get("lang") or [instrument.default_language])[0]
    if language not in instrument.languages:
        language = instrument.default_language
    arm = (fields.get("arm") or ["none"])[0]
    if arm not in svc.catalogue.variants():
        arm = "none"
    state = SurveyState(instrument.id, version, language, arm)
    if instrument.consent is None:
        state.page = flow.next_page(instrument, -1, state.answers) or 0
    return state


def _submission_id(token: str) -> str:
    return token_hash(token)


def _complete(svc: Services, instrument: Instrument, state: SurveyState, token: str, page_id: str) -> None:
    """Seal and commit; returns only after the commit, so "thank you" means stored."""
    payload: dict[str, Any] = flow.final_answers(instrument, state.answers)
    payload["page_seconds"] = state.page_seconds
    day = dt.date.today()
    context = SealContext(
        instrument_id=instrument.id,
        instrument_version=state.version,
        page_id=page_id,
        arm=state.arm,
        language=state.language,
        day=day.isoformat(),
    )
    sealed = seal(json.dumps(payload, ensure_ascii=False).encode("utf-8"), context, svc.recipients)
    seconds = int(max(0.0, time.time() - state.started))
    svc.repository.store_response(
        submission_id=_submission_id(token),
        instrument_id=instrument.id,
        instrument_version=state.version,
        page_id=page_id,
        arm=state.arm,
        language=state.language,
        day=day,
        seconds=seconds,
        sealed=sealed,
        draft_token_hash=token_hash(token),
    )


def _thanks(instrument: Instrument, language: str) -> Response:
    html = render(
        "thanks.html",
        lang=language,
        debrief=pick(instrument.debrief or {}, language, instrument.default_language),
    )
    return HTMLResponse(html)


routes = [
    Route("/s/{instrument}", start, methods=["GET"]),
    Route("/s/{instrument}", submit, methods=["POST"]),
]
