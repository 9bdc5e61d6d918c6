"""The project report, part by part, as the notebook displays it.

``ProjectReport`` ties the parameters, the score card and the findings together; each method
returns one part of the report (cover, first-page table, sections 一 to 十, the 自评表) as a
tree of ``evaltools.document.parts``, which the notebook shows and every exporter writes. Structure
follows the seed report (湘西州公共资源交易中心, 2024) and the 附件1-4 form; the generated
sentences are in ``templates/wording/project.j2``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from evaltools import __version__
from evaltools.domain import formatting, history
from evaltools.document import typography, wording
from evaltools.document.charts import score_chart, spending_chart
from evaltools.domain.checks import Finding, check_project
from evaltools.domain.model import Attachment, ProjectParams, unwritten
from evaltools.document.parts import (
    REVIEW,
    AttachedPdf,
    Fields,
    ItemList,
    Markdown,
    Section,
    Signature,
    SignOff,
    Typography,
    group,
    h,
    p,
    section,
    table,
    td,
    th,
    tr,
)
from evaltools.domain.placeholders import figures, fill, placeholders
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import ScoreCard, score
from evaltools.document.tables import (
    basic_information,
    findings_box,
    indicator_targets,
    labelled_rows,
    self_evaluation_form,
    spending,
    team,
)
from evaltools.domain.targets import plain_number
from evaltools.domain.workspace import (
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


def chapter(number: int, title: str, *content: object) -> Section:
    return section(h(2, f"{chinese_number(number)}、{title}"), *content, cls="chapter")


def subsection(number: int, title: str, *content: object) -> Section:
    return section(h(3, f"（{chinese_number(number)}）{title}"), *content)


def said(content: object, title: str) -> object:
    """A section's own text (the unit's), or where it wrote none that it is not filled in: a
    heading never stands alone, and the reader is not left to guess (the checks name the field)."""
    return content if content is not None else wording.paragraph("project", "section_missing", title)


def own(heading: Callable[..., Section], number: int, title: str, content: object) -> Section:
    """A chapter or subsection (``heading``) made of the unit's own text only (see :func:`said`)."""
    return heading(number, title, said(content, title))


BLANK_DATE = "年\u3000月\u3000日"


