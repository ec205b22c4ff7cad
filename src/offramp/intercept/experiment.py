"""Message experiments: which arm a page view gets, and what the aggregate counts say.

Assignment is a fresh random draw per page view on the server, weighted per language. Nothing
ties two page views together: no cookie, no identifier, no hash of an address. The price is that
one person who sees the page twice may see two arms; the analysis is per page view, which is what
the counters count.

Settings (TOML)::

    [arms."*"]          # every language without its own table
    control = 1
    supportive = 1
    [arms.ar]           # Arabic: only control until the draft translation is reviewed
    control = 1

Without an ``arms`` table every page shows ``control``: an experiment is always a deliberate choice.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from offramp.errors import ConfigError
from offramp.intercept.messages import Catalogue
from offramp.store.repository import CounterRow

CONTROL = "control"
ANY_LANGUAGE = "*"
_system_random = random.SystemRandom()


@dataclass(frozen=True)
class Arms:
    """Weighted arms for each language (``*`` for the rest), ready for fast draws."""

    _by_language: Mapping[str, tuple[tuple[str, ...], tuple[float, ...]]]

    def weights(self, language: str) -> dict[str, float]:
        names, cumulative = self._table(language)
        previous = 0.0
        out: dict[str, float] = {}
        for name, bound in zip(names, cumulative, strict=True):
            out[name] = bound - previous
            previous = bound
        return out

    def arms(self, language: str) -> tuple[str, ...]:
        return self._table(language)[0]

    def all_arms(self) -> frozenset[str]:
        return frozenset(name for names, _ in self._by_language.values() for name in names)

    def assign(self, language: str, rng: random.Random = _system_random) -> str:
        names, cumulative = self._table(language)
        if len(names) == 1:
            return names[0]
        point = rng.random() * cumulative[-1]
        return names[min(bisect.bisect_right(cumulative, point), len(names) - 1)]

    def _table(self, language: str) -> tuple[tuple[str, ...], tuple[float, ...]]:
        return self._by_language.get(language) or self._by_language[ANY_LANGUAGE]


def build_arms(config: Mapping[str, Mapping[str, float]], catalogue: Catalogue) -> Arms:
    """Validate the ``arms`` setting against the catalogue's variants; fail with the fix named."""
    variants = set(catalogue.variants())
    if not config:
        default = CONTROL if CONTROL in variants else catalogue.variants()[0]
        config = {ANY_LANGUAGE: {default: 1.0}}
    table: dict[str, tuple[tuple[str, ...], tuple[float, ...]]] = {}
    for language, weights in config.items():
        if language != ANY_LANGUAGE and language not in catalogue.languages:
            raise ConfigError(
                f"setting arms.{language}: no message file for language {language!r}",
                hint=f"languages: {', '.join(catalogue.language_codes())}",
            )
        names: list[str] = []
        cumulative: list[float] = []
        total = 0.0
        for name, weight in sorted(weights.items()):
            if name not in variants:
                raise ConfigError(
                    f"setting arms.{language}.{name}: no such message variant",
                    hint=f"variants: {', '.join(sorted(variants))}",
                )
            value = float(weight)
            if not math.isfinite(value) or value < 0:
                raise ConfigError(f"setting arms.{language}.{name}: weight must be >= 0")
            if value == 0:
                continue
            total += value
            names.append(name)
            cumulative.append(total)
        if not names:
            raise ConfigError(f"setting arms.{language}: at least one weight must be above 0")
        table[language] = (tuple(names), tuple(cumulative))
    if ANY_LANGUAGE not in table:
        default = CONTROL if CONTROL in variants else catalogue.variants()[0]
        table[ANY_LANGUAGE] = ((default,), (1.0,))
    return Arms(table)


# -- reporting ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ArmResult:
    arm: str
    impressions: int
    clicks: int
    rate: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    p_holm: float
    prob_beats_control: float
    clicks_capped: bool


@dataclass(frozen=True)
class ExperimentReport:
    link: str
    language: str
    first_day: dt.date | None
    last_day: dt.date | None
    arms: tuple[ArmResult, ...]
    lift: float
    alpha: float
    power: float
    sample_size_per_arm: int | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_day"] = self.first_day.isoformat() if self.first_day else None
        out["last_day"] = self.last_day.isoformat() if self.last_day else None
        for arm in out["arms"]:
            for key, value in arm.items():
                if isinstance(value, float) and math.isnan(value):
                    arm[key] = None
        return out


def build_report(
    rows: Iterable[CounterRow],
    *,
    link: str = "help",
    language: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    lift: float = 0.2,
    alpha: float = 0.05,
    power: float = 0.8,
    control: str = CONTROL,
) -> ExperimentReport:
    """Click-through on `link` per arm, each arm against control (z-test, Holm, Bayes)."""
    from offramp.intercept import stats  # numpy/scipy only when a report is asked for

    impressions: dict[str, int] = {}
    clicks: dict[str, int] = {}
    days: list[dt.date] = []
    for row in rows:
        if language is not None and row.language != language:
            continue
        if (since and row.day < since) or (until and row.day > until):
            continue
        if row.event == "impression":
            impressions[row.arm] = impressions.get(row.arm, 0) + row.count
            days.append(row.day)
        elif row.event == "click" and row.link == link:
            clicks[row.arm] = clicks.get(row.arm, 0) + row.count
    names = sorted(impressions, key=lambda a: (a != control, a))
    base_n = impressions.get(control, 0)
    base_x = min(clicks.get(control, 0), base_n)
    results: list[dict[str, Any]] = []
    for name in names:
        n = impressions[name]
        raw = clicks.get(name, 0)
        # More clicks than views happen only with repeated or forged clicks; cap, and say so.
        x = min(raw, n)
        low, high = stats.wilson_interval(x, n)
        if name == control or base_n == 0:
            z, p, beats = math.nan, math.nan, math.nan
        else:
            z, p = stats.two_proportion_ztest(x, n, base_x, base_n)
            beats = stats.prob_beats(x, n, base_x, base_n)
        results.append(dict(arm=name, impressions=n, clicks=x, rate=x / n if n else math.nan,
                            ci_low=low, ci_high=high, z=z, p_value=p,
                            prob_beats_control=beats, clicks_capped=raw > n))
    adjusted = stats.holm([r["p_value"] for r in results])
    arms = tuple(ArmResult(**r, p_holm=a) for r, a in zip(results, adjusted, strict=True))
    needed: int | None = None
    if base_n and 0 < base_x < base_n:
        comparisons = max(1, len(names) - 1)
        try:
            needed = stats.sample_size(base_x / base_n, lift, alpha=alpha / comparisons,
                                       power=power)
        except ValueError:
            needed = None
    return ExperimentReport(
        link, language or "all", min(days) if days else None, max(days) if days else None,
        arms, lift, alpha, power, needed,
    )
