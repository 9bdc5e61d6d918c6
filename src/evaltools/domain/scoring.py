"""Scores by the rules: 预算执行率, each indicator, the levels, 总分 and 等级.

Everything here is computed from the parameters and the rules; figures a form merely states
(``declared``, an indicator's ``score`` where the rules can compute it) are compared with these
by :mod:`evaltools.domain.checks`, never used in their place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from evaltools.domain import formatting
from evaltools.domain.model import BudgetRow, Indicator, ProjectParams
from evaltools.domain.rules import Rules
from evaltools.domain.targets import Operator, Quantity, Target, find_quantity, parse_quantity, parse_target

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
TEN_THOUSAND = Decimal(10_000)

Method = Literal["rule", "evaluator", "missing"]

# What a form writes as the 实际完成值 of a zero target ("0起" → "无").
NONE_HAPPENED = frozenset({"无", "零", "没有", "未发生", "无发生", "0"})


@dataclass(frozen=True)
class ExecutionScore:
    """预算执行率 of the 年度资金总额 row and its score."""

    budget: BudgetRow
    rate: Decimal | None  # a fraction (1 = 100%); None when there is no 全年预算数
    weight: Decimal
    score: Decimal

    @property
    def over_budget(self) -> bool:
        spent = self.budget.executed or ZERO
        return (self.rate is not None and self.rate > ONE) or (self.rate is None and spent > 0)


@dataclass(frozen=True)
class IndicatorScore:
    index: int
    indicator: Indicator
    level1: str | None  # None when the 二级指标 is not in the rules
    level2: str
    target: Target
    actual: Quantity | None  # the measured value in the target's unit, for quantitative rows
    weight: Decimal
    score: Decimal
    method: Method
    met: bool | None = None  # quantitative rows: was the target reached
    overachieved: bool = False
    unit_mismatch: bool = False  # actual's unit does not convert to the target's
    unit_suspect: bool = False  # money about 10⁴ off the target: 元 written where 万元 is meant

    @property
    def lost(self) -> Decimal:
        return self.weight - self.score


@dataclass(frozen=True)
class LevelScore:
    name: str
    weight: Decimal  # sum of its indicators' weights
    expected_weight: Decimal | None  # what the rules give this level; None when they leave it free
    score: Decimal


@dataclass(frozen=True)
class ScoreCard:
    execution: ExecutionScore
    indicators: list[IndicatorScore]
    levels: list[LevelScore]
    total: Decimal
    grade: str
    funding_rate: Decimal | None = None  # 资金到位率: received / planned

    @property
    def lost(self) -> list[IndicatorScore]:
        return [row for row in self.indicators if row.lost > 0]


def execution_score(budget: BudgetRow, rules: Rules) -> ExecutionScore:
    weight = rules.execution.weight
    annual, executed = budget.annual or ZERO, budget.executed or ZERO
    rate = executed / annual if annual > 0 else None
    score = rules.round(min(rate, ONE) * weight) if rate is not None else ZERO
    return ExecutionScore(budget, rate, weight, score)


def quantitative_score(target: Target, actual: Decimal, weight: Decimal) -> tuple[Decimal, bool]:
    """Score of a measured value against a numeric target, and whether the target was met.

    ≥ / > : full marks when met, else actual/target × weight.
    ≤ / < : full marks when met, else (1 − (actual − target)/target) × weight, 0 at twice the target.
    =     : as ≥; with a target of 0, full marks only when actual ≤ 0.
    A strict target is met only beyond its value: ">95%" with 95 is not met. A target not met
    never scores full marks (see :func:`indicator_score`, which keeps it one step below).
    Negative actuals count as 0; the score never exceeds the weight nor falls below 0.
    """
    assert target.quantity is not None and target.operator is not None
    goal = target.quantity.value
    actual = max(actual, ZERO)
    op = target.operator
    if op in (Operator.GE, Operator.GT, Operator.EQ):
        if op == Operator.EQ and goal == 0:
            met = actual <= 0
        else:
            met = actual > goal if op == Operator.GT else actual >= goal
        share = ONE if met else (actual / goal if goal > 0 else ZERO)
    else:
        met = actual < goal if op == Operator.LT else actual <= goal
        if met:
            share = ONE
        elif goal > 0:
            share = ONE - (actual - goal) / goal
        else:
            share = ZERO
    share = min(max(share, ZERO), ONE)
    return share * weight, met


def _rounded_score(raw: Decimal, weight: Decimal, met: bool, rules: Rules) -> Decimal:
    """The score at the form's precision; a target not met stays at least one step below full
    marks (">95%" with 95, or 94.999 against ≥95, would otherwise round to full marks)."""
    rounded = rules.round(raw)
    step = Decimal(1).scaleb(-rules.decimals)
    if not met and rounded >= weight and weight > 0:
        return max(weight - step, ZERO)
    return rounded


def _overachieved(target: Target, actual: Decimal, threshold: Decimal) -> bool:
    assert target.quantity is not None
    goal = target.quantity.value
    if goal <= 0:
        return False
    if target.operator in (Operator.LE, Operator.LT):
        return actual <= goal * (ONE - threshold)
    return actual >= goal * (ONE + threshold)


def off_by_ten_thousand(actual: Quantity, target: Target) -> bool:
    """A money value about 10⁴ times (or 1/10⁴ of) its target: 元 and 万元 mixed up."""
    assert target.quantity is not None
    goal = target.quantity.value
    if target.quantity.unit not in ("元", "万元", "亿元") or actual.value <= 0 or goal <= 0:
        return False
    ratio = actual.value / goal
    return TEN_THOUSAND / 3 <= ratio <= TEN_THOUSAND * 3 or 1 / (TEN_THOUSAND * 3) <= ratio <= 3 / TEN_THOUSAND


def measured_value(indicator: Indicator, target: Target) -> Quantity | None:
    """实际完成值 as a number: ``actual_value``, else the 实际完成值 cell when it is a lone value
    ("100%", "106.62万元") or a sentence with one value in the target's unit ("完成32处维修")."""
    assert target.quantity is not None
    unit = target.quantity.unit
    if indicator.actual_value is not None:
        return parse_quantity(indicator.actual_value, unit)
    text = indicator.actual.strip()
    if not text:
        return None
    if target.quantity.value == 0 and text.rstrip("。.") in NONE_HAPPENED:
        return Quantity(ZERO, unit)  # "安全事故 0起": "无"
    return parse_quantity(text, unit) or find_quantity(text, unit)


