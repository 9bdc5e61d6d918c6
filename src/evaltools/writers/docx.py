"""The Word exporter (``evaltools_docx``): the executed notebook as an editable .docx.

A view of the parts, as the HTML is: one small function per part type (:func:`write`), sizes,
weights, alignments and fonts read from the style roles (``typography.STYLES``). Written by
python-docx from the same cells as the HTML: Markdown cells and the parts the code cells show,
in notebook order, ``remove_cell`` cells left out. Real headings, Word tables with
the parts' merged cells, column widths and repeating header rows, charts as pictures; pages as
GB/T 9704 sets them (``docx_page``: 22 lines of 28 characters, "— N —" odd right, even left, a
form on a page of its own), and the 公文 fonts named for each role (仿宋 body, 黑体 一、,
楷体 （一）, 小标宋 titles) in the styles themselves, the theme fonts removed, so that Word and
WPS use them. Tables have a fixed layout whose columns are widened where a number would
otherwise wrap; numbers are right-aligned; header rows repeat on each page and keep with the
first row; other rows may break across pages, a form's rows may not.
"""

from __future__ import annotations

import base64
import functools
import io
import re
from html import unescape
from typing import Any

import PIL.Image
from docx import Document
from docx.image.image import Image as DocxImage
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from nbconvert.exporters import Exporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets import Unicode, default

from evaltools.document import typography
from evaltools.writers.draft import MARK as DRAFT_MARK, draft_of
from evaltools.writers.html import REMOVE_TAG, SUBMISSION, PartsPreprocessor, report_title
from evaltools.document.parts import (
    AttachedPdf,
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
    part_of,
    plain_text,
    grid,
    td,
    tr,
)
from evaltools.document.typography import STYLES
from evaltools.writers import docx_page, docx_tables
from evaltools.writers.docx_tables import CELL_LEADING, CELL_PADDING_CM, FORM_LEADING, fitted_widths
from evaltools.writers.docx_markdown import MarkdownWriter
from evaltools.writers.docx_styles import (
    ALIGNMENTS,
    BODY,
    BODY_SIZE,
    HEADING_LEVELS,
    TITLE,
    TITLE_STYLE,
    add_styles,
    body_format,
    font_of,
    off_grid,
    set_fonts,
    style_fonts,
)

CELL_SIZE = STYLES["cell"].in_word("size")  # the tables' cells, and what a cell holds
FORM_SIZE = STYLES["form"].in_word("size")  # a form's cells
FORM_CAPTION_LEADING = 1.25  # the lines above and under a form (report.css: 1.4)
FIELDS_LEADING = 2.0  # the cover's fields, ruled lines with air between them (report.css: 1.5 and 2 mm padding)
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# The overview's table captions are body paragraphs in Word (HTML and PDF centre them as titles).
PLAIN_IN_WORD = frozenset({"table-title"})


def _number_run(paragraph, text: str):
    """A run of the page number: the body's face (its 4号 digits), its role's size."""
    return set_fonts(paragraph.add_run(text), size=STYLES["page-number"].in_word("size"))


