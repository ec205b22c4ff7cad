"""What `offramp synth respondents` plants in synthetic answers: a scenario file (YAML).

Everything is optional; an empty scenario gives plausible answers to any instrument. The keys:

    languages: {en: 0.4, de: 0.2, ru: 0.2, ar: 0.2}   # shares by survey language (default: equal)
    arms: {control: 0.5, supportive: 0.5}            # intercept message arm that led to the survey
    start: 2025-01-06                                # first fielding day
    days: 120                                        # fielding days
    rates:                                           # per shown question, where the choice exists
      refused: 0.03          # mean rate of "prefer not to say" (varies between respondents)
      dont_know: 0.05        # "don't know"
      unanswered: 0.02       # shown but left blank (never for required questions)
      text_answered: 0.35    # share who write something in an open question
    careless:                # careless respondents answer at random; the export flags them
      speeders: 0.04         # ... and race through the pages (qc_speeder)
      straightliners: 0.03   # ... and give one answer to every item of a grid (qc_straightline)
    marginals:               # population shares of the answers (among attentive respondents)
      first_accidental: {"yes": 0.5, "no": 0.35, dk: 0.15}   # select_one: shares of choices
      find_ways: {search: 0.6, links: 0.3}                    # select_multiple: P(ticked)
    numbers:
      hours_online: {median: 14, spread: 0.7}    # log-normal; redrawn until the constraint holds
    effects:                 # planted logistic models, exactly what the analysis plan should fit
      - outcome: wish_stop
        event: "yes"
        baseline: 0.55       # P(event) when every predictor is at its reference level
        odds_ratios:
          adverse_childhood: {"yes": 1.8}       # levels not named have odds ratio 1
      - outcome: sought_help
        event: "yes"
        baseline: 0.30
        odds_ratios:
          language: {ru: 0.5, ar: 0.6}          # `language` and `arm` may be predictors too

A select_one outcome with an effect is drawn from its logistic model: P(event) =
expit(logit(baseline) + sum of log odds ratios of the respondent's answers); other answers share the
rest in proportion to the outcome's marginals. Predictors must be asked before their outcome.
A predictor answered "prefer not to say" (or not shown) adds nothing; such rows drop out of the
fitted model anyway (listwise deletion), so the planted coefficients are what a correctly
specified model recovers among attentive respondents. Careless respondents answer at random on
purpose: exclude them (the report plan's `exclude: [qc_speeder, qc_straightline]`) to recover
the truth.

Every mistake is reported with the scenario's file and line, and the closest valid name.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offramp.analysis._yamlfile import Located, Path_, load_yaml
from offramp.errors import InputError
from offramp.survey.instrument import Instrument, Question

META_PREDICTORS = ("language", "arm")
TOP_KEYS = {"languages", "arms", "start", "days", "rates", "careless", "marginals", "numbers",
            "effects"}
RATE_KEYS = {"refused", "dont_know", "unanswered", "text_answered"}
CARELESS_KEYS = {"speeders", "straightliners"}
NUMBER_KEYS = {"median", "spread"}
EFFECT_KEYS = {"name", "outcome", "event", "baseline", "odds_ratios"}


@dataclass(frozen=True)
class Effect:
    """A planted logistic model: logit P(outcome = event) = logit(baseline) + sum log OR."""

    outcome: str
    event: str
    baseline: float
    odds_ratios: dict[str, dict[str, float]]
    name: str = ""
    line: int | None = None

    @property
    def predictors(self) -> list[str]:
        return list(self.odds_ratios)


@dataclass(frozen=True)
class NumberSpec:
    median: float
    spread: float = 0.6


@dataclass
class Scenario:
    languages: dict[str, float] | None = None
    arms: dict[str, float] = field(default_factory=lambda: {"control": 0.5, "supportive": 0.5})
    start: dt.date = dt.date(2025, 1, 6)
    days: int = 120
    refused: float = 0.03
    dont_know: float = 0.05
    unanswered: float = 0.02
    text_answered: float = 0.35
    speeders: float = 0.04
    straightliners: float = 0.03
    marginals: dict[str, dict[str, float]] = field(default_factory=dict)
    numbers: dict[str, NumberSpec] = field(default_factory=dict)
    effects: list[Effect] = field(default_factory=list)
    doc: Located | None = None
    """Where the scenario came from, so that checks against an instrument can name a line."""

    def error(self, path: Path_, message: str, hint: str | None = None) -> InputError:
        if self.doc is None:
            return InputError(f"scenario: {message}", hint=hint)
        return self.doc.error(path, message, hint)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain data, for the truth file."""
        return {
            "languages": self.languages, "arms": self.arms, "start": self.start.isoformat(),
            "days": self.days,
            "rates": {"refused": self.refused, "dont_know": self.dont_know,
                      "unanswered": self.unanswered, "text_answered": self.text_answered},
            "careless": {"speeders": self.speeders, "straightliners": self.straightliners},
            "marginals": self.marginals,
            "numbers": {k: {"median": v.median, "spread": v.spread}
                        for k, v in self.numbers.items()},
            "effects": [{"name": e.name, "outcome": e.outcome, "event": e.event,
                         "baseline": e.baseline, "odds_ratios": e.odds_ratios}
                        for e in self.effects],
        }


