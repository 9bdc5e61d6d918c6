"""The Word exporter (``evaltools_docx``): the executed notebook as an editable .docx.

Written by python-docx from the same cells as the HTML: Markdown cells and the parts the code
cells show, in notebook order, ``remove_cell`` cells left out. Real headings, Word tables with
the parts' merged cells, column widths and repeating header rows, charts as pictures, A4 with
GB/T 9704 margins, "— N —" page numbers, and the 公文 fonts named for each role (仿宋 body,
黑体 一、, 楷体 （一）, 小标宋 titles) in the styles themselves, the theme fonts removed, so that
Word and WPS use them. Tables have a fixed layout whose columns are widened where a number
would otherwise wrap; numbers are right-aligned; header rows repeat on each page.
"""

from __future__ import annotations

import base64
import io
import re
from html import unescape
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.enum.style import WD_STYLE_TYPE
from docx.shared import Cm, Pt, RGBColor
from markdown_it import MarkdownIt
from nbconvert.exporters import Exporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets import Unicode, default

from evaltools.document import typography
from evaltools.writers.draft import MARK as DRAFT_MARK, draft_of
from evaltools.writers.html import REMOVE_TAG, SUBMISSION, PartsPreprocessor, report_title
from evaltools.document.parts import (
    MIME_TYPE,
    Cell,
    Fields,
    Figure,
    Heading,
    ItemList,
    Markdown,
    PageBreak,
    Paragraph,
    Section,
    SignOff,
    Span,
    Table,
    Typography,
    from_data,
    grid,
    td,
    tr,
)

BODY_FONT = typography.WORD_FONTS["body"]  # until the report's Typography part names its own
BODY_SIZE = typography.SIZES["body"]  # 三号, as GB/T 9704 sets the text
# Heading levels of the parts: 1 the titles, 2 "一、" (黑体), 3 "（一）" (楷体), 4 bold body.
HEADING_ROLES = {1: "title", 2: "heading1", 3: "heading2", 4: "body"}
TITLE_STYLE = "报告标题"
TEXT_WIDTH_CM = 15.6  # A4 less the GB/T 9704 margins (2.8 + 2.6 cm)
HEADING_SIZES = {1: 18, 2: BODY_SIZE, 3: BODY_SIZE, 4: BODY_SIZE}  # the table titles; 一、（一）1. in 三号
TABLE_SIZE = 9  # pt, the forms' cells
CELL_PADDING_CM = 0.45  # the default left + right cell margins (0.19 cm each) and a little room
BLACK = RGBColor(0, 0, 0)
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("table")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _fonts(run, east_asian: str = BODY_FONT, size: float | None = None, bold: bool | None = None) -> None:
    run.font.name = "Times New Roman"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold


THEME_FONTS = ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme")


def _style_font(style, east_asian: str, size: float, bold: bool) -> None:
    """A style's fonts named outright: Word prefers a theme font to a named one, so the theme
    attributes go."""
    style.font.name, style.font.size, style.font.bold = "Times New Roman", Pt(size), bold
    style.font.italic = False
    style.font.color.rgb = BLACK
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in THEME_FONTS:
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:eastAsia"), east_asian)


def _add_title_style(document) -> None:
    """The titles: a style of their own (not Word's blue Title), 小标宋 二号, black, centred."""
    title = document.styles.add_style(TITLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = document.styles["Normal"]
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.space_after = Pt(12)
    title.paragraph_format.keep_with_next = True


def _style_fonts(document, fonts: dict[str, str]) -> None:
    _style_font(document.styles["Normal"], fonts["body"], BODY_SIZE, False)
    for level, size in HEADING_SIZES.items():
        _style_font(document.styles[f"Heading {level}"], fonts[HEADING_ROLES[level]], size, level != 3)
    _style_font(document.styles[TITLE_STYLE], fonts["title"], typography.SIZES["title"], True)


def _field(paragraph, instruction: str) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, instruction), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._element.append(element)


def _page_setup(document) -> None:
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.different_first_page_header_footer = True  # no number on the cover
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _fonts(paragraph.add_run("— "), size=12)
    _field(paragraph, "PAGE")
    _fonts(paragraph.add_run(" —"), size=12)


