"""The project report as an editable Word document (.docx), built with python-docx.

Same parts as the HTML/PDF report, from the same ``ProjectReport`` (so the same figures and
generated sentences): real headings, Word tables (merged 一级/二级 cells in the 自评表), charts
as images, A4 with GB/T 9704 margins, "— N —" page numbers, and East Asian fonts named (宋体
for the body, 黑体 for headings) so that Word and WPS pick the right faces.
"""

from __future__ import annotations

import io
from itertools import groupby
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from markdown_it import MarkdownIt

from evaltools.files import write_atomic
from evaltools.charts import png, score_figure, spending_figure
from evaltools.placeholders import fill, figures, money
from evaltools.report import ProjectReport, chinese_number
from evaltools.scoring import percent
from evaltools.targets import plain_number

BODY_FONT, HEADING_FONT = "宋体", "黑体"
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True})


def _fonts(run, east_asian: str, size: float | None = None, bold: bool | None = None) -> None:
    run.font.name = "Times New Roman"
    properties = run._element.get_or_add_rPr()
    fonts = properties.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        properties.append(fonts)
    fonts.set(qn("w:eastAsia"), east_asian)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


def _style_fonts(document) -> None:
    normal = document.styles["Normal"]
    normal.font.name, normal.font.size = "Times New Roman", Pt(12)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT)
    for level, size in ((1, 18), (2, 14), (3, 12), (4, 12)):
        style = document.styles[f"Heading {level}"]
        style.font.name, style.font.size, style.font.bold = "Times New Roman", Pt(size), True
        style.font.color.rgb = None
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), HEADING_FONT)


def _page_setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.different_first_page_header_footer = True  # no number on the cover
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(paragraph.add_run("— "), BODY_FONT, 12)
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
            run._element.append(field)
        else:
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = text
            run._element.append(instruction)
    _fonts(paragraph.add_run(" —"), BODY_FONT, 12)


