"""Checks of dates, years and people: the evaluation's dates, the project's period, signers, last year's targets."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from evaltools.domain.checks.registry import Context, Raised, check
from evaltools.domain.history import previous_error, previous_year
from evaltools.domain.model import PartialDate, ProjectParams, Signature, TeamMember
from evaltools.domain.rules import Rules
from evaltools.domain.workspace import display_path
from evaltools.domain.yamlio import Loc


def _evaluation_dates(params: ProjectParams) -> Iterator[tuple[Loc, object]]:
    evaluation = params.evaluation
    if evaluation.report_date:
        yield ("evaluation", "report_date"), evaluation.report_date
    for key in type(evaluation.signoff).model_fields:
        signature = getattr(evaluation.signoff, key)
        if signature is not None and signature.date is not None:
            yield ("evaluation", "signoff", key, "date"), signature.date
    if evaluation.form.date:
        yield ("evaluation", "form", "date"), evaluation.form.date


def _evaluation_years(ctx: Context) -> tuple[int, int]:
    return evaluation_years(ctx.params.year, ctx.rules)


def evaluation_years(year: int, rules: Rules) -> tuple[int, int]:
    """The years a self-evaluation of ``year`` is written and signed in, by the rules."""
    first, last = rules.evaluation_years_after
    return year + first, year + last


def dates_out_of_range(dates: Iterable[tuple[Loc, PartialDate]], year: int, rules: Rules) -> Iterator[Raised]:
    """Each date of an evaluation of ``year`` outside the years it is written in."""
    first, last = evaluation_years(year, rules)
    span = f"{first}年" if first == last else f"{first}—{last}年"
    for loc, when in dates:
        if not first <= when.year <= last:
            yield loc, f"日期 {when} 不在 {year} 年度自评的合理时间（{span}）内"


@check("DATE-RANGE", "error", "报告、签字或填报日期不在评价年度之后的合理范围内",
       basis="财政局评审实务：自评在评价年度之后进行",
       example="2024 年度自评，填报日期 2023 年 5 月")
def _date_range(ctx: Context) -> Iterator[Raised]:
    yield from dates_out_of_range(_evaluation_dates(ctx.params), ctx.params.year, ctx.rules)


@check("DATE-ORDER", "error", "项目起止时间颠倒，或评价日期早于项目结束",
       basis="财政局评审实务：评价在项目结束之后",
       example="项目 2024 年 12 月结束，报告日期 2024 年 10 月")
def _date_order(ctx: Context) -> Iterator[Raised]:
    period = ctx.params.project.period
    if period is None:
        return
    if period.start.first_day() > period.end.first_day():
        yield ("project", "period"), f"开始时间 {period.start} 晚于结束时间 {period.end}"
    first, last = _evaluation_years(ctx)
    for loc, when in _evaluation_dates(ctx.params):
        # A date outside the evaluation years is already a DATE-RANGE error: say it once.
        if first <= when.year <= last and (when.year, when.month) < (period.end.year, period.end.month):
            yield loc, f"日期 {when} 早于项目结束时间 {period.end}"


@check("PERIOD-YEAR", "warning", "项目起止时间与评价年度不重叠",
       basis="财政局评审实务：项目期间应含评价年度",
       example="2024 年度自评，项目期间 2021—2022 年")
def _period_year(ctx: Context) -> Iterator[Raised]:
    period = ctx.params.project.period
    if period is not None and not period.start.year <= ctx.params.year <= period.end.year:
        yield ("project", "period"), f"项目起止时间 {period.start}—{period.end} 不含评价年度 {ctx.params.year}"


@check("SIGNER", "warning", "评价组组长签字人不是评价人员名单中的组长",
       basis="财政局评审实务：评价组组长签字应是名单中的组长",
       example="签字人“王五”，名单中组长为“张三”")
def _signer(ctx: Context) -> Iterator[Raised]:
    evaluation = ctx.params.evaluation
    yield from signer_not_leader(evaluation.signoff.team_leader, evaluation.team, ("evaluation", "signoff", "team_leader", "name"))


def signer_not_leader(signed: Signature | None, team: Sequence[TeamMember], loc: Loc) -> Iterator[Raised]:
    """The 评价组组长's signature where it is not the team's 组长's."""
    leaders = [m.name for m in team if "组长" in m.role.replace(" ", "") and "副" not in m.role]
    if signed and signed.name and leaders and signed.name.replace(" ", "") not in leaders:
        yield loc, f"签字人“{signed.name}”不是评价人员名单中的组长（{'、'.join(leaders)}）"


@check("YEAR-FOLDER", "error", "参数文件所在的年度文件夹与 year 不符",
       basis="evaltools 工作区：params/<年度>/ 下的文件属该年度",
       example="params/2023/ 下的文件写 year: 2024")
def _year_folder(ctx: Context) -> Iterator[Raised]:
    if ctx.path is not None:
        yield from outside_its_year(ctx.path, ctx.params.year)


def outside_its_year(path: Path, year: int) -> Iterator[Raised]:
    """A file whose year is not the year folder's it is in."""
    for folder in path.resolve().parents:
        if re.fullmatch(r"(19|20)\d{2}", folder.name):
            if int(folder.name) != year:
                yield ("year",), f"文件在 {folder.name} 年度文件夹中，但 year 为 {year}"
            return


@check("TARGET-CHANGED", "warning", "指标值与上年同一指标（同名三级指标）不同，且未说明",
       basis="财政局评审实务：指标值年度间调整须说明（目标不得随意降低）",
       example="上年“≥95%”，今年“≥90%”，未作说明")
def _target_changed(ctx: Context) -> Iterator[Raised]:
    previous = previous_year(ctx.path) if ctx.path is not None else None
    if previous is None:
        return
    for index, indicator in enumerate(ctx.params.indicators):
        before = previous.targets.get(indicator.name)
        # Said in 偏差原因分析及改进措施 (naming last year's value): changed, but not silently.
        if before is not None and before.strip() != indicator.target.strip() and before not in (indicator.deviation or ""):
            yield ("indicators", index, "target"), (
                f"年度指标值由 {previous.year} 年的“{before}”改为“{indicator.target}”，未作说明：如属有意调整，"
                f"请在偏差原因分析及改进措施中写明上年指标值“{before}”及调整原因"
            )


@check("PREVIOUS-UNREADABLE", "warning", "上年参数文件存在但无法读取，报告中没有上年对照",
       basis="财政局评审实务：自评报告与上年对照（得分、执行率、指标值）",
       example="params/2023/…/项目.yaml 第 12 行 budget.total: 不是数字")
def _previous_unreadable(ctx: Context) -> Iterator[Raised]:
    error = previous_error(ctx.path) if ctx.path is not None else None
    if error is not None:
        first = error.problems[0]
        where = (display_path(first.file) if first.file else "") + (f" 第 {first.line} 行" if first.line else "") \
            + (f" {first.field}" if first.field else "")
        yield ("year",), f"上年的参数文件无法读取（{where}：{first.message}），报告中没有上年对照；请修正上年的文件"
