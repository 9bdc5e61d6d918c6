"""What a reviewer reads between the lines: explanations missing, a budget restated, text against the table."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from evaltools.domain import reviewer
from evaltools.domain.checks.registry import Context, Raised, check, texts
from evaltools.domain.model import BudgetRow, ProjectParams, is_blank
from evaltools.domain.scoring import HUNDRED, percent
from evaltools.domain.targets import plain_number
from evaltools.domain.yamlio import Loc


def _explanations(params: ProjectParams) -> list[str]:
    """Where a form or report explains its money: the 原因 column, 偏差原因, the report's text."""
    found = [text for text in params.budget.reasons + [i.deviation or "" for i in params.indicators]
             if reviewer.gives_reason(text)]
    found += [params.goals.achieved]
    for part in (params.summary, params.narrative):
        found += [text for _, text in texts(part)]
    return [t for t in found if t]


@check("BUDGET-ADJUSTED", "warning", "预算调整（年初预算数≠全年预算数）却未说明原因",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：年初预算数与全年预算数不同的，须说明调整原因",
       example="年初 80 万元，全年 100 万元，未说明追加依据")
def _budget_adjusted(ctx: Context) -> Iterator[Raised]:
    amounts = ctx.card.execution.budget
    if amounts.initial is None or amounts.annual is None or amounts.initial == amounts.annual:
        return
    if reviewer.mentions(reviewer.ADJUSTMENT_WORDS, _explanations(ctx.params)) or any(
            map(reviewer.gives_reason, ctx.params.budget.reasons)):
        return
    changed = next((key for key, row in ctx.params.budget.rows()
                    if row.initial is not None and row.annual is not None and row.initial != row.annual), "total")
    yield ("budget", changed, "reason"), (
        f"年初预算数 {plain_number(amounts.initial)} 万元调整为全年预算数 {plain_number(amounts.annual)} 万元，"
        "未说明调整原因（追加、调减或调剂的依据）")


@check("EXEC-UNEXPLAINED", "warning", "预算执行率低于100%（或省里规则所定的比例，如90%）却未说明原因",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：执行率未达 100%（省里规则可定 90% 等）的，须说明原因",
       example="执行率 86.2%，原因栏为空")
def _execution_unexplained(ctx: Context) -> Iterator[Raised]:
    rate, threshold = ctx.card.execution.rate, ctx.rules.execution.explain_below
    # compared as the form shows it: 99.996 % is "100.00%", not below 100 %
    if rate is None or ctx.rules.round(rate * HUNDRED) >= threshold * HUNDRED:
        return
    if reviewer.mentions(reviewer.UNSPENT_WORDS, _explanations(ctx.params)):
        return
    below = "100%" if threshold == 1 else f"{plain_number(threshold * HUNDRED)}%（{ctx.rules.name}）"
    budget = ctx.card.execution.budget
    unspent = (budget.annual or Decimal(0)) - (budget.executed or Decimal(0))
    yield ("budget", "total", "reason"), (
        f"预算执行率 {percent(rate, ctx.rules)} 低于 {below}，{plain_number(unspent)} 万元未执行，未说明原因")


@check("RESTATED-BUDGET", "warning", "产出指标只是重复预算金额或执行率，不是产出",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》：产出指标反映提供的产品和服务，资金执行已在预算执行率中计分，不宜重复（判断，提示）",
       example="全年预算数 15.84 万元，数量指标“投入资金”指标值 158,400 元",
       looks_for="产出指标（成本指标除外）的名称是执行率，或指标值是金额（元、万元、亿元，或没有单位而名称说的是资金），"
                 "按所写的位数等于年初预算数、全年预算数或全年执行数")
