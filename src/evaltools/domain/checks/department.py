"""The department report's checks, and the project checks that apply to its 整体支出 indicators."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal

from evaltools.domain.checks.registry import (CHECKS, DEPARTMENT_CHECKS, Context, Finding, Raised, department_check, find_check, findings,
                                              texts)
from evaltools.domain.checks.dates import dates_out_of_range, outside_its_year, signer_not_leader
from evaltools.domain.checks.funds import shown_as_zero
from evaltools.domain.checks.text import (linked_image_findings, malformed_number_findings, rules_control, template_findings,
                                          unit_conflict_findings)
from evaltools.domain.department import FUND_NATURE_ROWS, SHARED_EVALUATION, SPENDING_NATURE_ROWS, project_spending
from evaltools.domain.control_chars import CONTROL_BASIS, control_findings
from evaltools.domain.model import BUDGET_COLUMNS, BudgetRow, PartialDate, is_blank, unwritten
from evaltools.domain.placeholders import DEPARTMENT_FILLED, DEPARTMENT_NAMES, placeholders
from evaltools.domain.targets import plain_number
from evaltools.domain.yamlio import Loc

# Project checks that look only at the indicators and their scores: they apply to a
# department's 整体支出 indicators as they are.
INDICATOR_CHECKS = ("CATEGORY", "WEIGHTS", "NOT-A-NUMBER", "SCORE-MISSING", "SCORE-OVER-WEIGHT", "MET-BUT-DEDUCTED",
                    "SCORE-MISMATCH", "TIER", "DEVIATION-MISSING", "NON-REASON", "OVERACHIEVEMENT", "BLANK-CELL",
                    "TARGET-IN-NAME", "UNIT-FIT", "UNIT-DOUBT", "WRONG-CATEGORY", "UNIT-WORD", "TARGET-UNREADABLE",
                    "ACTUAL-NOT-MEASURED")


# What the 部门整体支出绩效自评报告 asks for, by where it sits in the department file.
_EXPECTED = {
    ("unit",): "部门（单位）基本情况", ("unit", "contact"): "联系人", ("unit", "staffing"): "人员编制",
    ("unit", "actual_staff"): "实有人数", ("unit", "functions"): "职能职责概述", ("unit", "tasks"): "年度主要工作内容",
    ("funds",): "年度预算申请（附件1-3 的项目资金）", ("income",): "年度收入情况", ("expenditure",): "年度支出和结余情况",
    ("three_public",): "三公经费", ("public_funds",): "公用经费", ("procurement",): "政府采购金额",
    ("fixed_assets",): "固定资产", ("goals",): "整体支出绩效定性目标", ("indicators",): "整体支出绩效指标",
    ("evaluation", "team"): "评价人员",
}


@department_check("DEPT-MISSING", "warning", "部门整体报告缺少的内容（表中显示为“—”，正文写明“未填写”）",
                  basis="财预〔2020〕10号《项目支出绩效评价管理办法》 部门整体支出绩效自评报告格式",
                  example="未填写人员编制")
def _department_missing(department) -> Iterator[Raised]:
    data = department.data
    for loc, label in _EXPECTED.items():
        value: object = data
        for part in loc:
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, [], {}) or (isinstance(value, str) and is_blank(value)):
            yield loc, f"未填写{label}，报告中显示为“—”"
    goals = department.params.overall_goals
    if goals is None or unwritten(goals.expected):
        yield ("overall_goals", "expected"), "未填写部门（单位）年度整体支出绩效目标，报告中写明“未填写”"
    narrative = department.params.narrative
    empty = [type(narrative).title_of(k) for k, v in vars(narrative).items() if unwritten(v)]
    if empty:
        yield ("narrative",), (f"报告正文未填写：{'、'.join(empty)}（报告中只有由数据生成的句子；没有句子的一节写明“未填写”，"
                               "其他需要说明的问题写“无”）")


@department_check("DEPT-SHOWN-AS-ZERO", "warning", "不为零的金额（万元）按显示位数四舍五入后显示为零（报告中看似未填或为零）",
                  basis="财预〔2020〕10号《项目支出绩效评价管理办法》 部门整体支出绩效自评报告格式：金额以万元列示",
                  example="三公经费·本年决算数·公务接待费 0.004 万元（40 元），按两位小数显示为 0.00：是否把元当成了万元？",
                  looks_for="部门文件中每一个以万元计的金额（附件1-3 的资金、收入、支出、三公经费、公用经费、固定资产等），"
                            "按规则的金额位数")
def _department_shown_as_zero(department) -> Iterator[Raised]:
    yield from shown_as_zero(department.params, department.rules)


def _inherited(department, loc: Loc) -> bool:
    """Whether what sits at ``loc`` came from ``defaults.evaluation`` (评价方式, 评价机构, 报告时间
    the projects share): each project's checks say what is wrong with it, at the line it is on."""
    own = department.data.get("evaluation")
    return (len(loc) >= 2 and loc[0] == "evaluation" and loc[1] in SHARED_EVALUATION
            and not (isinstance(own, dict) and own.get(loc[1]) is not None))


