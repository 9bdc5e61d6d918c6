"""Checks of the 项目资金 block: execution rate and its score, the budget's rows and totals, investment."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from pydantic import BaseModel

from evaltools.domain import formatting, reviewer
from evaltools.domain.checks.registry import Context, Raised, check, differs
from evaltools.domain.model import BUDGET_COLUMNS, SOURCE_LABELS, Budget, BudgetRow, amounts_in_wan
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import HUNDRED, percent
from evaltools.domain.targets import plain_number
from evaltools.domain.yamlio import Loc


@check("EXEC-RATE", "error", "预算执行率超过100%，或全年预算数为零却有支出",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：预算执行率 = 全年执行数 / 全年预算数，执行数不能超过预算数",
       example="全年预算数 80 万元、全年执行数 85 万元：执行率 106%，退回核对执行数")
def _execution_rate(ctx: Context) -> Iterator[Raised]:
    execution = ctx.card.execution
    if execution.over_budget:
        budget = execution.budget
        yield ("budget", "total"), (
            f"全年执行数 {plain_number(budget.executed or Decimal(0))} 万元超过全年预算数 "
            f"{plain_number(budget.annual or Decimal(0))} 万元（执行率 {percent(execution.rate, ctx.rules)}），执行率不能超过100%"
        )


@check("EXEC-SCORE", "error", "表中执行率或其得分与公式（全年执行数/全年预算数 × 分值）不符（执行率按表中所写的位数比较）",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：执行率得分 = 执行率 × 分值（最高为分值）",
       example="执行数 68.96/80 万元，表中执行率 90%、得分 9：应为 86.2%、8.62")
def _execution_score(ctx: Context) -> Iterator[Raised]:
    declared, execution = ctx.params.declared, ctx.card.execution
    if declared.execution_score is not None and differs(declared.execution_score, execution.score, ctx.rules):
        yield ("declared", "execution_score"), (
            f"表中执行率得分为 {plain_number(declared.execution_score)}，按公式应为 {execution.score}"
        )
    stated_rates: list[tuple[Loc, Decimal, str, BudgetRow]] = []
    if declared.execution_rate is not None:
        stated_rates.append((("declared", "execution_rate"), declared.execution_rate, "表中执行率", execution.budget))
    budget = ctx.params.budget
    for key, row in budget.rows():
        if row.rate is not None:
            amounts = execution.budget if key == "total" else row
            stated_rates.append((("budget", key, "rate"), row.rate, f"{Budget.title_of(key).split('（')[0]}的执行率", amounts))
    for loc, stated, label, amounts in stated_rates:
        annual, executed = amounts.annual or Decimal(0), amounts.executed or Decimal(0)
        if annual <= 0:
            if stated != 0 or executed:
                yield loc, f"{label}为 {plain_number(stated)}%，但全年预算数为空或为零，无从计算"
            continue
        exact = executed / annual * HUNDRED
        if not reviewer.agrees_as_written(stated, exact):
            yield loc, (f"{label}为 {plain_number(stated)}%，按全年执行数/全年预算数"
                        f"（{plain_number(executed)}/{plain_number(annual)}）应为 {ctx.rules.round(exact)}%")
    yield from _row_scores(ctx)


def _row_scores(ctx: Context) -> Iterator[Raised]:
    """A fund row printed with its own 分值 and 得分 (当年财政拨款 10 分): its 得分 by the same formula."""
    execution = ctx.card.execution
    for key, row in ctx.params.budget.rows():
        if row.score is None:
            continue
        amounts = execution.budget if key == "total" else row
        annual, executed = amounts.annual or Decimal(0), amounts.executed or Decimal(0)
        weight = row.weight if row.weight is not None else ctx.rules.execution.weight
        computed = min(executed / annual, Decimal(1)) * weight if annual > 0 else Decimal(0)
        if differs(row.score, computed, ctx.rules):
            yield ("budget", key, "score"), (
                f"{Budget.title_of(key).split('（')[0]}一行的得分为 {plain_number(row.score)}，按全年执行数/全年预算数 × 分值"
                f"（{plain_number(executed)}/{plain_number(annual)} × {plain_number(weight)}）应为 {ctx.rules.round(computed)}")


@check("BUDGET-TOTAL", "error", "年度资金总额与各资金来源行（当年财政拨款、上年结转资金、财政专户管理资金、单位资金、其他资金）之和不符",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：年度资金总额 = 当年财政拨款 + 上年结转资金 + 其他资金（省里另加的行亦计入）",
       example="财政拨款 50 + 结转 10，表中年度资金总额 70 万元")
def _budget_total(ctx: Context) -> Iterator[Raised]:
    stated = ctx.params.budget.total
    if stated is None:
        return
    computed = ctx.params.budget.computed_total
    for column in BUDGET_COLUMNS:
        given, summed = getattr(stated, column), getattr(computed, column)
        if given is not None and given != (summed or Decimal(0)):
            yield ("budget", "total", column), (
                f"年度资金总额的{BudgetRow.title_of(column)}为 {plain_number(given)} 万元，"
                f"各行之和为 {plain_number(summed or Decimal(0))} 万元"
            )


@check("SHOWN-AS-ZERO", "warning", "不为零的金额（万元）按显示位数四舍五入后显示为零（报告中看似未填或为零）",
       basis="财预〔2020〕10号 附件《项目支出绩效自评表》：资金以万元列示；评审人员按表中所示数字核对",
       example="全年执行数 0.003 万元（30 元），按两位小数显示为 0.00：是否把元当成了万元？",
       looks_for="参数文件中每一个以万元计的金额（项目资金表各行、计划投资额与实际到位资金的各来源），"
                 "按规则（或参数文件 options.display）的金额位数")
def _shown_as_zero(ctx: Context) -> Iterator[Raised]:
    yield from shown_as_zero(ctx.params, ctx.rules)


def shown_as_zero(params: BaseModel, rules: Rules) -> Iterator[Raised]:
    """Each amount in 万元 of ``params`` that is not zero but shows as zero at the rules' places."""
    for loc, titles, value in amounts_in_wan(params):
        shown = formatting.money(value, rules)
        if value and not Decimal(shown):
            yield loc, (f"{'·'.join(titles)}为 {plain_number(value)} 万元，按 {rules.display.money[1]} 位小数显示为 "
                        f"{shown}：报告中看似为零，请核对单位（万元）")


