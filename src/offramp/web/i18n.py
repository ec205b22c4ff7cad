"""Choosing the page language: ?lang= first, then Accept-Language (Babel), then the default."""

from __future__ import annotations

from collections.abc import Sequence

from babel.core import Locale, UnknownLocaleError, negotiate_locale
from starlette.requests import Request


def _accept_language(header: str) -> list[str]:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        pieces = part.strip().split(";")
        tag = pieces[0].strip()
        if not tag or tag == "*" or len(tag) > 35:
            continue
        quality = 1.0
        for param in pieces[1:]:
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, tag.replace("-", "_")))
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(request: Request, available: Sequence[str], default: str) -> str:
    asked = request.query_params.get("lang")
    if asked and asked in available:
        return asked
    header = request.headers.get("accept-language", "")
    if header:
        preferred = _accept_language(header)
        chosen = negotiate_locale(preferred, [a.replace("-", "_") for a in available], sep="_")
        if chosen is None:
            # Babel matches whole tags; fall back to the primary subtag ("fi_FI" -> "fi").
            for tag in preferred:
                primary = tag.split("_")[0].lower()
                if primary in available:
                    return primary
        elif chosen.replace("_", "-") in available:
            return chosen.replace("_", "-")
        elif chosen in available:
            return chosen
    return default


def language_name(code: str) -> str:
    try:
        return str(Locale.parse(code.replace("-", "_")).get_display_name() or code)
    except (UnknownLocaleError, ValueError):
        return code
