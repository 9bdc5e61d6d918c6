"""The Word edition's tables: column widths that keep numbers and labels whole, the rows' page
flags, the cells' paragraphs and margins.

Widths start from the part's percentages; a column is widened where a number would otherwise
wrap and, in a form, where its labels ("数量指标") would break a character or two a line, the
room taken from the columns with the most to spare. Header rows repeat on each page, never split
and keep with the first row under them; other rows may break across pages, a form's may not.
"""

from __future__ import annotations

import re

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph as WordParagraph

from evaltools.document.parts import Cell
from evaltools.document.typography import STYLES

CELL_SIZE = STYLES["cell"].in_word("size")
CELL_STYLE = "表格文字"  # a cell's paragraphs: single lines at their own size, off the page's grid
CELL_LEADING = 1.3  # a cell's line pitch, in its text's size (report.css: 1.5)
FORM_LEADING = 1.15  # a form's: 五号 set as close as the PDF sets its 小五 (report.css: 1.25)
FORM_CELL_MARGIN = Mm(0.8)  # left and right, as report.css pads a form's cells (Word's default: 1.9 mm)
CELL_PADDING_CM = 0.45  # the default left + right cell margins (0.19 cm each) and a little room
FORM_PADDING_CM = 2 * FORM_CELL_MARGIN.cm + 0.07  # a form's narrow margins and a little room


def cell_alignment(style: str | None) -> str | None:
    """The alignment of the first word of a cell's style whose role sets one (num, center, label)."""
    return next((STYLES[w].align for w in (style or "").split() if w in STYLES and STYLES[w].align), None)


def cell_bold(cell: Cell) -> bool:
    return cell.header or any(STYLES[w].in_word("bold") for w in (cell.style or "").split() if w in STYLES)


def keep_rows(table, header_rows: int = 0, whole: bool = False, kept: frozenset[int] = frozenset()) -> None:
    """The first ``header_rows`` repeated on each page ("w:tblHeader"), never split, and kept with
    the first row under them; the other rows split across pages unless ``whole`` (a form's); the
    rows ``kept`` (a form's rows within one 一级指标) kept with the row after them."""
    for r, row in enumerate(table.rows):
        heading = r < header_rows
        for name in ("w:cantSplit",) * (heading or whole) + ("w:tblHeader",) * heading:
            flag = OxmlElement(name)
            flag.set(qn("w:val"), "true")
            row._tr.get_or_add_trPr().append(flag)
        if heading or r in kept:
            for paragraph in row._tr.iter(qn("w:p")):
                WordParagraph(paragraph, table).paragraph_format.keep_with_next = True


def cell_paragraphs(table, size: float, leading: float = CELL_LEADING) -> None:
    """Every paragraph of a table in the cells' style, at ``leading`` times ``size``."""
    for element in table._tbl.iter(qn("w:p")):
        paragraph = WordParagraph(element, table)
        if paragraph.paragraph_format.line_spacing is None:
            paragraph.style = CELL_STYLE
            paragraph.paragraph_format.line_spacing = Pt(round(size * leading, 1))


