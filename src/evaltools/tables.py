"""The report's tables as HTML, above all the 项目支出绩效自评表 in its official layout.

Every figure comes from the score card or is formatted from the parameters; merged cells
(一级/二级 indicators, the 项目资金 block) are rowspans, as on the printed form.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from itertools import groupby

from evaltools.checks import SEVERITY_LABELS, Finding
from evaltools.placeholders import money
from evaltools.markup import Html, join, markdown, tag
from evaltools.model import SOURCE_LABELS, BudgetRow, FundType, ProjectParams, Sources
from evaltools.rules import Rules
from evaltools.scoring import IndicatorScore, ScoreCard, percent
from evaltools.targets import plain_number

DASH = "—"


def td(content: object = "", *, cls: str | None = None, colspan: int | None = None,
       rowspan: int | None = None) -> Html:
    return tag("td", content, class_=cls, colspan=colspan if colspan and colspan > 1 else None,
               rowspan=rowspan if rowspan and rowspan > 1 else None)


def th(content: object = "", *, colspan: int | None = None, rowspan: int | None = None,
       cls: str | None = None) -> Html:
    return tag("th", content, class_=cls, colspan=colspan if colspan and colspan > 1 else None,
               rowspan=rowspan if rowspan and rowspan > 1 else None)


def tr(*cells: Html, cls: str | None = None) -> Html:
    return tag("tr", *cells, class_=cls)


def table(*rows: Html, head: Sequence[Html] = (), cls: str = "grid", colgroup: Sequence[int] = ()) -> Html:
    """A table; ``head`` rows repeat at the top of each printed page; ``colgroup`` in percent."""
    cols = join(tag("col", style=f"width:{w}%") for w in colgroup)
    parts = [tag("colgroup", cols)] if colgroup else []
    if head:
        parts.append(tag("thead", *head))
    parts.append(tag("tbody", *rows))
    return tag("table", *parts, class_=cls)


def _level_heading(level: str, card: ScoreCard) -> str:
    weight = next(lv.weight for lv in card.levels if lv.name == level)
    return f"{level}（{plain_number(weight)}分）"


# --- the 自评表 ------------------------------------------------------------------------------------

# Percent of the page width: label, 一级, 二级, 三级, 指标值, 实际完成值, 分值, 得分[, 偏差原因]. The
# 项目资金 rows reuse the same columns: 执行率 sits under 得分, its 得分 under the last column.
FORM_COLUMNS = {9: (8, 8, 8, 15, 9, 20, 7, 11, 14), 8: (9, 9, 9, 18, 10, 25, 8, 12)}
FundsLine = tuple[str, BudgetRow | None, bool]  # label, amounts (None: a heading row), is the total row


def funds_block(title: str, lines: Sequence[FundsLine], card: ScoreCard | None, rules: Rules,
                 columns: int) -> list[Html]:
    """The 项目资金 / 年度预算申请 rows: amounts per line, 分值/执行率/得分 on the total line."""
    span = columns - 7
    rows = [tr(td(title, cls="label", rowspan=len(lines) + 1), td("", colspan=span),
               *(th(t) for t in ("年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分")))]
    for label, amounts, is_total in lines:
        values = (amounts.initial, amounts.annual, amounts.executed) if amounts else (None, None, None)
        cells = [td(money(v) if v is not None else "", cls="num") for v in values]
        if is_total and card is not None:
            execution = card.execution
            tail = [td(plain_number(execution.weight), cls="num"), td(percent(execution.rate, rules), cls="num"),
                    td(str(execution.score), cls="num")]
        elif is_total:
            tail = [td(plain_number(rules.execution.weight), cls="num"), td(DASH, cls="num"), td(DASH, cls="num")]
        else:
            tail = [td(DASH, cls="num") for _ in range(3)]
        rows.append(tr(td(label, colspan=span, cls="label" if is_total else None), *cells, *tail))
    return rows


def goal_rows(expected: object, achieved: object, columns: int) -> list[Html]:
    left, right = 4, columns - 5
    return [tr(td("年度总体目标", cls="label", rowspan=2), th("预期目标", colspan=left), th("实际完成情况", colspan=right)),
            tr(td(expected, colspan=left, cls="text"), td(achieved, colspan=right, cls="text"))]


def _indicator_cells(row: IndicatorScore, deviation: bool) -> list[Html]:
    indicator = row.indicator
    cells = [td(indicator.name), td(indicator.target, cls="center"), td(indicator.actual),
             td(plain_number(row.weight), cls="num"), td(str(row.score), cls="num")]
    return cells + [td(indicator.deviation or "")] if deviation else cells


def _indicator_rows(card: ScoreCard, rules: Rules, lead: Html, deviation: bool) -> list[Html]:
    """One row per indicator, 一级/二级 merged; ``lead`` opens the first row (a spanning label)."""
    rows: list[Html] = []
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
                cells += _indicator_cells(row, deviation)
                rows.append(tr(*cells, cls="indicator" + (" lost" if row.lost > 0 else "")))
    return rows


def indicator_table(card: ScoreCard | None, rules: Rules, deviation: bool) -> Html:
    """绩效指标 block with 总分 and 等级. Its column headings are a <thead>, repeated when the
    table runs onto another page; the 绩效指标 label heads the first column."""
    columns = 9 if deviation else 8
    headings = ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"]
    header = tr(th("绩效指标", cls="label"), *(th(t) for t in headings + (["偏差原因分析及改进措施"] if deviation else [])))
    if card is None or not card.indicators:
        body = [tr(td("", cls="label continued"), td("未填写绩效指标", colspan=columns - 1, cls="center"))]
        total, grade = DASH, DASH
    else:
        body = _indicator_rows(card, rules, td("", cls="label continued", rowspan=len(card.indicators)), deviation)
        total, grade = str(card.total), card.grade
    weights = [td("100", cls="num"), td(tag("strong", total), cls="num total")]
    if deviation:
        body.append(tr(td("总分", colspan=6, cls="label center"), *weights,
                       td(tag("strong", f"等级：{grade}"), cls="center")))
    else:
        body.append(tr(td("总分", colspan=5, cls="label center"), td(tag("strong", f"等级：{grade}"), cls="center"),
                       *weights))
    return table(*body, head=[header], colgroup=FORM_COLUMNS[columns], cls="grid form indicators")


def form_caption(title: str, year: int | None) -> Html:
    return tag("div", tag("div", title, class_="form-title"), tag("div", f"（{year}年度）", class_="form-year"),
               class_="form-caption")


def form_signature(unit_head: str | None, filled_by: str | None, phone: str | None, date: object) -> Html:
    return tag("p", join([f"单位负责人签字：{unit_head or ''}", f"填表人：{filled_by or ''}",
                          f"联系电话：{phone or ''}", f"填报日期：{date or '    年  月  日'}"], "\u3000\u3000"),
               class_="form-sign")


def self_evaluation_form(params: ProjectParams, card: ScoreCard, rules: Rules) -> Html:
    """项目支出绩效自评表 (附件1-4 … 1-7, by fund type), filled in and scored.

    The 偏差原因 column is there where the fund type's form has it (附件1-5, 1-7), and on the
    others whenever an indicator has a 偏差原因 to show (as the seed's own 自评表 does).
    """
    project, fund = params.project, params.project.fund_type
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
        colgroup=FORM_COLUMNS[columns], cls="grid form",
    )
    note = {FundType.GENERAL: "此表项目支出不包括财政部门要求单独进行项目支出绩效自评项目，每个一级项目支出填写一张项目支出绩效自评表。",
            FundType.GOVERNMENT_FUND: "每个一级政府性基金预算支出填写一张政府性基金预算支出绩效自评表。",
            FundType.STATE_CAPITAL: "每个一级国有资本经营预算支出填写一张国有资本经营预算支出绩效自评表。",
            FundType.SOCIAL_INSURANCE: "每个一级社会保险基金预算支出填写一张社会保险基金预算支出绩效自评表。"}[fund]
    form = params.evaluation.form
    return tag("section", form_caption(f"{project.department}{fund.form_title}", params.year), top,
               indicator_table(card, rules, deviation), tag("p", f"说明：{note}", class_="form-note"),
               form_signature(form.unit_head, form.filled_by, form.phone, form.date), class_="self-evaluation-form")


# --- the first-page table ---------------------------------------------------------------------------


def _source_rows(planned: Sources | None, received: Sources | None) -> list[Html]:
    rows = []
    for key, label in SOURCE_LABELS.items():
        left = getattr(planned, key) if planned else None
        right = getattr(received, key) if received else None
        rows.append(tr(td(f"其中：{label}" if key == "central" else label, cls="label"),
                       td(money(left) if left is not None else "", cls="num"),
                       td(f"其中：{label}" if key == "central" else label, cls="label"),
                       td(money(right) if right is not None else "", cls="num")))
    return rows


def basic_information(params: ProjectParams) -> Html:
    """项目负责人、地址、起止时间与资金来源 (the top of the report's first-page table)."""
    project, investment = params.project, params.investment
    period = f"{project.period.start}～{project.period.end}" if project.period else ""
    planned = investment.planned if investment else None
    received = investment.received if investment else None
    return table(
        tr(td("项目负责人", cls="label"), td(project.leader), td("联系电话", cls="label"), td(project.phone)),
        tr(td("地址", cls="label"), td(project.address), td("邮编", cls="label"), td(project.postcode)),
        tr(td("项目起止时间", cls="label"), td(period, colspan=3)),
        tr(td("计划投资额（万元）", cls="label"), td(money(planned.computed_total) if planned else "", cls="num"),
           td("实际到位资金（万元）", cls="label"), td(money(received.computed_total) if received else "", cls="num")),
        *_source_rows(planned, received),
        colgroup=(22, 28, 22, 28),
    )


def labelled_rows(rows: Sequence[tuple[str, Html]]) -> Html:
    """A two-column table of a label and a block of text, one row each (the narrative cells)."""
    return table(*(tr(td(label, cls="label"), td(content, cls="text")) for label, content in rows),
                 colgroup=(18, 82), cls="grid narrative")


def team(params: ProjectParams) -> Html:
    members = params.evaluation.team
    head = [tr(*(th(t) for t in ("姓名", "职称/职务", "单位", "签字")))]
    rows = [tr(td(m.name, cls="center"), td(m.role, cls="center"), td(m.unit or "", cls="center"), td(""))
            for m in members]
    return table(*rows, head=head, colgroup=(20, 20, 40, 20))


# --- tables of the body -----------------------------------------------------------------------------


def indicator_targets(card: ScoreCard, with_actual: bool = False) -> Html:
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


def spending(params: ProjectParams) -> Html:
    """项目资金实际支出明细 (元), with each item's share of the total."""
    total = sum((item.amount for item in params.spending), Decimal(0))
    rows = [tr(td(item.item), td(money(item.amount), cls="num"),
               td(f"{(item.amount / total * 100).quantize(Decimal('0.01'))}%" if total else DASH, cls="num"))
            for item in params.spending]
    rows.append(tr(td("合计", cls="label"), td(money(total), cls="num"), td("100.00%" if total else DASH, cls="num")))
    return table(*rows, head=[tr(th("支出科目"), th("金额（元）"), th("占比"))], colgroup=(50, 30, 20))


def findings_box(findings: Sequence[Finding]) -> Html:
    """审核提示: what ``evaltools check`` found, for reviewers; never silently dropped."""
    if not findings:
        return tag("aside", tag("strong", "审核提示："), "一致性检查未发现问题。", class_="findings clean")
    errors = sum(f.severity == "error" for f in findings)
    summary = f"一致性检查发现 {errors} 个错误、{len(findings) - errors} 个提示，请在提交前核对："
    items = [tag("li", tag("span", SEVERITY_LABELS[f.severity], class_=f"badge {f.severity}"),
                 f" [{f.code}] {f.field}：{f.message}") for f in findings]
    state = "has-errors" if errors else "has-warnings"
    return tag("aside", tag("strong", "审核提示："), summary, tag("ul", *items), class_=f"findings {state}")