def own_texts(department) -> list[tuple[Loc, str]]:
    """The department file's texts, those it inherits from its projects' defaults left out."""
    return [(loc, text) for loc, text in texts(department.params) if not _inherited(department, loc)]


def _department_dates(department) -> Iterator[tuple[Loc, PartialDate]]:
    evaluation = department.params.evaluation
    for key in ("report_date", "notice_date"):
        if getattr(evaluation, key) is not None and not _inherited(department, ("evaluation", key)):
            yield ("evaluation", key), getattr(evaluation, key)
    for key in ("team_leader", "unit_head", "finance_office"):
        signature = getattr(evaluation, key)
        if signature is not None and signature.date is not None:
            yield ("evaluation", key, "date"), signature.date


@department_check("DEPT-DATE-RANGE", "error", "部门报告的报告、通知或签字日期不在评价年度之后的合理范围内",
                  basis="财政局评审实务：自评在评价年度之后进行",
                  example="2024 年度部门整体自评，评价组组长签字日期 2015 年")
def _department_date_range(department) -> Iterator[Raised]:
    year = department.params.evaluated_year
    if year is not None:
        yield from dates_out_of_range(_department_dates(department), year, department.rules)


@department_check("DEPT-SIGNER", "warning", "部门报告的评价组组长签字人不是评价人员名单中的组长",
                  basis="财政局评审实务：评价组组长签字应是名单中的组长",
                  example="签字人“王五”，名单中组长为“张三”")
def _department_signer(department) -> Iterator[Raised]:
    evaluation = department.params.evaluation
    yield from signer_not_leader(evaluation.team_leader, evaluation.team, ("evaluation", "team_leader", "name"))


@department_check("DEPT-YEAR-FOLDER", "error", "部门文件所在的年度文件夹与 year 不符",
                  basis="evaltools 工作区：params/<年度>/ 下的文件属该年度",
                  example="params/2023/某局/_department.yaml 写 year: 2024")
def _department_year_folder(department) -> Iterator[Raised]:
    if department.params.evaluated_year is not None:
        yield from outside_its_year(department.path, department.params.evaluated_year)


@department_check("DEPT-STAFF", "warning", "实有人数超过编制数",
                  basis="财政局评审实务：实有人数一般不超过编制",
                  example="编制 20 人，实有 25 人")
def _department_staff(department) -> Iterator[Raised]:
    unit = department.params.unit
    if unit and unit.staffing is not None and unit.actual_staff is not None and unit.actual_staff > unit.staffing:
        yield ("unit", "actual_staff"), f"实有人数 {unit.actual_staff} 超过编制数 {unit.staffing}"


@department_check("DEPT-BASIC-SPLIT", "error", "基本支出与人员支出、公用支出之和不符",
                  basis="财政局评审实务：基本支出 = 人员支出 + 公用支出",
                  example="基本支出 100 万元，人员 70 + 公用 20")
def _department_basic_split(department) -> Iterator[Raised]:
    for i, row in enumerate(department.params.expenditure):
        split = [v for v in (row.personnel, row.public) if v is not None]
        if row.basic is not None and split and row.basic != sum(split, Decimal(0)):
            yield ("expenditure", i, "basic"), (
                f"{row.institution}的基本支出 {plain_number(row.basic)} 万元，人员与公用支出之和为 "
                f"{plain_number(sum(split, Decimal(0)))} 万元")


@department_check("DEPT-FUNDS-BALANCE", "error", "年度资金按收入性质与按支出性质的合计不符",
                  basis="财政局评审实务：按收入性质与按支出性质的合计相等",
                  example="按收入性质 500 万元，按支出性质 480 万元")
def _department_funds_balance(department) -> Iterator[Raised]:
    funds = department.params.funds
    if funds is None:
        return
    for column in BUDGET_COLUMNS:
        by_income = funds.column_total(FUND_NATURE_ROWS, column)
        by_spending = funds.column_total(SPENDING_NATURE_ROWS, column)
        if by_income is not None and by_spending is not None and by_income != by_spending:
            yield ("funds",), (f"{BudgetRow.title_of(column)}：按收入性质合计 {plain_number(by_income)} 万元，"
                               f"按支出性质合计 {plain_number(by_spending)} 万元")


@department_check("DEPT-PROJECTS-TOTAL", "warning", "部门项目支出与各项目全年预算数之和不符（有项目没有自评报告？）",
                  basis="财政局评审实务：部门项目支出应有各项目的自评",
                  example="项目支出 300 万元，本文件夹项目合计 200 万元")
