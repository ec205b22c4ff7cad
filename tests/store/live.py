"""Helpers for the durability tests: respondents over HTTP, servers to kill, a PostgreSQL to crash.

The load generator plays respondents who take the demo survey as fast as they can. Like a browser
whose user presses "Next" again after an error, each retries the same post when the server is
gone or answers 503, so every survey it starts ends in "thank you" (or the run stops). It notes
every "thank you" it received, with the unique comment it typed, for the checks afterwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import func, select

from offramp.data.decrypt import context_of
from offramp.store import Repository, make_engine
from offramp.store.tables import drafts, responses
from offramp.vault.drafts import token_hash
from offramp.vault.keys import load_private_key
from offramp.vault.sealing import Opener
from tests.conftest import KeyPair, LiveServer, start_server

TOKEN = re.compile(r'name="token" value="([^"]+)"')
PAGE = re.compile(r'name="page" value="([^"]+)"')
THANKS = "<h1>Thank you</h1>"
STORE_DOWN = "We could not reach our database just now"
ANSWERS = {"p1": {"sought_help": "no"}, "p2": {"would_help": "warning"}}
# No per-instrument rate limit in these tests: they measure the store, not the limiter.
UNLIMITED = "survey_rate = 1000000\nsurvey_burst = 1000000\n"


@dataclass
class LoadResult:
    thanked: dict[str, str] = field(default_factory=dict)  # token -> the comment typed
    started: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    bad: list[str] = field(default_factory=list)  # anything a respondent must never see
    store_down_pages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Respondents:
    """Threads that complete surveys until stopped; then each finishes the one it is on."""

    def __init__(self, base_url: str, threads: int = 6, give_up_after: float = 60.0) -> None:
        self.base_url = base_url
        self.result = LoadResult()
        self.stop = threading.Event()
        self.give_up = time.monotonic() + give_up_after
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Respondents:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=90)

    def thanks_so_far(self) -> int:
        with self.result.lock:
            return len(self.result.thanked)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as http:
            while not self.stop.is_set():
                self._one_survey(http)

    def _send(self, http: httpx.Client, method: str, data: dict[str, str] | None) -> str:
        """Send until the server answers with a page; retry while it is down or says 503."""
        while time.monotonic() < self.give_up:
            try:
                response = http.request(method, "/s/demo", data=data)
            except httpx.TransportError:
                with self.result.lock:
                    self.result.transport_errors += 1
                time.sleep(0.05)
                continue
            with self.result.lock:
                self.result.statuses[response.status_code] += 1
            if response.status_code == 503:
                if STORE_DOWN not in response.text:
                    self._bad(f"a 503 without the clear message: {response.text[:200]}")
                with self.result.lock:
                    self.result.store_down_pages += 1
                time.sleep(0.05)
                continue
            if response.status_code == 409 and PAGE.search(response.text):
                # A retried post whose first copy was stored: the server shows the page the
                # respondent is really on, and the survey goes on from there.
                return response.text
            if response.status_code != 200:
                self._bad(f"status {response.status_code}: {response.text[:300]}")
                raise _Abandon
            return response.text
        raise _Abandon

    def _bad(self, what: str) -> None:
        with self.result.lock:
            self.result.bad.append(what)

    def _one_survey(self, http: httpx.Client) -> None:
        try:
            html = self._send(http, "GET", None)
            token = TOKEN.search(html)
            if token is None:
                self._bad("no token on the first page")
                return
            comment = f"comment {uuid.uuid4().hex}"
            with self.result.lock:
                self.result.started += 1
            while True:
                if THANKS in html:
                    with self.result.lock:
                        self.result.thanked[token.group(1)] = comment
                    return
                page = PAGE.search(html)
                if page is None:
                    self._bad(f"neither a page nor thanks: {html[:300]}")
                    return
                fields = {"token": token.group(1), "page": page.group(1), "lang": "en",
                          "arm": "none", "nav": "accept" if page.group(1) == "consent" else "next"}
                fields.update(ANSWERS.get(page.group(1), {"comments": comment}))
                html = self._send(http, "POST", fields)
        except _Abandon:
            return


class _Abandon(Exception):
    """The respondent gives up on this survey (an error page, or the run is over)."""


@dataclass
class StoreContents:
    by_submission: dict[str, str]  # submission id -> the comment in the opened record
    rows: int
    failures: Counter[str]
    drafts_of_stored: int  # drafts still kept for a response already stored


def read_store(db_url: str, keypair: KeyPair) -> StoreContents:
    """Open every record with the researchers' key, as the export would."""
    engine = make_engine(db_url)
    try:
        repository = Repository(engine, group_commit=False)
        opener = Opener([load_private_key(keypair.private, keypair.passphrase)])
        by_submission: dict[str, str] = {}
        failures: Counter[str] = Counter()
        rows = 0
        stored = list(repository.iter_responses())
        opened = opener.open_many([(s.sealed, context_of(s)) for s in stored])
        for record, plain in zip(stored, opened, strict=True):
            rows += 1
            if isinstance(plain, Exception):
                failures[str(plain)] += 1
                continue
            by_submission[record.submission_id] = json.loads(plain)["answers"]["comments"]
        with engine.connect() as conn:
            leftover = conn.execute(
                select(func.count()).select_from(drafts).where(
                    drafts.c.token_hash.in_(select(responses.c.submission_id))
                )
            ).scalar_one()
        return StoreContents(by_submission, rows, failures, int(leftover))
    finally:
        engine.dispose()


