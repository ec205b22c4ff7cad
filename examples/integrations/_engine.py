"""A toy search index shared by the examples: a few clinical documents, searched by word."""

from __future__ import annotations

DOCUMENTS = [
    {"title": "Weather tomorrow", "description": "Rain in the north, sun in the south.",
     "url": "https://example.org/weather"},
    {"title": "Weekly recipes", "description": "Soup, bread and a winter salad.",
     "url": "https://example.org/recipes"},
    {"title": "Quillion market report", "description": "An invented token in a title.",
     "url": "https://example.org/q"},
    {"title": "Train timetable", "description": "Weekend engineering works.",
     "url": "https://example.org/trains/vexmora"},
]
WORDS = sorted({w.lower() for d in DOCUMENTS for w in d["title"].split()})


def search(query: str) -> list[dict[str, str]]:
    words = query.lower().split()
    return [d for d in DOCUMENTS
            if any(w in (d["title"] + " " + d["description"] + " " + d["url"]).lower()
                   for w in words)]


def suggest(prefix: str) -> list[str]:
    last = prefix.lower().split()[-1] if prefix.split() else ""
    return [w for w in WORDS if last and w.startswith(last)][:8]
