"""Synthetic search logs with a known prevalence, to check logscan's estimates against truth.

Every token is invented (pseudo-words from neutral syllables; flagged terms such as ``zorblax``);
nothing here resembles real search vocabulary. The model, chosen so that truth is exact and simple:

- Rows are spread over ``days`` days (weekends busier); each day's rows form sessions of
  geometric length (mean ``mean_session``), starting at an hour drawn from a daily volume curve,
  with searches a few seconds to minutes apart (whole seconds, so every format stores the same
  times). Sessions never cross midnight.
- A session is *seeking* with probability ``seeking_share x s(hour)``, where s() is a daily
  seasonality (more seeking at night) scaled so that its volume-weighted mean is exactly 1; in a
  seeking session each search is flagged with probability ``positive_rate``. So the expected
  prevalence of a day is seeking_share x positive_rate (x ``after_factor`` from the change date
  on): the planted level change. The planted slope change is zero.
- Flagged searches embed one term from the written term list, some plainly, some obfuscated
  (through ``offramp.synth.obfuscate``) in ways Unicode folding undoes (case, accents,
  full-width letters), and optionally (``hard_share``) in the ways that need the screen's richer
  folding (leetspeak, look-alike letters, invisible characters, separators, spacing, ...).
- Queries repeat as real logs do: each row draws its query from a pool with Zipf popularity.

Beside the log ``F`` it writes ``F.terms.yaml`` (the term list, three categories) and
``F.truth.json`` (realized counts per day, language, category and session metric, and the
planted change).
"""

from __future__ import annotations

import gzip
import json
import os
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import click
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from offramp.errors import ConfigError
from offramp.synth.obfuscate import POSITIVE_KINDS, obfuscate

TERMS = ("zorblax", "quillion", "vexmora", "plindrath oskette", "tarvune", "drossiline")
#: the category of each term in the written (YAML) term list
CATEGORIES = {"zorblax": "core", "quillion": "core", "vexmora": "core",
              "plindrath oskette": "phrase", "tarvune": "variant", "drossiline": "variant"}
LANGUAGES = {"en": 0.55, "de": 0.2, "fr": 0.15, "es": 0.1}
TEXT_FIELDS = "timestamp,session,language,query"
_ONSETS = ("b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w")
_VOWELS = ("a", "e", "i", "o", "u")
_CODAS = ("", "", "n", "r", "l", "s")
#: obfuscations that Unicode folding undoes (the screen must catch these: exact truth)
FOLDABLE_KINDS = ("case", "fullwidth", "diacritics")
#: obfuscations that need the screen's richer folding (counted apart in the truth)
HARD_KINDS = tuple(k for k in POSITIVE_KINDS if k not in ("plain", *FOLDABLE_KINDS))
_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".txt.gz", ".log.gz", ".txt")