def signatures(blocks: Sequence[tuple[str, Any]]) -> SignOff:
    """Sign-off blocks: a label, who signed (or an opinion) and when; blank lines to sign on paper."""
    out = []
    for label, signature in blocks:
        if isinstance(signature, str):
            out.append(Signature(label, signature, BLANK_DATE))
            continue
        name = signature.name if signature and signature.name else ""
        date = str(signature.date) if signature and signature.date else BLANK_DATE
        out.append(Signature(label, name, date))
    return SignOff(out)


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
        (``params_file`` None: see :func:`evaltools.domain.workspace.notebook_source`)."""
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
    def fund(self) -> str:
        return self.params.project.fund_type.form_title.removesuffix("绩效自评表")

    @property
    def title(self) -> str:
        return wording.text("project", "title", self.params.year, self.params.project.name, self.fund)

    def text(self, markdown_text: str | None) -> Markdown | None:
        """Narrative from the parameters with its {{figures}} filled in."""
        return None if unwritten(markdown_text) else Markdown(fill(markdown_text, self._figures()))

    def _figures(self) -> dict[str, str]:
        return figures(self.params, self.card, self.rules)

    def _score(self, value: Decimal) -> str:
        return formatting.score(value, self.rules)

    def sentence(self, name: str, *args: Any, style: str | None = None) -> Section | Markdown:
        """The generated sentence ``name`` (a macro of project.j2), or the unit's own in its place
        (``narrative.sentences.<name>``, Markdown with {{figures}}; ``evaltools check`` compares
        its figures with the computed ones)."""
        own = self.params.narrative.sentences.get(name)
        if own is not None:
            return self.text(own) or group()
        return wording.paragraph("project", name, *args, style=style)

    # --- the parts -----------------------------------------------------------------------------------

    def cover(self) -> Section:
        p_, e = self.params.project, self.params.evaluation
        rows = [("项目名称", p_.name), ("支出功能科目编码", p_.function_code or ""), ("项目实施单位", p_.implementer),
                ("主管部门", p_.department), ("评价方式", e.method), ("评价机构", e.evaluator),
                ("单位名称（盖章）", p_.implementer), ("报告时间", str(e.report_date or ""))]
        if e.report_number:  # some provinces number their reports
            rows.insert(0, ("报告编号", e.report_number))
        return section(Typography(self.rules.fonts), p(p_.implementer, cls="cover-unit"),
                       h(1, wording.text("project", "cover_title", self.params.year, self.fund), cls="cover-title"),
                       Fields(rows), cls="cover")

    def review(self) -> Section:
        """审核提示: the findings of the consistency checks, for reviewers."""
        return findings_box(self.findings)

    def first_page(self) -> Section:
        """项目基本情况表: contacts, funds by source, the narrative summary, conclusion and team."""
        s = self.params.summary
        execution_rows = [
            ("项目完成情况", self.text(s.completion)), ("资金投入情况", self.text(s.funds_input)),
            ("绩效目标实现情况", self.text(s.goal_achievement)), ("经济效益分析", self.text(s.economic)),
            ("社会效益分析", self.text(s.social)), ("项目组织管理情况", self.text(s.organization)),
            ("项目财务管理情况", self.text(s.finance)), ("总结经验及存在问题分析", self.text(s.lessons)),
        ]
        conclusion = [self.sentence("verdict", self._score(self.card.total), self.card.grade),
                      self.sentence("grade_note", self.rules.grade_note(), style="note")]
        return section(h(2, "项目基本情况", cls="table-title"), basic_information(self.params, self.rules),
                       labelled_rows([("基本情况", self.text(s.background)),
                                      ("项目绩效目标", self.text(self.params.goals.expected)),
                                      ("项目执行情况", execution_rows),
                                      ("自评结论", conclusion), ("有关建议", self.text(s.suggestions))]),
                       h(3, "评价人员"), team(self.params), self.signoff(), cls="first-page")

    def signoff(self) -> Section:
        """The form's sign-off: evaluation team, unit, 主管部门, then the 财政部门's own block."""
        signoff = self.params.evaluation.signoff
        unit = signatures([
            ("评价组组长（签字）", signoff.team_leader), ("项目实施单位负责人（签字）", signoff.unit_head),
            ("项目实施单位名称（盖章）", None), ("主管部门负责人（签字）", signoff.department_head),
            ("主管部门（盖章）", None),
        ])
        office = signoff.finance_office
        finance = SignOff([Signature("财政部门归口业务科室意见"),
                           Signature("财政部门归口业务科室负责人（签字）", office.name or "" if office else ""),
                           Signature("财政部门归口业务科室（盖章）", "",
                                     str(office.date) if office and office.date else BLANK_DATE)], "single")
        return section(unit, finance, cls="signoff-page", element="div")

    def overview(self) -> Section:
        n = self.params.narrative
        return section(h(1, self.title, cls="report-title"),
                       chapter(1, "项目概况",
                               own(subsection, 1, "项目实施单位基本情况", self.text(n.unit)),
                               own(subsection, 2, "项目资金基本情况", self.text(n.funding)),
                               subsection(3, "项目资金绩效目标",
                                          h(4, "1、年度总体目标"), self.text(self.params.goals.expected),
                                          h(4, "2、目标分解绩效指标"), indicator_targets(self.card))))

    def spending_sentence(self) -> Section:
        """项目资金实际支出X元，其中：…: generated from the spending items, never typed."""
        items = self.params.spending
        if not items:
            return self.sentence("spending_total", self._figures()["全年执行数"])
        total = sum((item.amount for item in items), Decimal(0))
        money = [{"name": item.item, "amount": formatting.money(item.amount, self.rules)} for item in items]
        return self.sentence("spending", money, formatting.money(total, self.rules))

    def funds(self) -> Section:
        n, options = self.params.narrative, self.params.options
        usage: list[object] = [self.spending_sentence()]
        if self.params.spending and options.spending_table:
            usage.append(spending(self.params, self.rules))
        if self.params.spending and options.spending_chart:
            usage.append(spending_chart(self.params, self.rules, wording.text("project", "spending_chart_caption")))
        return chapter(2, "项目资金使用及管理情况",
                       own(subsection, 1, "项目资金安排落实、总投入等情况", self.text(n.arrangement)),
                       subsection(2, "项目资金实际使用情况", *usage),
                       own(subsection, 3, "项目资金管理情况分析", self.text(n.fund_management)))

    def organisation(self) -> Section:
        n = self.params.narrative
        return chapter(3, "项目组织实施情况",
                       own(subsection, 1, "项目组织情况", self.text(n.organization)),
                       own(subsection, 2, "项目管理情况", self.text(n.management)))

    def execution_sentence(self) -> Section:
        values = self._figures()
        return self.sentence("execution", self.params.year, values["全年预算数"], values["全年执行数"],
                                 values["预算执行率"], self._score(self.card.execution.score),
                                 plain_number(self.rules.execution.weight))

    def performance(self) -> Section:
        n = self.params.narrative
        process: list[object] = [self.text(n.process)]
        if "预算执行率" not in placeholders(n.process or ""):
            process.insert(0, self.execution_sentence())
        return chapter(4, "项目支出绩效情况",
                       own(subsection, 1, "项目支出决策情况", self.text(n.decision)),
                       subsection(2, "项目支出过程情况", *process),
                       subsection(3, "项目支出产出情况", self.text(n.output),
                                  h(4, "目标分解绩效指标完成情况"), indicator_targets(self.card, with_actual=True),
                                  self.completion_sentence()),
                       subsection(4, "项目支出效益情况", h(4, "1、经济效益"), said(self.text(n.economic), "经济效益"),
                                  h(4, "2、社会效益"), said(self.text(n.social), "社会效益")))

    def completion_sentence(self) -> Section:
        missed = [row.indicator.name for row in self.card.indicators if row.met is False]
        lost = [{"name": row.indicator.name, "lost": self._score(row.lost)}
                for row in self.card.indicators if row.lost > 0] if self.params.options.deductions else []
        return self.sentence("completion", missed, lost)

    def conclusion(self) -> Section:
        n = self.params.narrative
        total, grade = self._score(self.card.total), self.card.grade
        content: list[object] = [self.text(n.conclusion)]
        if "总分" not in placeholders(n.conclusion or ""):
            content.append(self.sentence("conclusion", total, grade))
        content.append(self.last_year())
        if self.params.options.score_chart:
            content.append(score_chart(self.card, self.rules,
                                       wording.text("project", "score_chart_caption", total, grade)))
        return chapter(5, "综合评价情况及评价结论", *content)

    def last_year(self) -> Section | None:
        """上年 beside 本年 (总分, 等级, 预算执行率), where last year's file exists."""
        compared = history.compared(self.project, self.card)
        if compared is None:
            return None
        last_year, rows = compared
        (_, last_total, total), (_, last_grade, grade), _ = rows
        head = tr(th("项目"), th(f"上年（{last_year}年度）"), th(f"本年（{self.params.year}年度）"))
        return section(wording.paragraph("project", "year_over_year", last_year, last_total, last_grade, total, grade),
                       table(*(tr(td(label), td(before, cls="num"), td(now, cls="num")) for label, before, now in rows),
                             head=[head], colgroup=(40, 30, 30)))

    def lessons(self) -> Section:
        n = self.params.narrative
        return chapter(6, "主要经验做法、存在的问题及原因分析",
                       own(subsection, 1, "主要经验做法", self.text(n.experience)),
                       own(subsection, 2, "存在的主要问题及原因分析", self.text(n.problems)))

    def attached(self) -> list[tuple[str, Attachment | None, Path | None]]:
        """What is attached, in the order it follows the report: the documents given as Markdown,
        the 自评表, then PDFs (appended as they are). Names without a file are not attached (and
        ``evaltools check`` says so)."""
        project = self.params.project
        files = self.project.attachments
        given = [(i, a) for i, a in enumerate(self.params.narrative.attachments) if not isinstance(a, str)]
        text = [(a.title, a, files[i]) for i, a in given if files[i].suffix.lower() != ".pdf"]
        pdfs = [(a.title, a, files[i]) for i, a in given if files[i].suffix.lower() == ".pdf"]
        form = wording.text("project", "attachment", project.name, project.fund_type.form_title)
        return [*text, (form, None, None), *pdfs]

    def closing(self) -> Section:
        """七 有关建议, 八 结果应用, 九 其他, 十 附件 (only what is attached)."""
        n = self.params.narrative
        listed = [[wording.text("project", "attachment_line", number, title)]
                  for number, (title, _, _) in enumerate(self.attached(), 1)]
        return group(
            own(chapter, 7, "有关建议", self.text(n.suggestions)),
            own(chapter, 8, "绩效自评结果拟应用和公开情况", self.text(n.application)),
            chapter(9, "其他需要说明的问题", self.text(n.other) or Markdown("无")),
            chapter(10, "附件", ItemList(listed, style="attachments")),
        )

    def attachments(self, kind: str) -> Section:
        """The attached documents of one kind ("text": before the 自评表, "pdf": after it)."""
        out = []
        for number, (title, attachment, path) in enumerate(self.attached(), 1):
            if attachment is None or (path.suffix.lower() == ".pdf") != (kind == "pdf"):
                continue
            label = p(wording.text("project", "attachment_label", number), cls="attachment-label")
            if kind == "pdf":
                note = wording.text("project", "attached_pdf", number, title, path.name)
                out.append(section(label, AttachedPdf(title, path.read_bytes(), note), cls="attachment"))
            else:
                out.append(section(label, h(2, title, cls="attachment-title"),
                                   Markdown(fill(path.read_text(encoding="utf-8"), self._figures())),
                                   cls="attachment"))
        return group(*out)

    def form(self) -> Section:
        number = next(i for i, (_, a, _) in enumerate(self.attached(), 1) if a is None)
        return section(p(wording.text("project", "attachment_label", number), cls="attachment-label"),
                       self_evaluation_form(self.params, self.card, self.rules), cls="attachment form-page")

    def provenance(self) -> Section:
        """Which data, rules and code made this report: enough to make it again."""
        files = "、".join(display_path(f.path) for f, _ in self.project.sources if f.path.is_file())
        rules = self.rules.name + (f"（{'、'.join(display_path(Path(f)) for f in self.rules.files)}）"
                                   if self.rules.files else "")
        parts = [f"evaltools {__version__}", f"参数 {files}（{self.project.fingerprint}）",
                 f"规则 {rules}（{self.rules.fingerprint}）"]
        if self.notebook_fingerprint:
            parts.append(f"笔记本 notebooks/{NOTEBOOK}（{self.notebook_fingerprint}）")
        parts.append(f"字体 {typography.fonts_line(self.rules.fonts)}")
        return section(wording.paragraph("project", "provenance", parts), cls="provenance", element="footer",
                       audience=REVIEW)

