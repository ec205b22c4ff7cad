"""A respondent's progress through one instrument, kept as an encrypted draft between pages.

The state lives in the store encrypted under a key derived from the form's token (vault.drafts),
so the server can continue a survey only while the respondent's own form presents that token.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from dataclasses import dataclass, field, fields
from typing import Any

from offramp.store.drafts import DraftRow
from offramp.store.repository import Repository
from offramp.vault.drafts import BadToken, decrypt_draft, encrypt_draft, token_hash


@dataclass
class SurveyState:
    instrument_id: str
    version: int
    language: str
    arm: str
    page: int = -1
    """Index of the page the respondent is on (-1: consent)."""
    answers: dict[str, Any] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    """Seconds since the epoch, only ever inside the encrypted draft; the record gets a duration."""
    page_seconds: dict[str, int] = field(default_factory=dict)
    shown_at: float = field(default_factory=time.time)
    seed: int = field(default_factory=lambda: secrets.randbits(32))
    """Seeds this respondent's choice order: stable across pages, Back and resume."""
    furthest: int = -1
    """The furthest page reached: a re-posted earlier page (browser Back) is accepted up to it."""
    parked: bool = False
    """The respondent took a resume code: this form's draft moved under the code."""

    def to_bytes(self) -> bytes:
        # Not dataclasses.asdict: it deep-copies every answer, and this runs on every page.
        values = {name: getattr(self, name) for name in _FIELDS}
        return json.dumps(values, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> SurveyState:
        values = json.loads(data)
        if not isinstance(values, dict):
            raise ValueError("draft is not a mapping")
        return cls(**{k: v for k, v in values.items() if k in _FIELDS})


_FIELDS = tuple(f.name for f in fields(SurveyState))


def _context(instrument_id: str) -> bytes:
    return f"offramp-draft:{instrument_id}".encode()


def _draft_row(token: str, state: SurveyState, ttl_days: int) -> DraftRow:
    """(token hash, instrument, expiry day, encrypted state): a draft as the store keeps it."""
    blob = encrypt_draft(token, state.to_bytes(), _context(state.instrument_id))
    expires = dt.date.today() + dt.timedelta(days=ttl_days)
    return token_hash(token), state.instrument_id, expires, blob


def save_state(repository: Repository, token: str, state: SurveyState, ttl_days: int) -> None:
    repository.save_draft(*_draft_row(token, state, ttl_days))


async def save_state_async(repository: Repository, token: str, state: SurveyState,
                           ttl_days: int) -> None:
    """save_state for the event loop: committed when it returns, never blocking the loop
    (see DraftStore.save_async)."""
    await repository.drafts.save_async(*_draft_row(token, state, ttl_days))


def load_state(repository: Repository, token: str, instrument_id: str) -> SurveyState | None:
    """The respondent's state, None when there is no (unexpired) draft; BadToken if tampered."""
    return _open_state(token, repository.load_draft(token_hash(token)), instrument_id)


async def load_state_async(repository: Repository, token: str,
                           instrument_id: str) -> SurveyState | None:
    """load_state for the event loop (see DraftStore.load_async)."""
    blob = await repository.drafts.load_async(token_hash(token), dt.date.today())
    return _open_state(token, blob, instrument_id)


def _open_state(token: str, blob: bytes | None, instrument_id: str) -> SurveyState | None:
    if blob is None:
        return None
    try:
        state = SurveyState.from_bytes(decrypt_draft(token, blob, _context(instrument_id)))
    except (ValueError, TypeError) as exc:
        raise BadToken("draft does not open") from exc
    if state.instrument_id != instrument_id:
        raise BadToken("draft belongs to another instrument")
    return state