class WordWriter:
    """Writes parts and Markdown into a python-docx ``Document``, in order; each part type has
    its own small function (:func:`write`)."""

    def __init__(self):
        self.document = Document()
        self.fonts = typography.word_fonts()
        add_styles(self.document)
        body_format(self.document)
        style_fonts(self.document, self.fonts)
        docx_page.set_up(self.document.sections[0], "text")
        docx_page.page_numbers(self.document, _number_run)
        self.page = "text"  # the current section's page: "text" or "form" (docx_page.MARGINS_MM)
        self.in_form = 0  # how deep in a form's parts: the form's section stays open
        self.cell_size = CELL_SIZE
        self.unit: str | None = None  # the cover's unit and 报告时间: the document's author and date
        self.cover = False  # a cover was written: its page has no number (a document without one is numbered from 1)
        self.date: str | None = None

    def typography(self, part: Typography) -> None:
        """The report's fonts (the rules' ``fonts``): a unit's own, else the convention's."""
        self.fonts = typography.word_fonts(part.fonts)
        style_fonts(self.document, self.fonts)

    def block(self, container, part: Any) -> None:
        """One part, into the document or into a table cell (``container``)."""
        write(part, self, container)

    def in_body(self, container) -> bool:
        return container is self.document

    def text_pages(self, container=None) -> bool:
        """Back on body pages after a form: its section ends where the next body text starts (not
        before, or an empty page would end the document). True if a new page was started."""
        if self.page == "form" and not self.in_form and (container is None or self.in_body(container)):
            docx_page.new_section(self.document, "text")
            self.page = "text"
            return True
        return False

    def page_break(self) -> None:
        if not self.text_pages():
            docx_page.break_page(self.document)

    def form_page(self) -> None:
        """A form starts a page of its own, on the form's margins."""
        docx_page.new_section(self.document, "form")
        self.page = "form"

    def text_width_cm(self, container) -> float:
        width = docx_page.text_width_mm(self.page) / 10
        return width if self.in_body(container) else width / 2

    # --- text ----------------------------------------------------------------------------------

    def paragraph(self, container, content: list, style: str | None = None, *, indent: bool = True):
        """A paragraph in its style role's size, alignment and weight; indented as the body is
        unless its role sets an alignment or a size or no indent (附件1); in a cell, the cells' size."""
        words = (style or "").split()
        look = None if style in PLAIN_IN_WORD else next((STYLES[w] for w in words if w in STYLES), None)
        look = None if look and look.selector.startswith("td.") else look  # the cells' roles: cells only
        size = look.in_word("size") if look else None
        align = look.in_word("align") if look else None
        if not self.in_body(container):
            size, indent = size or self.cell_size, False
        paragraph = self.add_paragraph(container, content, size=size, align=align,
                                       indent=indent and size is None and align is None and (not look or look.indent > 0),
                                       bold=bool(look and look.in_word("bold")), font=look and look.in_word("font"))
        if "keep-next" in words:  # a caption: never the last line of a page
            paragraph.paragraph_format.keep_with_next = True
        return paragraph

    def add_paragraph(self, container, content: list, *, size: float | None = None, align: str | None = None,
                      indent: bool = False, bold: bool = False, font: str | None = None):
        self.text_pages(container)
        paragraph = container.add_paragraph()
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(BODY.indent * BODY_SIZE)
        if align is not None:
            paragraph.alignment = ALIGNMENTS[align]
        if self.in_form and self.in_body(container):  # a form's caption and small print, set close
            paragraph.paragraph_format.line_spacing = Pt(round((size or BODY_SIZE) * FORM_CAPTION_LEADING, 1))
        elif size and size != BODY_SIZE and self.in_body(container):
            # its own pitch: off the grid, lines as high as its text needs
            paragraph.paragraph_format.line_spacing = 1.0
            off_grid(paragraph.paragraph_format)
        self.runs(paragraph, content, size, bold, font)
        return paragraph

    def runs(self, paragraph, content: list, size: float | None = None, bold: bool = False,
             font: str | None = None) -> None:
        east_asian = self.fonts[font or "body"]
        for item in content:
            if isinstance(item, Span):
                set_fonts(paragraph.add_run(item.text), east_asian, size=size, bold=item.bold or bold or None)
            elif isinstance(item, str):
                lines = item.split("\n")
                for i, text in enumerate(lines):
                    run = paragraph.add_run(text)
                    set_fonts(run, east_asian, size=size, bold=bold or None)
                    if i < len(lines) - 1:
                        run.add_break()

    def heading(self, container, text: str, level: int, style: str | None = None) -> None:
        if not self.in_body(container):
            self.paragraph(container, [Span(text, bold=True)], indent=False)
            return
        self.text_pages()
        if typography.is_title(style):
            title = self.document.add_paragraph(style=TITLE_STYLE)
            set_fonts(title.add_run(text), self.fonts[TITLE.font])
            title.paragraph_format.page_break_before = style == "report-title"
        else:
            level = min(max(level, 1), 4)
            role = STYLES.get(style or "")
            # a heading with a role of its own (an attachment's title, a table's) looks as its role
            look = role if role is not None and (role.font or role.size) else HEADING_LEVELS[level]
            heading = self.document.add_heading(level=level)
            size = look.in_word("size")
            set_fonts(heading.add_run(text), font_of(look, self.fonts), size, look.in_word("bold"))
            align = (role or look).in_word("align")
            if align:
                heading.alignment = ALIGNMENTS[align]
                heading.paragraph_format.first_line_indent = Pt(0)  # centred on the line, not the indent
            if size != BODY_SIZE:
                heading.paragraph_format.line_spacing = 1.0
                off_grid(heading.paragraph_format)

    # --- Markdown ------------------------------------------------------------------------------

    def markdown(self, container, text: str) -> None:
        """CommonMark as Word paragraphs: headings, paragraphs with bold/italic runs, lists, tables."""
        MarkdownWriter(self, container).write(text)

    def simple_table(self, container, rows: list[list[str]]) -> None:
        columns = max((len(r) for r in rows), default=0)
        if not columns:
            return
        self.text_pages(container)
        table = container.add_table(rows=len(rows), cols=columns)
        table.style = "Table Grid"
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.runs(table.cell(r, c).paragraphs[0], [text], self.cell_size, bold=r == 0)
        docx_tables.cell_paragraphs(table, self.cell_size)
        docx_tables.keep_rows(table, header_rows=1)

    # --- tables --------------------------------------------------------------------------------

    def table(self, container, part: Table, size: float | None = None) -> None:
        """A Word table of the part's rows, its text in ``size`` (else a form's or the cells')."""
        rows = part.head + part.rows
        placed, columns = grid(rows)
        if not rows or not columns:
            return
        form = "form" in part.style.split() or bool(self.in_form)  # every table of a form's page is the form's
        outer, self.cell_size = self.cell_size, size or (FORM_SIZE if form else CELL_SIZE)
        try:
            self.fill_table(container, part, placed, columns, form)
        finally:
            self.cell_size = outer

    def fill_table(self, container, part: Table, placed: list, columns: int, form: bool) -> None:
        rows = part.head + part.rows
        self.text_pages(container)
        self.separate_from_a_table_above(container)
        table = container.add_table(rows=len(rows), cols=columns)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False  # a fixed layout: the widths below, no column grows to fit its text
        widths = part.widths if len(part.widths) == columns else [100 / columns] * columns
        # Word reads the cells' widths, LibreOffice the grid's: set both (the layout is fixed).
        padding = docx_tables.FORM_PADDING_CM if form else CELL_PADDING_CM
        fit = docx_tables.shortest_widths if form else fitted_widths
        for c, width in enumerate(fit(widths, placed, self.text_width_cm(container), self.cell_size, padding)):
            table.columns[c].width = Cm(width)
            for row in table.rows:
                row.cells[c].width = Cm(width)
        for r, c, cell in placed:
            target = table.cell(r, c)
            if cell.rowspan > 1 and "continued" in (cell.style or "").split():
                # A label column that only continues the one above (绩效指标 down the 自评表) is
                # drawn as one cell by its borders, not merged: LibreOffice repeats no header rows
                # on a page that a merged cell runs onto.
                docx_tables.open_borders(table, r, c, min(r + cell.rowspan, len(rows)) - 1)
            elif cell.rowspan > 1 or cell.colspan > 1:
                target = target.merge(table.cell(min(r + cell.rowspan, len(rows)) - 1, min(c + cell.colspan, columns) - 1))
            self.cell(target, cell)
        fields = "cover-fields" in part.style.split()
        docx_tables.cell_paragraphs(table, self.cell_size,
                                    FORM_LEADING if form else FIELDS_LEADING if fields else CELL_LEADING)
        if fields:
            docx_tables.ruled(table)
        if form:
            docx_tables.narrow_cell_margins(table)
        kept = frozenset(r for r, row in enumerate(rows) if "keep-next" in (row.style or "").split())
        docx_tables.keep_rows(table, len(part.head), whole=form, kept=kept)

    def separate_from_a_table_above(self, container) -> None:
        """Two tables in a row are one table to Word and LibreOffice, whose header rows would then
        sit mid-table and never repeat: a hairline paragraph keeps them apart."""
        parent = self.document.element.body if self.in_body(container) else container._element
        last = parent[-1] if len(parent) else None
        if last is not None and last.tag == qn("w:sectPr"):
            last = last.getprevious()
        if last is not None and last.tag == qn("w:tbl"):
            spacer = container.add_paragraph()
            spacer.paragraph_format.space_before = spacer.paragraph_format.space_after = Pt(0)
            spacer.paragraph_format.line_spacing = Pt(1)

    def cell(self, target, cell: Cell) -> None:
        for paragraph in target.paragraphs[1:]:
            paragraph._element.getparent().remove(paragraph._element)
        first = target.paragraphs[0]
        first.clear()
        align = docx_tables.cell_alignment(cell.style) or ("center" if cell.header else None)
        if align is not None:
            first.alignment = ALIGNMENTS[align]
        bold = docx_tables.cell_bold(cell)
        used = False
        for item in cell.content:
            if isinstance(item, str | Span):
                self.runs(first, [item], self.cell_size, bold)
            elif isinstance(item, Paragraph) and not used:
                self.runs(first, item.content, self.cell_size, bold)
            else:
                self.block(target, item)
            used = True
        if len(target.paragraphs) > 1 and not first.text:  # the cell opens with what it holds
            first._element.getparent().remove(first._element)

    # --- a notebook's outputs ------------------------------------------------------------------

    def output(self, output: Any) -> None:
        """One cell output: its part; else what an analyst's own cell shows (a picture, Markdown, HTML's text)."""
        data = output.get("data", {})
        if output.get("output_type") == "error":  # as the HTML template shows it
            self.paragraph(self.document, [f"生成报告时出错：{output.get('ename')}: {output.get('evalue')}"], indent=False)
        elif (part := part_of(data)) is not None:
            self.block(self.document, part)
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
            for header in (section.header, section.even_page_header, section.first_page_header):
                header.is_linked_to_previous = False
                paragraph = header.paragraphs[0]
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                run = paragraph.add_run(DRAFT_MARK)
                run.bold = True
                run.font.color.rgb = RGBColor(0xB0, 0x30, 0x1F)
                set_fonts(run, self.fonts["heading1"], size=14)

    def to_bytes(self, title: str | None) -> bytes:
        # Fixed core properties, the unit's and the report's: the same report gives the same document.
        docx_page.set_properties(self.document, title, self.unit, docx_page.report_date(self.date))
        if not self.cover:
            self.document.sections[0].different_first_page_header_footer = False
        buffer = io.BytesIO()
        self.document.save(buffer)
        return buffer.getvalue()


