"""Synthetic respondents walking an instrument page by page, as the survey server would see them.

Each respondent is walked through the real survey flow (`offramp.survey.flow`): a page is shown
only when its skip logic holds, choices are filtered by their choice_filter, calculations run after
every page, and an answer that breaks its constraint is never given. What the flow decides from the
answers *before* a page is what the server would have rendered, so the synthetic record is one a
real respondent could have produced (`flow.final_answers` makes it).

How answers are drawn (the model behind them, so that the truth is exact):

- Language, arm and fielding day are drawn first (scenario shares; days with a launch peak).
- Attentive respondents answer each select_one from the question's marginal shares (scenario, or
  fixed pseudo-random shares derived from the question's name so every seed samples the *same*
  population). Items with numeric choice values (Likert scales) are drawn by thresholding a
  latent normal score shared within a grid and, more weakly, across the whole questionnaire:
  items of a battery correlate as real ones do, while each item keeps its marginal exactly.
- A select_one with a planted effect is drawn from its logistic model (scenario.py).
- Missingness is completely at random: each respondent has their own propensity (a gamma
  multiplier of the scenario's mean rate) to say "prefer not to say", "don't know", or to leave
  a question blank; so every estimate among substantive answers stays unbiased.
- Careless respondents (speeders and straight-liners) answer uniformly at random; speeders take a
  tenth to a third of the usual time per page, straight-liners give one position to every item of
  each grid. The export's quality flags catch them; excluding flagged respondents recovers truth.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from offramp.data.quality import grids
from offramp.survey import flow
from offramp.survey.expressions import ExpressionError, parse, truthy
from offramp.survey.instrument import Choice, Instrument, Question
from offramp.synth.opentext import open_answer
from offramp.synth.scenario import Effect, Scenario, reference_level

SPEEDER = "speeder"
STRAIGHTLINER = "straightliner"
EXCLUSIVE_VALUES = frozenset({"none", "none_of_these", "nothing"})
"""Multi-select choices that mean "none of the above": never ticked with another choice."""
_SECONDS = {"select_one": 6.0, "select_multiple": 10.0, "rank": 15.0, "integer": 8.0,
            "decimal": 8.0, "note": 3.0}
_LOADING = 0.55
"""Correlation of a Likert item's latent score with its grid's factor."""
_UNIQUE = math.sqrt(1 - _LOADING**2)
_NORMAL = NormalDist()


@dataclass
class SyntheticResponse:
    """One respondent as the export would have opened them."""

    answers: dict[str, Any]
    shown: list[str]
    page_seconds: dict[str, int]
    language: str
    arm: str
    day: dt.date
    seconds: int
    last_page: str
    careless: str | None = None
    given: dict[str, Any] = field(default_factory=dict)
    """Every answer given, page by page (what --via posts), before final_answers trims it."""


@dataclass
class _Plan:
    """What is fixed about a question for all respondents."""

    question: Question
    substantive: list[Choice]
    missing: dict[str, Choice]
    weights: dict[str, float]
    explicit_missing: dict[str, float]
    ordinal: bool
    cuts: list[float]
    group: str
    tick: dict[str, float]
    cumulative: list[float]
    """Cumulative shares of the substantive choices, for one bisect per draw."""


def _unit(*parts: str) -> float:
    """A number in [0, 1) fixed by its parts: the same for every seed and every run."""
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _default_weights(instrument_id: str, question: Question, choices: list[Choice]
                     ) -> dict[str, float]:
    """Uneven but plausible shares, fixed by the question's name (a Dirichlet(3) draw)."""
    seed = int(_unit(instrument_id, question.name, "weights") * 2**32)
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet([3.0] * len(choices)) if choices else np.array([])
    return {c.value: float(s) for c, s in zip(choices, shares, strict=True)}


def _is_ordinal(choices: list[Choice]) -> bool:
    values = [c.value for c in choices]
    if len(values) < 3:
        return False
    try:
        numbers = [int(v) for v in values]
    except ValueError:
        return False
    return numbers == sorted(numbers)


