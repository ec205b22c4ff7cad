"""Opening the store's sealed records offline, with the researchers' private keys.

Records that fail to open are counted with their reason and reported, never silently dropped.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from nacl.public import PrivateKey

from offramp.errors import IntegrityError
from offramp.store.repository import Repository, StoredResponse
from offramp.vault.sealing import SealContext, open_sealed


@dataclass(frozen=True)
class OpenedResponse:
    stored: StoredResponse
    answers: dict[str, Any]
    shown: list[str]
    page_seconds: dict[str, int]


@dataclass
class OpenReport:
    opened: int = 0
    failures: Counter[str] = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def context_of(stored: StoredResponse) -> SealContext:
    return SealContext(
        instrument_id=stored.instrument_id,
        instrument_version=stored.instrument_version,
        page_id=stored.page_id,
        arm=stored.arm,
        language=stored.language,
        day=stored.day.isoformat(),
    )


def open_responses(
    repository: Repository,
    private_keys: Sequence[PrivateKey],
    report: OpenReport,
    instrument_id: str | None = None,
) -> Iterator[OpenedResponse]:
    for stored in repository.iter_responses(instrument_id):
        try:
            payload = json.loads(open_sealed(stored.sealed, context_of(stored), private_keys))
        except IntegrityError as exc:
            report.failures[exc.message] += 1
            continue
        except (ValueError, UnicodeDecodeError):
            report.failures["record opened but its content is not valid JSON"] += 1
            continue
        report.opened += 1
        yield OpenedResponse(
            stored,
            dict(payload.get("answers", {})),
            list(payload.get("shown", [])),
            dict(payload.get("page_seconds", {})),
        )
