"""The Word edition's pages as GB/T 9704 sets them, and the document's own properties.

A body page is A4 with the 公文 margins (top 37, bottom 35, left 28, right 26 mm: a 156 × 225 mm
版心) and a document grid of 22 lines of 28 characters, the body set at an exact line pitch so
that Word, WPS and LibreOffice all give a full page 22 lines. Page numbers are "— 1 —" in 4号,
odd pages on the right and even pages on the left, one character in from the edge. A form (the
自评表, the department's 附件) is a section of its own on the margins the PDF gives its form pages,
without the grid, so that it fits one page as it does in the PDF.
"""

from __future__ import annotations

import datetime as dt
import re
from xml.sax.saxutils import escape

from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph

from evaltools.document.typography import STYLES

LINES, CHARACTERS = 22, 28  # a full body page
PAGE_MM = (210, 297)
# top, bottom, left, right (mm): the 公文's, and a form's (五号 needs a little more of the sheet
# than the PDF's form pages give its 小五: report.css, @page form, 12 16 15 15)
MARGINS_MM = {"text": (37, 35, 28, 26), "form": (8, 14, 12, 12)}
BODY_SIZE = STYLES["body"].size
LINE_PITCH = 28.95  # pt: 225 mm (637.8 pt) / 22, as report.css sets the body's line-height
TWIPS = 20  # a point in twentieths
FOOTER_MM = 21  # page bottom to the number's foot: the number a line (7 mm) under the 版心


def text_width_mm(kind: str) -> float:
    _, _, left, right = MARGINS_MM[kind]
    return PAGE_MM[0] - left - right


def char_space(kind: str = "text") -> int:
    """The grid's ``w:charSpace``: what a character's pitch adds to the body size, in 1/4096 pt,
    so that exactly 28 characters fill the line (rounded down: never 27)."""
    pitch = text_width_mm(kind) / 25.4 * 72 / CHARACTERS
    return int((pitch - BODY_SIZE) * 4096) - 1


def _grid(section, kind: str) -> None:
    sectPr = section._sectPr
    grid = sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        sectPr.append(grid)
    for name in ("w:type", "w:linePitch", "w:charSpace"):
        grid.attrib.pop(qn(name), None)
    if kind == "text":
        grid.set(qn("w:type"), "linesAndChars")
        grid.set(qn("w:linePitch"), str(round(LINE_PITCH * TWIPS)))
        grid.set(qn("w:charSpace"), str(char_space()))


def set_up(section, kind: str = "text") -> None:
    """A4 portrait with ``kind``'s margins ("text" or "form"); the grid on body pages only."""
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    top, bottom, left, right = MARGINS_MM[kind]
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.footer_distance = Mm(FOOTER_MM if kind == "text" else 6)
    _grid(section, kind)


def page_numbers(document, font_runs) -> None:
    """"— N —" in the footers: odd pages right, even pages left, a character in from the edge;
    none on the cover (the first section's first page). ``font_runs(paragraph, text)`` adds a
    run in the page number's font and size."""
    document.settings.odd_and_even_pages_header_footer = True
    section = document.sections[0]
    section.different_first_page_header_footer = True
    role = STYLES["page-number"]
    size = role.in_word("size")
    outside = role.in_word("align") == "outside"  # odd right, even left; else each as the role says
    single = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT}.get(role.in_word("align"))
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        paragraph = footer.paragraphs[0]
        fmt = paragraph.paragraph_format
        fmt.line_spacing, fmt.space_before, fmt.space_after = 1.0, Pt(0), Pt(0)
        if not outside:
            paragraph.alignment = single if single is not None else WD_ALIGN_PARAGRAPH.CENTER
        elif align == "right":
            paragraph.alignment, fmt.right_indent = WD_ALIGN_PARAGRAPH.RIGHT, Pt(size)
        else:
            paragraph.alignment, fmt.left_indent = WD_ALIGN_PARAGRAPH.LEFT, Pt(size)
        font_runs(paragraph, "— ")
        field(paragraph, "PAGE", font_runs)
        font_runs(paragraph, " —")


def field(paragraph, instruction: str, font_runs) -> None:
    """A field (PAGE) whose result takes the runs' font: begin, instruction, separate, result, end."""
    for kind, text in (("begin", None), (None, instruction), ("separate", None), ("result", "1"), ("end", None)):
        if kind == "result":
            font_runs(paragraph, text)
            continue
        run = font_runs(paragraph, "")
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = f" {text} "
        run._element.append(element)


def tiny(paragraph) -> None:
    """A paragraph that only carries something (a break, a section's end) and takes no line."""
    fmt = paragraph.paragraph_format
    fmt.space_before = fmt.space_after = Pt(0)
    fmt.line_spacing = Pt(1)
    fmt.first_line_indent = None