class WordReport:
    """Writes one ``ProjectReport`` into a python-docx ``Document``."""

    def __init__(self, report: ProjectReport):
        self.report = report
        self.document = Document()
        _style_fonts(self.document)
        _page_setup(self.document)
        self.values = figures(report.params, report.card, report.rules)

    # --- building blocks -------------------------------------------------------------------------

    def heading(self, text: str, level: int) -> None:
        self.document.add_heading(text, level=level)

    def paragraph(self, text: str, indent: bool = True, bold: bool = False, align=None, size: float | None = None):
        paragraph = self.document.add_paragraph()
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(24)
        if align is not None:
            paragraph.alignment = align
        _fonts(paragraph.add_run(text), BODY_FONT, size, bold)
        return paragraph

    def markdown(self, text: str | None) -> None:
        """Narrative Markdown as paragraphs (lists as "•" paragraphs), its figures filled in."""
        text = fill(text or "", self.values)
        if not text.strip():
            self.paragraph("—")
            return
        bullet = False
        for token in _MARKDOWN.parse(text):
            if token.type == "bullet_list_open":
                bullet = True
            elif token.type == "bullet_list_close":
                bullet = False
            elif token.type == "inline":
                content = "".join("\n" if child.type in ("softbreak", "hardbreak") else child.content
                                  for child in token.children or [])
                self.paragraph(("• " if bullet else "") + content, indent=not bullet)

    def table(self, rows: list[list[str]], widths: list[float], header: bool = True):
        table = self.document.add_table(rows=len(rows), cols=len(widths))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.cell(table.cell(r, c), value, bold=header and r == 0)
        # Word reads the cells' widths, LibreOffice the grid's: set both.
        table.autofit = False
        for c, width in enumerate(widths):
            table.columns[c].width = Cm(width)
        for row in table.rows:
            for c, width in enumerate(widths):
                row.cells[c].width = Cm(width)
        if header:
            self._repeat_header(table.rows[0])
        return table

    @staticmethod
    def cell(cell, value: object, bold: bool = False, size: float = 9) -> None:
        cell.text = ""
        _fonts(cell.paragraphs[0].add_run("" if value is None else str(value)), BODY_FONT, size, bold)

    @staticmethod
    def _repeat_header(row) -> None:
        properties = row._tr.get_or_add_trPr()
        flag = OxmlElement("w:tblHeader")
        flag.set(qn("w:val"), "true")
        properties.append(flag)

    def picture(self, figure_and_alt, caption: str) -> None:
        figure, _alt = figure_and_alt
        self.document.add_picture(io.BytesIO(png(figure)), width=Cm(15))
        self.document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
        self.paragraph(caption, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, size=10)

    def page_break(self) -> None:
        self.document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)

    # --- the parts ---------------------------------------------------------------------------------

    def cover(self) -> None:
        p, e = self.report.params.project, self.report.params.evaluation
        fund = p.fund_type.form_title.removesuffix("绩效自评表")
        for _ in range(3):
            self.document.add_paragraph()
        self.paragraph(p.implementer, indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, size=20)
        title = self.document.add_heading(f"{self.report.params.year}年度部门{fund}绩效自评报告", level=0)
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        rows = [["项目名称", p.name], ["支出功能科目编码", p.function_code or ""], ["项目实施单位", p.implementer],
                ["主管部门", p.department], ["评价方式", e.method], ["评价机构", e.evaluator],
                ["单位名称（盖章）", p.implementer], ["报告时间", str(e.report_date or "")]]
        self.table(rows, [4.5, 10], header=False)
        self.page_break()

    def review(self) -> None:
        findings = self.report.findings
        if not findings:
            self.paragraph("审核提示：一致性检查未发现问题。", indent=False, bold=True)
            return
        self.paragraph(f"审核提示：一致性检查发现 {len(findings)} 项问题，请在提交前核对：", indent=False, bold=True)
        for finding in findings:
            self.paragraph(f"• [{finding.code}] {finding.field}：{finding.message}", indent=False, size=10)

    def first_page(self) -> None:
        report, params = self.report, self.report.params
        project, investment = params.project, params.investment
        self.heading("项目基本情况", 2)
        period = f"{project.period.start}～{project.period.end}" if project.period else ""
        rows = [["项目负责人", project.leader or "", "联系电话", project.phone or ""],
                ["地址", project.address or "", "邮编", project.postcode or ""],
                ["项目起止时间", period, "", ""],
                ["计划投资额（万元）", money(investment.planned.computed_total) if investment else "",
                 "实际到位资金（万元）", money(investment.received.computed_total) if investment else ""]]
        table = self.table(rows, [3.5, 4.3, 3.5, 4.3], header=False)
        table.cell(2, 1).merge(table.cell(2, 3))
        s = params.summary
        narrative = [("基本情况", s.background), ("项目绩效目标", params.goals.expected), ("项目完成情况", s.completion),
                     ("资金投入情况", s.funds_input), ("绩效目标实现情况", s.goal_achievement),
                     ("经济效益分析", s.economic), ("社会效益分析", s.social), ("项目组织管理情况", s.organization),
                     ("项目财务管理情况", s.finance), ("总结经验及存在问题分析", s.lessons),
                     ("自评结论", f"评分：{report.card.total}　等级：{report.card.grade}\n备注：{report.rules.grade_note()}"),
                     ("有关建议", s.suggestions)]
        self.table([[label, fill(text or "", self.values)] for label, text in narrative], [3.5, 12.1], header=False)
        self.heading("评价人员", 3)
        self.table([["姓名", "职称/职务", "单位", "签字"]] +
                   [[m.name, m.role, m.unit or "", ""] for m in params.evaluation.team], [3, 3, 6.6, 3])
        self.page_break()

    def body(self) -> None:
        report, params, n = self.report, self.report.params, self.report.params.narrative
        self.heading(report.title, 1)
        sections = [
            ("项目概况", [("项目实施单位基本情况", n.unit), ("项目资金基本情况", n.funding),
                          ("项目资金绩效目标", params.goals.expected)]),
            ("项目资金使用及管理情况", [("项目资金安排落实、总投入等情况", n.arrangement),
                                    ("项目资金实际使用情况", None), ("项目资金管理情况分析", n.fund_management)]),
            ("项目组织实施情况", [("项目组织情况", n.organization), ("项目管理情况", n.management)]),
            ("项目支出绩效情况", [("项目支出决策情况", n.decision), ("项目支出过程情况", n.process),
                                ("项目支出产出情况", n.output), ("项目支出效益情况", None)]),
        ]
        for number, (title, parts) in enumerate(sections, 1):
            self.heading(f"{chinese_number(number)}、{title}", 2)
            for sub, (subtitle, text) in enumerate(parts, 1):
                self.heading(f"（{chinese_number(sub)}）{subtitle}", 3)
                if subtitle == "项目资金实际使用情况":
                    self.paragraph(report.spending_sentence())
                    if params.spending:
                        self.picture(spending_figure(params), "项目资金实际支出构成")
                elif subtitle == "项目支出效益情况":
                    self.heading("1、经济效益", 4)
                    self.markdown(n.economic)
                    self.heading("2、社会效益", 4)
                    self.markdown(n.social)
                else:
                    self.markdown(text)
                if subtitle == "项目支出过程情况" and "预算执行率" not in (n.process or ""):
                    self.paragraph(report.execution_sentence())
                if subtitle == "项目资金绩效目标":
                    self.table([["二级指标", "三级指标", "年度指标值"]] +
                               [[r.level2, r.indicator.name, r.indicator.target] for r in report.card.indicators],
                               [3.5, 9, 3.1])
                if subtitle == "项目支出产出情况":
                    self.paragraph(report.completion_sentence())
        self.heading("五、综合评价情况及评价结论", 2)
        self.markdown(n.conclusion)
        if "{{总分}}" not in (n.conclusion or "").replace(" ", ""):
            self.paragraph(f"经自评，本项目绩效自评得分为{report.card.total}分，评价等级为：{report.card.grade}。")
        self.picture(score_figure(report.card), f"各项得分与分值（总分{report.card.total}，{report.card.grade}）")
        self.heading("六、主要经验做法、存在的问题及原因分析", 2)
        self.heading("（一）主要经验做法", 3)
        self.markdown(n.experience)
        self.heading("（二）存在的主要问题及原因分析", 3)
        self.markdown(n.problems)
        for number, (title, text) in enumerate((("有关建议", n.suggestions), ("绩效自评结果拟应用和公开情况", n.application),
                                                ("其他需要说明的问题", n.other or "无")), 7):
            self.heading(f"{chinese_number(number)}、{title}", 2)
            self.markdown(text)
        self.heading("十、附件", 2)
        for i, attachment in enumerate(n.attachments or [params.project.fund_type.form_title], 1):
            self.paragraph(f"附件{i}：{attachment}")
        self.page_break()

    def form(self) -> None:
        """The 自评表 as a Word table, 一级/二级 cells merged as on the printed form."""
        params, card, rules = self.report.params, self.report.card, self.report.rules
        project, fund = params.project, params.project.fund_type
        self.paragraph(f"{project.department}{fund.form_title}", indent=False, bold=True,
                       align=WD_ALIGN_PARAGRAPH.CENTER, size=14)
        self.paragraph(f"（{params.year}年度）", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER)
        execution, budget = card.execution, params.budget
        columns = 9
        rows: list[list[str]] = [
            [f"{fund.form_title.removesuffix('绩效自评表')}名称", project.name] + [""] * 7,
            ["主管部门", project.department, "", "", "实施单位", project.implementer, "", "", ""],
            ["项目资金（万元）", "", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        ]
        for label, amounts, total in (("年度资金总额", execution.budget, True),
                                      ("其中：当年财政拨款", budget.appropriation, False),
                                      ("上年结转资金", budget.carryover, False), ("其他资金", budget.other, False)):
            values = [money(v) if v is not None else "" for v in (amounts.initial, amounts.annual, amounts.executed)]
            tail = ([plain_number(execution.weight), percent(execution.rate, rules), str(execution.score)] if total
                    else ["—"] * 3)
            rows.append(["", label, ""] + values + tail)
        rows.append(["年度总体目标", "预期目标", "", "", "", "实际完成情况", "", "", ""])
        rows.append(["", params.goals.expected, "", "", "", params.goals.achieved, "", "", ""])
        rows.append(["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分",
                     "偏差原因分析及改进措施"])
        first_indicator = len(rows)
        for row in card.indicators:
            rows.append(["", row.level1 or "", row.level2, row.indicator.name, row.indicator.target, row.indicator.actual,
                         plain_number(row.weight), str(row.score), row.indicator.deviation or ""])
        rows.append(["总分", "", "", "", "", "", "100", str(card.total), f"等级：{card.grade}"])
        table = self.table(rows, [1.4, 1.5, 1.5, 2.4, 1.4, 2.9, 1.0, 1.5, 2.1], header=False)  # 15.7 cm
        merge = lambda r1, c1, r2, c2: table.cell(r1, c1).merge(table.cell(r2, c2))  # noqa: E731
        merge(0, 1, 0, columns - 1)
        merge(1, 1, 1, 3)
        merge(1, 5, 1, columns - 1)
        merge(2, 0, 6, 0)
        for r in range(2, 7):
            merge(r, 1, r, 2)
        merge(7, 0, 8, 0)
        merge(7, 1, 7, 4)
        merge(7, 5, 7, 8)
        merge(8, 1, 8, 4)
        merge(8, 5, 8, 8)
        last_indicator = first_indicator + len(card.indicators) - 1
        merge(first_indicator - 1, 0, last_indicator, 0)
        for column in (1, 2):  # 一级 and 二级 runs
            start = first_indicator
            keys = [rows[r][column] if column == 1 else (rows[r][1], rows[r][2])
                    for r in range(first_indicator, last_indicator + 1)]
            for _, run in groupby(keys):
                length = len(list(run))
                if length > 1:
                    text = rows[start][column]
                    merge(start, column, start + length - 1, column)
                    self.cell(table.cell(start, column), text)
                start += length
        merge(len(rows) - 1, 0, len(rows) - 1, 5)
        # merged cells keep every part's text: put each label back once
        for r, c in ((0, 1), (1, 1), (1, 5), (2, 0), (7, 0), (7, 1), (7, 5), (8, 1), (8, 5), (first_indicator - 1, 0),
                     (len(rows) - 1, 0)):
            self.cell(table.cell(r, c), rows[r][c], bold=c == 0 or r in (2, 7))
        for r in range(3, 7):
            self.cell(table.cell(r, 1), rows[r][1])
        form = params.evaluation.form
        self.paragraph("说明：此表项目支出不包括财政部门要求单独进行项目支出绩效自评项目，每个一级项目支出填写一张项目支出绩效自评表。",
                       indent=False, size=9)
        self.paragraph(f"单位负责人签字：{form.unit_head or ''}　　填表人：{form.filled_by or ''}　　"
                       f"联系电话：{form.phone or ''}　　填报日期：{form.date or ''}", indent=False, size=9)

    def to_bytes(self) -> bytes:
        self.cover()
        self.review()
        self.first_page()
        self.body()
        self.form()
        # Fixed core properties: the same report gives the same document.
        self.document.core_properties.title = self.report.title
        self.document.core_properties.author = "evaltools"
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


def write_docx(report: ProjectReport, path: Path | str) -> Path:
    path = Path(path)
    write_atomic(path, WordReport(report).to_bytes())
    return path