# --- each part type ---------------------------------------------------------------------------------


@functools.singledispatch
def write(part: Any, writer: WordWriter, container) -> None:
    """Parts without a Word form of their own are left out."""


@write.register
def _(part: AttachedPdf, writer: WordWriter, container) -> None:
    """A PDF attached as it is: the PDF edition appends its pages; Word says where it is, as the HTML does."""
    if part.note:
        writer.paragraph(container, [part.note], indent=False)


@write.register
def _(part: Section, writer: WordWriter, container) -> None:
    styles = (part.style or "").split()
    body = writer.in_body(container)
    if "form-page" in styles and body:  # a section of its own, starting a page
        writer.form_page()
    elif "attachment" in styles and body:
        writer.page_break()
    if part.style == "cover":
        writer.cover = True
        for _ in range(3):
            writer.document.add_paragraph()
    writer.in_form += "form-page" in styles
    try:
        for child in part.children:
            writer.block(container, child)
    finally:
        writer.in_form -= "form-page" in styles
    if part.style in ("cover", "first-page") and body:
        writer.page_break()


@write.register
def _(part: Heading, writer: WordWriter, container) -> None:
    writer.heading(container, part.text, part.level, part.style)


@write.register
def _(part: Paragraph, writer: WordWriter, container) -> None:
    if part.style == "cover-unit" and writer.unit is None:
        writer.unit = plain_text(part.content)
    writer.paragraph(container, part.content, part.style)


