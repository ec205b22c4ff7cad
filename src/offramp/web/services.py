"""What the web tier holds while it runs: built once at start-up from validated Settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from nacl.public import PublicKey
from starlette.requests import Request

from offramp.config import Settings
from offramp.errors import ConfigError
from offramp.intercept.counters import CounterBuffer
from offramp.intercept.experiment import Arms, build_arms
from offramp.intercept.messages import Catalogue, load_catalogue
from offramp.screen import Screener
from offramp.screen.reload import ScreenerHolder
from offramp.store import Repository, make_engine, upgrade
from offramp.survey.instrument import Instrument
from offramp.survey.load import load_instrument
from offramp.vault.keys import fingerprint, load_public_key

log = logging.getLogger("offramp")


@dataclass(frozen=True)
class PublishedInstrument:
    instrument: Instrument
    version: int


@dataclass
class Services:
    settings: Settings
    repository: Repository
    screener: ScreenerHolder | None
    catalogue: Catalogue
    instruments: dict[str, PublishedInstrument]
    recipients: list[PublicKey]
    counters: CounterBuffer = field(default_factory=CounterBuffer)
    arms: Arms = field(init=False)

    def __post_init__(self) -> None:
        # Experiment arms are validated against the catalogue once, at start-up.
        self.arms = build_arms(self.settings.arms, self.catalogue)

    def current_screener(self) -> Screener:
        if self.screener is None:
            raise ConfigError("no term list configured", hint='set terms = "FILE" in the config')
        return self.screener.current

    def survey_link_target(self) -> str | None:
        if not self.instruments:
            return None
        return f"/s/{next(iter(self.instruments))}"


def build_services(settings: Settings) -> Services:
    """Open the store (migrating it), load lists, instruments and keys; fail early and clearly."""
    # No checkpoints inside commits: the app checkpoints every second (app.py, drafts.py).
    engine = make_engine(settings.database_url, autocheckpoint=False)
    upgrade(engine)
    # Drafts of stored responses are deleted after their commit, a batch a second (drafts.py).
    repository = Repository(engine, group_commit=settings.group_commit, defer_draft_deletes=True)
    holder = ScreenerHolder(settings.terms) if settings.terms is not None else None
    if holder is not None and not holder.current.index.rules:
        # An empty list is almost always a deployment mistake (wrong file, failed download); a
        # server that blocks nothing must not look like one that works.
        raise ConfigError(
            f"term list {settings.terms} has no terms, so the server would block nothing",
            hint="check the terms setting points at the operator's list",
        )
    recipients = [load_public_key(Path(p)) for p in settings.public_keys]
    if recipients:
        # Recorded so `offramp store verify` and /keys can say since when this set is in force.
        repository.register_key_set([fingerprint(k) for k in recipients])
    repository.purge_drafts()  # drafts past their TTL go at every start (and hourly, app.py)
    instruments: dict[str, PublishedInstrument] = {}
    for path in settings.instruments:
        instrument = load_instrument(Path(path))
        if not recipients:
            raise ConfigError(
                "instruments are configured but public_keys is empty",
                hint="run `offramp keys generate` and list the .pub file in public_keys",
            )
        version = repository.publish_instrument(
            instrument.id, instrument.source_hash(), instrument.to_json()
        )
        instruments[instrument.id] = PublishedInstrument(instrument, version)
    catalogue = (
        load_catalogue(settings.messages_dir, default_language=settings.default_language)
        if settings.messages_dir is not None
        else load_catalogue(default_language=settings.default_language)
    )
    return Services(settings, repository, holder, catalogue, instruments, recipients)


def services(request: Request) -> Services:
    value = request.app.state.services
    assert isinstance(value, Services)
    return value
