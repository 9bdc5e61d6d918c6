"""Named figures for narrative text: "年度预算批准资金总额{{全年预算数}}万元".

Narrative fields in a parameter file may refer to computed figures by name between double
braces; the report fills them in, so the text and the tables cannot disagree. The names are
the form's own words (see :data:`NAMES`, and :data:`DEPARTMENT_NAMES` for a department file's
report, in its narrative and its 年度总体目标); an unknown name is an error of ``evaltools check``.
Money is printed in 万元 (or 元 where the name says so), rates in percent, scores as the
report shows them: all by ``evaltools.domain.formatting``, at the rules' display precisions.
"""

from __future__ import annotations

import re
from decimal import Decimal

from evaltools.domain import formatting
from evaltools.domain.department import DepartmentParams
from evaltools.domain.model import FundType, ProjectParams
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import ScoreCard

PLACEHOLDER = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")

NAMES = {
    "年度": "评价年度，如 2024",
    "项目名称": "项目名称",
    "计划投资额": "计划投资额（万元）",
    "实际到位资金": "实际到位资金（万元）",
    "资金到位率": "实际到位资金 / 计划投资额",
    "年初预算数": "年度资金总额的年初预算数（万元）",
    "全年预算数": "年度资金总额的全年预算数（万元）",
    "全年执行数": "年度资金总额的全年执行数（万元）",
    "当年财政拨款": "当年财政拨款的全年预算数（万元）",
    "上年结转资金": "上年结转资金的全年预算数（万元）",
    "其他资金": "其他资金的全年预算数（万元）",
    "预算执行率": "全年执行数 / 全年预算数",
    "执行率得分": "预算执行率的得分",
    "实际支出元": "支出明细合计（元）",
    "总分": "自评总分",
    "等级": "评价等级",
}


def figures(params: ProjectParams, card: ScoreCard, rules: Rules) -> dict[str, str]:
    """Every named figure of a project, formatted as the report prints it."""
    budget = params.budget
    investment = params.investment

    def money(value: Decimal | None) -> str:
        return formatting.money(value, rules)

    def percent(rate: Decimal | None, rules: Rules) -> str:
        return formatting.percent(rate, rules)

    return {
        "年度": str(params.year),
        "项目名称": params.project.name,
        "计划投资额": money(investment.planned.computed_total) if investment else "—",
        "实际到位资金": money(investment.received.computed_total) if investment else "—",
        "资金到位率": percent(card.funding_rate, rules),
        "年初预算数": money(card.execution.budget.initial),
        "全年预算数": money(card.execution.budget.annual),
        "全年执行数": money(card.execution.budget.executed),
        "当年财政拨款": money(budget.appropriation.annual),
        "上年结转资金": money(budget.carryover.annual),
        "其他资金": money(budget.other.annual),
        "预算执行率": percent(card.execution.rate, rules),
        "执行率得分": formatting.score(card.execution.score, rules),
        "实际支出元": money(sum((item.amount for item in params.spending), Decimal(0))),
        "总分": formatting.score(card.total, rules),
        "等级": card.grade,
    }


DEPARTMENT_NAMES = {
    "年度": "评价年度，如 2024",
    "部门名称": "部门（单位）名称",
    "人员编制": "人员编制（人）",
    "实有人数": "实有人数（人）",
    "年度支出": "年度支出和结余情况各机构、各类资金的支出合计（万元）",
    **{f"{fund.value}支出": f"年度支出和结余情况中{fund.value}的支出合计（万元）" for fund in FundType},
    "基本支出": "一般公共预算支出中的基本支出（万元）",
    "项目支出": "一般公共预算支出中的项目支出（万元）",
    "三公经费": "三公经费的本年决算数合计（万元）",
    "全年预算数": "附件1-3 年度资金总额的全年预算数（万元）",
    "全年执行数": "附件1-3 年度资金总额的全年执行数（万元）",
    "预算执行率": "全年执行数 / 全年预算数",
    "执行率得分": "预算执行率的得分",
    "总分": "整体支出自评总分",
    "等级": "评价等级",
}
# The department file's texts its report fills in; a name written elsewhere is printed as it is.
DEPARTMENT_FILLED = ("narrative", "overall_goals")


def department_figures(params: DepartmentParams, card: ScoreCard | None, rules: Rules) -> dict[str, str]:
    """Every named figure of a department's report, formatted as the report prints it ("—"
    where the file does not hold it: the report's own checks say what is missing)."""
    unit = params.unit

    def money(value: Decimal | None) -> str:
        return formatting.money(value, rules)

    def count(value: int | None) -> str:
        return formatting.DASH if value is None else str(value)

    basic, project = params.general_split()
    scored = card is not None and bool(params.indicators)
    three_public = params.three_public.final.total if params.three_public else None
    return {
        "年度": count(params.evaluated_year),
        "部门名称": params.name,
        "人员编制": count(unit and unit.staffing),
        "实有人数": count(unit and unit.actual_staff),
        "年度支出": money(params.spent()),
        **{f"{fund.value}支出": money(params.spent(fund)) for fund in FundType},
        "基本支出": money(basic),
        "项目支出": money(project),
        "三公经费": money(three_public),
        "全年预算数": money(card.execution.budget.annual if card else None),
        "全年执行数": money(card.execution.budget.executed if card else None),
        "预算执行率": formatting.percent(card.execution.rate if card else None, rules),
        # (no rate, no score: the form shows "—" where the execution function gives 0)
        "执行率得分": formatting.score(card.execution.score if card and card.execution.rate is not None else None, rules),
        "总分": formatting.score(card.total, rules) if scored else formatting.DASH,
        "等级": card.grade if scored else formatting.DASH,
    }


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text or "")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each {{名称}} by its figure; unknown names are left visible, never dropped."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")