def _restated_budget(ctx: Context) -> Iterator[Raised]:
    budget = ctx.card.execution.budget
    amounts = {v for v in (budget.initial, budget.annual, budget.executed) if v}
    for row in ctx.card.indicators:
        if row.level1 != "产出指标":
            continue
        named = reviewer.restates_execution(row.indicator.name)
        quantity = row.target.quantity
        if named:
            yield ("indicators", row.index, "name"), (
                f"“{row.indicator.name}”是{named}，已在项目资金栏按执行率计分，不是{row.level2.removesuffix('指标')}产出")
        elif quantity is not None and "成本" not in row.level2:
            amount = reviewer.restated_amount(row.indicator.name, row.target, amounts)
            if amount is not None:
                which = "全年执行数" if amount == budget.executed and amount != budget.annual else "预算金额"
                yield ("indicators", row.index, "target"), (
                    f"“{row.indicator.name}”的指标值“{row.indicator.target}”就是项目{which} {plain_number(amount)} 万元，"
                    "只重复了预算执行率（同一差额会扣两次分），没有说明产出；请改为实际产出的数量")


@check("BARE-GOAL", "warning", "年度总体目标或实际完成情况为空、只重复项目名称或只写一个数字",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：年度总体目标须写明预期目标和实际完成情况（判断，提示）",
       example="实际完成情况只写“全部完成”，或照抄预期目标")
def _bare_goal(ctx: Context) -> Iterator[Raised]:
    goals, name = ctx.params.goals, ctx.params.project.name
    for key in ("expected", "achieved"):
        text = getattr(goals, key)
        label = type(goals).title_of(key)
        if is_blank(text):
            if ctx.params.form_only:  # a report requires it: REPORT-FIELD says so
                yield ("goals", key), f"年度总体目标的{label}为空"
            continue
        why = reviewer.bare_goal(text, name)
        if why is None and key == "achieved":
            why = reviewer.copied_goal(goals.expected, text)
        if why:
            yield ("goals", key), f"年度总体目标的{label}{why}"


@check("TEXT-FIGURES", "warning", "文字与表中数字矛盾：所说的结余比例或金额、项目总成本与全年预算数、执行数不符",
       basis="财政局评审实务：原因和报告文字所说的比例、金额须与表中一致，按所写的位数比较（判断，提示）",
       example="原因写“剩余5%质保金未付”，表中 21% 未执行；“结余1万元”，实际结余 3.47 万元",
       looks_for="原因、偏差原因和报告文字中“剩余/结余/未付…X%或X万元”、“项目总成本X万元”、“少完成N处”，"
                 "与未执行的比例和金额、全年执行数、该行指标值与实际完成值之差比较")
def _text_figures(ctx: Context) -> Iterator[Raised]:
    budget = ctx.card.execution.budget
    annual, executed = budget.annual, budget.executed
    if annual is None or executed is None or annual <= 0:
        return
    unspent = annual - executed
    share = unspent / annual * HUNDRED
    # (where, text, the gaps it may speak of: the budget's, and a fund row's own for that row's 原因)
    where: list[tuple[Loc, str, list[tuple[Decimal, Decimal]]]] = [
        (("budget", key, "reason"), row.reason, [(share, unspent), *_own_gap(row)])
        for key, row in ctx.params.budget.rows() if row.reason]
    others = [(("indicators", i, "deviation"), ind.deviation) for i, ind in enumerate(ctx.params.indicators) if ind.deviation]
    others += [(("summary",) + loc, text) for loc, text in texts(ctx.params.summary)]
    others += [(("narrative",) + loc, text) for loc, text in texts(ctx.params.narrative)]
    where += [(loc, text, [(share, unspent)]) for loc, text in others]
    unspent_text = f"全年预算数 {plain_number(annual)} 万元、执行数 {plain_number(executed)} 万元"
    for loc, text, gaps in where:
        for cited in reviewer.unspent_shares(text):
            if not any(reviewer.cited_agrees(cited, gap_share) for gap_share, _ in gaps):
                yield loc, f"文中说“{cited.phrase}”，而{unspent_text}，未执行的是 {ctx.rules.round(share)}%，请核对文中的比例"
        for cited in reviewer.unspent_amounts(text):
            if not any(reviewer.cited_agrees(cited, gap_amount) for _, gap_amount in gaps):
                yield loc, f"文中说“{cited.phrase}”，而{unspent_text}，未执行的是 {plain_number(unspent)} 万元，请核对文中的金额"
        for cited in reviewer.total_costs(text):
            if not reviewer.cited_agrees(cited, executed):
                yield loc, f"文中说“{cited.phrase}”，而全年执行数为 {plain_number(executed)} 万元，请核对文中的金额"
    yield from _row_gaps(ctx)
    for row in ctx.card.indicators:
        actual = row.actual
        if ("成本" in row.level2 and reviewer.is_total_cost_name(row.indicator.name) and actual is not None
                and actual.unit in ("元", "万元", "亿元")):
            wan = actual.to("万元")
            if wan is not None and wan.value != executed:
                yield ("indicators", row.index, "actual"), (
                    f"“{row.indicator.name}”的实际完成值为 {actual}，而全年执行数为 {plain_number(executed)} 万元")


