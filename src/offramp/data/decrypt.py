"""Opening the store's sealed records offline, with the researchers' private keys.

Records that fail to open are counted with their reason and reported, never silently dropped:
the CLI prints every reason with its count and exits non-zero when any record failed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from nacl.public import PrivateKey

from offramp.errors import IntegrityError
from offramp.store.repository import Repository, StoredResponse
from offramp.vault.sealing import Opener, SealContext

NOT_JSON = "record opened but its content is not valid JSON"
NOT_A_RESPONSE = "record opened but its content is not a survey response"
SEALED_TO_OTHERS = "record is sealed to none of the given keys"


@dataclass(frozen=True)
class OpenedResponse:
    stored: StoredResponse
    answers: dict[str, Any]
    shown: list[str]
    page_seconds: dict[str, int]


@dataclass
class OpenReport:
    """What happened to every record: opened, or failed with a reason; plus data warnings."""

    opened: int = 0
    failures: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    """Records that opened but hold something odd (e.g. a value outside its choice list)."""

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def merge(self, other: OpenReport) -> None:
        self.opened += other.opened
        self.failures.update(other.failures)
        self.warnings.update(other.warnings)


def context_of(stored: StoredResponse) -> SealContext:
    return SealContext(
        instrument_id=stored.instrument_id,
        instrument_version=stored.instrument_version,
        page_id=stored.page_id,
        arm=stored.arm,
        language=stored.language,
        day=stored.day.isoformat(),
        submission_id=stored.submission_id or None,
    )


def parse_payload(stored: StoredResponse, plain: bytes) -> OpenedResponse:
    """The decrypted JSON as an OpenedResponse; ValueError(reason) when it is not one."""
    try:
        payload = json.loads(plain.decode("utf-8"))  # JSON from offramp is UTF-8
    except (ValueError, UnicodeDecodeError):
        raise ValueError(NOT_JSON) from None
    if not isinstance(payload, dict):
        raise ValueError(NOT_A_RESPONSE)
    answers = payload.get("answers", {})
    shown = payload.get("shown", [])
    page_seconds = payload.get("page_seconds", {})
    if not (
        isinstance(answers, dict) and isinstance(shown, list) and isinstance(page_seconds, dict)
    ):
        raise ValueError(NOT_A_RESPONSE)
    return OpenedResponse(stored, answers, shown, page_seconds)


def open_one(
    stored: StoredResponse, opener: Opener | Sequence[PrivateKey], report: OpenReport
) -> OpenedResponse | None:
    """Open and parse one record; a failure is counted in `report` and gives None."""
    if not isinstance(opener, Opener):
        opener = Opener(opener)
    try:
        plain = opener.open(stored.sealed, context_of(stored))
        response = parse_payload(stored, plain)
    except IntegrityError as exc:
        report.failures[exc.message] += 1
        return None
    except ValueError as exc:
        report.failures[str(exc)] += 1
        return None
    report.opened += 1
    return response


def open_stored(
    stored: Iterable[StoredResponse], private_keys: Sequence[PrivateKey], report: OpenReport
) -> Iterator[OpenedResponse]:
    opener = Opener(private_keys)  # once: its keys are prepared for every record
    for record in stored:
        response = open_one(record, opener, report)
        if response is not None:
            yield response


def open_responses(
    repository: Repository,
    private_keys: Sequence[PrivateKey],
    report: OpenReport,
    instrument_id: str | None = None,
) -> Iterator[OpenedResponse]:
    """Every record of the store that opens, in storage order; failures go to `report`."""
    return open_stored(repository.iter_responses(instrument_id), private_keys, report)
