"""The report's tables as parts, above all the 项目支出绩效自评表 in its official layout.

Every figure comes from the score card or is formatted from the parameters; merged cells
(一级/二级 indicators, the 项目资金 block) are rowspans, as on the printed form.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import groupby
from typing import Any

from evaltools.domain import formatting
from evaltools.document import wording
from evaltools.domain.checks import SEVERITY_LABELS, Finding
from evaltools.domain.model import SOURCE_LABELS, BudgetRow, ProjectParams, Sources
from evaltools.document.parts import REVIEW, ItemList, Markdown, Section, Span, Table, p, section, table, td, th, tr
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import IndicatorScore, ScoreCard
from evaltools.domain.targets import plain_number

DASH = "—"


def markdown(text: str | None) -> Markdown | None:
    return Markdown(text) if text else None


def _level_heading(level: str, card: ScoreCard) -> str:
    weight = next(lv.weight for lv in card.levels if lv.name == level)
    return f"{level}（{plain_number(weight)}分）"


def lines(*segments: str) -> list[Span]:
    """A heading set in lines where the form breaks it ("年度/指标值"), not wherever a narrow column
    would; its text is still the whole word ("年度指标值") for Word, Excel and search."""
    return [Span(s, style="line") for s in segments] if len(segments) > 1 else list(segments)


def amount(value: Decimal | None, rules: Rules, name: str | None = None, empty: str = "") -> Any:
    """A money cell: the text as the form prints it, the exact number behind it."""
    return td(formatting.money(value, rules) if value is not None else empty, cls="num", value=value, kind="money",
              name=name)


# --- the 自评表 ------------------------------------------------------------------------------------

# Percent of the page width, as the official form has them. 绩效指标: label, 一级, 二级, 三级, 指标值,
# 实际完成值, 分值, 得分[, 偏差原因]. The rows above (名称, 主管部门, 项目资金, 年度总体目标) have
# columns of their own: label, two under the blank, then 年初预算数, 全年预算数, 全年执行数 alike,
# 分值, 执行率, 得分 (a 9-column form); the 8-column form has one under the blank.
FORM_COLUMNS = {9: (6, 6, 6, 16, 8, 29, 6, 6, 17), 8: (6, 7, 7, 20, 9, 39, 6, 6)}
FORM_TOP_COLUMNS = {9: (14, 7, 7, 12, 12, 12, 9, 13, 14), 8: (14, 10, 13, 13, 13, 10, 13, 14)}
FundsLine = tuple[str, BudgetRow | None, bool]  # label, amounts (None: a heading row), is the total row
BUDGET_KEYS = ("initial", "annual", "executed")


def funds_block(title: str, lines: Sequence[FundsLine], card: ScoreCard | None, rules: Rules,
                columns: int) -> list:
    """The 项目资金 / 年度预算申请 rows: amounts per line, 分值/执行率/得分 on the total line.

    Cells are named (funds.total.annual, funds.line.executed, execution.rate …) so that the Excel
    自评表 can put its formulas where the form computes."""
    span = columns - 7
    rows = [tr(td(title, cls="label", rowspan=len(lines) + 1), td("", colspan=span),
               *(th(t) for t in ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")))]
    for label, amounts, is_total in lines:
        values = (amounts.initial, amounts.annual, amounts.executed) if amounts else (None, None, None)
        where = "total" if is_total else "line"
        cells = [amount(v, rules, f"funds.{where}.{k}") for v, k in zip(values, BUDGET_KEYS, strict=True)]
        if is_total and card is not None:
            execution = card.execution
            tail = [td(plain_number(execution.weight), cls="num", value=execution.weight, kind="weight",
                       name="execution.weight"),
                    td(formatting.percent(execution.rate, rules), cls="num", value=execution.rate, kind="rate",
                       name="execution.rate"),
                    td(formatting.score(execution.score, rules), cls="num", value=execution.score, kind="score",
                       name="execution.score")]
        elif is_total:
            tail = [td(plain_number(rules.execution.weight), cls="num", value=rules.execution.weight, kind="weight"),
                    td(DASH, cls="num"), td(DASH, cls="num")]
        else:
            tail = [td(DASH, cls="num") for _ in range(3)]
        rows.append(tr(td(label, colspan=span, cls="label" if is_total else None), *cells, *tail,
                       key=f"funds.{where}" if amounts else None))
    return rows


def goal_rows(expected: object, achieved: object, columns: int) -> list:
    left, right = 4, columns - 5
    return [tr(td("年度总体目标", cls="label", rowspan=2), th("预期目标", colspan=left), th("实际完成情况", colspan=right)),
            tr(td(expected, colspan=left, cls="text"), td(achieved, colspan=right, cls="text"))]


def _indicator_cells(row: IndicatorScore, rules: Rules, deviation: bool) -> list:
    indicator = row.indicator
    cells = [td(indicator.name), td(indicator.target, cls="center"), td(indicator.actual),
             td(plain_number(row.weight), cls="num", value=row.weight, kind="weight", name="indicator.weight"),
             td(formatting.score(row.score, rules), cls="num", value=row.score, kind="score", name="indicator.score")]
    return cells + [td(indicator.deviation or "")] if deviation else cells


def _indicator_rows(card: ScoreCard, rules: Rules, lead: Any, deviation: bool) -> list:
    """One row per indicator, 一级/二级 merged; ``lead`` opens the first row (a spanning label).
    Each row's key is its indicator's place in the parameters (``indicator.3``)."""
    rows: list = []
    ordered = sorted(card.indicators, key=lambda r: (list(rules.levels).index(r.level1) if r.level1 in rules.levels
                                                     else len(rules.levels), r.index))
    for level, level_rows in groupby(ordered, key=lambda r: r.level1):
        level_rows = list(level_rows)
        first_in_level = True
        for category, category_rows in groupby(level_rows, key=lambda r: r.level2):
            category_rows = list(category_rows)
            for j, row in enumerate(category_rows):
                cells = [lead] if not rows else []
                if first_in_level:
                    cells.append(td(_level_heading(level, card) if level else "（未归类）",
                                    rowspan=len(level_rows), cls="label"))
                    first_in_level = False
                if j == 0:
                    cells.append(td(category, rowspan=len(category_rows)))
                cells += _indicator_cells(row, rules, deviation)
                # A page may break only between 一级指标: each row but a level's last keeps with the next.
                last_in_level = row is level_rows[-1]
                style = " ".join(filter(None, ("indicator", "lost" if row.lost > 0 else None,
                                               None if last_in_level else "keep-next")))
                rows.append(tr(*cells, cls=style, key=f"indicator.{row.index}"))
    return rows


def indicator_table(card: ScoreCard | None, rules: Rules, deviation: bool) -> Table:
    """绩效指标 block with 总分 and 等级. Its column headings are a header row, repeated when the
    table runs onto another page; the 绩效指标 label heads the first column."""
    columns = 9 if deviation else 8
    headings = [("一级", "指标"), ("二级", "指标"), ("三级指标",), ("年度", "指标值"), ("实际", "完成值"), ("分值",), ("得分",)]
    headings += [("偏差原因", "分析及", "改进措施")] if deviation else []
    header = tr(th(lines("绩效", "指标"), cls="label"), *(th(lines(*t)) for t in headings))
    if card is None or not card.indicators:
        body = [tr(td("", cls="label continued"), td("未填写绩效指标", colspan=columns - 1, cls="center"))]
        total, grade, value = DASH, DASH, None
    else:
        body = _indicator_rows(card, rules, td("", cls="label continued", rowspan=len(card.indicators)), deviation)
        total, grade, value = formatting.score(card.total, rules), card.grade, card.total
    weights = [td("100", cls="num", value=100, kind="weight", name="total.weight"),
               td(Span(total, bold=True), cls="num total", value=value, kind="score", name="total.score")]
    verdict = td(Span(f"等级：{grade}", bold=True), cls="center", name="total.grade")
    if deviation:
        body.append(tr(td("总分", colspan=6, cls="label center"), *weights, verdict, key="total"))
    else:
        body.append(tr(td("总分", colspan=5, cls="label center"), verdict, *weights, key="total"))
    return table(*body, head=[header], colgroup=FORM_COLUMNS[columns], cls="grid form indicators")


def form_caption(title: str, year: int | None) -> Section:
    return section(p(title, cls="form-title"), p(wording.text("project", "form_year", year), cls="form-year"),
                   cls="form-caption", element="div")


def form_signature(unit_head: str | None, filled_by: str | None, phone: str | None, date: object,
                   finance_head: str | None = None) -> Any:
    return wording.paragraph("project", "form_signature", unit_head or "", filled_by or "", phone or "",
                             str(date) if date else "", finance_head or "", style="form-sign")


def self_evaluation_form(params: ProjectParams, card: ScoreCard, rules: Rules, deviation: bool | None = None) -> Section:
    """项目支出绩效自评表 (附件1-4 … 1-7, by fund type), filled in and scored.

    The 偏差原因 column is there where the fund type's form has it (附件1-5, 1-7), and on the
    others whenever an indicator has a 偏差原因 to show (as the seed's own 自评表 does), or when
    ``deviation`` asks for it (a blank form to fill in). The same part is the Word table and the
    Excel sheet (``evaltools.writers.xlsx``).
    """
    project, fund = params.project, params.project.fund_type
    if deviation is None:
        deviation = fund.has_deviation_column or any(row.indicator.deviation for row in card.indicators)
    columns = 9 if deviation else 8
    budget = params.budget
    top = table(
        tr(td(f"{fund.form_title.removesuffix('绩效自评表')}名称", cls="label"), td(project.name, colspan=columns - 1)),
        tr(td("主管部门", cls="label"), td(project.department, colspan=3), td("实施单位", cls="label"),
           td(project.implementer, colspan=columns - 5)),
        *funds_block("项目资金（万元）", [("年度资金总额", card.execution.budget, True),
                                         *((label, row, False) for label, row in budget.lines())],
                      card, rules, columns),
        *goal_rows(markdown(params.goals.expected), markdown(params.goals.achieved), columns),
        colgroup=FORM_TOP_COLUMNS[columns], cls="grid form",
    )
    form = params.evaluation.form
    return section(form_caption(f"{project.department}{fund.form_title}", params.year), top,
                   indicator_table(card, rules, deviation),
                   wording.paragraph("project", "form_note", fund.value, style="form-note"),
                   form_signature(form.unit_head, form.filled_by, form.phone, form.date, form.finance_head),
                   cls="self-evaluation-form")


# --- the first-page table ---------------------------------------------------------------------------


def _source_rows(planned: Sources | None, received: Sources | None, rules: Rules) -> list:
    rows = []
    for key, label in SOURCE_LABELS.items():
        left = getattr(planned, key) if planned else None
        right = getattr(received, key) if received else None
        rows.append(tr(td(f"其中：{label}" if key == "central" else label, cls="label"), amount(left, rules),
                       td(f"其中：{label}" if key == "central" else label, cls="label"), amount(right, rules)))
    return rows


def basic_information(params: ProjectParams, rules: Rules) -> Table:
    """项目负责人、地址、起止时间与资金来源 (the top of the report's first-page table)."""
    project, investment = params.project, params.investment
    period = f"{project.period.start}～{project.period.end}" if project.period else ""
    planned = investment.planned if investment else None
    received = investment.received if investment else None
    return table(
        tr(td("项目负责人", cls="label"), td(project.leader), td("联系电话", cls="label"), td(project.phone)),
        tr(td("地址", cls="label"), td(project.address), td("邮编", cls="label"), td(project.postcode)),
        tr(td("项目起止时间", cls="label"), td(period, colspan=3)),
        tr(td("计划投资额（万元）", cls="label"), amount(planned.computed_total if planned else None, rules),
           td("实际到位资金（万元）", cls="label"), amount(received.computed_total if received else None, rules)),
        *_source_rows(planned, received, rules),
        colgroup=(22, 28, 22, 28),
    )


def labelled_rows(rows: Sequence[tuple[str, Any]]) -> Table:
    """A table of a label and a block of text, one row each (the narrative cells). A row whose
    content is a list of (label, content) is a group: its label merged down the left of its rows
    (项目执行情况 over 项目完成情况, 资金投入情况 …), as on the form."""
    grouped = any(_is_group(content) for _, content in rows)
    out = []
    for label, content in rows:
        if not _is_group(content):
            out.append(tr(td(label, cls="label", colspan=2 if grouped else 1), td(content, cls="text")))
            continue
        for i, (sub, text) in enumerate(content):
            lead = [td(label, cls="label", rowspan=len(content))] if i == 0 else []
            out.append(tr(*lead, td(sub, cls="label"), td(text, cls="text")))
    return table(*out, colgroup=(9, 14, 77) if grouped else (18, 82), cls="grid narrative")


def _is_group(content: Any) -> bool:
    return isinstance(content, list) and bool(content) and all(isinstance(c, tuple) for c in content)


def team(params: ProjectParams) -> Table:
    members = params.evaluation.team
    head = [tr(*(th(t) for t in ("姓名", "职称/职务", "单位", "签字")))]
    rows = [tr(td(m.name, cls="center"), td(m.role, cls="center"), td(m.unit or "", cls="center"), td(""))
            for m in members] or [tr(td("未填写", colspan=4, cls="center"))]  # TEAM-MISSING says so
    return table(*rows, head=head, colgroup=(20, 20, 40, 20))


# --- tables of the body -----------------------------------------------------------------------------


def indicator_targets(card: ScoreCard, with_actual: bool = False) -> Table:
    """目标分解绩效指标 (二级/三级/年度指标值[/实际完成值])."""
    columns = ["二级指标", "三级指标", "年度指标值"] + (["实际完成值"] if with_actual else [])
    rows = []
    for row in card.indicators:
        cells = [td(row.level2), td(row.indicator.name), td(row.indicator.target, cls="center")]
        if with_actual:
            cells.append(td(row.indicator.actual))
        rows.append(tr(*cells))
    widths = (18, 37, 15, 30) if with_actual else (25, 55, 20)
    return table(*rows, head=[tr(*(th(c) for c in columns))], colgroup=widths)


def spending(params: ProjectParams, rules: Rules) -> Table:
    """项目资金实际支出明细 (元), with each item's share of the total."""
    total = sum((item.amount for item in params.spending), Decimal(0))
    rows = [tr(td(item.item), amount(item.amount, rules), td(formatting.share(item.amount, total, rules), cls="num"))
            for item in params.spending]
    rows.append(tr(td("合计", cls="label"), amount(total, rules), td(formatting.share(total, total, rules), cls="num")))
    return table(*rows, head=[tr(th("支出科目"), th("金额（元）"), th("占比"))], colgroup=(50, 30, 20))


def findings_box(findings: Sequence[Finding]) -> Section:
    """审核提示: what ``evaltools check`` found, for reviewers; never silently dropped."""
    if not findings:
        return section(p(wording.say("project", "findings_clean")), cls="findings clean", element="aside",
                       audience=REVIEW)
    errors = sum(f.severity == "error" for f in findings)
    items = [[Span(SEVERITY_LABELS[f.severity], style=f"badge {f.severity}"), f" [{f.code}] {f.field}：{f.message}"]
             for f in findings]
    state = "has-errors" if errors else "has-warnings"
    return section(p(wording.say("project", "findings", errors, len(findings) - errors)), ItemList(items),
                   cls=f"findings {state}", element="aside", audience=REVIEW)
