"""Drafts: encrypted under the form's token, stored under its hash, saved by group commit."""

from __future__ import annotations

import threading

import pytest

from offramp.store import Repository, make_engine, upgrade
from offramp.survey import resume
from offramp.survey.session import SurveyState, load_state, save_state
from offramp.vault.drafts import BadToken, new_token, token_hash


@pytest.fixture
def repository(db_url: str) -> Repository:
    engine = make_engine(db_url)
    upgrade(engine)
    yield Repository(engine)  # type: ignore[misc]
    engine.dispose()


def test_round_trip_and_tampering(repository: Repository) -> None:
    token = new_token()
    state = SurveyState("form", 3, "ar", "none", page=2, answers={"q": ["a", "b"], "n": 4})
    save_state(repository, token, state, 2)
    loaded = load_state(repository, token, "form")
    assert loaded == state
    assert load_state(repository, new_token(), "form") is None
    with pytest.raises(BadToken):
        load_state(repository, token, "another_form")
    with pytest.raises(BadToken):
        load_state(repository, "short", "form")
    blob = repository.load_draft(token_hash(token))
    assert blob is not None and b"form" not in blob and b'"q"' not in blob


def test_concurrent_saves_all_land(repository: Repository) -> None:
    tokens = [new_token() for _ in range(24)]

    def save(token: str) -> None:
        for page in range(3):
            save_state(repository, token, SurveyState("form", 1, "en", "none", page=page), 2)

    threads = [threading.Thread(target=save, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for token in tokens:
        loaded = load_state(repository, token, "form")
        assert loaded is not None and loaded.page == 2


def test_upsert_drafts_keeps_the_last_row_of_a_token(repository: Repository) -> None:
    import datetime as dt

    day = dt.date.today()
    repository.upsert_drafts([("t1", "f", day, b"one"), ("t1", "f", day, b"two")])
    assert repository.load_draft("t1") == b"two"


def test_resume_codes() -> None:
    code = resume.new_code()
    words = code.split()
    assert len(words) == 6 and all(w in resume.wordlist() for w in words)
    assert len(set(resume.wordlist())) == 512
    assert resume.normalise("  " + code.upper().replace(" ", " , ") + " ") == code
    assert resume.normalise("one two") is None
    assert resume.normalise(code + " acorn") is None
    token = resume.token_for_code(code, "form")
    assert token == resume.token_for_code(code, "form")
    assert token != resume.token_for_code(code, "other_form")
    token_hash(token)  # a valid draft token