def _is_bare_page_break(element) -> bool:
    return (element is not None and element.tag == qn("w:p") and not "".join(element.itertext()).strip()
            and any(br.get(qn("w:type")) == "page" for br in element.iter(qn("w:br"))))


def break_page(document) -> None:
    tiny(document.add_page_break())


def new_section(document, kind: str):
    """A new section on a new page with ``kind``'s page; a page break just before it is the
    section break's to make (no empty page). The first content of a document needs no break."""
    body = document.element.body
    last = body[-1] if body[-1].tag != qn("w:sectPr") else body[-1].getprevious()
    if _is_bare_page_break(last):
        body.remove(last)
        last = body[-1] if body[-1].tag != qn("w:sectPr") else body[-1].getprevious()
    if last is None:
        set_up(document.sections[-1], kind)
        return document.sections[-1]
    section = document.add_section(WD_SECTION.NEW_PAGE)
    ended = [p for p in body.iterchildren(qn("w:p")) if p.pPr is not None and p.pPr.sectPr is not None][-1]
    tiny(Paragraph(ended, document._body))
    section.different_first_page_header_footer = False  # numbered from its first page on
    set_up(section, kind)
    return section


_DATE = re.compile(r"(\d{4})\D{1,3}(\d{1,2})(?:\D{1,3}(\d{1,2}))?")


def report_date(text: str | None) -> dt.datetime | None:
    """The date of "2025-04-15", "2025年4月15日" or "2025年4月" (its first day); None otherwise."""
    found = _DATE.search(text or "")
    if not found:
        return None
    try:
        return dt.datetime(int(found[1]), int(found[2]), int(found[3] or 1), tzinfo=dt.UTC)
    except ValueError:
        return None


def set_properties(document, title: str | None, author: str | None, date: dt.datetime | None) -> None:
    """The unit's document, not the tool's: title, author = the unit, created and modified = the
    report's date (left out when it has none); no template's comment, date or revision."""
    properties = document.core_properties
    properties.title = title or ""
    properties.author = properties.last_modified_by = author or ""
    properties.comments = properties.keywords = properties.subject = properties.category = ""
    properties.revision = 1
    core = properties._element
    for name in ("dcterms:created", "dcterms:modified", "cp:lastPrinted"):
        element = core.find(qn(name))
        if element is not None:
            core.remove(element)
    if date is not None:
        properties.created = properties.modified = date
    _neutral_package(document, author or "")


def _neutral_package(document, company: str) -> None:
    """No trace of the template: its blank Letter-size thumbnail (an explorer's preview) goes, and
    the extended properties name the unit, not "Microsoft Macintosh Word" with its page counts."""
    package = document.part.package
    for rId, rel in list(package.rels.items()):
        if rel.reltype == RT.THUMBNAIL:
            package.rels.pop(rId)
        elif rel.reltype == RT.EXTENDED_PROPERTIES:
            rel.target_part._blob = APP_XML.format(company=escape(company)).encode("utf-8")


APP_XML = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
           "<Company>{company}</Company></Properties>")


def defaults(document, east_asian: str) -> None:
    """The document's defaults as the body's: 三号 in the body's face, Chinese, no space after a
    paragraph. LibreOffice measures the character grid in the default size (the template's 11 pt
    would make every 三号 character two cells of it)."""
    found = document.styles.element.find(qn("w:docDefaults"))
    rPr = found.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    fonts = rPr.find(qn("w:rFonts"))
    for name in ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme"):
        fonts.attrib.pop(qn(name), None)
    fonts.set(qn("w:ascii"), "Times New Roman")
    fonts.set(qn("w:hAnsi"), "Times New Roman")
    fonts.set(qn("w:eastAsia"), east_asian)
    for name in ("w:sz", "w:szCs"):
        rPr.find(qn(name)).set(qn("w:val"), str(round(BODY_SIZE * 2)))
    rPr.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    spacing = found.find(qn("w:pPrDefault")).find(qn("w:pPr")).find(qn("w:spacing"))
    spacing.set(qn("w:after"), "0")
    spacing.set(qn("w:line"), "240")


# The body's character spacing (twentieths of a point): 16 pt less 0.3 pt, 28 characters in the
# 156 mm line (29 would need 456 pt of its 442).
TRACKING = -6


def tracking(style, twentieths: int) -> None:
    """A style's character spacing (``w:spacing`` of its run properties)."""
    rPr = style.element.get_or_add_rPr()
    spacing = rPr.find(qn("w:spacing"))
    if spacing is None:
        spacing = OxmlElement("w:spacing")
        rPr.insert_element_before(spacing, "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u",
                                  "w:effect", "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs",
                                  "w:em", "w:lang", "w:eastAsianLayout", "w:specVanish", "w:oMath")
    spacing.set(qn("w:val"), str(twentieths))