@check("FORM-BLANK", "warning", "自评表（无报告正文）中执行率、得分或总分栏为空",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：仅自评表时，执行率、得分、总分须填写",
       example="自评表的总分栏为空")
def _form_blank(ctx: Context) -> Iterator[Raised]:
    params = ctx.params
    if not params.form_only:
        return  # a report's params may leave what is computed unstated
    on_a_row = {"execution_rate": any(row.rate is not None for _, row in params.budget.rows()),
                "execution_score": any(row.score is not None for _, row in params.budget.rows())}
    for key in ("execution_rate", "execution_score", "total_score"):
        if getattr(params.declared, key) is None and not on_a_row.get(key):
            yield ("declared", key), f"表中{type(params.declared).title_of(key).removesuffix('（%）')}为空"
    for row in ctx.card.indicators:
        if row.method == "rule" and row.indicator.score is None:
            yield ("indicators", row.index, "score"), f"“{row.indicator.name}”的得分为空（按规则应为 {row.score}）"


@check("REPORT-FIELD", "error", "主管部门为空；报告（非仅自评表）缺少评价方式、评价机构或年度总体目标",
       basis="财预〔2020〕10号《项目支出绩效评价管理办法》：自评报告须写明主管部门、评价方式、评价机构、年度总体目标",
       example="主管部门为空")
def _report_field(ctx: Context) -> Iterator[Raised]:
    params = ctx.params
    if is_blank(params.project.department):
        yield ("project", "department"), "主管部门为空"
    if params.form_only:
        return  # some provinces' forms have no 实施单位 row; a report names it
    if is_blank(params.project.implementer):
        yield ("project", "implementer"), "报告的项目实施单位为空"
    for key in ("method", "evaluator"):
        if is_blank(getattr(params.evaluation, key)):
            yield ("evaluation", key), f"报告的{type(params.evaluation).title_of(key)}为空"
    for key in ("expected", "achieved"):
        if is_blank(getattr(params.goals, key)):
            yield ("goals", key), f"年度总体目标的{type(params.goals).title_of(key)}为空"


def _own_gap(row: BudgetRow) -> list[tuple[Decimal, Decimal]]:
    """A fund row's own unexecuted share (percent) and amount (万元), when it states both."""
    if row.annual is None or row.executed is None or row.annual <= 0:
        return []
    return [((row.annual - row.executed) / row.annual * HUNDRED, row.annual - row.executed)]


def _row_gaps(ctx: Context) -> Iterator[Raised]:
    """A 偏差原因 stating a shortfall in the row's unit ("少完成2处") against the row's own gap."""
    for row in ctx.card.indicators:
        target, actual = row.target.quantity, row.actual
        if not row.indicator.deviation or target is None or actual is None or not target.unit:
            continue
        gap = abs(target.value - actual.value)
        for cited in reviewer.stated_gaps(row.indicator.deviation, target.unit):
            if gap and not reviewer.cited_agrees(cited, gap):
                yield ("indicators", row.index, "deviation"), (
                    f"偏差原因说“{cited.phrase}”，而指标值 {row.target}、实际完成 {actual}，"
                    f"相差 {plain_number(gap)}{target.unit}，请核对偏差原因中的数字")