def indicator_score(index: int, indicator: Indicator, rules: Rules) -> IndicatorScore:
    level2 = rules.canonical_category(indicator.level2) or indicator.level2
    level1 = rules.level_of(level2)
    target = parse_target(indicator.target, rules.default_operator_for(level2))
    common = dict(index=index, indicator=indicator, level1=level1, level2=level2, target=target,
                  weight=indicator.weight if indicator.weight is not None else ZERO)
    stated = indicator.score
    if not target.is_quantitative:
        if stated is None:
            return IndicatorScore(**common, actual=None, score=ZERO, method="missing")
        return IndicatorScore(**common, actual=None, score=rules.round(stated), method="evaluator")

    def unscored(actual: Quantity | None, **flags: bool) -> IndicatorScore:
        # The rule cannot score the row (no number, no 分值, units that do not fit): the checks
        # say why; the totals keep what the form states, so that one defect is reported once.
        given = rules.round(stated) if stated is not None else ZERO
        return IndicatorScore(**common, actual=actual, score=given, method="missing", **flags)

    assert target.quantity is not None
    measured = measured_value(indicator, target)
    if measured is None:
        return unscored(None)
    converted = measured.to(target.quantity.unit)
    if converted is None:
        return unscored(measured, unit_mismatch=True)
    if indicator.weight is None:
        return unscored(converted)
    if off_by_ten_thousand(converted, target):
        return unscored(converted, unit_suspect=True)
    weight = common["weight"]
    raw, met = quantitative_score(target, converted.value, weight)
    return IndicatorScore(
        **common, actual=converted, score=_rounded_score(raw, weight, met, rules), method="rule", met=met,
        overachieved=_overachieved(target, converted.value, rules.overachievement),
    )


