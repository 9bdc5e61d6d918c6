"""The project report, part by part, as the notebook displays it.

``ProjectReport`` ties the parameters, the score card and the findings together; each method
returns one part of the report (cover, first-page table, sections 一 to 十, the 自评表) as HTML.
The notebook's cells are one call each; the structure and wording follow the seed report
(湘西州公共资源交易中心, 2024) and the 附件1-4 form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from evaltools import __version__
from evaltools.charts import score_chart, spending_chart
from evaltools.checks import Finding, check_project
from evaltools.placeholders import figures, fill, money, placeholders
from evaltools.markup import Html, join, markdown, tag
from evaltools.model import ProjectParams
from evaltools.rules import Rules
from evaltools.scoring import ScoreCard, score
from evaltools.tables import (
    basic_information,
    findings_box,
    indicator_targets,
    labelled_rows,
    self_evaluation_form,
    spending,
    team,
)
from evaltools.workspace import (
    NOTEBOOK,
    LoadedProject,
    display_path,
    load_project,
    notebook_source,
    source_fingerprint,
)

DIGITS = "一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 23 → 二十三 (section numbers)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens - 1] + "十")
    return head + (DIGITS[ones - 1] if ones else "")


def h(level: int, text: str, cls: str | None = None) -> Html:
    return tag(f"h{level}", text, class_=cls)


def section(number: int, title: str, *content: object) -> Html:
    return tag("section", h(2, f"{chinese_number(number)}、{title}"), *content, class_="chapter")


def subsection(number: int, title: str, *content: object) -> Html:
    return tag("section", h(3, f"（{chinese_number(number)}）{title}"), *content)


@dataclass
class ProjectReport:
    project: LoadedProject
    card: ScoreCard
    findings: list[Finding]
    notebook_fingerprint: str | None = None

    @classmethod
    def load(cls, params_file: str | Path | None, overrides: Mapping[str, Any] | None = None,
             rules_files: Sequence[str | Path] = (), notebook_fingerprint: str | None = None) -> ProjectReport:
        """Load, score and check a project; ``overrides`` are papermill's injected values
        (``params_file`` None: see :func:`evaltools.workspace.notebook_source`)."""
        path, overrides = notebook_source(params_file, overrides or {})
        project = load_project(path, rules_files, overrides=overrides)
        return cls.of(project, source_fingerprint(project.path, NOTEBOOK, notebook_fingerprint))

    @classmethod
    def of(cls, project: LoadedProject, notebook_fingerprint: str | None = None) -> ProjectReport:
        card = score(project.params, project.rules)
        return cls(project, card, check_project(project, card), notebook_fingerprint)

    # --- shorthands ---------------------------------------------------------------------------------

    @property
    def params(self) -> ProjectParams:
        return self.project.params

    @property
    def rules(self) -> Rules:
        return self.project.rules

    @property
    def title(self) -> str:
        fund = self.params.project.fund_type.form_title.removesuffix("绩效自评表")
        return f"{self.params.year}年度“{self.params.project.name}”{fund}绩效自评报告"

    def text(self, markdown_text: str | None) -> Html:
        """Narrative from the parameters with its {{figures}} filled in."""
        return markdown(fill(markdown_text or "", figures(self.params, self.card, self.rules)))

    def _figure(self, name: str) -> str:
        return figures(self.params, self.card, self.rules)[name]

    # --- the parts -----------------------------------------------------------------------------------

    def cover(self) -> Html:
        p, e = self.params.project, self.params.evaluation
        fund = p.fund_type.form_title.removesuffix("绩效自评表")
        rows = [("项目名称", p.name), ("支出功能科目编码", p.function_code or ""), ("项目实施单位", p.implementer),
                ("主管部门", p.department), ("评价方式", e.method), ("评价机构", e.evaluator),
                ("单位名称（盖章）", p.implementer), ("报告时间", str(e.report_date or ""))]
        fields = tag("dl", *(tag("div", tag("dt", label), tag("dd", value)) for label, value in rows),
                     class_="cover-fields")
        return tag("section", tag("div", p.implementer, class_="cover-unit"),
                   h(1, f"{self.params.year}年度部门{fund}绩效自评报告", cls="cover-title"), fields,
                   class_="cover")

    def review(self) -> Html:
        """审核提示: the findings of the consistency checks, for reviewers."""
        return findings_box(self.findings)

    def first_page(self) -> Html:
        """项目基本情况表: contacts, funds by source, the narrative summary, conclusion and team."""
        s = self.params.summary
        execution_rows = [
            ("项目完成情况", self.text(s.completion)), ("资金投入情况", self.text(s.funds_input)),
            ("绩效目标实现情况", self.text(s.goal_achievement)), ("经济效益分析", self.text(s.economic)),
            ("社会效益分析", self.text(s.social)), ("项目组织管理情况", self.text(s.organization)),
            ("项目财务管理情况", self.text(s.finance)), ("总结经验及存在问题分析", self.text(s.lessons)),
        ]
        conclusion = join([
            tag("p", f"评分：{self.card.total}\u3000\u3000等级：{self.card.grade}"),
            tag("p", f"备注：{self.rules.grade_note()}", class_="note"),
        ])
        return tag("section",
                   h(2, "项目基本情况", cls="table-title"), basic_information(self.params),
                   labelled_rows([("基本情况", self.text(s.background)),
                                  ("项目绩效目标", self.text(self.params.goals.expected)),
                                  *execution_rows,
                                  ("自评结论", conclusion), ("有关建议", self.text(s.suggestions))]),
                   h(3, "评价人员"), team(self.params), self.signoff(), class_="first-page")

    def signoff(self) -> Html:
        signoff = self.params.evaluation.signoff
        blocks = [
            ("评价组组长（签字）", signoff.team_leader), ("项目实施单位负责人（签字）", signoff.unit_head),
            ("项目实施单位（盖章）", None), ("主管部门负责人（签字）", signoff.department_head),
            ("主管部门（盖章）", None), ("财政部门归口业务科室负责人（签字）", signoff.finance_office),
        ]
        cells = []
        for label, signature in blocks:
            name = signature.name if signature and signature.name else ""
            date = str(signature.date) if signature and signature.date else "年\u3000月\u3000日"
            cells.append(tag("div", tag("div", f"{label}：{name}"), tag("div", date, class_="date"),
                             class_="sign-block"))
        return tag("div", *cells, class_="signoff")

    def overview(self) -> Html:
        n = self.params.narrative
        return tag("section",
                   h(1, self.title, cls="report-title"),
                   section(1, "项目概况",
                           subsection(1, "项目实施单位基本情况", self.text(n.unit)),
                           subsection(2, "项目资金基本情况", self.text(n.funding)),
                           subsection(3, "项目资金绩效目标",
                                      h(4, "1、年度总体目标"), self.text(self.params.goals.expected),
                                      h(4, "2、目标分解绩效指标"), indicator_targets(self.card))))

    def spending_sentence(self) -> str:
        """项目资金实际支出X元，其中：…: generated from the spending items, never typed."""
        items = self.params.spending
        if not items:
            return f"项目资金全年执行数{self._figure('全年执行数')}万元。"
        total = sum((item.amount for item in items), Decimal(0))
        parts = "，".join(f"{item.item}{money(item.amount)}元" for item in items)
        return f"项目资金实际支出{money(total)}元，其中：{parts}。"

    def funds(self) -> Html:
        n = self.params.narrative
        usage: list[object] = [tag("p", self.spending_sentence())]
        if self.params.spending:
            usage += [spending(self.params), spending_chart(self.params)]
        return section(2, "项目资金使用及管理情况",
                       subsection(1, "项目资金安排落实、总投入等情况", self.text(n.arrangement)),
                       subsection(2, "项目资金实际使用情况", *usage),
                       subsection(3, "项目资金管理情况分析", self.text(n.fund_management)))

    def organisation(self) -> Html:
        n = self.params.narrative
        return section(3, "项目组织实施情况",
                       subsection(1, "项目组织情况", self.text(n.organization)),
                       subsection(2, "项目管理情况", self.text(n.management)))

    def execution_sentence(self) -> str:
        return (f"{self.params.year}年度全年预算数{self._figure('全年预算数')}万元，全年执行数"
                f"{self._figure('全年执行数')}万元，预算执行率{self._figure('预算执行率')}，"
                f"得{self.card.execution.score}分（满分{self.rules.execution.weight}分）。")

    def performance(self) -> Html:
        n = self.params.narrative
        process = [self.text(n.process)]
        if "预算执行率" not in placeholders(n.process or ""):
            process.insert(0, tag("p", self.execution_sentence()))
        return section(4, "项目支出绩效情况",
                       subsection(1, "项目支出决策情况", self.text(n.decision)),
                       subsection(2, "项目支出过程情况", *process),
                       subsection(3, "项目支出产出情况", self.text(n.output),
                                  h(4, "目标分解绩效指标完成情况"), indicator_targets(self.card, with_actual=True),
                                  tag("p", self.completion_sentence())),
                       subsection(4, "项目支出效益情况", h(4, "1、经济效益"), self.text(n.economic),
                                  h(4, "2、社会效益"), self.text(n.social)))

    def completion_sentence(self) -> str:
        missed = [row for row in self.card.indicators if row.met is False]
        lost = [row for row in self.card.indicators if row.lost > 0]
        if not missed and not lost:
            return "如上所示，指标均全部完成。"
        parts = []
        if missed:
            parts.append("未达到年度指标值的有：" + "、".join(f"“{row.indicator.name}”" for row in missed))
        if lost:
            parts.append("扣分的有：" + "、".join(f"“{row.indicator.name}”（扣{row.lost.normalize():f}分）"
                                               for row in lost))
        return "如上所示，" + "；".join(parts) + "，原因及改进措施见附件自评表。"

    def conclusion(self) -> Html:
        n = self.params.narrative
        content: list[object] = [self.text(n.conclusion)]
        if "总分" not in placeholders(n.conclusion or ""):
            content.append(tag("p", f"经自评，本项目绩效自评得分为{self.card.total}分，评价等级为：{self.card.grade}。"))
        content.append(score_chart(self.card, caption=f"各项得分与分值（总分{self.card.total}，{self.card.grade}）"))
        return section(5, "综合评价情况及评价结论", *content)

    def lessons(self) -> Html:
        n = self.params.narrative
        return section(6, "主要经验做法、存在的问题及原因分析",
                       subsection(1, "主要经验做法", self.text(n.experience)),
                       subsection(2, "存在的主要问题及原因分析", self.text(n.problems)))

    def closing(self) -> Html:
        """七 有关建议, 八 结果应用, 九 其他, 十 附件."""
        n = self.params.narrative
        attachments = n.attachments or [f"“{self.params.project.name}”{self.params.project.fund_type.form_title}"]
        return join([
            section(7, "有关建议", self.text(n.suggestions)),
            section(8, "绩效自评结果拟应用和公开情况", self.text(n.application)),
            section(9, "其他需要说明的问题", self.text(n.other or "无")),
            section(10, "附件", tag("ol", *(tag("li", a) for a in attachments), class_="attachments")),
        ])

    def form(self) -> Html:
        return tag("section", self_evaluation_form(self.params, self.card, self.rules), class_="attachment")

    def provenance(self) -> Html:
        """Which data, rules and code made this report: enough to make it again."""
        files = "、".join(display_path(f.path) for f, _ in self.project.sources if f.path.is_file())
        rules = self.rules.name + (f"（{'、'.join(display_path(Path(f)) for f in self.rules.files)}）"
                                   if self.rules.files else "")
        parts = [f"evaltools {__version__}", f"参数 {files}（{self.project.fingerprint}）",
                 f"规则 {rules}（{self.rules.fingerprint}）"]
        if self.notebook_fingerprint:
            parts.append(f"笔记本 notebooks/{NOTEBOOK}（{self.notebook_fingerprint}）")
        return tag("footer", "本报告由程序根据参数生成，未经手工改动：" + "；".join(parts) + "。", class_="provenance")