def narrow_cell_margins(table) -> None:
    """A form's cells padded as the PDF pads them: its narrow label columns hold two characters."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(FORM_CELL_MARGIN.twips))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription")


def open_borders(table, first: int, column: int, last: int) -> None:
    """No horizontal borders between rows first..last of a column, nor above the first: the cells
    read as one with the label above them."""
    for r in range(first, last + 1):
        borders = OxmlElement("w:tcBorders")
        for side in ("top",) + ("bottom",) * (r < last):
            line = OxmlElement(f"w:{side}")
            line.set(qn("w:val"), "nil")
            borders.append(line)
        table.cell(r, column)._tc.get_or_add_tcPr().append(borders)


def _text_width_cm(text: str, size: float = CELL_SIZE) -> float:
    """How wide a line of text sets: a CJK character a full em, other characters about half."""
    ems = sum(1 if ord(ch) > 0x2E80 else 0.65 for ch in text)  # DejaVu-wide digits, where Times is missing
    return ems * size * 2.54 / 72


# A number with its sign, decimals and unit signs ("≥95%", "106.62", "2024"): it must not wrap.
_NUMBER = re.compile(r"[≥≤<>＞＜+\-]?\d[\d.,:/%‰]*")


def unbreakable(cell: Cell) -> str:
    """The longest run of a cell that must stay on one line: a "num" cell's whole text, else the
    longest number in it ("106.62" of "106.62万元")."""
    if "num" in (cell.style or "").split():
        return cell.text
    return max(_NUMBER.findall(cell.text), key=len, default="")


def label(cell: Cell, ems: int) -> str:
    """What of a form's cell should stay on one line: its longest line, up to ``ems`` characters
    ("数量指标" of "数量指标", "产出指标" of "产出指标（50分）"); nothing of a label over several
    rows (产出指标 down its level), which has their height to wrap in."""
    return "" if cell.rowspan > 1 else max(cell.text.split("\n"), key=len, default="")[:ems]


def fitted_widths(percents: list[float], placed: list, width_cm: float, size: float = CELL_SIZE,
                  padding_cm: float = CELL_PADDING_CM, label_ems: int = 0) -> list[float]:
    """Column widths in cm from the part's percentages, each column holding its longest number on
    one line (of the cells spanning one column) and, with ``label_ems``, that many characters of
    its labels; what a column gains comes from the columns with the most room to spare, never
    below what their own numbers and labels need. Numbers first: labels only where room is left."""
    total = sum(percents)
    widths = [width_cm * w / total for w in percents]
    widths = _widened(widths, placed, size, padding_cm, (unbreakable,))
    if label_ems:
        widths = _widened(widths, placed, size, padding_cm, (unbreakable, lambda cell: label(cell, label_ems)))
    return widths


def _widened(widths: list[float], placed: list, size: float, padding_cm: float, keep: tuple) -> list[float]:
    need = [0.0] * len(widths)
    for _, c, cell in placed:
        for text in (k(cell) for k in keep) if cell.colspan == 1 else ():
            if text:
                need[c] = max(need[c], _text_width_cm(text, size) + padding_cm)
    short = sum(max(n - w, 0) for n, w in zip(need, widths, strict=True))
    spare = [max(w - max(n, 1.0), 0) for n, w in zip(need, widths, strict=True)]
    if short <= 0 or sum(spare) < short:
        return widths
    return [max(n, w) if n > w else w - short * s / sum(spare) for n, w, s in zip(need, widths, spare, strict=True)]


LABEL_CHOICES = (0, 2, 3, 4, 5, 6, 8, 10, 12)  # characters of its labels a form's column may be widened to hold


def shortest_widths(percents: list[float], placed: list, width_cm: float, size: float, padding_cm: float) -> list[float]:
    """A form's widths: of those that keep its numbers whole and its labels to 0, 2 … 12 characters
    a line, the ones that set it in the fewest lines (the form's percentages where none is shorter),
    so that a form of short indicators runs a line a row and one of long texts keeps its wide columns."""
    candidates = [fitted_widths(percents, placed, width_cm, size, padding_cm, ems) for ems in LABEL_CHOICES]
    return min(candidates, key=lambda widths: lines_needed(widths, placed, size, padding_cm))


def lines_needed(widths: list[float], placed: list, size: float, padding_cm: float) -> int:
    """About how many lines the rows take at these widths: each row as many as its fullest cell
    (cells over several rows left out: labels that their rows hold anyway)."""
    rows: dict[int, int] = {}
    for r, c, cell in placed:
        if cell.rowspan > 1:
            continue
        room = max(sum(widths[c:c + cell.colspan]) - padding_cm, 0.1)
        lines = sum(max(1, -(-_text_width_cm(line, size) // room)) for line in cell.text.split("\n"))
        rows[r] = max(rows.get(r, 1), int(lines))
    return sum(rows.values())


def ruled(table) -> None:
    """Lines under each row only, as the cover's fields are ruled in the PDF (no grid)."""
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{side}")
        ruled_line = side in ("bottom", "insideH")
        line.set(qn("w:val"), "single" if ruled_line else "nil")
        if ruled_line:
            line.set(qn("w:sz"), "4")
            line.set(qn("w:color"), "666666")
        borders.append(line)
    table._tbl.tblPr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                           "w:tblCaption", "w:tblDescription")
