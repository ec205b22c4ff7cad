"""The page shown instead of results, counted redirects, the screening API and the demo engine.

Routes parse and answer; the work is in messages (texts), experiment (arms) and screen (verdicts).
Nothing here reads the client's address, user agent, cookies or referrer, and no query text is
ever logged or counted: counters hold (day, language, arm, event, link) only.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from offramp.intercept.openapi import MAX_BATCH, MAX_QUERY_CHARS, openapi_document
from offramp.screen import Verdict
from offramp.web.i18n import choose_language
from offramp.web.services import Services, services
from offramp.web.templating import render

BUILTIN_LINKS = ("help", "survey", "leave")
_JSON = "application/json"


def verdict_json(verdict: Verdict, cache: dict[Verdict, bytes] = {}) -> bytes:  # noqa: B006 - a deliberate process-wide memo: verdicts repeat (most are the one "clear" value)
    """Serialised verdicts, memoised: the clear verdict is one object shared by all queries."""
    data = cache.get(verdict)
    if data is None:
        data = json.dumps(verdict.to_dict(), separators=(",", ":")).encode()
        if len(cache) < 100_000:
            cache[verdict] = data
    return data


def _page(svc: Services, language: str, arm: str) -> bytes:
    """The page depends only on (language, arm) once the server runs: render each once."""
    # Kept on the Services object, so the cache lives and dies with the app that owns it.
    pages: dict[tuple[str, str], bytes] = svc.__dict__.setdefault("_intercept_pages", {})
    cached = pages.get((language, arm))
    if cached is not None:
        return cached
    catalogue = svc.catalogue
    suffix = f"?arm={arm}&lang={language}"
    links = {"help": f"/go/help{suffix}", "leave": f"/go/leave{suffix}"}
    if svc.survey_link_target():
        links["survey"] = f"/go/survey{suffix}"
    others = [
        (code, catalogue.languages[code].name, f"/intercept?lang={code}&arm={arm}",
         catalogue.direction(code))
        for code in catalogue.language_codes()
        if code != language
    ]
    html = render(
        "intercept.html", lang=language, direction=catalogue.direction(language),
        t=catalogue.messages(language, arm), links=links, others=others,
    ).encode("utf-8")
    pages[(language, arm)] = html
    return html


def render_interstitial(request: Request, svc: Services, status: int = 200) -> Response:
    """Assign an arm, count the impression, send the page. Nothing about the visitor is kept."""
    language = choose_language(request, svc.catalogue.language_codes(),
                               svc.settings.default_language)
    asked_arm = request.query_params.get("arm")
    # A language switch keeps the arm the visitor already saw; anything else is a fresh draw.
    arm = asked_arm if asked_arm in svc.arms.arms(language) else svc.arms.assign(language)
    svc.counters.add(language=language, arm=arm, event="impression")
    return Response(_page(svc, language, arm), status, media_type="text/html; charset=utf-8")


async def intercept_page(request: Request) -> Response:
    return render_interstitial(request, services(request))


def _link_target(svc: Services, link: str, language: str, arm: str) -> str | None:
    if link in svc.settings.links:
        return svc.settings.links[link]
    if link == "help":
        return svc.settings.help_url
    if link == "survey":
        target = svc.survey_link_target()
        return f"{target}?lang={language}&arm={arm}" if target else None
    if link == "leave":
        return "/"
    return None


async def go(request: Request) -> Response:
    """Count one click and send the visitor on with a 303; nothing of this page travels along."""
    svc = services(request)
    link = request.path_params["link"]
    catalogue = svc.catalogue
    language = request.query_params.get("lang", "")
    if language not in catalogue.languages:
        language = svc.settings.default_language
    arm = request.query_params.get("arm", "")
    if arm not in catalogue.variants():
        arm = "unknown"
    target = _link_target(svc, link, language, arm)
    if target is None:
        raise HTTPException(404, "There is no such link.")
    svc.counters.add(language=language, arm=arm, event="click", link=link)
    return RedirectResponse(target, status_code=303)


async def _json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != _JSON:
        raise HTTPException(415, "Send the body as application/json.")
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise HTTPException(400, "The body is not valid JSON.") from None
    except RecursionError:
        raise HTTPException(400, "The body is nested too deeply.") from None


def _query_text(value: Any, where: str = "query") -> str:
    if not isinstance(value, str):
        raise HTTPException(422, f"{where} must be a string.")
    if len(value) > MAX_QUERY_CHARS:
        raise HTTPException(422, f"{where} is longer than {MAX_QUERY_CHARS} characters.")
    return value


def _language(svc: Services, body: dict[str, Any]) -> str | None:
    if "lang" not in body:
        return None
    lang = body["lang"]
    if not isinstance(lang, str) or lang not in svc.catalogue.languages:
        known = ", ".join(svc.catalogue.language_codes())
        raise HTTPException(422, f"lang must be one of: {known}.")
    return lang


async def api_screen(request: Request) -> Response:
    svc = services(request)
    body = await _json_body(request)
    if not isinstance(body, dict) or "query" not in body:
        raise HTTPException(422, 'Send {"query": "..."}.')
    verdict = svc.current_screener().check(_query_text(body["query"]))
    lang = _language(svc, body)
    if lang is None:
        return Response(verdict_json(verdict), media_type=_JSON)
    out = verdict.to_dict()
    out["intercept"] = f"/intercept?lang={lang}" if verdict.blocked else None
    return JSONResponse(out)


async def api_screen_batch(request: Request) -> Response:
    body = await _json_body(request)
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise HTTPException(422, 'Send {"queries": ["...", ...]}.')
    queries = body["queries"]
    if len(queries) > MAX_BATCH:
        raise HTTPException(422, f"at most {MAX_BATCH} queries per batch; split it.")
    for index, query in enumerate(queries):
        _query_text(query, f"queries[{index}]")
    check = services(request).current_screener().check
    # Search traffic repeats itself: screen each distinct query of the batch once.
    seen: dict[str, bytes] = {}
    parts = b",".join([
        seen[q] if q in seen else seen.setdefault(q, verdict_json(check(q))) for q in queries
    ])
    return Response(b'{"verdicts":[' + parts + b"]}", media_type=_JSON)


async def api_screen_auth(request: Request) -> Response:
    """For nginx ``auth_request``: screen the original request's query parameter.

    nginx sends the original URI in ``X-Original-URI`` and the parameter name in
    ``X-Offramp-Param`` (default ``q``). 204 = let it through, 403 = show the interstitial.
    """
    uri = request.headers.get("x-original-uri")
    if uri is None:
        raise HTTPException(400, "Send the original request URI in X-Original-URI.")
    if len(uri) > 4 * MAX_QUERY_CHARS:
        raise HTTPException(400, "X-Original-URI is too long.")
    param = request.headers.get("x-offramp-param", "q")
    values = parse_qs(urlsplit(uri).query, keep_blank_values=True).get(param, [])
    screener = services(request).current_screener()
    blocked = any(screener.check(v[:MAX_QUERY_CHARS]).blocked for v in values)
    return Response(status_code=403 if blocked else 204)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document())


async def demo_search(request: Request) -> Response:
    svc = services(request)
    if not svc.settings.demo:
        raise HTTPException(404, "There is no page at this address.")
    query = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
    if query and svc.current_screener().check(query).blocked:
        return render_interstitial(request, svc)
    html = render("demo_search.html", lang="en", query=query, searched=bool(query))
    return HTMLResponse(html)


async def home(request: Request) -> Response:
    svc = services(request)
    if svc.settings.demo:
        return RedirectResponse("/demo/search", status_code=303)
    return JSONResponse({"service": "offramp"})


routes = [
    Route("/", home),
    Route("/intercept", intercept_page),
    Route("/go/{link}", go),
    Route("/api/v1/screen", api_screen, methods=["POST"]),
    Route("/api/v1/screen/batch", api_screen_batch, methods=["POST"]),
    Route("/api/v1/screen/auth", api_screen_auth, methods=["GET"]),
    Route("/openapi.json", openapi),
    Route("/demo/search", demo_search),
]
