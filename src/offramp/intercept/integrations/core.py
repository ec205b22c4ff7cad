"""What every integration shares: a screen (local or remote), the policy, and the decision."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from offramp.errors import ConfigError
from offramp.screen.reload import ScreenerHolder

log = logging.getLogger("offramp.integrations")
T = TypeVar("T")
MAX_QUERY_CHARS = 10_000


class Screen(Protocol):
    """Anything that says whether queries are blocked."""

    def blocked(self, query: str) -> bool: ...

    def blocked_many(self, queries: Sequence[str]) -> list[bool]: ...


class LocalScreen:
    """Screens in-process from a term-list file; `reload()` picks up a changed list atomically."""

    remote = False

    def __init__(self, terms: str | Path) -> None:
        self._holder = ScreenerHolder(terms)

    def reload(self) -> bool:
        return self._holder.reload_if_changed()

    def blocked(self, query: str) -> bool:
        return self._holder.current.check(query[:MAX_QUERY_CHARS]).blocked

    def blocked_many(self, queries: Sequence[str]) -> list[bool]:
        check = self._holder.current.check
        return [check(q[:MAX_QUERY_CHARS]).blocked for q in queries]


class RemoteScreen:
    """Screens through offramp's API (``POST /api/v1/screen[/batch]``).

    When the API cannot be reached, ``on_error="open"`` (default) lets the search through, so a
    screening outage never takes search down; ``"closed"`` treats the query as blocked. Either
    way one line is logged, without the query.
    """

    remote = True

    def __init__(self, base_url: str, *, timeout: float = 1.0,
                 on_error: Literal["open", "closed"] = "open") -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"offramp API URL {base_url!r} must start with http:// or https://")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.on_error = on_error

    def _post(self, path: str, payload: dict[str, Any]) -> Any:
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            self.base_url + path, data=json.dumps(payload).encode(),
            headers={"content-type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            return json.loads(response.read())

    def blocked(self, query: str) -> bool:
        try:
            return bool(self._post("/api/v1/screen", {"query": query[:MAX_QUERY_CHARS]})["blocked"])
        except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError) as exc:
            log.warning("offramp API unreachable (%s); failing %s", type(exc).__name__,
                        self.on_error)
            return self.on_error == "closed"

    def blocked_many(self, queries: Sequence[str]) -> list[bool]:
        out: list[bool] = []
        for start in range(0, len(queries), 1000):
            chunk = [q[:MAX_QUERY_CHARS] for q in queries[start:start + 1000]]
            try:
                verdicts = self._post("/api/v1/screen/batch", {"queries": chunk})["verdicts"]
                out.extend(bool(v["blocked"]) for v in verdicts)
            except (OSError, urllib.error.URLError, ValueError, KeyError, TypeError) as exc:
                log.warning("offramp API unreachable (%s); failing %s", type(exc).__name__,
                            self.on_error)
                out.extend([self.on_error == "closed"] * len(chunk))
        return out


@dataclass(frozen=True)
class Policy:
    """Which paths to screen and what to answer.

    search: path -> query parameter of result pages (blocked -> 303 to `intercept_url`).
    suggest: path -> query parameter of autocomplete endpoints (blocked -> empty suggestions).
    intercept_url: where offramp's interstitial is served (same origin through a proxy, or an
    absolute URL of the offramp server).
    """

    search: Mapping[str, str] = field(default_factory=dict)
    suggest: Mapping[str, str] = field(default_factory=dict)
    intercept_url: str = "/intercept"
    empty_suggestions: bytes = b"[]"
    suggestions_content_type: str = "application/json"


@dataclass(frozen=True)
class Decision:
    kind: Literal["intercept", "no_suggestions"]
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


_PRIVATE_HEADERS = (
    ("referrer-policy", "no-referrer"),  # the interstitial must not learn the results URL
    ("cache-control", "no-store"),
)


def decide(policy: Policy, screen: Screen, path: str,
           get_params: Callable[[str], list[str]]) -> Decision | None:
    """None = pass the request on; otherwise the response to send instead."""
    param = policy.search.get(path)
    if param is not None:
        if any(screen.blocked(v) for v in get_params(param)):
            return Decision("intercept", 303,
                            (("location", policy.intercept_url), *_PRIVATE_HEADERS), b"")
        return None
    param = policy.suggest.get(path)
    if param is not None and any(screen.blocked(v) for v in get_params(param)):
        return Decision("no_suggestions", 200,
                        (("content-type", policy.suggestions_content_type), *_PRIVATE_HEADERS),
                        policy.empty_suggestions)
    return None


def _field(item: Any, name: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(name)
    return getattr(item, name, None)


def filter_results(screen: Screen, results: Iterable[T],
                   fields: Sequence[str] = ("title", "description", "url")) -> list[T]:
    """Drop results whose title, description or URL (or any text given) the screen blocks.

    Items may be mappings, objects with those attributes, or plain strings. One batch call
    screens all fields of all items, so a remote screen costs one request per 1,000 texts.
    """
    items = list(results)
    texts: list[list[str]] = []
    for item in items:
        if isinstance(item, str):
            texts.append([item])
        else:
            texts.append([str(v) for v in (_field(item, f) for f in fields) if v])
    flat = [t for group in texts for t in group]
    verdicts = iter(screen.blocked_many(flat))
    keep: list[T] = []
    for item, group in zip(items, texts, strict=True):
        if not any([next(verdicts) for _ in group]):
            keep.append(item)
    return keep
