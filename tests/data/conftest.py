"""Test data for the export stage, sealed through the real vault into a real store.

Nothing here is mocked: `seal_into` publishes the instrument in a Repository on the database of
the `db_url` fixture (SQLite and PostgreSQL) and stores each synthetic response sealed to the
session key pair, exactly as the survey routes do; the export then has to open them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from offramp.store import Repository, make_engine, upgrade
from offramp.survey.instrument import Choice, Instrument, Page, Question
from offramp.vault.keys import load_public_key
from offramp.vault.sealing import SealContext, seal

AGREE = (
    *(
        Choice(str(v), {"en": text, "de": de})
        for v, text, de in [
            (1, "Strongly disagree", "Stimme gar nicht zu"),
            (2, "Disagree", "Stimme nicht zu"),
            (3, "Neither", "Weder noch"),
            (4, "Agree", "Stimme zu"),
            (5, "Strongly agree", "Stimme voll zu"),
        ]
    ),
    Choice("dk", {"en": "Don't know", "de": "Weiß nicht"}, missing="dont_know"),
)
YESNO = (
    Choice("yes", {"en": "Yes", "de": "Ja"}),
    Choice("no", {"en": "No", "de": "Nein"}),
    Choice("pnts", {"en": "Prefer not to say", "de": "Keine Angabe"}, missing="refused"),
)
HELPS = (
    Choice("warning", {"en": "A warning message"}),
    Choice("anonymous_help", {"en": "Anonymous help online"}),
    Choice("talk_professional", {"en": "Talking to a professional"}),
    Choice("pnts", {"en": "Prefer not to say"}, missing="refused"),
)
ORDER = (Choice("a", {"en": "First idea"}), Choice("b", {"en": "Second idea"}),
         Choice("c", {"en": "Third idea"}))


def make_instrument(*, extra_question: bool = False) -> Instrument:
    """Every question type, a skip rule on page 2, a 4-item grid, an attention check."""
    grid = tuple(
        Question(f"g{i}", "select_one", {"en": f"Statement {i}", "de": f"Aussage {i}"},
                 choices=AGREE, choice_list="agree5")
        for i in range(1, 5)
    )
    p1 = (
        Question("sought_help", "select_one",
                 {"en": "Have you ever tried to get help?", "de": "Haben Sie je Hilfe gesucht?"},
                 choices=YESNO, choice_list="yesno"),
        Question("age", "integer", {"en": "Age in years"}),
        Question("score", "decimal", {"en": "A decimal score"}),
    )
    p2 = (
        Question("would_help", "select_multiple", {"en": "Which of these would help?"},
                 choices=HELPS, choice_list="helps"),
        *grid,
    )
    p3 = (
        Question("attn", "select_one", {"en": "Please choose 'Disagree' here."}, choices=AGREE,
                 choice_list="agree5", appearance="attention", constraint=". = '2'"),
        Question("comments", "text", {"en": "Anything else?"}),
        Question("ranked", "rank", {"en": "Order these ideas"}, choices=ORDER),
        Question("doubled", "calculate", calculation="${age} * 2"),
    )
    if extra_question:
        p3 = (*p3, Question("new_q", "integer", {"en": "Added in version 2"}))
    return Instrument(
        id="study",
        title={"en": "Test study", "de": "Teststudie"},
        languages=("en", "de"),
        default_language="en",
        pages=(
            Page("p1", {"en": "One"}, p1),
            Page("p2", {"en": "Two"}, p2, relevant="${sought_help} != 'pnts'"),
            Page("p3", {"en": "Three"}, p3),
        ),
    )


@dataclass
class Synthetic:
    """One respondent as the survey would seal it."""

    answers: dict[str, Any]
    shown: list[str]
    page_seconds: dict[str, Any] = field(default_factory=dict)
    language: str = "en"
    arm: str = "none"
    day: dt.date = dt.date(2024, 5, 1)
    seconds: int = 120


def shown_for(instrument: Instrument, answers: dict[str, Any]) -> list[str]:
    from offramp.survey.flow import shown_questions

    return shown_questions(instrument, answers)


def seal_into(
    db_url: str, public_key_path: Any, instrument: Instrument, people: Sequence[Synthetic],
    *, payloads: Sequence[bytes] | None = None,
) -> tuple[Repository, int]:
    """Publish `instrument` and store each respondent sealed to the key; returns (repo, version)."""
    engine = make_engine(db_url)
    upgrade(engine)
    repository = Repository(engine)
    version = repository.publish_instrument(instrument.id, instrument.source_hash(),
                                            instrument.to_json())
    public = load_public_key(public_key_path)
    raw = payloads or [
        json.dumps({"answers": p.answers, "shown": p.shown, "page_seconds": p.page_seconds},
                   ensure_ascii=False).encode("utf-8")
        for p in people
    ]
    for person, payload in zip(people, raw, strict=True):
        submission_id = uuid.uuid4().hex
        context = SealContext(instrument.id, version, instrument.pages[-1].id, person.arm,
                              person.language, person.day.isoformat(),
                              submission_id=submission_id)  # bound to its row, as the survey does
        repository.store_response(
            submission_id=submission_id, instrument_id=instrument.id,
            instrument_version=version, page_id=instrument.pages[-1].id, arm=person.arm,
            language=person.language, day=person.day, seconds=person.seconds,
            sealed=seal(payload, context, [public]),
        )
    engine.dispose()
    return repository, version


@pytest.fixture
def instrument() -> Instrument:
    return make_instrument()


HOSTILE = [
    "=1+1", "+1", "-1+2", "@SUM(A1)", "\t=1", "\r=1", " =1", "'=1", "''+x", "-", "+", "@",
    '=HYPERLINK("http://example.invalid","x")', "=cmd|' /C calc'!A0", "-97", "-5", "-5.5",
    "1e5", "<b>bold</b> & <i>", "_x000D_ literal", "line1\r\nline2", "tab\tinside",
    "ünïcödé ✓ 日本語", "a clinical comment", "\u00a0=1",
]


def rich_people(instrument: Instrument, n: int = 40) -> list[Synthetic]:
    """Respondents covering every missing kind, skip, hostile text, and a few quality cases."""
    people = []
    for i in range(n):
        answers: dict[str, Any] = {
            "sought_help": ["yes", "no", "pnts"][i % 3],
            "age": [18, 45, -3, 70][i % 4] + i,
            "score": [0.1, 2.5, 1e-7, 123456.789][i % 4],
            "would_help": [["warning"], ["warning", "talk_professional"], ["pnts"], []][i % 4],
            "g1": str(1 + i % 5), "g2": str(1 + (i * 2) % 5), "g3": ["dk", "3"][i % 2],
            "g4": str(1 + (i * 3) % 5),
            "attn": "2" if i % 6 else "4",
            "comments": HOSTILE[i % len(HOSTILE)],
            "ranked": [["b", "a", "c"], ["c"], []][i % 3],
        }
        if i % 7 == 3:
            del answers["age"]  # shown, unanswered
        if i % 9 == 4:
            answers["comments"] = ""
        answers["doubled"] = 2 * answers["age"] if "age" in answers else None
        shown = shown_for(instrument, answers)
        kept = {k: v for k, v in answers.items()
                if (k in shown or k == "doubled") and v not in (None, "", [])}
        people.append(Synthetic(kept, shown, {"p1": 10 + i % 5, "p2": 20, "p3": 30},
                                language=["en", "de"][i % 2], arm=["a", "b"][i % 2],
                                day=dt.date(2024, 5, 1 + i % 20), seconds=100 + i))
    return people
