"""The Word edition's styles: its fonts named outright (east Asian and Latin), the body's
paragraphs on the GB/T 9704 pitch, the headings' and the title's looks, all from
:mod:`evaltools.document.typography`; and the helpers a paragraph or run of the writer
(:mod:`evaltools.writers.docx`) sets them with."""

from __future__ import annotations

from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor

from evaltools.document import typography
from evaltools.document.typography import STYLES, Style
from evaltools.writers import docx_page
from evaltools.writers.docx_tables import CELL_STYLE

BODY_FONT = typography.WORD_FONTS["body"]  # until the report's Typography part names its own
BODY = STYLES["body"]
BODY_SIZE = BODY.size  # 三号, as GB/T 9704 sets the text
LINE = Pt(docx_page.LINE_PITCH)
# The parts' heading levels, as Word's Heading 1–4: 1 the table titles, 2 "一、" (黑体), 3 "（一）" (楷体), 4 bold body.
HEADING_LEVELS = {1: STYLES["table-title"], 2: STYLES["heading1"], 3: STYLES["heading2"], 4: STYLES["heading3"]}
TITLE_STYLE = "报告标题"
TITLE = STYLES["title"]
BLACK = RGBColor(0, 0, 0)
ALIGNMENTS = {"center": WD_ALIGN_PARAGRAPH.CENTER, "right": WD_ALIGN_PARAGRAPH.RIGHT,
              "justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "left": WD_ALIGN_PARAGRAPH.LEFT}


def set_fonts(run, east_asian: str = BODY_FONT, size: float | None = None, bold: bool | None = None):
    run.font.name = "Times New Roman"
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)
    if size:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    return run


def off_grid(paragraph_format) -> None:
    """Not snapped to the page's character grid: text in another size than the body's keeps
    its own pitch (Word would otherwise give a 22 pt character two cells of the grid)."""
    pPr = paragraph_format._element.get_or_add_pPr()
    if pPr.find(qn("w:snapToGrid")) is None:
        snap = OxmlElement("w:snapToGrid")
        snap.set(qn("w:val"), "0")
        pPr.insert_element_before(snap, "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents",
                                  "w:suppressOverlap", "w:jc", "w:textDirection", "w:textAlignment",
                                  "w:textboxTightWrap", "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr",
                                  "w:sectPr", "w:pPrChange")


THEME_FONTS = ("w:asciiTheme", "w:eastAsiaTheme", "w:hAnsiTheme", "w:cstheme")


def style_font(style, east_asian: str, size: float, bold: bool) -> None:
    """A style's fonts named outright: Word prefers a theme font to a named one, so the theme
    attributes go."""
    style.font.name, style.font.size, style.font.bold = "Times New Roman", Pt(size), bold
    style.font.italic = False
    style.font.color.rgb = BLACK
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    for attribute in THEME_FONTS:
        fonts.attrib.pop(qn(attribute), None)
    fonts.set(qn("w:eastAsia"), east_asian)


def add_styles(document) -> None:
    """The titles: a style of their own (not Word's blue Title), 小标宋 二号, black, centred, a
    blank line under them; the cells' paragraphs: single lines, no indent, off the grid."""
    title = document.styles.add_style(TITLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    title.base_style = document.styles["Normal"]
    fmt = title.paragraph_format
    fmt.alignment = ALIGNMENTS[TITLE.align]
    fmt.line_spacing, fmt.space_after = Pt(TITLE.size * 1.45), LINE  # report.css: line-height 1.45
    fmt.keep_with_next = True
    off_grid(fmt)
    cells = document.styles.add_style(CELL_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    cells.base_style = document.styles["Normal"]
    fmt = cells.paragraph_format
    fmt.alignment, fmt.line_spacing, fmt.first_line_indent = WD_ALIGN_PARAGRAPH.LEFT, 1.0, Pt(0)
    off_grid(fmt)
    docx_page.tracking(cells, 0)


def body_format(document) -> None:
    """The body: justified at the exact line pitch, no space between paragraphs (the template's
    1.15 lines and 10 pt after are Word's, not the 公文's); headings on the same pitch, indented
    two characters, kept with what follows."""
    normal = document.styles["Normal"]
    fmt = normal.paragraph_format
    fmt.alignment, fmt.line_spacing = ALIGNMENTS[BODY.align], LINE
    fmt.space_before = fmt.space_after = Pt(0)
    # 28 characters a line by their spacing, as report.css sets it: LibreOffice cannot narrow a
    # character to a grid finer than the font's size, and would give 三号 two cells of it.
    off_grid(fmt)
    docx_page.tracking(normal, docx_page.TRACKING)
    for level, style in HEADING_LEVELS.items():
        fmt = document.styles[f"Heading {level}"].paragraph_format
        fmt.line_spacing, fmt.space_before, fmt.space_after = LINE, Pt(0), Pt(0)
        fmt.keep_with_next = True
        fmt.first_line_indent = Pt(style.indent * style.size) if style.indent else None
        fmt.alignment = ALIGNMENTS[style.align] if style.align else ALIGNMENTS["left"]
        if style.size != BODY_SIZE:
            off_grid(fmt)


def font_of(style: Style, fonts: dict[str, str]) -> str:
    return fonts[style.in_word("font") or "body"]


def style_fonts(document, fonts: dict[str, str]) -> None:
    docx_page.defaults(document, fonts["body"])
    style_font(document.styles["Normal"], fonts["body"], BODY_SIZE, BODY.bold)
    for level, style in HEADING_LEVELS.items():
        style_font(document.styles[f"Heading {level}"], font_of(style, fonts), style.in_word("size"),
                    style.in_word("bold"))
    style_font(document.styles[TITLE_STYLE], font_of(TITLE, fonts), TITLE.size, TITLE.bold)