@write.register
def _(part: Markdown, writer: WordWriter, container) -> None:
    writer.markdown(container, part.text)


@write.register
def _(part: Table, writer: WordWriter, container) -> None:
    writer.table(container, part)


def _shows(data: bytes) -> bool:
    """Whether Word can show the image: python-docx reads its kind and size, Pillow its pixels
    (a cell's output is anyone's bytes: cut short, not an image, pixels that do not inflate)."""
    try:
        DocxImage.from_blob(data)
        with PIL.Image.open(io.BytesIO(data)) as picture:
            picture.load()
    except Exception:  # noqa: BLE001  (whatever either raises: not an image Word can show)
        return False
    return True


@write.register
def _(part: Figure, writer: WordWriter, container) -> None:
    if not _shows(part.png):  # named, as in the PDF, rather than failing the document
        writer.add_paragraph(container, [f"[图片：{part.alt}]"])
        return
    writer.text_pages()
    writer.document.add_picture(io.BytesIO(part.png), width=Mm(docx_page.text_width_mm(writer.page) - 6))
    picture = writer.document.paragraphs[-1]
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    picture.paragraph_format.line_spacing = 1.0  # as high as the picture, not a line of the grid
    off_grid(picture.paragraph_format)
    picture.paragraph_format.keep_with_next = bool(part.caption)
    if part.caption:
        writer.add_paragraph(container, [part.caption], align="center", size=STYLES["caption"].in_word("size"))


