"""Named figures for narrative text: "年度预算批准资金总额{{全年预算数}}万元".

Narrative fields in a parameter file may refer to computed figures by name between double
braces; the report fills them in, so the text and the tables cannot disagree. The names are
the form's own words (see :data:`NAMES`); an unknown name is an error of ``evaltools check``.
Money is printed in 万元 (or 元 where the name says so), rates in percent, scores as the
report shows them: all by ``evaltools.domain.formatting``, at the rules' display precisions.
"""

from __future__ import annotations

import re
from decimal import Decimal

from evaltools.domain import formatting
from evaltools.domain.model import ProjectParams
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


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text or "")


def fill(text: str, values: dict[str, str]) -> str:
    """Replace each {{名称}} by its figure; unknown names are left visible, never dropped."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text or "")