ALIGNMENT = {"num": WD_ALIGN_PARAGRAPH.RIGHT, "center": WD_ALIGN_PARAGRAPH.CENTER, "label": WD_ALIGN_PARAGRAPH.CENTER}


def _alignment(style: str | None):
    for word in (style or "").split():
        if word in ALIGNMENT:
            return ALIGNMENT[word]
    return None


class WordWriter:
    """Writes parts and Markdown into a python-docx ``Document``, in order."""

    def __init__(self):
        self.document = Document()
        self.fonts = typography.word_fonts()
        _add_title_style(self.document)
        _style_fonts(self.document, self.fonts)
        _page_setup(self.document)

    def typography(self, part: Typography) -> None:
        """The report's fonts (the rules' ``fonts``): a unit's own, else the convention's."""
        self.fonts = typography.word_fonts(part.fonts)
        _style_fonts(self.document, self.fonts)

    # --- text ----------------------------------------------------------------------------------

    def paragraph(self, container, content: list, style: str | None = None, size: float | None = None,
                  indent: bool = True, align=None, bold: bool = False):
        paragraph = container.add_paragraph()
        small = style in ("note", "form-note", "form-sign", "provenance", "missing") or container is not self.document
        if indent and not small and align is None:
            paragraph.paragraph_format.first_line_indent = Pt(2 * (size or BODY_SIZE))  # two characters
        if align is not None:
            paragraph.alignment = align
        self.runs(paragraph, content, size or (9 if small else None), bold)
        return paragraph

    def runs(self, paragraph, content: list, size: float | None = None, bold: bool = False) -> None:
        for item in content:
            if isinstance(item, Span):
                _fonts(paragraph.add_run(item.text), self.fonts["body"], size=size, bold=item.bold or bold or None)
            elif isinstance(item, str):
                parts = item.split("\n")
                for i, text in enumerate(parts):
                    run = paragraph.add_run(text)
                    _fonts(run, self.fonts["body"], size=size, bold=bold or None)
                    if i < len(parts) - 1:
                        run.add_break()

    def heading(self, container, text: str, level: int, style: str | None = None) -> None:
        if container is not self.document:
            self.paragraph(container, [Span(text, bold=True)], indent=False)
            return
        if style in ("cover-title", "report-title"):
            title = self.document.add_paragraph(style=TITLE_STYLE)
            _fonts(title.add_run(text), self.fonts["title"])
            title.paragraph_format.page_break_before = style == "report-title"
            return
        level = min(max(level, 1), 4)
        heading = self.document.add_heading(level=level)
        _fonts(heading.add_run(text), self.fonts[HEADING_ROLES[level]], HEADING_SIZES.get(level), level != 3)
        if style == "table-title" or level == 1:
            heading.alignment = WD_ALIGN_PARAGRAPH.CENTER

    # --- Markdown ------------------------------------------------------------------------------

    def markdown(self, container, text: str, size: float | None = None) -> None:
        """CommonMark as Word paragraphs: headings, paragraphs with bold/italic runs, lists, tables."""
        tokens = _MARKDOWN.parse(text or "")
        lists: list[list[int]] = []  # per open list: [ordered, counter]
        heading_level: int | None = None
        table_rows: list[list[str]] | None = None
        for token in tokens:
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1)])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                lists.pop()
            elif kind == "heading_open":
                heading_level = int(token.tag[1])
            elif kind == "table_open":
                table_rows = []
            elif kind == "tr_open" and table_rows is not None:
                table_rows.append([])
            elif kind == "table_close" and table_rows is not None:
                self.simple_table(container, table_rows)
                table_rows = None
            elif kind == "inline":
                content = self.inline(token)
                if table_rows is not None:
                    table_rows[-1].append("".join(c.text if isinstance(c, Span) else c for c in content))
                elif heading_level is not None:
                    self.heading(container, "".join(c.text if isinstance(c, Span) else c for c in content), heading_level)
                    heading_level = None
                elif lists:
                    ordered, number = lists[-1]
                    marker = f"{number}. " if ordered else "• "
                    lists[-1][1] += 1
                    self.paragraph(container, [marker, *content], indent=False, size=size)
                else:
                    self.paragraph(container, content, size=size)
            elif kind in ("fence", "code_block"):
                self.paragraph(container, [token.content.rstrip("\n")], indent=False, size=9)

    @staticmethod
    def inline(token) -> list:
        content: list = []
        bold = 0
        for child in token.children or []:
            if child.type == "strong_open":
                bold += 1
            elif child.type == "strong_close":
                bold -= 1
            elif child.type in ("softbreak", "hardbreak"):
                content.append("\n")
            elif child.type in ("text", "code_inline"):
                content.append(Span(child.content, bold=True) if bold else child.content)
        return content

    # --- tables --------------------------------------------------------------------------------

    def simple_table(self, container, rows: list[list[str]]) -> None:
        columns = max((len(r) for r in rows), default=0)
        if not columns:
            return
        table = container.add_table(rows=len(rows), cols=columns)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                cell = table.cell(r, c)
                self.runs(cell.paragraphs[0], [text], 9, bold=r == 0)

    def table(self, container, part: Table) -> None:
        rows = part.head + part.rows
        placed, columns = grid(rows)
        if not rows or not columns:
            return
        parent = self.document.element.body if container is self.document else container._element
        last = parent[-1] if len(parent) else None
        if last is not None and last.tag == qn("w:sectPr"):
            last = last.getprevious()
        if last is not None and last.tag == qn("w:tbl"):
            # Two tables in a row are one table to Word and LibreOffice, whose header rows would
            # then sit mid-table and never repeat: a hairline paragraph keeps them apart.
            spacer = container.add_paragraph()
            spacer.paragraph_format.space_before = spacer.paragraph_format.space_after = Pt(0)
            spacer.paragraph_format.line_spacing = Pt(1)
        table = container.add_table(rows=len(rows), cols=columns)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False  # a fixed layout: the widths below, no column grows to fit its text
        widths = part.widths if len(part.widths) == columns else [100 / columns] * columns
        width_cm = TEXT_WIDTH_CM if container is self.document else TEXT_WIDTH_CM / 2
        # Word reads the cells' widths, LibreOffice the grid's: set both (the layout is fixed).
        for c, width in enumerate(fitted_widths(widths, placed, width_cm)):
            table.columns[c].width = Cm(width)
            for row in table.rows:
                row.cells[c].width = Cm(width)
        for r, c, cell in placed:
            target = table.cell(r, c)
            if cell.rowspan > 1 and "continued" in (cell.style or "").split():
                # A label column that only continues the one above (绩效指标 down the 自评表) is
                # drawn as one cell by its borders, not merged: LibreOffice repeats no header rows
                # on a page that a merged cell runs onto.
                _open_borders(table, r, c, min(r + cell.rowspan, len(rows)) - 1)
            elif cell.rowspan > 1 or cell.colspan > 1:
                target = target.merge(table.cell(min(r + cell.rowspan, len(rows)) - 1, min(c + cell.colspan, columns) - 1))
            self.cell(target, cell)
        for r, row in enumerate(table.rows):
            # No row is split across pages; header rows repeat on each (in the schema's order).
            # (No "keep with next" here: LibreOffice then stops repeating the header rows.)
            for name in ("w:cantSplit",) + ("w:tblHeader",) * (r < len(part.head)):
                flag = OxmlElement(name)
                flag.set(qn("w:val"), "true")
                row._tr.get_or_add_trPr().append(flag)


    def cell(self, target, cell: Cell) -> None:
        for paragraph in target.paragraphs[1:]:
            paragraph._element.getparent().remove(paragraph._element)
        first = target.paragraphs[0]
        first.text = ""
        align = _alignment(cell.style) or (WD_ALIGN_PARAGRAPH.CENTER if cell.header else None)
        if align is not None:
            first.alignment = align
        bold = cell.header or "label" in (cell.style or "").split()
        used = False
        for item in cell.content:
            if isinstance(item, str | Span):
                self.runs(first, [item], TABLE_SIZE, bold)
                used = True
            elif isinstance(item, Paragraph) and not used:
                self.runs(first, item.content, TABLE_SIZE, bold)
                used = True
            else:
                self.block(target, item)
                used = True
        if len(target.paragraphs) > 1 and not first.runs:
            first._element.getparent().remove(first._element)

    # --- blocks --------------------------------------------------------------------------------

    def block(self, container, part: Any) -> None:
        if isinstance(part, Section):
            self.section(container, part)
        elif isinstance(part, Heading):
            self.heading(container, part.text, part.level, part.style)
        elif isinstance(part, Paragraph):
            center = part.style in ("cover-unit", "form-title", "form-year")
            size = {"cover-unit": 20, "form-title": 14}.get(part.style or "")
            self.paragraph(container, part.content, part.style, size=size,
                           align=WD_ALIGN_PARAGRAPH.CENTER if center else None, bold=part.style == "form-title")
        elif isinstance(part, Markdown):
            self.markdown(container, part.text, size=9 if container is not self.document else None)
        elif isinstance(part, Table):
            self.table(container, part)
        elif isinstance(part, Figure):
            self.document.add_picture(io.BytesIO(part.png), width=Cm(15))
            self.document.paragraphs[-1].alignment = WD_ALIGN_PARAGRAPH.CENTER
            if part.caption:
                self.paragraph(container, [part.caption], align=WD_ALIGN_PARAGRAPH.CENTER, size=10)
        elif isinstance(part, Fields):
            self.table(container, Table([_row(label, value) for label, value in part.rows], widths=[30, 70]))
        elif isinstance(part, SignOff):
            self.signoff(container, part)
        elif isinstance(part, ItemList):
            for number, item in enumerate(part.items, 1):
                marker = f"{number}. " if part.ordered else "• "
                self.paragraph(container, [marker, *item], indent=False,
                               size=9 if container is not self.document else None)
        elif isinstance(part, PageBreak):
            self.document.add_page_break()
        elif isinstance(part, Typography):
            self.typography(part)

    def section(self, container, part: Section) -> None:
        if "attachment" in (part.style or "").split() and container is self.document:
            self.document.add_page_break()
        if part.style == "cover":
            for _ in range(3):
                self.document.add_paragraph()
        for child in part.children:
            self.block(container, child)
        if part.style in ("cover", "first-page") and container is self.document:
            self.document.add_page_break()

    def signoff(self, container, part: SignOff) -> None:
        """Blocks to sign on paper (no borders), two a row, or one under the other ("single");
        every line keeps with the next, so a block never leaves its date alone on a page."""
        columns = 1 if part.style == "single" else 2
        rows = (len(part.blocks) + columns - 1) // columns
        table = container.add_table(rows=rows, cols=columns)
        for i, block in enumerate(part.blocks):
            cell = table.cell(i // columns, i % columns)
            cell.paragraphs[0].text = ""
            self.runs(cell.paragraphs[0], [f"{block.label}：{block.name}"], 10.5)
            if block.date:
                date = cell.add_paragraph()
                date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                self.runs(date, [block.date], 10.5)
        for row in table.rows:
            flag = OxmlElement("w:cantSplit")
            flag.set(qn("w:val"), "true")
            row._tr.get_or_add_trPr().append(flag)
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    paragraph.paragraph_format.keep_with_next = True

    def output(self, output: Any) -> None:
        """One cell output: its part; else what an analyst's own cell shows (a picture, Markdown, HTML's text)."""
        data = output.get("data", {})
        if output.get("output_type") == "error":  # as the HTML template shows it
            self.paragraph(self.document, [f"生成报告时出错：{output.get('ename')}: {output.get('evalue')}"], indent=False)
        elif MIME_TYPE in data:
            self.block(self.document, from_data(data[MIME_TYPE]))
        elif "image/png" in data:
            self.block(self.document, Figure(base64.b64decode(data["image/png"]), "", ""))
        elif "text/markdown" in data:
            self.markdown(self.document, data["text/markdown"])
        elif "text/html" in data:
            text = re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", data["text/html"]))).strip()
            if text:
                self.paragraph(self.document, [text])

    def mark_draft(self) -> None:
        """草稿 at the top of every page (each section's headers, the first page's too)."""
        for section in self.document.sections:
            for header in (section.header, section.first_page_header):
                header.is_linked_to_previous = False
                paragraph = header.paragraphs[0]
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                run = paragraph.add_run(DRAFT_MARK)
                run.bold = True
                run.font.color.rgb = RGBColor(0xB0, 0x30, 0x1F)
                _fonts(run, self.fonts["heading1"], size=14)

    def to_bytes(self, title: str | None) -> bytes:
        # Fixed core properties: the same report gives the same document.
        self.document.core_properties.title = title or ""
        self.document.core_properties.author = "evaltools"
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


def _open_borders(table, first: int, column: int, last: int) -> None:
    """No horizontal borders between rows first..last of a column, nor above the first: the cells
    read as one with the label above them."""
    for r in range(first, last + 1):
        borders = OxmlElement("w:tcBorders")
        for side in ("top",) + ("bottom",) * (r < last):
            line = OxmlElement(f"w:{side}")
            line.set(qn("w:val"), "nil")
            borders.append(line)
        table.cell(r, column)._tc.get_or_add_tcPr().append(borders)


def _text_width_cm(text: str, size: float = TABLE_SIZE) -> float:
    """How wide a line of text sets: a CJK character a full em, other characters about half."""
    ems = sum(1 if ord(ch) > 0x2E80 else 0.65 for ch in text)  # DejaVu-wide digits, where Times is missing
    return ems * size * 2.54 / 72


# A number with its sign, decimals and unit signs ("≥95%", "106.62", "2024"): it must not wrap.
_NUMBER = re.compile(r"[≥≤<>＞＜+\-]?\d[\d.,:/%‰]*")


def _unbreakable(cell: Cell) -> str:
    """The longest run of a cell that must stay on one line: a "num" cell's whole text, else the
    longest number in it ("106.62" of "106.62万元")."""
    if "num" in (cell.style or "").split():
        return cell.text
    return max(_NUMBER.findall(cell.text), key=len, default="")


def fitted_widths(percents: list[float], placed: list, width_cm: float) -> list[float]:
    """Column widths in cm from the part's percentages, each column holding its longest number on
    one line (of the cells spanning one column); what a column gains comes from the columns with
    the most room to spare, never below what their own numbers need."""
    total = sum(percents)
    widths = [width_cm * w / total for w in percents]
    need = [0.0] * len(widths)
    for _, c, cell in placed:
        number = _unbreakable(cell) if cell.colspan == 1 else ""
        if number:
            need[c] = max(need[c], _text_width_cm(number) + CELL_PADDING_CM)
    short = sum(max(n - w, 0) for n, w in zip(need, widths, strict=True))
    spare = [max(w - max(n, 1.0), 0) for n, w in zip(need, widths, strict=True)]
    if short <= 0 or sum(spare) < short:
        return widths
    return [max(n, w) if n > w else w - short * s / sum(spare) for n, w, s in zip(need, widths, spare, strict=True)]


def _row(label: str, value: str):
    return tr(td(label, cls="label"), td(value))


class WordReportExporter(Exporter):
    """``evaltools_docx``: the report as an editable Word document."""

    export_from_notebook = "evaltools report (Word)"
    output_mimetype = DOCX_MIME
    edition = Unicode(SUBMISSION, help="submission (what a unit hands in) or review").tag(config=True)

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".docx"

    def _init_preprocessors(self) -> None:
        super()._init_preprocessors()
        # The HTML template's conf.json turns these on for HTML and PDF; Word has no template.
        self.register_preprocessor(TagRemovePreprocessor(parent=self, remove_cell_tags={REMOVE_TAG}), enabled=True)
        self.register_preprocessor(PartsPreprocessor(parent=self), enabled=True)

    def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[bytes, dict]:
        nb_copy, resources = super().from_notebook_node(nb, resources, **kw)
        writer = WordWriter()
        for cell in nb_copy.cells:
            if cell.cell_type == "markdown":
                writer.markdown(writer.document, cell.source)
            elif cell.cell_type == "code":
                for output in cell.get("outputs", []):
                    writer.output(output)
        if draft_of(nb_copy):
            writer.mark_draft()
        resources["output_extension"] = ".docx"
        return writer.to_bytes(nb_copy.metadata.get("title") or report_title(nb_copy)), resources
