"""Not one accepted response lost: the server killed, PostgreSQL crashed, workers racing.

Each test runs a real `offramp serve` and respondents over HTTP (tests/store/live.py), then opens
every stored record with the researchers' key and checks that each "thank you" a respondent saw
is in the store exactly once, with the answer typed.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from offramp.vault.drafts import token_hash
from tests.conftest import (
    free_port,
    start_server,
    stop_server,
    unavailable,
    write_config,
)
from tests.store.live import (
    PAGE,
    STORE_DOWN,
    THANKS,
    TOKEN,
    UNLIMITED,
    PrivatePostgres,
    Respondents,
    check_every_thanks_is_stored_once,
    kill_hard,
    read_store,
    start_workers,
)

pytestmark = [pytest.mark.slow]


def _wait_for(condition, seconds: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_sigkill_at_random_moments_loses_no_thanked_answer(
    db_url: str, keypair, tmp_path: Path
) -> None:
    seed = random.randrange(2**32)
    chance = random.Random(seed)
    port = free_port()
    config = write_config(tmp_path, db_url, keypair, port=port, extra=UNLIMITED)
    output = tmp_path / "server.log"
    server = start_server(config, port, output)
    kills = 0
    try:
        with Respondents(server.base_url, threads=6) as respondents:
            for _ in range(2):
                before = respondents.thanks_so_far()
                _wait_for(lambda b=before: respondents.thanks_so_far() >= b + 5, 30,
                          "respondents to finish surveys")
                time.sleep(chance.uniform(0.0, 0.5))  # a random moment, mid-load
                kill_hard(server)
                kills += 1
                server = start_server(config, port, output)
            after_restart = respondents.thanks_so_far()
            _wait_for(lambda: respondents.thanks_so_far() >= after_restart + 5, 30,
                      "the restarted server to take answers")
    finally:
        stop_server(server)
    result = respondents.result
    assert kills == 2 and result.transport_errors > 0, f"seed {seed}: no request was cut"
    check_every_thanks_is_stored_once(result, read_store(db_url, keypair))
    assert len(result.thanked) >= 15
    assert result.statuses[500] == 0


def test_postgresql_crash_under_the_server_gives_503_then_recovers(
    keypair, tmp_path: Path
) -> None:
    try:
        postgres = PrivatePostgres(free_port())
    except Exception as exc:
        unavailable(f"cannot make a private PostgreSQL cluster: {exc}")
    try:
        postgres.start()
        port = free_port()
        config = write_config(tmp_path, postgres.url, keypair, port=port, extra=UNLIMITED)
        server = start_server(config, port, tmp_path / "server.log")
        try:
            with Respondents(server.base_url, threads=6) as respondents:
                _wait_for(lambda: respondents.thanks_so_far() >= 20, 30, "first answers")
                postgres.crash()
                time.sleep(0.3)  # requests in flight at the crash settle
                during = respondents.thanks_so_far()
                time.sleep(1.0)
                # While the database is down, nobody is thanked: the answer could not be kept.
                assert respondents.thanks_so_far() == during
                assert respondents.result.store_down_pages > 0
                postgres.start()
                _wait_for(lambda: respondents.thanks_so_far() >= during + 20, 30,
                          "the server to recover by itself")
        finally:
            stop_server(server)
        result = respondents.result
        assert result.statuses[500] == 0, result.statuses
        check_every_thanks_is_stored_once(result, read_store(postgres.url, keypair))
        assert "Traceback" not in server.printed()
    finally:
        postgres.destroy()


def _to_last_page(http: httpx.Client) -> tuple[str, str]:
    html = http.get("/s/demo").text
    token = TOKEN.search(html).group(1)  # type: ignore[union-attr]
    comment = f"comment {token[:12]}"
    answers = {"consent": {"nav": "accept"}, "p1": {"sought_help": "yes"},
               "p2": {"would_help": "anonymous_help"}}
    while (page := PAGE.search(html).group(1)) != "p3":  # type: ignore[union-attr]
        fields = {"token": token, "page": page, "lang": "en", "arm": "none", "nav": "next",
                  **answers[page]}
        response = http.post("/s/demo", data=fields)
        assert response.status_code == 200, response.text[:300]
        html = response.text
    return token, comment


def test_several_workers_and_resubmits_store_each_response_once(
    db_url: str, keypair, tmp_path: Path
) -> None:
    port = free_port()
    config = write_config(tmp_path, db_url, keypair, port=port, extra=UNLIMITED)
    server = start_workers(config, port, tmp_path / "server.log", workers=3)
    try:
        with ThreadPoolExecutor(6) as pool:
            def prepare(_: int) -> tuple[str, str]:
                with httpx.Client(base_url=server.base_url, timeout=20) as http:
                    return _to_last_page(http)

            surveys = list(pool.map(prepare, range(24)))
        statuses: list[tuple[int, bool]] = []
        unexpected: list[str] = []
        lock = threading.Lock()

        def final_post(item: tuple[str, str]) -> None:
            token, comment = item
            # A new connection each time, so the copies of one submit meet different workers.
            with httpx.Client(base_url=server.base_url, timeout=20) as http:
                response = http.post("/s/demo", data={
                    "token": token, "page": "p3", "lang": "en", "arm": "none", "nav": "next",
                    "comments": comment,
                })
            with lock:
                statuses.append((response.status_code, THANKS in response.text))
                if THANKS not in response.text:
                    unexpected.append(f"{response.status_code}: {response.text[:400]}")

        # Each final page is submitted four times at once (double clicks, a retrying proxy),
        # and once more afterwards.
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(final_post, [s for s in surveys for _ in range(4)]))
            list(pool.map(final_post, surveys))
    finally:
        stop_server(server)
    assert not unexpected, unexpected[:3]
    assert statuses == [(200, True)] * 24 * 5
    contents = read_store(db_url, keypair)
    assert not contents.failures
    assert contents.rows == 24
    assert contents.by_submission == {token_hash(t): c for t, c in surveys}
    assert STORE_DOWN not in server.printed()