def _department_projects_total(department) -> Iterator[Raised]:
    projects = [p for p in department.projects if p.annual is not None]
    listed = [p for p in department.listed if p.annual is not None]  # other_projects: named without a file
    if not projects and not listed:
        return
    covered = sum((p.annual for p in projects + listed), Decimal(0))
    stated, loc = project_spending(department.params)
    if stated is not None and stated != covered:
        also = f"及部门文件所列 {len(listed)} 个其他项目" if listed else ""
        said = (f"部门项目支出 {plain_number(stated)} 万元，而本文件夹 {len(projects)} 个项目{also}的全年预算数合计 "
                f"{plain_number(covered)} 万元")
        if stated > covered:
            yield loc, f"{said}；其余 {plain_number(stated - covered)} 万元的项目没有参数文件，可在 other_projects 中列出"
        else:  # more than the department spent on projects: a sum or a project to check, none missing
            yield loc, f"{said}，超出 {plain_number(covered - stated)} 万元：请核对部门项目支出或各项目的全年预算数"


@department_check("DEPT-FIGURE-NAME", "error", "部门文件的文字引用了不存在的数字名称 {{…}}",
                  basis="evaltools 的数字名称：部门文件的文字中的 {{…}} 须是部门整体报告已定义的名称",
                  example="正文写了 {{项目名称}}（项目的名称，部门报告没有），应写 {{部门名称}}")
def _department_figure_name(department) -> Iterator[Raised]:
    for loc, text in own_texts(department):
        for name in dict.fromkeys(placeholders(text)):
            if name not in DEPARTMENT_NAMES:
                yield loc, f"不认识的数字名称 {{{{{name}}}}}，可用：{'、'.join(DEPARTMENT_NAMES)}"


@department_check("DEPT-PLACEHOLDER", "warning", "部门文件中报告不填入数字的文字写了 {{…}}：原样印出",
                  basis="evaltools：{{…}} 只在部门文件的报告正文（narrative）和年度总体目标（overall_goals）中填入",
                  example="职能职责概述中写了“{{年度}}年”：报告中印出“{{年度}}”")
def _department_placeholder(department) -> Iterator[Raised]:
    for loc, text in own_texts(department):
        named = [name for name in dict.fromkeys(placeholders(text)) if name in DEPARTMENT_NAMES]
        if named and loc[:1] not in {(field,) for field in DEPARTMENT_FILLED}:
            shown = "、".join(f"{{{{{name}}}}}" for name in named)
            yield loc, f"写了 {shown}：这里的文字不填入计算的数字，原样印出；请写出数字，或移到报告正文（narrative）"


# Project checks of the free text that apply to a department file's text as they are, each
# registered as DEPT-<code> with the project check's severity and basis, and an example of its own.
TEXT_CHECKS = {
    "LINKED-IMAGE": (linked_image_findings, "部门文件中插入 ![](http://…/a.png)"),
    "TEMPLATE-TEXT": (template_findings, "职能职责“负责××工作”、正文“（此处填写…）”"),
    "MALFORMED-NUMBER": (malformed_number_findings, "正文“整体支出1505.04.00万元”"),
    "UNIT-CONFLICT": (unit_conflict_findings, "一处“由8‰降至5‰”，另一处“由8%降至5%”"),
}


def _of_texts(findings_of: Callable[[Iterable[tuple[Loc, str]]], Iterator[Raised]], department) -> Iterator[Raised]:
    yield from findings_of(own_texts(department))


def _register_text_checks() -> None:
    for code, (findings_of, example) in TEXT_CHECKS.items():
        project = find_check(code)
        assert project is not None, code
        where = "部门文件的" if project.description.startswith("文字") else "部门文件中"
        department_check(f"DEPT-{code}", project.severity, where + project.description, basis=project.basis,
                         example=example)(functools.partial(_of_texts, findings_of))


_register_text_checks()


@department_check("DEPT-CONTROL-CHAR", "warning", "部门文件的文字中含有不可见的控制字符（常见于从 Word 粘贴的文字）",
                  basis=CONTROL_BASIS,
                  example="部门文件的职能“……\\x07”（Word 表格的单元格结束符）：报告中删去")
def _department_control_characters(department) -> Iterator[Raised]:
    yield from control_findings(department.data)


@department_check("DEPT-RULES-CONTROL-CHAR", "warning", "部门所用规则文件（_rules.yaml）的文字中含有不可见的控制字符",
                  basis=CONTROL_BASIS,
                  example="等级名称“优\\x07”（Word 表格的单元格结束符）：报告中删去")
def _department_rules_control_characters(department) -> Iterator[Raised]:
    yield from rules_control(department.rules)


@department_check("DEPT-PROJECT-INVALID", "error", "部门下有无法读取的项目参数文件",
                  basis="evaltools 工作区：部门下每个项目文件须可读",
                  example="项目文件缺少必填的项目名称")
def _department_project_invalid(department) -> Iterator[Raised]:
    for line in department.projects:
        if line.problem:
            yield ("defaults",), f"项目文件 {line.path.name} 无法读取：{line.problem}"


def check_department(department) -> list[Finding]:
    """Findings of a loaded department: its completeness, its totals, its indicators, its projects."""
    found = findings(DEPARTMENT_CHECKS, department, department.locate)
    if department.card is not None and department.params.indicators:
        ctx = Context(None, department.rules, department.card, department.path)  # type: ignore[arg-type]
        found += findings([c for c in CHECKS if c.code in INDICATOR_CHECKS], ctx, department.locate)
    return found
