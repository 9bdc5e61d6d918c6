"""Checks of what a row's cells say: blank cells, a target in the name, units, a misfiled indicator."""

from __future__ import annotations

from collections.abc import Iterator

from evaltools.domain import reviewer
from evaltools.domain.checks.registry import Context, Raised, blank_actual, check
from evaltools.domain.model import is_blank
from evaltools.domain.scoring import IndicatorScore
from evaltools.domain.targets import plain_number


def _hidden_target(row: IndicatorScore) -> str | None:
    """The target written into the 三级指标 name when the 年度指标值 cell is empty."""
    return reviewer.target_in_name(row.indicator.name) if is_blank(row.indicator.target) else None


@check("BLANK-CELL", "error", "绩效指标的年度指标值或实际完成值为空，或有得分而分值为空")
def _blank_cell(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        indicator = row.indicator
        if _hidden_target(row):
            continue  # TARGET-IN-NAME says it better
        if is_blank(indicator.target):
            yield ("indicators", row.index, "target"), f"“{indicator.name}”的年度指标值为空"
        if blank_actual(row):
            yield ("indicators", row.index, "actual"), f"“{indicator.name}”的实际完成值为空"
        if indicator.weight is None and indicator.score is not None:
            yield ("indicators", row.index, "weight"), (
                f"“{indicator.name}”填了得分 {plain_number(indicator.score)}，分值却为空")


@check("TARGET-IN-NAME", "error", "指标值写进了三级指标名称，年度指标值（或实际完成值）栏却为空")
def _target_in_name(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        hidden = _hidden_target(row)
        if hidden:
            empty = "年度指标值、实际完成值均为空" if blank_actual(row) else "年度指标值为空"
            yield ("indicators", row.index, "target"), (
                f"“{row.indicator.name}”把指标值“{hidden}”写进了名称，{empty}；应写入年度指标值栏并填实际完成值")


def _unit_problems(ctx: Context, certain: bool) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        if not row.target.is_quantitative:
            continue
        for message, is_certain in reviewer.unit_problems(row.indicator.name, row.target, row.actual):
            if is_certain == certain:
                yield ("indicators", row.index, "target" if "指标值却" in message else "actual"), message


@check("UNIT-FIT", "error", "数值与单位对不上：比率超过100%，或元与万元相差一万倍")
def _unit_fit(ctx: Context) -> Iterator[Raised]:
    yield from _unit_problems(ctx, certain=True)


@check("UNIT-DOUBT", "warning", "单位与指标的性质不符（数量却以%计），请核对")
def _unit_doubt(ctx: Context) -> Iterator[Raised]:
    yield from _unit_problems(ctx, certain=False)


@check("WRONG-CATEGORY", "warning", "指标疑似放错了类别（成本放在效益下、非满意度放在满意度下等），并说明依据")
def _wrong_category(ctx: Context) -> Iterator[Raised]:
    for row in ctx.card.indicators:
        found = reviewer.misplaced(row.indicator.name, row.level1, row.level2, row.target)
        if found:
            yield ("indicators", row.index, "level2"), (
                f"“{row.indicator.name}”放在{row.level2}下，看来应属{found.should_be}：{found.why}")
