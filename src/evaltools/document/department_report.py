"""The 部门整体支出绩效自评报告, part by part, as ``notebooks/department_overall.ipynb`` shows it.

The 附件1-8 format (cover, 一 基本情况, 二 收支情况, 三 整体支出绩效自评情况, 四 评价人员), the
参考提纲 sections 一 to 十一, the attachments, each under its label: 附件1-1 (the 领导小组 notice,
the first document the department file attaches), 附件1-2 基础数据表, 附件1-3 整体支出绩效自评表
and any further documents (附件1-4 …), and a table of the department's projects, scored from
their own parameter files or listed in the department file. Every field the data
holds is filled (附件1-3's funds from the spending table, the cover from the evaluation the
projects share); a form cell the data does not hold shows "—", a narrative section it does not
hold stays empty. Every sentence that states a figure is generated from the data, in the words
of the forms: what only a reviewer needs (checks, file counts) is marked for the review edition.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from evaltools import __version__
from evaltools.domain import formatting, history
from evaltools.document import wording
from evaltools.document.charts import projects_chart
from evaltools.domain.checks import Finding, check_department
from evaltools.domain.department import (
    FUND_NATURE_ROWS,
    INCOME_COLUMNS,
    PUBLIC_FUND_ITEMS,
    SPENDING_NATURE_ROWS,
    THREE_PUBLIC_ITEMS,
    YEAR_COLUMNS,
    change_rate,
    total,
)
from evaltools.domain.model import FundType, unwritten
from evaltools.domain.placeholders import department_figures, fill
from evaltools.document.parts import (
    REVIEW,
    AttachedPdf,
    Fields,
    Markdown,
    Section,
    Signature,
    SignOff,
    group,
    h,
    p,
    section,
    table,
    td,
    th,
    tr,
)
from evaltools.document.project_report import BLANK_DATE, chapter, own, subsection
from evaltools.domain.yamlio import ParamsError
from evaltools.domain.rollup import LoadedDepartment, load_department
from evaltools.domain.scoring import IndicatorScore
from evaltools.domain.targets import plain_number
from evaltools.document.tables import (
    DASH,
    FORM_TOP_COLUMNS,
    findings_box,
    form_caption,
    form_signature,
    funds_block,
    goal_rows,
    indicator_table,
)
from evaltools.document.tables import _indicator_cells as indicator_cells  # the project form's cells, shared
from evaltools.domain.workspace import DEPARTMENT_NOTEBOOK, display_path, notebook_source, source_fingerprint


# 附件1-3's columns (percent of the width). Its fund lines are longer than a project's
# ("纳入专户管理的非税收入拨款") and sit in one column: that column is wider than on the project's
# form; its 二级指标 ("可持续影响指标") too, so that no label breaks a character a line.
DEPARTMENT_TOP_COLUMNS = {8: (12, 24, 12, 12, 12, 8, 10, 10)}
DEPARTMENT_INDICATOR_COLUMNS = {8: (6, 9, 15, 18, 10, 30, 6, 6)}


def _text(value: object) -> str:
    """A form cell's text ("45", a name), "—" when the data does not hold it."""
    return str(value) if value not in (None, "", []) else DASH


# 附件1-3's rows above the indicators, in percent: label, the line's name (one or two columns),
# 年初预算数, 全年预算数, 全年执行数 alike, 分值, 执行率, 得分 — not the indicator block's columns.


def _date(signature: Any) -> str:
    return str(signature.date) if signature is not None and signature.date else BLANK_DATE


def _name(signature: Any) -> str:
    return signature.name or "" if signature is not None else ""


