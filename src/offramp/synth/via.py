"""Push synthetic respondents through a running server's survey pages, as a browser would.

Each respondent opens `/s/{instrument}?lang=..&arm=..`, accepts the consent page and posts every
page the server shows with the answers generated for it (radio values, checkboxes, the "prefer not
to say" boxes of text and number questions, rank positions), then reaches the thank-you page. The
server decides which page comes next with its own flow, exactly as for a person, and seals and
stores the answers: nothing here touches the store. A page the server refuses (422) counts as a
failure with its page id, so a mismatch between the generator and the server shows up at once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from offramp.survey.flow import MISSING_SUFFIX, RANK_SEPARATOR
from offramp.survey.instrument import Instrument
from offramp.synth.generator import SyntheticResponse

RETRIES = 30
"""Times a post is retried after 429 (the server's token bucket), a second apart."""


class _Hidden(HTMLParser):
    """The hidden fields of a page's form (token, page, lang, arm)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        values = dict(attrs)
        if values.get("type") == "hidden" and values.get("name"):
            self.fields[str(values["name"])] = values.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    parser = _Hidden()
    parser.feed(html)
    return parser.fields


def page_fields(instrument: Instrument, page_id: str, given: dict[str, Any]
                ) -> dict[str, list[str]]:
    """The form fields a browser would post for the answers given on `page_id`."""
    fields: dict[str, list[str]] = {}
    for question in instrument.page(page_id).questions:
        if question.name not in given or not question.answers:
            continue
        value = given[question.name]
        missing = {c.value for c in question.choices if c.missing}
        if question.type in ("select_one", "select_multiple"):
            fields[question.name] = value if isinstance(value, list) else [str(value)]
        elif question.type == "rank":
            if isinstance(value, list):
                for position, choice in enumerate(value, start=1):
                    fields[f"{question.name}{RANK_SEPARATOR}{choice}"] = [str(position)]
            else:
                fields[question.name + MISSING_SUFFIX] = [str(value)]
        elif isinstance(value, str) and value in missing:
            fields[question.name + MISSING_SUFFIX] = [value]
        else:
            fields[question.name] = [str(value)]
    return fields


@dataclass
class PushResult:
    completed: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def _post(client: httpx.Client, url: str, data: dict[str, list[str]]) -> httpx.Response:
    for _ in range(RETRIES):
        response = client.post(url, data=data)
        if response.status_code != 429:
            return response
        time.sleep(1.0)
    return response


def push_one(client: httpx.Client, base: str, instrument: Instrument,
             response: SyntheticResponse) -> str | None:
    """Take one respondent through the pages; None when stored, else the reason it failed."""
    url = f"{base}/s/{instrument.id}"
    page = client.get(url, params={"lang": response.language, "arm": response.arm})
    if page.status_code != 200:
        return f"the first page answered {page.status_code}"
    hidden = hidden_fields(page.text)
    if hidden.get("page") == "consent":
        data = {k: [v] for k, v in hidden.items()}
        data["nav"] = ["accept"]
        page = _post(client, url, data)
    for _ in range(len(instrument.pages) + 2):
        if page.status_code != 200:
            where = hidden.get("page", "?")
            return f"page {where!r} answered {page.status_code}"
        hidden = hidden_fields(page.text)
        if "page" not in hidden:
            return None  # the thank-you page: stored
        data = {k: [v] for k, v in hidden.items()}
        data.update(page_fields(instrument, hidden["page"], response.given))
        data["nav"] = ["next"]
        page = _post(client, url, data)
    return "the server kept showing pages after the last one"


def push_all(base: str, instrument: Instrument, responses: list[SyntheticResponse],
             echo: Callable[[str], Any] | None = None, timeout: float = 30.0) -> PushResult:
    """Push every respondent in turn; failures are counted by reason, never raised."""
    result = PushResult()
    base = base.rstrip("/")
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for done, response in enumerate(responses, start=1):
            try:
                reason = push_one(client, base, instrument, response)
            except httpx.HTTPError as exc:
                reason = f"{type(exc).__name__} talking to {base}"
            if reason is None:
                result.completed += 1
            else:
                result.failures[reason] += 1
            if echo is not None and done % 500 == 0:
                echo(f"pushed {done:,} of {len(responses):,}")
    return result