def _suggest(word: str, options: list[str] | set[str]) -> str:
    close = difflib.get_close_matches(word, sorted(options), n=2, cutoff=0.6)
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


def _share(doc: Located, path: Path_, value: Any, what: str, *, upper: float = 1.0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (
        0 <= value <= upper
    ):
        raise doc.error(path, f"{what} must be a number from 0 to {upper:g}, not {value!r}")
    return float(value)


def _weights(doc: Located, path: Path_, value: Any, what: str) -> dict[str, float]:
    if not isinstance(value, dict) or not value:
        raise doc.error(path, f"{what} must map names to shares, like {{en: 0.6, de: 0.4}}")
    out = {str(k): _share(doc, (*path, k), v, f"the share of {k!r}", upper=math.inf)
           for k, v in value.items()}
    if sum(out.values()) <= 0:
        raise doc.error(path, f"the shares of {what} add up to zero")
    return out


def _section(doc: Located, key: str, allowed: set[str]) -> dict[str, Any]:
    value = doc.data.get(key) or {}
    if not isinstance(value, dict):
        raise doc.error((key,), f"{key} must be a mapping")
    for name in value:
        if name not in allowed:
            raise doc.error((key, name),
                            f"unknown {key} key {name!r}{_suggest(str(name), allowed)}",
                            hint=f"known: {', '.join(sorted(allowed))}")
    return value


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file's structure (names are checked against an instrument
    later, by check_scenario)."""
    doc = load_yaml(path)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise doc.error((), "a scenario must be a YAML mapping (see docs/reporting.md)")
    doc.data = data
    for key in data:
        if key not in TOP_KEYS:
            raise doc.error((key,), f"unknown scenario key {key!r}{_suggest(str(key), TOP_KEYS)}",
                            hint=f"known: {', '.join(sorted(TOP_KEYS))}")
    scenario = Scenario(doc=doc)
    if "languages" in data:
        scenario.languages = _weights(doc, ("languages",), data["languages"], "languages")
    if "arms" in data:
        scenario.arms = _weights(doc, ("arms",), data["arms"], "arms")
    if "start" in data:
        start = data["start"]
        if isinstance(start, str):
            try:
                start = dt.date.fromisoformat(start)
            except ValueError:
                raise doc.error(("start",), f"start {start!r} is not a date (YYYY-MM-DD)") from None
        if not isinstance(start, dt.date):
            raise doc.error(("start",), "start must be a date (YYYY-MM-DD)")
        scenario.start = start
    if "days" in data:
        days = data["days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
            raise doc.error(("days",), f"days must be a whole number from 1 to 3660, not {days!r}")
        scenario.days = days
    for key, value in _section(doc, "rates", RATE_KEYS).items():
        setattr(scenario, key, _share(doc, ("rates", key), value, f"the {key} rate"))
    for key, value in _section(doc, "careless", CARELESS_KEYS).items():
        setattr(scenario, key, _share(doc, ("careless", key), value, f"the share of {key}"))
    if scenario.speeders + scenario.straightliners > 0.5:
        raise doc.error(("careless",), "careless respondents must be at most half of them")
    marginals = data.get("marginals") or {}
    if not isinstance(marginals, dict):
        raise doc.error(("marginals",), "marginals must map questions to {choice: share}")
    scenario.marginals = {
        str(q): _weights(doc, ("marginals", q), v, f"the marginals of {q!r}")
        for q, v in marginals.items()
    }
    numbers = data.get("numbers") or {}
    if not isinstance(numbers, dict):
        raise doc.error(("numbers",), "numbers must map questions to {median, spread}")
    for name, spec in numbers.items():
        npath: Path_ = ("numbers", name)
        if not isinstance(spec, dict) or "median" not in spec:
            raise doc.error(npath, "each number needs {median: ..., spread: ...}")
        for key in spec:
            if key not in NUMBER_KEYS:
                raise doc.error((*npath, key),
                                f"unknown key {key!r}{_suggest(str(key), NUMBER_KEYS)}")
        median = spec["median"]
        if isinstance(median, bool) or not isinstance(median, int | float):
            raise doc.error((*npath, "median"), "median must be a number")
        spread = _share(doc, (*npath, "spread"), spec.get("spread", 0.6), "spread", upper=5)
        scenario.numbers[str(name)] = NumberSpec(float(median), spread)
    effects = data.get("effects") or []
    if not isinstance(effects, list):
        raise doc.error(("effects",), "effects must be a list of planted models")
    scenario.effects = [_effect(doc, ("effects", i), e) for i, e in enumerate(effects)]
    outcomes = [e.outcome for e in scenario.effects]
    for i, effect in enumerate(scenario.effects):
        if outcomes.index(effect.outcome) != i:
            raise doc.error(("effects", i, "outcome"),
                            f"{effect.outcome!r} already has an effect: put all its odds ratios in "
                            "one entry (one planted model per outcome)")
    return scenario


def _effect(doc: Located, path: Path_, item: Any) -> Effect:
    if not isinstance(item, dict):
        raise doc.error(path, "each effect is a mapping with outcome, event, baseline, odds_ratios")
    for key in item:
        if key not in EFFECT_KEYS:
            raise doc.error((*path, key), f"an effect does not take {key!r}"
                            f"{_suggest(str(key), EFFECT_KEYS)}")
    for key in ("outcome", "event", "baseline", "odds_ratios"):
        if key not in item:
            raise doc.error(path, f"this effect needs {key!r}")
    baseline = item["baseline"]
    if isinstance(baseline, bool) or not isinstance(baseline, int | float) or not (
        0 < baseline < 1
    ):
        raise doc.error((*path, "baseline"), f"baseline is a probability strictly between 0 and 1, "
                        f"not {baseline!r}")
    ratios = item["odds_ratios"]
    if not isinstance(ratios, dict) or not ratios:
        raise doc.error((*path, "odds_ratios"),
                        "odds_ratios maps each predictor to {level: odds ratio}")
    parsed: dict[str, dict[str, float]] = {}
    for predictor, levels in ratios.items():
        ppath: Path_ = (*path, "odds_ratios", predictor)
        if not isinstance(levels, dict) or not levels:
            raise doc.error(ppath, f"give {predictor!r} a mapping {{level: odds ratio}}")
        parsed[str(predictor)] = {}
        for level, value in levels.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise doc.error((*ppath, level), f"an odds ratio must be a positive number, "
                                f"not {value!r}")
            parsed[str(predictor)][str(level)] = float(value)
    return Effect(outcome=str(item["outcome"]), event=str(item["event"]),
                  baseline=float(baseline), odds_ratios=parsed,
                  name=str(item.get("name") or ""), line=doc.line(path))


# -- checks against an instrument ------------------------------------------------------------------
def _question(scenario: Scenario, instrument: Instrument, path: Path_, name: str,
              what: str) -> Question:
    try:
        return instrument.question(name)
    except KeyError:
        names = [q.name for q in instrument.questions() if q.answers]
        raise scenario.error(path, f"{what} {name!r} is not a question of instrument "
                             f"{instrument.id!r}{_suggest(name, names)}") from None


def _values(question: Question) -> list[str]:
    return [c.value for c in question.choices]


def check_scenario(scenario: Scenario, instrument: Instrument) -> None:
    """Every name in the scenario must exist in the instrument, and predictors precede outcomes."""
    if scenario.languages is not None:
        for language in scenario.languages:
            if language not in instrument.languages:
                raise scenario.error(("languages", language),
                                     f"the instrument has no language {language!r}"
                                     f"{_suggest(language, list(instrument.languages))}",
                                     hint=f"languages: {', '.join(instrument.languages)}")
    for name, shares in scenario.marginals.items():
        question = _question(scenario, instrument, ("marginals", name), name, "marginals for")
        if not question.is_select:
            raise scenario.error(("marginals", name), f"{name!r} is a {question.type} question; "
                                 "marginals are for select_one and select_multiple")
        for value in shares:
            if value not in _values(question):
                raise scenario.error(("marginals", name, value),
                                     f"{name!r} has no choice {value!r}"
                                     f"{_suggest(value, _values(question))}")
    for name in scenario.numbers:
        question = _question(scenario, instrument, ("numbers", name), name, "numbers for")
        if question.type not in ("integer", "decimal"):
            raise scenario.error(("numbers", name), f"{name!r} is a {question.type} question, "
                                 "not integer or decimal")
    order = {q.name: i for i, q in enumerate(instrument.questions())}
    for i, effect in enumerate(scenario.effects):
        path: Path_ = ("effects", i)
        outcome = _question(scenario, instrument, (*path, "outcome"), effect.outcome, "the outcome")
        if outcome.type != "select_one":
            raise scenario.error((*path, "outcome"), f"the outcome {effect.outcome!r} must be a "
                                 f"select_one question, not {outcome.type}")
        substantive = [c.value for c in outcome.choices if not c.missing]
        if effect.event not in substantive:
            raise scenario.error((*path, "event"), f"{effect.outcome!r} has no answer "
                                 f"{effect.event!r}{_suggest(effect.event, substantive)}")
        if len(substantive) < 2:
            raise scenario.error((*path, "outcome"), "the outcome needs two or more answers")
        for predictor, levels in effect.odds_ratios.items():
            ppath: Path_ = (*path, "odds_ratios", predictor)
            if predictor in META_PREDICTORS:
                known = list(instrument.languages) if predictor == "language" else None
                if known is not None:
                    for level in levels:
                        if level not in known:
                            raise scenario.error((*ppath, level), f"the instrument has no "
                                                 f"language {level!r}{_suggest(level, known)}")
                continue
            question = _question(scenario, instrument, ppath, predictor, "the predictor")
            if question.type != "select_one":
                raise scenario.error(ppath, f"the predictor {predictor!r} must be a select_one "
                                     "question (or language or arm)")
            if order[predictor] >= order[effect.outcome]:
                raise scenario.error(ppath, f"the predictor {predictor!r} is asked after the "
                                     f"outcome {effect.outcome!r}",
                                     hint="a planted effect can only depend on earlier answers")
            choices = [c.value for c in question.choices if not c.missing]
            for level in levels:
                if level not in choices:
                    raise scenario.error((*ppath, level), f"{predictor!r} has no answer "
                                         f"{level!r}{_suggest(level, choices)}")


def reference_level(levels: list[str], odds_ratios: Mapping[str, float]) -> str:
    """The level the truth's coefficients are relative to: the first one without an odds ratio
    (odds ratio 1), else the first level."""
    for level in levels:
        if level not in odds_ratios:
            return level
    return levels[0]