def check_every_thanks_is_stored_once(result: LoadResult, contents: StoreContents) -> None:
    """The durability promise: each "thank you" is one record, which opens and holds the answer."""
    assert not result.bad, result.bad[:5]
    assert not contents.failures, contents.failures
    assert contents.rows == len(contents.by_submission)  # one row per submission id
    for token, comment in result.thanked.items():
        assert contents.by_submission.get(token_hash(token)) == comment, token
    # Every respondent retried to the end, so nothing is stored that was not thanked either.
    thanked_ids = {token_hash(t) for t in result.thanked}
    assert set(contents.by_submission) == thanked_ids
    # A stored response's draft is deleted: with its commit, within a second, or (after a stop
    # in between) at the next start; every run here ends with a graceful stop.
    assert contents.drafts_of_stored == 0


# -- servers ------------------------------------------------------------------------------------
def start_workers(config: Path, port: int, output: Path, workers: int) -> LiveServer:
    """`offramp serve --workers N`; several workers take longer to start, hence the longer wait."""
    return start_server(config, port, output, workers=workers, timeout=60)


def kill_hard(server: LiveServer) -> None:
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()


# -- a private PostgreSQL cluster ---------------------------------------------------------------
def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in a temp dir, ours to crash and restart.

    Never the machine's own server: other tests use that one. initdb refuses to run as root, so
    when we are root the cluster belongs to the `postgres` user and commands run through runuser.
    """

    def __init__(self, port: int) -> None:
        self.bin = _pg_bin()
        if self.bin is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="offramp-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bin / tool), *args]  # type: ignore[operator]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w",
                  "start")

    def crash(self) -> None:
        """Stop as a power cut would: no checkpoint, recovery from WAL at the next start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def complete_one(http: httpx.Client, comment: str) -> str:
    """Take the demo survey once, without faults; returns the form's token."""
    html = http.get("/s/demo").text
    token = TOKEN.search(html).group(1)  # type: ignore[union-attr]
    while THANKS not in html:
        page = PAGE.search(html).group(1)  # type: ignore[union-attr]
        fields = {"token": token, "page": page, "lang": "en", "arm": "none",
                  "nav": "accept" if page == "consent" else "next",
                  **ANSWERS.get(page, {"comments": comment})}
        response = http.post("/s/demo", data=fields)
        assert response.status_code == 200, response.text[:300]
        html = response.text
    return token
