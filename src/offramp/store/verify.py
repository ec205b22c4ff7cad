"""`offramp store verify`: what the store holds and whether every sealed record is well-formed.

Runs without any private key, so an operator can run it on the server or on a backup. It reads
each record's clear header (format, recipients, lengths): truncation, a foreign blob, or a record
sealed to no one shows up here. Whether a record's content was altered, or moved to another
context, only a private key can tell: `offramp export` checks that and counts each failure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from offramp.errors import IntegrityError
from offramp.store.migrate import HEAD, current_revision
from offramp.store.repository import KeySet, PurgeRecord, Repository, StoreCounts, key_set_id
from offramp.vault.sealing import inspect

MAX_IDS_LISTED = 20


def fingerprint_of_key_id(kid: bytes) -> str:
    """The fingerprint (as offramp prints it) of a key id read from a record's header."""
    hexed = kid.hex()
    return " ".join(hexed[i : i + 4] for i in range(0, len(hexed), 4))


@dataclass(frozen=True)
class KeySetUse:
    fingerprints: tuple[str, ...]
    records: int
    first_day: str | None  # when a server first registered this set; None if never
    in_force: bool


@dataclass
class VerifyReport:
    revision: str | None
    head: str | None
    counts: StoreCounts | None = None
    checked: int = 0
    damaged: Counter[str] = field(default_factory=Counter)
    damaged_ids: dict[str, list[int]] = field(default_factory=dict)
    key_sets: list[KeySetUse] = field(default_factory=list)
    orphans: list[tuple[str, int, int]] = field(default_factory=list)
    purges: list[PurgeRecord] = field(default_factory=list)
    in_force: tuple[str, ...] = ()

    @property
    def problems(self) -> list[str]:
        found = []
        if self.revision != self.head:
            found.append(f"schema at revision {self.revision}, expected {self.head}")
        for reason, count in self.damaged.most_common():
            found.append(f"{count} damaged: {reason}")
        for instrument, version, count in self.orphans:
            found.append(f"{count} responses of {instrument} v{version}, a version never published")
        if self.in_force and not any(use.in_force for use in self.key_sets) and self.checked:
            found.append("no record is sealed to the key set in force (was the server restarted?)")
        return found


def verify_store(
    repository: Repository, in_force: tuple[str, ...] = (), *, batch: int = 5000
) -> VerifyReport:
    """Count everything and check every record's structure; never writes."""
    engine = repository.engine
    report = VerifyReport(current_revision(engine), HEAD, in_force=in_force)
    if report.revision != report.head:
        return report
    report.counts = repository.counts()
    uses: Counter[tuple[str, ...]] = Counter()
    for stored in repository.iter_responses(batch=batch):
        report.checked += 1
        try:
            shape = inspect(stored.sealed)
        except IntegrityError as exc:
            report.damaged[exc.message] += 1
            ids = report.damaged_ids.setdefault(exc.message, [])
            if len(ids) < MAX_IDS_LISTED:
                ids.append(stored.response_id)
            continue
        uses[tuple(fingerprint_of_key_id(k) for k in shape.key_ids)] += 1
    registered: dict[str, KeySet] = {k.key_set_id: k for k in repository.key_sets()}
    force_id = key_set_id(in_force) if in_force else None
    for fingerprints, records in uses.most_common():
        ident = key_set_id(fingerprints)
        known = registered.get(ident)
        report.key_sets.append(
            KeySetUse(fingerprints, records, known.first_day.isoformat() if known else None,
                      ident == force_id)
        )
    report.orphans = repository.orphan_versions()
    report.purges = repository.purge_log()
    return report


def render(report: VerifyReport) -> list[str]:
    """The report as lines for a terminal (the CLI prints these)."""
    lines = [f"schema: revision {report.revision} (this offramp: {report.head})"]
    counts = report.counts
    if counts is None:
        lines.append("not checked further: start `offramp serve` once to migrate this store")
        return lines
    published = ", ".join(f"{i} ({n} version{'s' * (n != 1)})" for i, n in counts.instruments)
    lines.append(f"instruments: {published or 'none'}")
    total = sum(n for _, _, n, _ in counts.responses)
    lines.append(f"responses: {total}")
    for instrument, version, records, exported in counts.responses:
        lines.append(f"  {instrument} v{version}: {records} ({exported} exported)")
    lines.append(f"drafts: {counts.drafts_live} live, {counts.drafts_expired} past their TTL")
    lines.append(f"counter rows: {counts.counter_rows}")
    well_formed = report.checked - sum(report.damaged.values())
    lines.append(f"sealed records: {report.checked} checked, {well_formed} well-formed, "
                 f"{sum(report.damaged.values())} damaged")
    for reason, count in report.damaged.most_common():
        ids = ", ".join(str(i) for i in report.damaged_ids.get(reason, []))
        more = " ..." if count > len(report.damaged_ids.get(reason, [])) else ""
        lines.append(f"  {count} damaged: {reason} (response ids {ids}{more})")
    if report.in_force:
        lines.append("key set in force (from the config):")
        lines += [f"  {fp}" for fp in report.in_force]
    lines.append("key sets the records are sealed to:")
    for use in report.key_sets:
        since = f"since {use.first_day}" if use.first_day else "never registered by a server"
        flag = "  (in force)" if use.in_force else ""
        lines.append(f"  {use.records} records, {since}{flag}:")
        lines += [f"    {fp}" for fp in use.fingerprints]
    if not report.key_sets:
        lines.append("  (no records)")
    for record in report.purges:
        what = record.kind
        if record.instrument_id:
            what += f" of {record.instrument_id} from {record.from_day} to {record.to_day}"
        lines.append(f"purged on {record.day}: {record.count} {what}")
    problems = report.problems
    lines.append("verdict: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
    lines += [f"  problem: {p}" for p in problems]
    return lines
