"""A scripted respondent for in-process tests: reads the token and page id from each page and posts
the next form the way a browser without JavaScript would."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.testclient import TestClient

Answers = Mapping[str, str | Iterable[str]]
FORM_TYPE = {"content-type": "application/x-www-form-urlencoded"}


def form_post(client: TestClient, url: str, data: list[tuple[str, str]]) -> Any:
    """POST fields as a browser does (repeated names allowed)."""
    return client.post(url, content=urlencode(data), headers=FORM_TYPE, follow_redirects=False)


def hidden(page: str, name: str) -> str | None:
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


class Respondent:
    def __init__(self, client: TestClient, instrument: str, lang: str | None = None) -> None:
        self.client = client
        self.instrument = instrument
        self.lang = lang
        self.html = ""
        self.status = 0
        self.token = ""
        self.page = ""

    @property
    def url(self) -> str:
        return f"/s/{self.instrument}"

    def _take(self, response: Any) -> Any:
        self.status = response.status_code
        self.html = response.text
        token, page = hidden(self.html, "token"), hidden(self.html, "page")
        if token:
            self.token = token
        if page:
            self.page = page
        return response

    def start(self) -> Any:
        params = {"lang": self.lang} if self.lang else {}
        return self._take(self.client.get(self.url, params=params))

    def consent(self, nav: str = "accept") -> Any:
        data = [("token", self.token), ("page", "consent"), ("nav", nav)]
        if self.lang:
            data.append(("lang", self.lang))
        return self._take(form_post(self.client, self.url, data))

    def fields(self, answers: Answers, nav: str = "next", page: str | None = None,
               token: str | None = None) -> list[tuple[str, str]]:
        data = [("token", self.token if token is None else token),
                ("page", page or self.page), ("nav", nav)]
        for name, value in answers.items():
            values = [value] if isinstance(value, str) else list(value)
            data.extend((name, v) for v in values)
        return data

    def post(self, answers: Answers | None = None, nav: str = "next", page: str | None = None,
             token: str | None = None) -> Any:
        return self.post_raw(self.fields(answers or {}, nav, page, token))

    def post_raw(self, data: list[tuple[str, str]]) -> Any:
        return self._take(form_post(self.client, self.url, data))