def _expected_level_weights(rows: list[IndicatorScore], rules: Rules) -> dict[str, Decimal | None]:
    weights = {name: level.weight for name, level in rules.levels.items()}
    moved = rules.redistribute
    if moved is not None and weights.get(moved.source) is not None and not any(r.level1 == moved.source for r in rows):
        # Its points move to the receiving levels, which then share them as they see fit.
        weights[moved.source] = ZERO
    return weights


def level_scores(rows: list[IndicatorScore], rules: Rules) -> list[LevelScore]:
    expected = _expected_level_weights(rows, rules)
    levels = []
    for name in rules.levels:
        members = [r for r in rows if r.level1 == name]
        levels.append(LevelScore(
            name=name,
            weight=sum((r.weight for r in members), ZERO),
            expected_weight=expected[name],
            score=sum((r.score for r in members), ZERO),
        ))
    return levels


def funding_rate(params: ProjectParams) -> Decimal | None:
    if params.investment is None:
        return None
    planned = params.investment.planned.computed_total
    return params.investment.received.computed_total / planned if planned > 0 else None


def score_budget_and_indicators(budget: BudgetRow, indicators: Sequence[Indicator], rules: Rules,
                                funding: Decimal | None = None) -> ScoreCard:
    """The score card of a 年度资金总额 row and a list of indicators (a project or a department)."""
    execution = execution_score(budget, rules)
    # Rows marked "/" (a category the project does not use) are on the form but not scored.
    rows = [indicator_score(i, indicator, rules) for i, indicator in enumerate(indicators)
            if not indicator.not_applicable]
    levels = level_scores(rows, rules)
    total = rules.round(execution.score + sum((r.score for r in rows), ZERO))
    return ScoreCard(execution, rows, levels, total, rules.grade(total), funding)


def score(params: ProjectParams, rules: Rules) -> ScoreCard:
    return score_budget_and_indicators(params.budget.computed_total, params.indicators, rules, funding_rate(params))


def percent(rate: Decimal | None, rules: Rules) -> str:
    """A rate as the form shows it: "100.00%", or "—" when there is none."""
    return formatting.percent(rate, rules)




def as_dict(card: ScoreCard, rules: Rules) -> dict:
    """The score card as plain data for ``--json``: numbers as numbers, the unit in the key
    (万元, percent); the rules' rounding is applied to what the rules round (scores)."""
    budget = card.execution.budget
    return {
        "total_score": formatting.number(card.total),
        "grade": card.grade,
        "execution_rate_percent": formatting.percent_number(card.execution.rate),
        "execution_score": formatting.number(card.execution.score),
        "execution_weight": formatting.number(card.execution.weight),
        "budget_wan_yuan": {column: formatting.number(getattr(budget, column)) for column in ("initial", "annual", "executed")},
        "funding_rate_percent": formatting.percent_number(card.funding_rate),
        "levels": [{"name": level.name, "weight": formatting.number(level.weight), "score": formatting.number(level.score)}
                   for level in card.levels],
        "indicators": [
            {
                "level1": row.level1, "level2": row.level2, "name": row.indicator.name,
                "target": row.indicator.target, "kind": row.target.kind,
                "actual_value": formatting.number(row.actual.value) if row.actual else None,
                "actual_unit": row.actual.unit if row.actual else None,
                "weight": formatting.number(row.weight), "score": formatting.number(row.score), "lost": formatting.number(row.lost),
                "method": row.method, "met": row.met,
            }
            for row in card.indicators
        ],
        "rules": rules.name,
    }