@write.register
def _(part: Fields, writer: WordWriter, container) -> None:
    if writer.date is None:
        writer.date = next((value for label, value in part.rows if label == "报告时间"), None)
    rows = [tr(td(label, cls="label"), td(value)) for label, value in part.rows]
    writer.table(container, Table(rows, widths=[30, 70], style=part.style),
                 size=STYLES.get(part.style, STYLES["cell"]).in_word("size"))


@write.register
def _(part: SignOff, writer: WordWriter, container) -> None:
    """Blocks to sign on paper (no borders), two a row, or one under the other ("single");
    every line keeps with the next, so a block never leaves its date alone on a page."""
    columns = 1 if part.style == "single" else 2
    size = STYLES["signoff-page"].in_word("size")
    writer.text_pages(container)
    table = container.add_table(rows=(len(part.blocks) + columns - 1) // columns, cols=columns)
    for i, block in enumerate(part.blocks):
        cell = table.cell(i // columns, i % columns)
        cell.paragraphs[0].text = ""
        writer.runs(cell.paragraphs[0], [f"{block.label}：{block.name}"], size)
        if block.date:
            date = cell.add_paragraph()
            date.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            writer.runs(date, [block.date], size)
    docx_tables.cell_paragraphs(table, size)
    docx_tables.keep_rows(table, whole=True)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                paragraph.paragraph_format.keep_with_next = True


@write.register
def _(part: ItemList, writer: WordWriter, container) -> None:
    for number, item in enumerate(part.items, 1):
        writer.paragraph(container, [f"{number}. " if part.ordered else "• ", *item], indent=False)


@write.register
def _(part: PageBreak, writer: WordWriter, container) -> None:
    writer.page_break()


@write.register
def _(part: Typography, writer: WordWriter, container) -> None:
    writer.typography(part)


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