@check("INVESTMENT-TOTAL", "error", "计划投资额或实际到位资金的合计与各来源之和不符",
       basis="财政局评审实务：合计须等于各来源之和",
       example="计划投资中央 50、省 20，合计写 80 万元")
def _investment_total(ctx: Context) -> Iterator[Raised]:
    investment = ctx.params.investment
    if investment is None:
        return
    for key in ("planned", "received"):
        sources = getattr(investment, key)
        if sources.total is not None and sources.total != sources.computed_total:
            labels = "、".join(SOURCE_LABELS.values())
            yield ("investment", key, "total"), (
                f"{type(investment).title_of(key)}合计为 {plain_number(sources.total)} 万元，"
                f"各来源（{labels}）之和为 {plain_number(sources.computed_total)} 万元"
            )


@check("FUNDING-RATE", "warning", "实际到位资金超过计划投资额",
       basis="财政局评审实务：到位资金一般不超过计划投资，超过须说明",
       example="计划投资 100 万元，实际到位 120 万元")
def _funding_rate(ctx: Context) -> Iterator[Raised]:
    rate = ctx.card.funding_rate
    if rate is not None and rate > 1:
        yield ("investment", "received"), f"资金到位率为 {percent(rate, ctx.rules)}，超过100%，请核对"


@check("SPENDING-SUM", "error", "支出明细合计（元）与全年执行数（万元）不符",
       basis="财政局评审实务：支出明细合计应等于全年执行数",
       example="明细合计 1,066,100 元，全年执行数 106.62 万元（1,066,200 元）")
def _spending_sum(ctx: Context) -> Iterator[Raised]:
    spending = ctx.params.spending
    if not spending:
        return
    total_yuan = sum((item.amount for item in spending), Decimal(0))
    executed = ctx.card.execution.budget.executed or Decimal(0)
    if total_yuan != executed * 10_000:
        yield ("spending",), (
            f"支出明细合计 {total_yuan:.2f} 元，而全年执行数为 {plain_number(executed)} 万元"
            f"（{executed * 10_000:.2f} 元）"
        )