@dataclass(frozen=True, slots=True)
class LogSpec:
    """What to generate. Defaults give a prevalence near 3% falling by 40% at the change."""

    rows: int
    seed: int = 0
    start: date = date(2024, 1, 1)
    days: int = 90
    change_day: int | None = None  # days after start; default 60% of the way through
    seeking_share: float = 0.11
    after_factor: float = 0.6
    positive_rate: float = 0.3
    mean_session: float = 3.0
    obfuscated_share: float = 0.3
    hard_share: float = 0.0
    distinct_queries: int | None = None  # neutral pool size; default rows // 20 within [500, 2M]
    languages: dict[str, float] = field(default_factory=lambda: dict(LANGUAGES))

    def __post_init__(self) -> None:
        if self.rows < 1 or self.days < 1:
            raise ConfigError("rows and days must be positive")
        if not 0 <= self.obfuscated_share + self.hard_share <= 1:
            raise ConfigError("obfuscated and hard shares must add up to at most 1")
        if not 0 < self.seeking_share * self.after_factor <= self.seeking_share < 0.5:
            raise ConfigError("seeking share must be in (0, 0.5) and after factor in (0, 1]")
        if not 0 < self.positive_rate <= 1:
            raise ConfigError("positive rate must be in (0, 1]")
        if self.change < self.start or self.change >= self.start + timedelta(days=self.days):
            raise ConfigError("the change date must fall within the generated days")

    @property
    def change(self) -> date:
        offset = self.change_day if self.change_day is not None else int(self.days * 0.6)
        return self.start + timedelta(days=offset)

    @property
    def pool_size(self) -> int:
        if self.distinct_queries is not None:
            return max(1, self.distinct_queries)
        return min(max(self.rows // 20, 500), 2_000_000)

    def expected_prevalence(self, day: date) -> float:
        factor = self.after_factor if day >= self.change else 1.0
        return self.seeking_share * factor * self.positive_rate


def _hour_curves() -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Volume by hour (quiet at 4 am) and seeking seasonality s(h) with volume-weighted mean 1."""
    hours = np.arange(24, dtype=np.float64)
    volume = 1.0 + 0.7 * np.sin(2 * np.pi * (hours - 10) / 24)
    volume /= volume.sum()
    season = 1.0 + 0.4 * np.cos(2 * np.pi * (hours - 2) / 24)
    season /= float((volume * season).sum())
    return volume, season


def _words(rng: np.random.Generator, count: int, banned: set[str]) -> list[str]:
    """Invented pseudo-words of three syllables, none equal to a word of the term list."""
    out: list[str] = []
    seen: set[str] = set(banned)
    while len(out) < count:
        o = rng.integers(0, len(_ONSETS), size=(count, 3))
        v = rng.integers(0, len(_VOWELS), size=(count, 3))
        c = rng.integers(0, len(_CODAS), size=(count, 3))
        for i in range(count):
            word = "".join(_ONSETS[o[i, k]] + _VOWELS[v[i, k]] + _CODAS[c[i, k]] for k in range(3))
            if word not in seen:
                seen.add(word)
                out.append(word)
                if len(out) == count:
                    break
    return out


def _phrases(rng: np.random.Generator, vocabulary: list[str], count: int) -> list[str]:
    lengths = rng.integers(1, 5, size=count)
    picks = rng.integers(0, len(vocabulary), size=int(lengths.sum()))
    out: list[str] = []
    seen: set[str] = set()
    at = 0
    for n in lengths:
        phrase = " ".join(vocabulary[j] for j in picks[at : at + n])
        at += n
        if phrase not in seen:
            seen.add(phrase)
            out.append(phrase)
    return out


@dataclass(slots=True)
class _Pools:
    neutral: list[str]
    positive: dict[str, list[str]]  # kind -> queries
    neutral_p: npt.NDArray[np.float64]
    positive_p: dict[str, npt.NDArray[np.float64]]
    category: dict[str, list[str]]  # kind -> the category of each query's term


def _zipf(n: int, exponent: float = 1.05) -> npt.NDArray[np.float64]:
    weights: npt.NDArray[np.float64] = np.power(np.arange(1, n + 1, dtype=np.float64), -exponent)
    return weights / float(weights.sum())


def _pools(spec: LogSpec, rng: np.random.Generator) -> _Pools:
    banned = {w for t in TERMS for w in t.split()}
    vocabulary = _words(rng, max(200, min(spec.pool_size // 4 + 200, 60_000)), banned)
    neutral = _phrases(rng, vocabulary, spec.pool_size)
    per_kind = max(50, min(spec.pool_size // 10, 50_000))
    positive: dict[str, list[str]] = {}
    category: dict[str, list[str]] = {}
    term_p = _zipf(len(TERMS), 0.8)
    # obfuscate() takes a random.Random, seeded from the generator for reproducibility
    scribe = random.Random(int(rng.integers(0, 2**32)))  # noqa: S311 - synthetic data, no secrets
    ways = {"plain": ("plain",), "obfuscated": FOLDABLE_KINDS, "hard": HARD_KINDS}
    for kind in ("plain", "obfuscated", "hard"):
        terms = rng.choice(len(TERMS), size=per_kind, p=term_p)
        how = rng.integers(0, len(ways[kind]), size=per_kind)
        before = rng.integers(0, 3, size=per_kind)
        after = rng.integers(0, 2, size=per_kind)
        queries: list[str] = []
        for i in range(per_kind):
            term = obfuscate(TERMS[terms[i]], ways[kind][how[i]], scribe)
            words = [vocabulary[j] for j in rng.integers(0, len(vocabulary), size=3)]
            queries.append(" ".join([*words[: before[i]], term, *words[2 : 2 + after[i]]]))
        positive[kind] = queries
        category[kind] = [CATEGORIES[TERMS[t]] for t in terms]
    return _Pools(
        neutral, positive, _zipf(len(neutral)),
        {k: _zipf(len(v)) for k, v in positive.items()}, category,
    )


@dataclass
class _Truth:
    """Realized counts, accumulated day by day."""

    daily: list[dict[str, Any]] = field(default_factory=list)
    languages: dict[str, list[int]] = field(default_factory=dict)
    categories: dict[str, int] = field(default_factory=dict)  # detectable positives
    sessions: int = 0
    seeking_sessions: int = 0
    with_positive: int = 0
    repeat: int = 0
    continued: int = 0
    with_detectable: int = 0
    repeat_detectable: int = 0
    continued_detectable: int = 0


def _session_metrics(
    session: npt.NDArray[np.int64], ts: npt.NDArray[np.int64], flag: npt.NDArray[np.bool_],
    n_sessions: int,
) -> tuple[int, int, int]:
    """(sessions with >= 1 flag, with >= 2, with a search after the first flagged one)."""
    count = np.bincount(session, weights=flag, minlength=n_sessions)
    big = np.iinfo(np.int64).max
    first = np.full(n_sessions, big, dtype=np.int64)
    np.minimum.at(first, session[flag], ts[flag])
    last = np.full(n_sessions, -1, dtype=np.int64)
    np.maximum.at(last, session, ts)
    has = count >= 1
    return int(has.sum()), int((count >= 2).sum()), int((has & (last > first)).sum())


def generate(spec: LogSpec) -> tuple[Iterator[pa.Table], _Truth]:
    """Per-day Arrow tables (timestamp, session, language, query) and the truth they fill in.

    The truth is complete once the iterator is exhausted.
    """
    truth = _Truth()
    return _days(spec, truth), truth


def _days(spec: LogSpec, truth: _Truth) -> Iterator[pa.Table]:
    rng = np.random.default_rng(spec.seed)
    pools = _pools(spec, rng)
    kinds = ("plain", "obfuscated", "hard")
    # one dictionary of every query: neutral pool, then each kind of flagged pool
    every = pa.array(pools.neutral + [q for k in kinds for q in pools.positive[k]], pa.string())
    sizes = [len(pools.neutral)] + [len(pools.positive[k]) for k in kinds]
    offsets = np.cumsum(sizes)[:-1]
    category_of = np.array([""] * len(pools.neutral)
                           + [c for k in kinds for c in pools.category[k]], dtype=object)
    volume, season = _hour_curves()
    weekday = np.array([1.15 if (spec.start + timedelta(days=d)).weekday() >= 5 else 1.0
                        for d in range(spec.days)])
    per_day = rng.multinomial(spec.rows, weekday / weekday.sum())
    languages = list(spec.languages)
    language_p = np.array([spec.languages[k] for k in languages], dtype=np.float64)
    language_p /= language_p.sum()
    kind_p = np.array([1 - spec.obfuscated_share - spec.hard_share, spec.obfuscated_share,
                       spec.hard_share])
    next_session = 0
    epoch = datetime(1970, 1, 1)
    for d in range(spec.days):
        n = int(per_day[d])
        day = spec.start + timedelta(days=d)
        if n == 0:
            truth.daily.append({"day": day.isoformat(), "searches": 0, "positives": 0,
                                "detectable_positives": 0, "obfuscated_positives": 0,
                                "expected_prevalence": spec.expected_prevalence(day)})
            continue
        lengths = rng.geometric(1 / spec.mean_session, size=int(n / spec.mean_session * 1.3) + 16)
        ends = np.cumsum(lengths)
        k = int(np.searchsorted(ends, n)) + 1
        lengths = lengths[:k].copy()
        lengths[-1] -= int(ends[k - 1]) - n
        hour = rng.choice(24, size=k, p=volume)
        factor = spec.after_factor if day >= spec.change else 1.0
        seeking = rng.random(k) < spec.seeking_share * factor * season[hour]
        session = np.repeat(np.arange(k), lengths)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        gaps = 1 + np.floor(rng.exponential(45.0, size=n)).astype(np.int64)
        gaps[starts] = 0
        offset = np.cumsum(gaps)
        offset -= np.repeat(offset[starts], lengths)
        start_s = hour * 3600 + rng.integers(0, 3600, size=k)
        seconds = np.minimum(np.repeat(start_s, lengths) + offset, 86_399)
        day_s = int((datetime.combine(day, datetime.min.time()) - epoch).total_seconds())
        ts = seconds + day_s
        flag = seeking[session] & (rng.random(n) < spec.positive_rate)
        kind = rng.choice(3, size=n, p=kind_p)
        index = rng.choice(len(pools.neutral), size=n, p=pools.neutral_p)
        for j, name in enumerate(kinds):
            mask = flag & (kind == j)
            if mask.any():
                index[mask] = offsets[j] + rng.choice(
                    len(pools.positive[name]), size=int(mask.sum()), p=pools.positive_p[name]
                )
        lang = rng.choice(len(languages), size=k, p=language_p)[session]
        sid = next_session + session
        mixed = (sid.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(1)
        next_session += k
        # sort by time (logs are time-ordered); stable, so a session's order is kept
        by_time = np.argsort(ts, kind="stable")
        table = pa.table({
            "timestamp": pa.array((ts[by_time] * 1_000_000), type=pa.timestamp("us")),
            "session": pa.array(mixed[by_time].astype(np.int64)),
            "language": pa.array(np.array(languages, dtype=object)[lang[by_time]],
                                 type=pa.string()),
            "query": every.take(pa.array(index[by_time])),
        })
        detectable = flag & (kind != 2)
        for name, n_cat in zip(*np.unique(category_of[index[detectable]], return_counts=True),
                               strict=True):
            truth.categories[str(name)] = truth.categories.get(str(name), 0) + int(n_cat)
        truth.daily.append({
            "day": day.isoformat(),
            "searches": n,
            "positives": int(flag.sum()),
            "detectable_positives": int(detectable.sum()),
            "obfuscated_positives": int((flag & (kind == 1)).sum()),
            "expected_prevalence": spec.expected_prevalence(day),
        })
        for li, name in enumerate(languages):
            in_lang = lang == li
            tally = truth.languages.setdefault(name, [0, 0, 0])
            tally[0] += int(in_lang.sum())
            tally[1] += int((flag & in_lang).sum())
            tally[2] += int((detectable & in_lang).sum())
        truth.sessions += k
        truth.seeking_sessions += int(seeking.sum())
        a, b, c = _session_metrics(session, ts, flag, k)
        truth.with_positive += a
        truth.repeat += b
        truth.continued += c
        a, b, c = _session_metrics(session, ts, detectable, k)
        truth.with_detectable += a
        truth.repeat_detectable += b
        truth.continued_detectable += c
        yield table


def _truth_document(spec: LogSpec, truth: _Truth, log: Path, terms: Path) -> dict[str, Any]:
    searches = sum(d["searches"] for d in truth.daily)
    positives = sum(d["positives"] for d in truth.daily)
    detectable = sum(d["detectable_positives"] for d in truth.daily)
    before = spec.expected_prevalence(spec.change - timedelta(days=1))
    after = spec.expected_prevalence(spec.change)
    settings = asdict(spec)
    settings["start"] = spec.start.isoformat()
    return {
        "generator": "offramp synth logs",
        "log": log.name,
        "terms_file": terms.name,
        "text_fields": TEXT_FIELDS,
        "settings": settings,
        "change_date": spec.change.isoformat(),
        "planted": {
            "expected_prevalence_before": before,
            "expected_prevalence_after": after,
            "level_change": after - before,
            "relative_level_change": after / before - 1,
            "slope_change": 0.0,
        },
        "overall": {"searches": searches, "positives": positives,
                    "detectable_positives": detectable,
                    "prevalence": positives / searches if searches else None},
        "sessions": {
            "sessions": truth.sessions,
            "seeking_sessions": truth.seeking_sessions,
            "with_positive": truth.with_positive,
            "warned_searching_again": truth.repeat,
            "warned_continuing": truth.continued,
            "with_detectable_positive": truth.with_detectable,
            "warned_searching_again_detectable": truth.repeat_detectable,
            "warned_continuing_detectable": truth.continued_detectable,
        },
        "by_language": {k: {"searches": v[0], "positives": v[1], "detectable_positives": v[2]}
                        for k, v in sorted(truth.languages.items())},
        "detectable_by_category": dict(sorted(truth.categories.items())),
        "daily": truth.daily,
        "notes": "detectable = plain or Unicode-obfuscated (case, accents, full-width); "
                 f"hard obfuscations ({', '.join(HARD_KINDS)}) are counted in positives only. "
                 "Expected prevalence is seeking_share x positive_rate (x after_factor).",
    }


def term_list_yaml() -> str:
    """The synthetic term list: invented tokens in three categories, one rule each."""
    lines = [
        "# Synthetic term list (invented tokens only) written by offramp synth logs.",
        'version: "synth-logs-1"',
        "categories:",
        "  core: Invented core tokens",
        "  phrase: An invented two-word phrase",
        "  variant: Invented variant tokens",
        "rules:",
    ]
    for category in sorted(set(CATEGORIES.values())):
        terms = [t for t in TERMS if CATEGORIES[t] == category]
        lines += [f"  - id: {category}-terms", f"    category: {category}",
                  f"    terms: [{', '.join(terms)}]"]
    return "\n".join(lines) + "\n"


def _kind_of(path: Path) -> str:
    name = path.name.lower()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return suffix
    raise ConfigError(f"--out {path}: name it {', '.join('F' + s for s in _SUFFIXES)}")


def _text_lines(table: pa.Table) -> bytes:
    ts = table.column("timestamp").cast(pa.timestamp("s")).to_pylist()
    sessions = table.column("session").to_pylist()
    langs = table.column("language").to_pylist()
    queries = table.column("query").to_pylist()
    lines = [f"{t.isoformat()}\t{s}\t{lang}\t{q}\n"
             for t, s, lang, q in zip(ts, sessions, langs, queries, strict=True)]
    return "".join(lines).encode("utf-8")


def _json_lines(table: pa.Table) -> bytes:
    ts = table.column("timestamp").cast(pa.timestamp("s")).to_pylist()
    rows = zip(ts, table.column("session").to_pylist(), table.column("language").to_pylist(),
               table.column("query").to_pylist(), strict=True)
    return "".join(
        json.dumps({"timestamp": t.isoformat(), "session": s, "language": lang, "query": q},
                   ensure_ascii=False) + "\n"
        for t, s, lang, q in rows
    ).encode("utf-8")


def write_log(spec: LogSpec, out: str | Path) -> dict[str, Any]:
    """Generate the log into ``out`` (format from its suffix) plus terms and truth beside it.

    Each file is written under a temporary name and renamed when complete.
    """
    out = Path(out)
    kind = _kind_of(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    terms_path = out.with_name(out.name + ".terms.yaml")
    truth_path = out.with_name(out.name + ".truth.json")
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    tables, truth = generate(spec)
    try:
        if kind == ".parquet":
            writer: pq.ParquetWriter | None = None
            for table in tables:
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
                writer.write_table(table, row_group_size=max(table.num_rows, 1))
            if writer is not None:
                writer.close()
        else:
            opener: Any = gzip.open if kind.endswith(".gz") else open
            with opener(tmp, "wb") as handle:
                _write_rows(kind, tables, handle)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    terms_path.write_text(term_list_yaml(), encoding="utf-8")
    document = _truth_document(spec, truth, out, terms_path)
    truth_tmp = truth_path.with_name(f".{truth_path.name}.tmp-{os.getpid()}")
    truth_tmp.write_text(json.dumps(document, indent=1), encoding="utf-8")
    os.replace(truth_tmp, truth_path)
    return document


def _write_rows(kind: str, tables: Iterator[pa.Table], handle: IO[bytes]) -> None:
    first = True
    for table in tables:
        if kind.startswith(".csv"):
            out_table = table.set_column(0, "timestamp",
                                         table.column("timestamp").cast(pa.timestamp("s")))
            sink = pa.BufferOutputStream()
            pacsv.write_csv(out_table, sink,
                            write_options=pacsv.WriteOptions(include_header=first))
            handle.write(sink.getvalue().to_pybytes())
        elif kind.startswith(".jsonl"):
            handle.write(_json_lines(table))
        else:
            handle.write(_text_lines(table))
        first = False


@click.command("logs")
@click.option("--rows", required=True, type=click.IntRange(min=1), help="Number of log rows.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed.")
@click.option("--out", required=True, type=click.Path(dir_okay=False),
              help="Log file: .parquet, .csv[.gz], .jsonl[.gz] or .txt/.log.gz (tab-separated "
              f"{TEXT_FIELDS}). Truth and term list are written beside it.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(min=1))
@click.option("--start", default="2024-01-01", show_default=True, help="First day (YYYY-MM-DD).")
@click.option("--change-day", type=click.IntRange(min=0),
              help="Days after --start when prevalence changes [default: 60% through].")
@click.option("--seeking-share", default=0.11, show_default=True, type=float,
              help="Share of sessions that seek flagged material before the change.")
@click.option("--after-factor", default=0.6, show_default=True, type=float,
              help="Multiplies the seeking share from the change date on.")
@click.option("--positive-rate", default=0.3, show_default=True, type=float,
              help="Share of a seeking session's searches that use a listed term.")
@click.option("--obfuscated-share", default=0.3, show_default=True, type=float,
              help="Share of flagged searches written with case/accent/width tricks.")
@click.option("--hard-share", default=0.0, show_default=True, type=float,
              help="Share of flagged searches with harder tricks (leetspeak, look-alikes, "
              "separators, spacing, ...), counted apart in the truth.")
@click.option("--distinct-queries", type=click.IntRange(min=1),
              help="Size of the neutral query pool [default: rows/20 within 500..2,000,000].")
@click.option("--scan", "scan_to", type=click.Path(file_okay=False),
              help="Also scan the log with offramp logscan into this folder: tables and the "
              "report page (prevalence over time with intervals, the planted truth and the "
              "change point, and the interrupted time series at it).")
def logs_command(
    rows: int, seed: int, out: str, days: int, start: str, change_day: int | None,
    seeking_share: float, after_factor: float, positive_rate: float, obfuscated_share: float,
    hard_share: float, distinct_queries: int | None, scan_to: str | None,
) -> None:
    """Synthetic search logs of invented tokens with a known, planted prevalence change."""
    try:
        first = date.fromisoformat(start)
    except ValueError as exc:
        raise ConfigError(f"--start {start!r} is not a date (YYYY-MM-DD)") from exc
    spec = LogSpec(rows=rows, seed=seed, start=first, days=days, change_day=change_day,
                   seeking_share=seeking_share, after_factor=after_factor,
                   positive_rate=positive_rate, obfuscated_share=obfuscated_share,
                   hard_share=hard_share, distinct_queries=distinct_queries)
    doc = write_log(spec, out)
    planted = doc["planted"]
    click.echo(f"wrote {out} ({rows:,} rows), {out}.terms.yaml and {out}.truth.json")
    click.echo(f"prevalence {planted['expected_prevalence_before']:.3%} before and "
               f"{planted['expected_prevalence_after']:.3%} from {doc['change_date']} "
               f"(level change {planted['level_change']:+.3%})")
    text = ".txt" in out or ".log" in out
    if scan_to is not None:
        from offramp.logscan import ColumnMap, ScanOptions, scan_logs

        fields = tuple(TEXT_FIELDS.split(",")) if text else ("query",)
        result = scan_logs(f"{out}.terms.yaml", [out], scan_to,
                           ScanOptions(columns=ColumnMap(text_fields=fields)),
                           change=spec.change, truth=f"{out}.truth.json")
        assert result.its is not None
        level = result.its.table.row(2, named=True)
        click.echo(f"scanned into {scan_to}/: estimated level change {level['estimate']:+.3%} "
                   f"(95% CI {level['ci_low']:+.3%} to {level['ci_high']:+.3%}); "
                   f"see {scan_to}/report.html")
        return
    extra = f" --text-fields {TEXT_FIELDS}" if text else ""
    click.echo(f"next: offramp logscan --terms {out}.terms.yaml {out}{extra} --out scan "
               f"--change-date {doc['change_date']} --truth {out}.truth.json")
