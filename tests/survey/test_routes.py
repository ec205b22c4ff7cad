"""The survey pages in-process: the long form end to end, and every kind of bad input.

Bad input must give a clear page (never a 500) and must never cost an answer already saved.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from offramp.app import create_app
from offramp.config import load_settings
from offramp.data.decrypt import OpenReport, open_responses
from offramp.store.tables import drafts
from offramp.vault.keys import load_private_key
from tests.conftest import KeyPair
from tests.survey.long_form import EXPECTED, FORM, PAGES
from tests.survey.respondent import Respondent, form_post

PAGE_LIMIT = 50 * 1024


def make_client(tmp_path: Path, keypair: KeyPair, extra: str = "",
                db_url: str | None = None) -> TestClient:
    shutil.copyfile(FORM, tmp_path / FORM.name)
    config = tmp_path / "offramp.toml"
    url = db_url or f"sqlite:///{tmp_path / 'db.sqlite'}"
    config.write_text(
        f'database_url = "{url}"\n'
        f'instruments = ["{FORM.name}"]\n'
        f'public_keys = ["{keypair.public}"]\n' + extra,
        encoding="utf-8",
    )
    return TestClient(create_app(load_settings(config, environ={})))


@pytest.fixture
def client(tmp_path: Path, keypair: KeyPair) -> Iterator[TestClient]:
    with make_client(tmp_path, keypair) as test_client:
        yield test_client


def services(client: TestClient):  # type: ignore[no-untyped-def]
    return client.app.state.services  # type: ignore[attr-defined]


def stored_answers(client: TestClient, keypair: KeyPair) -> list[dict[str, object]]:
    key = load_private_key(keypair.private, keypair.passphrase)
    report = OpenReport()
    opened = list(open_responses(services(client).repository, [key], report))
    assert report.failed == 0
    return [r.answers for r in opened]


def draft_count(client: TestClient) -> int:
    """Drafts kept once the server's next round (app.py, every second) has deleted those of the
    responses it stored (on SQLite they go after the commit: DraftStore.discard_later)."""
    services(client).repository.drafts.delete_discarded()
    with services(client).repository.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(drafts)).scalar() or 0)


def begin(client: TestClient, lang: str | None = None) -> Respondent:
    respondent = Respondent(client, "help_seeking", lang)
    respondent.start()
    respondent.consent()
    assert respondent.page == "about", respondent.html
    return respondent


def walk(respondent: Respondent, until: str | None = None) -> None:
    """Answer from the page the respondent is on up to (not including) `until`."""
    names = [page for page, _ in PAGES]
    for page, answers in PAGES[names.index(respondent.page):]:
        if page == until:
            return
        assert respondent.page == page, re.findall(r"<h1>(.*?)</h1>", respondent.html)
        respondent.post(answers)
        assert respondent.status == 200, respondent.html


# -- the whole form -------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_long_form_end_to_end(client: TestClient, keypair: KeyPair, lang: str) -> None:
    respondent = begin(client, lang)
    sizes = []
    for page, answers in PAGES:
        assert respondent.page == page
        sizes.append(len(respondent.html.encode()))
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in respondent.html
        assert "<script" not in respondent.html
        respondent.post(answers)
        assert respondent.status == 200, respondent.html
    assert max(sizes) < PAGE_LIMIT
    assert ("شكرًا لك" if lang == "ar" else "Thank you") in respondent.html
    [answers] = stored_answers(client, keypair)
    assert answers == EXPECTED
    assert draft_count(client) == 0


def test_on_each_database(tmp_path: Path, keypair: KeyPair, db_url: str) -> None:
    """Drafts, resume codes and the idempotent last page on SQLite and PostgreSQL."""
    with make_client(tmp_path, keypair, db_url=db_url) as on_db:
        respondent = begin(on_db)
        walk(respondent, until="help")
        respondent.post({}, nav="later")
        words = " ".join(re.findall(r"<span>([a-z]+)</span>", respondent.html))
        other = Respondent(on_db, "help_seeking")
        other._take(form_post(on_db, "/s/help_seeking/resume", [("code", words)]))
        assert other.page == "help"
        walk(other, until="final")
        last = other.fields(PAGES[-1][1])
        assert "Thank you" in form_post(on_db, other.url, last).text
        assert "Thank you" in form_post(on_db, other.url, last).text
        assert stored_answers(on_db, keypair) == [EXPECTED]
        assert draft_count(on_db) == 1  # the tombstone of the form that took the code
    services(on_db).repository.engine.dispose()


def test_progress_back_and_piping(client: TestClient) -> None:
    respondent = begin(client)
    assert "Page 1 of 10" in respondent.html
    walk(respondent, until="attitudes")
    assert "Page 5 of 10" in respondent.html
    assert "Earlier you said you had seen such a message about 3 times." in respondent.html
    respondent.post({}, nav="back")
    assert respondent.page == "message_before"
    assert 'name="times_seen" type="text" inputmode="numeric" maxlength="2000" value="3"' in (
        respondent.html)
    respondent.post({"times_seen": "4", "first_seen": "month"}, nav="back")
    respondent.post({"saw_message": "no"})  # the page of earlier messages drops out
    assert respondent.page == "attitudes"
    assert "Page 4 of 9" in respondent.html
    assert "Earlier you said" not in respondent.html


def test_randomised_choices_are_stable_for_one_respondent(client: TestClient) -> None:
    def order(respondent: Respondent) -> list[str]:
        return re.findall(r'name="message_feel" value="([^"]+)"', respondent.html)

    respondent = begin(client)
    walk(respondent, until="message")
    first = order(respondent)
    respondent.post({}, nav="back")
    respondent.post(dict(PAGES[1][1]))
    assert order(respondent) == first
    orders = {tuple(order(walk_to_message(client))) for _ in range(8)}
    assert len(orders) > 1  # respondents see different orders
    assert all(sorted(o) == sorted(first) for o in orders)


def walk_to_message(client: TestClient) -> Respondent:
    respondent = begin(client)
    walk(respondent, until="message")
    return respondent


def test_defaults_fill_a_page_shown_the_first_time(client: TestClient) -> None:
    respondent = begin(client)
    walk(respondent, until="wellbeing")
    assert 'id="stress_score" name="stress_score" type="text" inputmode="numeric" ' \
           'maxlength="2000" value="5"' in respondent.html


# -- bad input ----------------------------------------------------------------------------------
def test_a_constraint_error_shows_beside_the_field_and_keeps_what_was_typed(
    client: TestClient, keypair: KeyPair
) -> None:
    respondent = begin(client)
    respondent.post({"age_years": "12", "gender": "man", "region": "north"})
    assert respondent.status == 422
    assert respondent.page == "about"
    assert '<p class="error" id="age_years-error">This survey is for adults aged 18 to 99.</p>' \
        in respondent.html
    assert 'value="12"' in respondent.html
    assert 'name="gender" value="man" checked' in respondent.html
    assert '<a href="#age_years">How old are you?: This survey is for adults' in respondent.html
    respondent.post({"age_years": "40", "gender": "man", "region": "north"})
    assert respondent.page == "place"


def test_a_value_outside_the_choices_is_refused_and_loses_nothing(client: TestClient) -> None:
    respondent = begin(client)
    respondent.post(PAGES[0][1])
    respondent.post({"area": "n_city", "household": ["alone"]})  # north area, south region
    assert respondent.status == 422
    assert "Please choose one of the options shown." in respondent.html
    respondent.post({"area": "s_city", "household": ["alone", "made_up"]})
    assert respondent.status == 422
    assert "Please choose only among the options shown." in respondent.html
    respondent.post({"area": "s_city", "household": ["alone", "pnts"]})
    assert "not both" in respondent.html
    respondent.post({}, nav="back")
    assert 'name="region" value="south" checked' in respondent.html


def test_a_tampered_token_gets_a_clear_page_and_the_draft_survives(client: TestClient) -> None:
    respondent = begin(client)
    respondent.post(PAGES[0][1])
    good = respondent.token
    bad = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    for token in (bad, "x" * 43, "", "not-a-token!"):
        respondent.post(PAGES[1][1], token=token)
        assert respondent.status == 400
        assert "start the survey again" in respondent.html
    respondent.token = good
    respondent.post(PAGES[1][1])
    assert respondent.status == 200 and respondent.page == "message"


def test_a_replayed_page_changes_nothing(client: TestClient, keypair: KeyPair) -> None:
    respondent = begin(client)
    respondent.post(PAGES[0][1])
    data = respondent.fields(PAGES[1][1])
    respondent.post_raw(data)
    assert respondent.page == "message"
    respondent.post_raw(data)  # the same form again (double click, or Back and resend)
    assert respondent.status == 200 and respondent.page == "message"
    walk(respondent)
    assert len(stored_answers(client, keypair)) == 1


def test_a_page_the_respondent_may_not_see_is_refused(client: TestClient) -> None:
    respondent = begin(client)
    respondent.post(PAGES[0][1])
    respondent.post(PAGES[1][1])
    respondent.post({"saw_message": "no"})
    for page in ("message_before", "final", "help_detail", "nowhere"):
        respondent.post({"times_seen": "9"}, page=page)
        assert respondent.status == 409
        assert "That page is not part of your survey now." in respondent.html
        assert respondent.page == "attitudes"
    respondent.post({}, nav="back")
    assert 'name="saw_message" value="no" checked' in respondent.html


def test_browser_back_then_resend_an_earlier_page_is_accepted(client: TestClient) -> None:
    respondent = begin(client)
    walk(respondent, until="message")
    respondent.post({"area": "s_city", "household": ["alone"]}, page="place")
    assert respondent.page == "message"
    respondent.post({}, nav="back")
    assert 'name="area" value="s_city" checked' in respondent.html


def test_megabyte_strings(client: TestClient) -> None:
    respondent = begin(client)
    respondent.post(PAGES[0][1])
    huge = form_post(client, respondent.url, respondent.fields(
        {"area": "s_city", "household": "alone", "x": "a" * 2_000_000}))
    assert huge.status_code == 413
    big = "b" * 30_000  # under the body limit, over the question's 2000 characters
    respondent.post(dict(PAGES[1][1]))
    respondent.post({"saw_message": "yes", "message_words": big})
    assert respondent.status == 422
    assert "at most 500 characters" in respondent.html
    respondent.post({}, nav="back")
    assert respondent.page == "place"
    assert 'name="area" value="s_coast" checked' in respondent.html


def test_too_many_fields_and_garbage_bodies(client: TestClient) -> None:
    respondent = begin(client)
    many = [("token", respondent.token), ("page", "about")] + [("f", "1")] * 1500
    respondent.post_raw(many)
    assert respondent.status == 400 and "could not be read" in respondent.html
    response = client.post("/s/help_seeking", content=b"\xff\xfe%%%",
                           headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code in (400, 200) and response.status_code < 500


def test_a_double_submit_stores_one_response(client: TestClient, keypair: KeyPair) -> None:
    respondent = begin(client)
    walk(respondent, until="final")
    last = respondent.fields(PAGES[-1][1])
    first = form_post(client, respondent.url, last)
    second = form_post(client, respondent.url, last)
    assert first.status_code == second.status_code == 200
    assert "Thank you" in first.text and "Thank you" in second.text
    assert len(stored_answers(client, keypair)) == 1


def test_the_honeypot_stores_nothing(client: TestClient, keypair: KeyPair) -> None:
    respondent = begin(client)
    respondent.post({**PAGES[0][1], "__website": "http://spam.example"})
    assert "Thank you" in respondent.html
    assert stored_answers(client, keypair) == []


def test_declining_consent_stores_nothing(client: TestClient) -> None:
    respondent = Respondent(client, "help_seeking")
    respondent.start()
    assert "I agree to take part" in respondent.html
    assert 'hreflang="ar"' in respondent.html
    response = respondent.consent(nav="decline")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/go/help")
    assert draft_count(client) == 0


def test_a_visit_stores_nothing_and_every_page_has_exit_and_help(client: TestClient) -> None:
    respondent = Respondent(client, "help_seeking", "ar")
    respondent.start()
    assert draft_count(client) == 0
    assert "غادر الآن" in respondent.html and "/go/help?lang=ar" in respondent.html
    respondent.consent()
    assert "غادر الآن" in respondent.html and "التالي" in respondent.html


def test_rate_limit_gives_a_wait_page(tmp_path: Path, keypair: KeyPair) -> None:
    with make_client(tmp_path, keypair, "survey_rate = 1\nsurvey_burst = 3\n") as limited:
        respondent = begin(limited)
        statuses = []
        for _ in range(4):
            respondent.post(PAGES[0][1], page="about")
            statuses.append(respondent.status)
        assert 429 in statuses
        assert "Please wait a moment" in respondent.html


# -- finishing later ------------------------------------------------------------------------------
def test_resume_code(client: TestClient, keypair: KeyPair) -> None:
    respondent = begin(client)
    walk(respondent, until="message")
    old_token = respondent.token
    respondent.post({"saw_message": "yes"}, nav="later")
    assert respondent.status == 200
    words = re.findall(r"<span>([a-z]+)</span>", respondent.html)
    assert len(words) == 6
    # The old form no longer continues the survey, and says how to.
    respondent.post({}, page="message", token=old_token)
    assert respondent.status == 409 and "enter your words" in respondent.html
    # Wrong words: a clear answer.
    wrong = client.post("/s/help_seeking/resume", data={"code": "acorn " * 6})
    assert wrong.status_code == 422 and "do not match" in wrong.text
    # On "another device": the words bring back the page and the answers.
    other = Respondent(client, "help_seeking")
    other._take(client.post("/s/help_seeking/resume", data={"code": " ".join(words).upper()}))
    assert other.status == 200 and other.page == "message"
    assert 'name="saw_message" value="yes" checked' in other.html
    for page, answers in PAGES[2:]:
        assert other.page == page
        other.post(answers)
    [answers] = stored_answers(client, keypair)
    assert answers == EXPECTED


def test_the_resume_form_page(client: TestClient) -> None:
    page = client.get("/s/help_seeking/resume?lang=ar")
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert '<label for="code">' in page.text