@dataclass
class DepartmentReport:
    department: LoadedDepartment
    findings: list[Finding]
    notebook_fingerprint: str | None = None

    @classmethod
    def load(cls, department_file: str | Path | None, overrides: Mapping[str, Any] | None = None,
             rules_files: Sequence[str | Path] = (), notebook_fingerprint: str | None = None) -> DepartmentReport:
        path, overrides = notebook_source(department_file, overrides or {}, department=True)
        department = load_department(path, rules_files, overrides)
        return cls(department, check_department(department),
                   source_fingerprint(department.path, DEPARTMENT_NOTEBOOK, notebook_fingerprint))

    # --- shorthands --------------------------------------------------------------------------------

    @property
    def params(self):
        return self.department.params

    @property
    def year(self) -> int:
        return self.params.evaluated_year

    @property
    def name(self) -> str:
        return self.params.name

    @property
    def rules(self):
        return self.department.rules

    def _money(self, value: Decimal | None) -> str:
        return formatting.money(value, self.rules)

    def _score_text(self) -> tuple[str, str]:
        card = self.department.card
        if card is None or not self.params.indicators:
            return DASH, DASH
        return formatting.score(card.total, self.rules), card.grade

    # --- 附件1-8: the report's form -------------------------------------------------------------------

    def cover(self) -> Section:
        e = self.params.evaluation
        rows = [("部门（单位）名称（盖章）", self.name),
                ("预算编码", _text(self.params.unit and self.params.unit.budget_code)),
                ("评价方式", _text(e.method)), ("评价机构", _text(e.evaluator)), ("报告时间", _text(e.report_date))]
        return section(p(self.name, cls="cover-unit"),
                       h(1, wording.text("department", "cover_title", self.year), cls="cover-title"), Fields(rows),
                       cls="cover")

    def review(self) -> Section:
        """审核提示 and each project's checks: for reviewers, left out of the submission edition."""
        box = findings_box(self.findings)
        lines = self.department.projects
        if not lines:
            return box
        checks = table(*(tr(td(line.name), td(f"无法读取：{line.problem}" if line.problem
                                              else f"{line.errors}/{line.warnings}", cls="center"))
                         for line in lines),
                       head=[tr(th("项目参数文件"), th("检查（错误/提示）"))], colgroup=(70, 30))
        covered = total([line.annual for line in lines])
        note = wording.paragraph("department", "projects_review", len(lines), self._money(covered))
        return section(box, note, checks, cls="review", element="div", audience=REVIEW)

    def basic(self) -> Section:
        """一、部门（单位）基本情况."""
        unit = self.params.unit
        tasks = ([wording.paragraph("department", "task", i, t) for i, t in enumerate(unit.tasks, 1)]
                 if unit and unit.tasks else DASH)
        rows = [
            tr(td("联系人", cls="label"), td(_text(unit and unit.contact)), td("联系电话", cls="label"),
               td(_text(unit and unit.phone))),
            tr(td("人员编制", cls="label"), td(_text(unit and unit.staffing), cls="num"), td("实有人数", cls="label"),
               td(_text(unit and unit.actual_staff), cls="num")),
            tr(td("职能职责概述", cls="label"), td(_text(unit and unit.functions), colspan=3, cls="text")),
            tr(td("年度主要工作内容", cls="label"), td(tasks, colspan=3, cls="text")),
            tr(td("年度部门（单位）总体运行情况及取得的成绩", cls="label"),
               td(Markdown(unit.achievements) if unit and unit.achievements else DASH, colspan=3, cls="text")),
        ]
        return chapter(1, "部门（单位）基本情况", table(*rows, colgroup=(22, 28, 22, 28)))

    def _per_institution(self, columns: Sequence[str], rows: Sequence[Sequence[object]], summary: Sequence[object],
                         widths: Sequence[int]) -> Any:
        head = [tr(*(th(c) for c in columns))]
        body = [tr(td("局机关及二级机构汇总", cls="label"), *(self._amount(v) for v in summary))]
        body += [tr(td(f"{i}、{row[0]}"), *(self._amount(v) for v in row[1:])) for i, row in enumerate(rows, 1)]
        return table(*body, head=head, colgroup=widths)

    def _amount(self, value: Decimal | None) -> Any:
        return td(self._money(value), cls="num", value=value, kind="money")

    def finances(self) -> Section:
        """二、部门（单位）收支情况: income, spending and balance, 三公经费, fixed assets."""
        p = self.params
        income_rows = [[r.institution, r.total, *(getattr(r, k) for k in INCOME_COLUMNS)] for r in p.income]
        income_sum = [total([r[i] for r in income_rows]) for i in range(1, 7)] if income_rows else [None] * 6
        income = self._per_institution(["机构名称", "收入合计", *INCOME_COLUMNS.values()], income_rows, income_sum,
                                       (22, 13, 13, 13, 13, 13, 13))
        spend_rows = [[r.institution, r.total, r.basic_total, r.personnel, r.public, r.project, r.balance_current,
                       r.balance_accumulated] for r in p.expenditure]
        spend_sum = [total([r[i] for r in spend_rows]) for i in range(1, 8)] if spend_rows else [None] * 7
        spending = self._per_institution(["机构名称", "支出合计", "基本支出", "其中：人员支出", "公用支出", "项目支出",
                                          "当年结余", "累计结余"], spend_rows, spend_sum, (20, 12, 12, 11, 11, 12, 11, 11))
        final = p.three_public.final if p.three_public else None
        three = self._per_institution(
            ["机构名称", "三公经费合计", "公务接待费", "公务用车运行维护费", "公务用车购置费", "因公出国（境）费用"], [],
            [final.total, final.reception, final.vehicle_operation, final.vehicle_purchase, final.overseas]
            if final else [None] * 5, (25, 15, 15, 15, 15, 15))
        asset_rows = [[r.institution, r.total, r.in_use, r.rented, r.other] for r in p.fixed_assets]
        asset_sum = [total([r[i] for r in asset_rows]) for i in range(1, 5)] if asset_rows else [None] * 4
        assets = self._per_institution(["机构名称", "固定资产合计", "在用固定资产", "出租固定资产", "其他"],
                                       asset_rows, asset_sum, (32, 17, 17, 17, 17))
        return chapter(2, "部门（单位）收支情况",
                       h(4, "年度收入情况（万元）"), income, h(4, "部门（单位）年度支出和结余情况（万元）"), spending,
                       h(4, "三公经费（万元）"), three, h(4, "固定资产（万元）"), assets)

    def performance_summary(self) -> Section:
        """三、部门（单位）整体支出绩效自评情况."""
        goals = self.params.goals
        goal_rows = [tr(td(f"目标{i}：{g.expected}", cls="text"), td(_text(g.achieved), cls="text"))
                     for i, g in enumerate(goals, 1)] or [tr(td(DASH, cls="center"), td(DASH, cls="center"))]
        card = self.department.card
        rows = card.indicators if card else []
        # without indicators, the form's rows: each 一级 with its categories, to be filled in
        quantitative = [tr(td(r.level1 or ""), td(r.level2), td(r.indicator.name), td(r.indicator.target, cls="center"),
                           td(r.indicator.actual)) for r in rows] or [
            tr(td(name), td("、".join(level.categories)), td(""), td(""), td(""))
            for name, level in self.rules.levels.items()]
        score, grade = self._score_text()
        return chapter(3, "部门（单位）整体支出绩效自评情况",
                       h(4, "整体支出绩效定性目标及实施计划完成情况"),
                       table(*goal_rows, head=[tr(th("预期目标"), th("实际完成"))], colgroup=(50, 50)),
                       h(4, "整体支出绩效定量目标及实施计划完成情况"),
                       table(*quantitative, head=[tr(*(th(c) for c in ("评价内容", "指标类别", "绩效目标", "指标值",
                                                                          "完成情况")))],
                             colgroup=(14, 16, 30, 12, 28)),
                       h(4, "绩效自评综合得分及评价等次"),
                       wording.paragraph("department", "verdict", score, grade),
                       wording.paragraph("project", "grade_note", self.rules.grade_note(), style="note"))

    def team(self) -> Section:
        """四、评价人员, and the sign-off blocks."""
        e = self.params.evaluation
        head = [tr(*(th(t) for t in ("姓名", "职务/职称", "单位", "签字")))]
        rows = [tr(td(m.name, cls="center"), td(m.role, cls="center"), td(m.unit or "", cls="center"), td(""))
                for m in e.team] or [tr(td(DASH, colspan=4, cls="center"))]
        return chapter(4, "评价人员", table(*rows, head=head, colgroup=(20, 20, 40, 20)), self.signoff())

    def signoff(self) -> Section:
        """附件1-8's sign-off, as the form has it: the team leader's, the unit's and the 财政部门's
        blocks, each an opinion, a signature, a seal and a date; kept together on one page."""
        e = self.params.evaluation
        leader = SignOff([Signature("评价组组长签署意见", e.leader_opinion or ""),
                          Signature("评价组组长（签字）", _name(e.team_leader), _date(e.team_leader))], "single")
        unit = SignOff([Signature("部门（单位）意见"), Signature("部门（单位）负责人（签字）", _name(e.unit_head)),
                        Signature("部门（单位）（盖章）", "", _date(e.unit_head))], "single")
        finance = SignOff([Signature("财政部门归口业务科室意见"),
                           Signature("财政部门归口业务科室负责人（签字）", _name(e.finance_office)),
                           Signature("财政部门归口业务科室（盖章）", "", _date(e.finance_office))], "single")
        return section(leader, unit, finance, cls="signoff-page", element="div")

    # --- 参考提纲 一 to 十一 ---------------------------------------------------------------------------

    def unit_sentence(self) -> Section:
        unit = self.params.unit
        if unit is None:
            return wording.paragraph("department", "unit_missing", self.name)
        return wording.paragraph("department", "unit", unit, self.year, formatting.percent(unit.control_rate, self.rules))

    def spending_sentence(self) -> Section:
        p_ = self.params
        if not p_.expenditure:
            return wording.paragraph("department", "spending_missing")
        general, overall = p_.spent(FundType.GENERAL), p_.spent()
        basic, project = p_.general_split()
        others = [(fund.value, self._money(self.params.spent(fund) or Decimal(0)))
                  for fund in (FundType.GOVERNMENT_FUND, FundType.STATE_CAPITAL, FundType.SOCIAL_INSURANCE)]
        return wording.paragraph("department", "spending", self.year, self._money(overall), self._money(general),
                                 self._money(basic), self._money(project), others)

    def _narrative(self, key: str) -> Any:
        """The unit's own text of a section; nothing when it wrote none, or only blanks (no stray
        "—": a section with nothing else then says it is not filled in)."""
        return self._filled(getattr(self.params.narrative, key))

    def _filled(self, text: str | None) -> Markdown | None:
        """The unit's Markdown with its {{figures}} filled in; None where it wrote nothing."""
        return None if unwritten(text) else Markdown(fill(text, self._figures))

    @functools.cached_property
    def _figures(self) -> dict[str, str]:
        return department_figures(self.params, self.department.card, self.rules)

    @property
    def title(self) -> str:
        return wording.text("department", "title", self.name, self.year)

    def outline(self) -> Section:
        """The report body after the 参考提纲: 一 to 十一."""
        p_ = self.params
        goals = self._filled(p_.overall_goals.expected if p_.overall_goals else None)
        fund_sections = []
        for number, (key, fund) in enumerate((("government_fund", FundType.GOVERNMENT_FUND),
                                              ("state_capital", FundType.STATE_CAPITAL),
                                              ("social_insurance", FundType.SOCIAL_INSURANCE)), 3):
            amount = self.params.spent(fund)
            sentence = wording.paragraph("department", "fund", fund.value, self._money(amount) if amount else None,
                                         bool(p_.expenditure))
            fund_sections.append(chapter(number, f"{fund.value}支出情况", sentence, self._narrative(key)))
        score, grade = self._score_text()
        conclusion = wording.paragraph("department", "conclusion", p_.evaluation.basis, None if score == DASH else score,
                                       grade)
        return section(h(1, self.title, cls="report-title"),
                       chapter(1, "基本情况", subsection(1, "部门（单位）基本情况", self.unit_sentence(),
                                                       self._narrative("basic")),
                               own(subsection, 2, "部门（单位）年度整体支出绩效目标", goals)),
                       chapter(2, "一般公共预算支出情况", self.spending_sentence(), self._narrative("general_budget"),
                               h(3, "项目支出情况"), self.projects()),
                       *fund_sections,
                       own(chapter, 6, "部门整体支出绩效情况", self._narrative("performance")),
                       chapter(7, "综合评价情况及评价结论", conclusion, self._narrative("conclusion")),
                       own(chapter, 8, "主要经验做法、存在的问题及原因分析", self._narrative("experience")),
                       own(chapter, 9, "有关建议", self._narrative("suggestions")),
                       own(chapter, 10, "绩效自评结果拟应用和公开情况", self._narrative("application")),
                       chapter(11, "其他需要说明的问题", self._narrative("other") or Markdown("无")))  # as a project's

    def projects(self) -> Section:
        """The department's projects with their self-evaluation scores (each scored from its own
        parameter file), then those the department file lists without one (no score), with a chart
        of the scores; how they compare with the 项目支出 is for reviewers."""
        filed = [line for line in self.department.projects if not line.problem]
        listed = self.department.listed
        rules = self.rules
        stated = total([row.project for row in self.params.expenditure])
        sentence = wording.paragraph("department", "projects", self.year, None if stated is None else self._money(stated),
                                     len(filed), len(listed))
        if not filed and not listed:
            return sentence
        # 上年 beside 本年 where any project has last year's file (a column more, else none)
        last = [history.previous_year(line.path) for line in filed] + [None] * len(listed)
        last_column = [th("上年总分（等级）")] if any(last) else []
        head = [tr(*(th(c) for c in ("项目名称", "全年预算数（万元）", "全年执行数（万元）", "执行率", "自评得分", "等级")),
                   *last_column)]
        rows = [tr(td(line.name), self._amount(line.annual), self._amount(line.executed),
                   td(formatting.percent(line.rate, rules), cls="num", value=line.rate, kind="rate"),
                   td(formatting.score(line.total, rules), cls="num", value=line.total, kind="score"),
                   td(_text(line.grade), cls="center"),
                   *([td(DASH if before is None else f"{formatting.score(before.total, rules)}（{before.grade}）", cls="num")]
                     if last_column else []))
                for line, before in zip([*filed, *listed], last, strict=True)]
        scored = [line for line in filed if line.total is not None]
        chart = projects_chart(scored, rules) if scored else None
        widths = (28, 13, 13, 10, 10, 9, 17) if last_column else (36, 15, 15, 12, 12, 10)
        return group(sentence, table(*rows, head=head, colgroup=widths), chart)

    # --- 附件1-2 and 1-3 ------------------------------------------------------------------------------

    def basic_data(self) -> Section:
        """附件1-2 州级预算部门整体支出绩效评价基础数据表."""
        p_, rules = self.params, self.rules
        unit = p_.unit
        staff = table(tr(th("财政供养人员情况"), th(f"{self.year}年末编制数"), th(f"{self.year}年末实际在职人数"), th("控制率")),
                      tr(td(""), td(_text(unit and unit.staffing), cls="num"), td(_text(unit and unit.actual_staff), cls="num"),
                         td(formatting.percent(unit.control_rate if unit else None, rules), cls="num")), colgroup=(28, 24, 24, 24))
        years = [f"{self.year - 1}年决算数（万元）", f"{self.year}年预算数（万元）", f"{self.year}年决算数（万元）", "变动率"]
        heading = tr(td("经费控制情况", cls="label"), *(th(y) for y in years))  # repeated where the table runs on
        rows: list[Any] = []

        def line(label: str, values: Sequence[Decimal | None], rate: bool = True) -> Any:
            changed = formatting.percent(change_rate(values[0], values[2]), rules) if rate else DASH
            return tr(td(label), *(self._amount(v) for v in values), td(changed, cls="num"))

        three = p_.three_public
        columns = list(YEAR_COLUMNS)
        rows.append(line("三公经费", [getattr(three, c).total if three else None for c in columns]))
        for key, label in THREE_PUBLIC_ITEMS.items():
            rows.append(line(label, [getattr(getattr(three, c), key) if three else None for c in columns]))
        rows.append(tr(td("项目支出：", cls="label"), *(td("") for _ in range(4))))
        for project in [*self.department.projects, *self.department.listed]:  # every 项目支出, filed or listed
            rows.append(line(project.name, [None, project.annual, project.executed], rate=False))
        public = p_.public_funds
        rows.append(line("公用经费", [getattr(public, c).total_amount if public else None for c in columns]))
        for key, label in PUBLIC_FUND_ITEMS.items():
            rows.append(line(label, [getattr(getattr(public, c), key) if public else None for c in columns]))
        procurement = p_.procurement
        rows.append(line("政府采购金额", [None, procurement and procurement.budget, procurement and procurement.final],
                         rate=False))
        basic = p_.funds.basic if p_.funds else None
        adjustment = (basic.annual - basic.initial) if basic and basic.annual is not None and basic.initial is not None else None
        rows.append(tr(td("部门基本支出预算调整"), td(DASH, cls="num"), self._amount(adjustment), td(DASH, cls="num"),
                       td(formatting.percent(change_rate(basic.initial, basic.annual) if basic else None, rules),
                          cls="num")))
        costs = table(*rows, head=[heading], colgroup=(32, 17, 17, 17, 17))
        note = wording.paragraph("department", "basic_data_note", style="form-note")
        return section(self._label("1-2"), form_caption("州级预算部门整体支出绩效评价基础数据表", self.year), staff, costs,
                       self._buildings(), note,
                       form_signature(unit.head if unit else None, None, unit.phone if unit else None, None),
                       cls="attachment form-page")

    def _buildings(self) -> Any:
        """楼堂馆所控制情况 (the year before's completed buildings) and 厉行节约保障措施, as on the form."""
        rules = self.rules
        head = tr(td(f"楼堂馆所控制情况（{self.year - 1}年完工项目）", cls="label"),
                  *(th(t) for t in ("批复规模（m²）", "实际规模（m²）", "规模控制率", "预算投资（万元）", "实际投资（万元）",
                                    "投资概算控制率")))

        def area(value: Decimal | None) -> Any:
            return td(DASH if value is None else plain_number(value), cls="num", value=value)

        rows = [tr(td(_text(b.name)), area(b.approved_area), area(b.actual_area),
                   td(formatting.percent(b.area_control_rate, rules), cls="num", value=b.area_control_rate, kind="rate"),
                   self._amount(b.budget_investment), self._amount(b.actual_investment),
                   td(formatting.percent(b.investment_control_rate, rules), cls="num", value=b.investment_control_rate,
                      kind="rate"))
                for b in self.params.buildings] or [tr(td(DASH, cls="center"), *(td(DASH, cls="num") for _ in range(6)))]
        austerity = self.params.austerity
        rows.append(tr(td("厉行节约保障措施", cls="label"),
                       td(Markdown(austerity) if austerity else DASH, colspan=6, cls="text")))
        return table(head, *rows, colgroup=(22, 13, 13, 13, 13, 13, 13))

    def _indicator_form(self, deviation: bool) -> Any:
        """附件1-3's 绩效指标 rows: every 一级 and 二级 of the form (产出, 效益, 满意度 and their
        categories) even where the unit has no indicator, its indicators under them."""
        rules, card = self.rules, self.department.card
        template = indicator_table(card if self.params.indicators else None, rules, deviation)
        scored = card.indicators if card and self.params.indicators else []
        weights = {lv.name: lv.weight for lv in card.levels} if card and self.params.indicators else {}
        blank = 6 if deviation else 5
        placed: set[int] = set()
        body: list[tuple[list[Any], bool]] = []
        for level_name, level in rules.levels.items():
            in_level = [r for r in scored if r.level1 == level_name]
            own = [r.level2 for r in in_level if rules.canonical_category(r.level2) not in level.categories]
            level_rows: list[list[Any]] = []
            for category in dict.fromkeys([*level.categories, *own]):
                rows = [r for r in in_level
                        if r.index not in placed and category in (r.level2, rules.canonical_category(r.level2))]
                placed.update(r.index for r in rows)
                cells = ([indicator_cells(r, rules, deviation) for r in rows]
                         or [[td("") for _ in range(blank)]])
                cells[0].insert(0, td(category, rowspan=len(cells)))
                level_rows += cells
            weight = plain_number(weights.get(level_name, level.weight))
            level_rows[0].insert(0, td(f"{level_name}（{weight}分）", rowspan=len(level_rows), cls="label"))
            body += [(cells, i < len(level_rows) - 1) for i, cells in enumerate(level_rows)]
        rest = [r for r in scored if r.index not in placed]
        if rest:
            body += [(cells, False) for cells in self._unsorted(rest, deviation)]
        body[0][0].insert(0, td("", cls="label continued", rowspan=len(body)))
        body[-1] = (body[-1][0], True)  # the last row keeps with 总分: a page never opens on the total alone
        # as on the project's form, a page breaks only between 一级指标 (a row keeps with the next in its level)
        return table(*(tr(*cells, cls="indicator keep-next" if keep else "indicator") for cells, keep in body),
                     template.rows[-1], head=template.head,
                     colgroup=DEPARTMENT_INDICATOR_COLUMNS.get(len(template.widths), template.widths), cls=template.style)

    def _unsorted(self, rows: list[IndicatorScore], deviation: bool) -> list[list[Any]]:
        cells = [indicator_cells(r, self.rules, deviation) for r in rows]
        for cell_row, r in zip(cells, rows, strict=True):
            cell_row.insert(0, td(r.level2))
        cells[0].insert(0, td("（未归类）", rowspan=len(cells), cls="label"))  # a 二级 the rules do not know
        return cells

    def self_evaluation_form(self) -> Section:
        """附件1-3 州级预算部门整体支出绩效自评表, scored by the same rules as projects."""
        p_, rules, card = self.params, self.rules, self.department.card
        funds = p_.overall_funds
        lines = [("年度资金总额", funds.total if funds else None, True), ("按收入性质分：", None, False),
                 *((label, getattr(funds, key) if funds else None, False) for key, label in FUND_NATURE_ROWS.items()),
                 ("按支出性质分：", None, False),
                 *((label, getattr(funds, key) if funds else None, False) for key, label in SPENDING_NATURE_ROWS.items())]
        deviation = any(i.deviation for i in p_.indicators)
        columns = 9 if deviation else 8
        goals = p_.overall_goals
        top = table(
            tr(td("州级预算部门名称", cls="label"), td(self.name, colspan=columns - 1)),
            # 执行率 and 得分 where the data gives a 全年预算数 to measure against, else "—"
            *funds_block("年度预算申请（万元）", lines, card if funds and funds.total.annual is not None else None,
                         rules, columns),
            *goal_rows(self._filled(goals and goals.expected) or DASH, self._filled(goals and goals.achieved) or DASH, columns),
            colgroup=DEPARTMENT_TOP_COLUMNS.get(columns, FORM_TOP_COLUMNS[columns]), cls="grid form",
        )
        unit = p_.unit
        return section(self._label("1-3"), form_caption("州级预算部门整体支出绩效自评表", self.year), top,
                       self._indicator_form(deviation),
                       form_signature(unit.head if unit else None, None, unit.phone if unit else None, None),
                       cls="attachment form-page")

    # --- the attached documents -------------------------------------------------------------------

    @staticmethod
    def attachment_number(index: int) -> str:
        """附件1-1 is the first document attached (the official list puts the 领导小组 notice there),
        1-2 and 1-3 are the forms, further documents follow from 1-4."""
        return "1-1" if index == 0 else f"1-{index + 3}"

    def _label(self, number: str) -> Any:
        return p(wording.text("project", "attachment_label", number), cls="attachment-label")

    def attachments(self, kind: str) -> Section:
        """The attached documents of one kind: "text" (Markdown, shown in full) or "pdf" (appended to
        the PDF edition as they are, named elsewhere). A file that cannot be read refuses the
        report, naming field and path, as a project's does."""
        if self.department.unusable_attachments:
            raise ParamsError(self.department.attachment_problems())
        out = []
        for index, attachment in enumerate(self.params.attachments):
            path = self.department.attachments[index]
            if (path.suffix.lower() == ".pdf") != (kind == "pdf"):
                continue
            number = self.attachment_number(index)
            if kind == "pdf":
                note = wording.text("project", "attached_pdf", number, attachment.title, path.name)
                out.append(section(self._label(number), AttachedPdf(attachment.title, path.read_bytes(), note),
                                   cls="attachment"))
            else:
                out.append(section(self._label(number), h(2, attachment.title, cls="attachment-title"),
                                   Markdown(fill(path.read_text(encoding="utf-8"), self._figures)), cls="attachment"))
        return group(*out)

    def provenance(self) -> Section:
        parts = [f"evaltools {__version__}",
                 f"参数 {display_path(self.department.path)} 及 {len(self.department.projects)} 个项目文件"
                 f"（{self.department.fingerprint}）",
                 f"规则 {self.department.rules.name}（{self.department.rules.fingerprint}）"]
        if self.notebook_fingerprint:
            parts.append(f"笔记本 notebooks/{DEPARTMENT_NOTEBOOK}（{self.notebook_fingerprint}）")
        return section(wording.paragraph("department", "provenance", parts), cls="provenance", element="footer",
                       audience=REVIEW)