def _cuts(weights: list[float]) -> list[float]:
    """Thresholds on a standard normal score giving these category shares."""
    total = sum(weights)
    cumulative = 0.0
    cuts = []
    for w in weights[:-1]:
        cumulative += w / total
        cuts.append(_NORMAL.inv_cdf(min(max(cumulative, 1e-12), 1 - 1e-12)))
    return cuts


def _holds(expression: str | None, answers: Mapping[str, Any], current: Any = None) -> bool:
    if not expression:
        return True
    try:
        return truthy(parse(expression).evaluate(answers, current))
    except ExpressionError:
        return False


def _cumulative(weights: Any) -> list[float]:
    """Normalised cumulative shares (uniform when they add up to nothing)."""
    values = [float(w) for w in weights]
    total = sum(values)
    if total <= 0:
        values, total = [1.0] * len(values), float(len(values))
    out, running = [], 0.0
    for w in values:
        running += w / total
        out.append(running)
    out[-1] = 1.0
    return out


def _pick(rng: random.Random, cumulative: list[float]) -> int:
    """An index drawn with the shares behind `cumulative`."""
    return min(bisect.bisect(cumulative, rng.random()), len(cumulative) - 1)


def _weighted(rng: random.Random, choices: list[Choice], weights: Mapping[str, float]) -> str:
    """A choice drawn in proportion to its weight (uniformly if none has weight)."""
    return choices[_pick(rng, _cumulative([weights.get(c.value, 0.0) for c in choices]))].value


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class Generator:
    """Draws respondents for one instrument under one scenario; `truth()` says what was planted."""

    def __init__(self, instrument: Instrument, scenario: Scenario, seed: int) -> None:
        self.instrument = instrument
        self.scenario = scenario
        # Scalar draws dominate (a few dozen per respondent): Python's generator is several times
        # faster per draw than numpy's. Simulation, not secrets.
        self.rng = random.Random(seed)  # noqa: S311 - simulation, not secrets
        self.plans = {q.name: self._plan(q) for q in instrument.questions() if q.answers}
        self.effects = {e.outcome: e for e in scenario.effects}
        self.grid_of: dict[str, int] = {}
        for index, names in enumerate(grids([instrument], 3)):
            for name in names:
                self.grid_of[name] = index
        languages = scenario.languages or {lang: 1.0 for lang in instrument.languages}
        self.languages = list(languages)
        self.language_p = np.array([languages[k] for k in self.languages], dtype=np.float64)
        self.language_p /= self.language_p.sum()
        self.arms = list(scenario.arms)
        self.arm_p = np.array([scenario.arms[k] for k in self.arms], dtype=np.float64)
        self.arm_p /= self.arm_p.sum()
        days = np.arange(scenario.days, dtype=np.float64)
        weekday = np.array([0.8 if (scenario.start + dt.timedelta(days=int(d))).weekday() >= 5
                            else 1.0 for d in days])
        day_w = (1.0 + 1.5 * np.exp(-days / 20.0)) * weekday  # a launch peak, then steady
        self.day_p = day_w / day_w.sum()
        self.careless_p = np.array([scenario.speeders, scenario.straightliners,
                                    1.0 - scenario.speeders - scenario.straightliners])
        self.language_cum = _cumulative(self.language_p)
        self.arm_cum = _cumulative(self.arm_p)
        self.day_cum = _cumulative(self.day_p)
        self.careless_cum = _cumulative(self.careless_p)
        self.counts = {SPEEDER: 0, STRAIGHTLINER: 0, "attentive": 0}

    # -- what is fixed per question ----------------------------------------------------------------
    def _plan(self, question: Question) -> _Plan:
        substantive = [c for c in question.choices if not c.missing]
        missing: dict[str, Choice] = {str(c.missing): c for c in question.choices if c.missing}
        given = self.scenario.marginals.get(question.name)
        explicit_missing: dict[str, float] = {}
        if question.type == "select_one" and given:
            weights = {c.value: given.get(c.value, 0.0) for c in substantive}
            explicit_missing = {c.value: given[c.value] for c in missing.values()
                                if c.value in given}
            if sum(weights.values()) <= 0:
                weights = _default_weights(self.instrument.id, question, substantive)
        else:
            weights = _default_weights(self.instrument.id, question, substantive)
        if explicit_missing:
            total = sum(weights.values()) + sum(explicit_missing.values())
            weights = {k: v / total for k, v in weights.items()}
            explicit_missing = {k: v / total for k, v in explicit_missing.items()}
        ordinal = question.type == "select_one" and _is_ordinal(substantive)
        cuts = _cuts([weights[c.value] for c in substantive]) if ordinal else []
        tick: dict[str, float] = {}
        if question.type == "select_multiple":
            given_ticks = given or {}
            for c in substantive:
                default = 0.1 + 0.45 * _unit(self.instrument.id, question.name, c.value, "tick")
                tick[c.value] = min(max(given_ticks.get(c.value, default), 0.0), 1.0)
        group = question.block or f"{question.choice_list or question.name}"
        cumulative = _cumulative([weights.get(c.value, 0.0) for c in substantive] or [1.0])
        return _Plan(question, substantive, missing, weights, explicit_missing, ordinal, cuts,
                     group, tick, cumulative)

    # -- one respondent ----------------------------------------------------------------------------
    def respondent(self) -> SyntheticResponse:
        rng = self.rng
        language = self.languages[_pick(rng, self.language_cum)]
        arm = self.arms[_pick(rng, self.arm_cum)]
        day = self.scenario.start + dt.timedelta(days=_pick(rng, self.day_cum))
        kind_index = _pick(rng, self.careless_cum)
        careless = (SPEEDER, STRAIGHTLINER, None)[kind_index]
        self.counts[careless or "attentive"] += 1
        state = _Respondent(
            language=language, arm=arm, careless=careless,
            general=rng.gauss(0.0, 1.0),
            refuse=min(0.9, self.scenario.refused * rng.expovariate(1.0)),
            dont_know=min(0.9, self.scenario.dont_know * rng.expovariate(1.0)),
            blank=min(0.9, self.scenario.unanswered * rng.expovariate(1.0)),
            pace=rng.uniform(0.08, 0.3) if careless == SPEEDER else rng.lognormvariate(0.0, 0.3),
        )
        answers: dict[str, Any] = {}
        page_seconds: dict[str, int] = {}
        index = flow.next_page(self.instrument, -1, answers)
        last = self.instrument.pages[0].id
        while index is not None:
            page = self.instrument.pages[index]
            before = dict(answers)  # what the server renders the page from
            seconds = 3.0
            for question in flow.visible_questions(page, before):
                if not question.answers or question.type == "calculate":
                    seconds += _SECONDS["note"]
                    continue
                value = self._answer(question, before, answers, state)
                if value is not None:
                    answers[question.name] = value
                seconds += self._seconds(question, value)
            flow.apply_calculations(self.instrument, answers)
            noise = rng.lognormvariate(0.0, 0.25)
            page_seconds[page.id] = max(1, round(seconds * state.pace * noise))
            last = page.id
            index = flow.next_page(self.instrument, index, answers)
        final = flow.final_answers(self.instrument, answers)
        total = sum(page_seconds.values()) + max(1, round(20 * state.pace))
        return SyntheticResponse(
            answers=final["answers"], shown=final["shown"], page_seconds=page_seconds,
            language=language, arm=arm, day=day, seconds=total, last_page=last,
            careless=careless, given=answers,
        )

    def _seconds(self, question: Question, value: Any) -> float:
        if question.type == "text":
            return 30.0 if value not in (None, "") and not str(value).startswith("-9") else 5.0
        return _SECONDS.get(question.type, 6.0)

    def _answer(self, question: Question, before: Mapping[str, Any], answers: Mapping[str, Any],
                state: _Respondent) -> Any:
        plan = self.plans[question.name]
        rng = self.rng
        if state.careless is None and not question.required and rng.random() < state.blank:
            return None
        if state.careless is None:
            for kind, rate in (("refused", state.refuse), ("dont_know", state.dont_know)):
                choice = plan.missing.get(kind)
                if choice is not None and choice.value not in plan.explicit_missing \
                        and rng.random() < rate:
                    return choice.value
        qtype = question.type
        if qtype == "select_one":
            return self._select_one(plan, before, answers, state)
        if qtype == "select_multiple":
            return self._select_multiple(plan, before, answers, state)
        if qtype == "rank":
            return self._rank(plan, before, state)
        if qtype in ("integer", "decimal"):
            return self._number(plan, answers, state)
        if qtype == "text":
            if state.careless is not None or rng.random() >= self.scenario.text_answered:
                return None
            return open_answer(rng, state.language, question.max_length)
        return None

    def _visible(self, plan: _Plan, before: Mapping[str, Any], state: _Respondent) -> list[Choice]:
        shown = flow.visible_choices(plan.question, before, None)
        return [c for c in shown if not c.missing]

    def _allowed(self, plan: _Plan, choices: list[Choice], answers: Mapping[str, Any]
                 ) -> list[Choice]:
        constraint = plan.question.constraint
        if not constraint:
            return choices
        scope = dict(answers)
        kept = []
        for c in choices:
            scope[plan.question.name] = c.value
            if _holds(constraint, scope, c.value):
                kept.append(c)
        return kept

    def _select_one(self, plan: _Plan, before: Mapping[str, Any], answers: Mapping[str, Any],
                    state: _Respondent) -> str | None:
        rng = self.rng
        visible = self._allowed(plan, self._visible(plan, before, state), answers)
        if not visible:
            refused = plan.missing.get("refused")
            return refused.value if refused is not None else None
        name = plan.question.name
        if state.careless == STRAIGHTLINER and name in self.grid_of:
            position = state.grid_positions.setdefault(
                self.grid_of[name], rng.randrange(len(plan.substantive)))
            wanted = plan.substantive[position].value
            for c in visible:
                if c.value == wanted:
                    return c.value
        if state.careless is not None:
            return visible[rng.randrange(len(visible))].value
        if plan.explicit_missing:
            total_missing = sum(plan.explicit_missing.values())
            if rng.random() < total_missing:
                values = list(plan.explicit_missing)
                return rng.choices(values, [plan.explicit_missing[v] for v in values])[0]
        effect = self.effects.get(name)
        full = len(visible) == len(plan.substantive)
        if effect is not None and full:
            return self._from_effect(effect, plan, answers, state)
        if plan.ordinal and full:
            factor = state.factors.get(plan.group)
            if factor is None:
                factor = 0.6 * state.general + 0.8 * rng.gauss(0.0, 1.0)
                state.factors[plan.group] = factor
            score = _LOADING * factor + _UNIQUE * rng.gauss(0.0, 1.0)
            return plan.substantive[bisect.bisect(plan.cuts, score)].value
        if full:
            return plan.substantive[_pick(rng, plan.cumulative)].value
        return _weighted(rng, visible, plan.weights)

    def _from_effect(self, effect: Effect, plan: _Plan, answers: Mapping[str, Any],
                     state: _Respondent) -> str:
        predictor = _logit(effect.baseline)
        for name, ratios in effect.odds_ratios.items():
            if name == "language":
                level: Any = state.language
            elif name == "arm":
                level = state.arm
            else:
                level = answers.get(name)
            if isinstance(level, str) and level in ratios:
                predictor += math.log(ratios[level])
        if self.rng.random() < _expit(predictor):
            return effect.event
        others = [c for c in plan.substantive if c.value != effect.event]
        return _weighted(self.rng, others, plan.weights)

    def _select_multiple(self, plan: _Plan, before: Mapping[str, Any], answers: Mapping[str, Any],
                         state: _Respondent) -> list[str] | None:
        rng = self.rng
        visible = self._visible(plan, before, state)
        if not visible:
            return None
        plain = [c for c in visible if c.value not in EXCLUSIVE_VALUES]
        exclusive = [c for c in visible if c.value in EXCLUSIVE_VALUES]
        for _ in range(10):
            if state.careless is not None:
                picked = [c.value for c in plain if rng.random() < 0.5]
            else:
                picked = [c.value for c in plain if rng.random() < plan.tick[c.value]]
            if not picked:
                if exclusive:
                    picked = [exclusive[0].value]
                elif plain:
                    best = max(plain, key=lambda c: plan.tick.get(c.value, 0.5))
                    picked = [best.value]
            scope = {**answers, plan.question.name: picked}
            if _holds(plan.question.constraint, scope, picked):
                return picked
        return None

    def _rank(self, plan: _Plan, before: Mapping[str, Any], state: _Respondent
              ) -> list[str] | None:
        visible = self._visible(plan, before, state)
        if not visible:
            return None
        weights = [plan.weights.get(c.value, 1.0) for c in visible]
        if state.careless is not None or sum(weights) <= 0:
            weights = [1.0] * len(visible)
        # Plackett-Luce (first place by weight, then the next among the rest, ...) drawn at once
        # with exponential keys: E_i / w_i in increasing order.
        keys = [self.rng.expovariate(1.0) / w if w > 0 else math.inf for w in weights]
        return [c.value for _, c in sorted(zip(keys, visible, strict=True),
                                           key=lambda pair: pair[0])]

    def _number(self, plan: _Plan, answers: Mapping[str, Any], state: _Respondent
                ) -> int | float | None:
        question = plan.question
        spec = self.scenario.numbers.get(question.name)
        median, spread = (spec.median, spec.spread) if spec else (10.0, 0.8)
        integer = question.type == "integer"
        scope = dict(answers)
        for _ in range(30):
            if state.careless is not None:
                raw = self.rng.uniform(0, 2 * max(median, 1.0))
            else:
                raw = median * self.rng.lognormvariate(0.0, spread) if median > 0 else \
                    self.rng.gauss(median, spread)
            value: int | float = round(raw) if integer else round(raw, 1)
            scope[question.name] = value
            if _holds(question.constraint, scope, value):
                return value
        candidates = [v for v in range(-10, 1001)
                      if _holds(question.constraint, {**scope, question.name: v}, v)]
        if not candidates:
            return None
        pick = candidates[self.rng.randrange(len(candidates))]
        return pick if integer else float(pick)

    # -- the truth ---------------------------------------------------------------------------------
    def truth(self) -> dict[str, Any]:
        """The planted effects and marginals, as the analysis would report them."""
        effects = []
        for effect in self.scenario.effects:
            reference: dict[str, str] = {}
            terms: dict[str, float] = {}
            const = _logit(effect.baseline)
            for name, ratios in effect.odds_ratios.items():
                if name == "language":
                    levels = [k for k in self.languages
                              if self.language_p[self.languages.index(k)] > 0]
                elif name == "arm":
                    levels = [k for k in self.arms if self.arm_p[self.arms.index(k)] > 0]
                else:
                    levels = [c.value for c in self.plans[name].substantive]
                ref = reference_level(levels, ratios)
                reference[name] = ref
                ref_log = math.log(ratios.get(ref, 1.0))
                const += ref_log
                for level in levels:
                    if level != ref:
                        terms[f"{name}[{level}]"] = math.log(ratios.get(level, 1.0)) - ref_log
            effects.append({
                "name": effect.name, "outcome": effect.outcome, "event": effect.event,
                "model": "logit", "predictors": effect.predictors, "reference": reference,
                "terms": {"const": const, **terms},
                "odds_ratios": {k: math.exp(v) for k, v in terms.items()},
                "scenario_line": effect.line,
            })
        marginals: dict[str, Any] = {}
        for name in self.scenario.marginals:
            plan = self.plans.get(name)
            if plan is None or plan.question.type != "select_one" or name in self.effects \
                    or plan.question.choice_filter or plan.question.constraint:
                continue
            total = sum(plan.weights.values())
            marginals[name] = {"valid_percent": {v: 100.0 * w / total
                                                 for v, w in plan.weights.items() if w > 0}}
        return {"effects": effects, "marginals": marginals,
                "population": "attentive respondents: those not flagged qc_speeder or "
                              "qc_straightline (careless respondents answer at random)"}


@dataclass
class _Respondent:
    language: str
    arm: str
    careless: str | None
    general: float
    refuse: float
    dont_know: float
    blank: float
    pace: float
    factors: dict[str, float] = field(default_factory=dict)
    grid_positions: dict[int, int] = field(default_factory=dict)
