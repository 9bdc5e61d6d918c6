"""How an exported workbook prints: column widths, row heights and the page set-up.

Excel and LibreOffice measure column widths in the default font's digits, so the width of a
column on paper depends on the workbook's default font and the fonts the machine has: with
openpyxl's Calibri, LibreOffice without Calibri uses DejaVu Sans and every column comes out a
third wider than in Excel, and a form fitted to the page shrinks to 5.5 pt. The workbook's
default font is therefore Arial (Liberation Sans, metric-compatible, stands in for it where
Arial is missing), which gives the same width unit everywhere; the form's columns are sized
to the A4 text width at 100 %, and its rows to their wrapped text, so the scale that fits the
form to one page is known before printing and is never below what keeps a glyph at 9 pt.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

BODY_SIZE = 10  # pt: the form's text at 100 %
# Line pitch of 10 pt text: LibreOffice sets the Noto/Source Han faces that stand in for 宋体 at
# 1.45 em (Excel's SimSun at 1.35 em); the larger keeps every line inside its row in both.
POINTS_PER_LINE = 14.5
UNIT_POINTS, COLUMN_PADDING = 5.25, 3.75  # a column of width w is 7w + 5 px wide (Arial 10's "0" is 7 px)
CELL_INSET = 4  # pt of a cell's width its text does not use (LibreOffice and Excel keep 1.5–2 pt a side)
MIN_ROW_POINTS = 16.5  # a line and its padding
ROW_PADDING = 2
LOOK_AHEAD = 8  # steps of half a unit: 21 pt, two characters
SMALLEST_GLYPH = 9.0  # pt at print size: the floor a scaled-down form keeps

# A4 portrait, 1 cm margins left and right, 0.8 cm top and bottom: what an office printer leaves
# blank anyway; a long form needs the room (the seed's is 880 pt tall at 100 %).
PAGE_POINTS = (595.3, 841.9)
MARGIN_INCHES = 0.4
TOP_INCHES = 0.32
HEADER_INCHES = 0.16


def default_font(book: Workbook) -> None:
    """Arial 10 as the workbook's default: the unit of every column width (see the module's note)."""
    normal = next(style for style in book._named_styles if style.name == "Normal")
    normal.font = Font(name="Arial", size=10)
    book._fonts[0] = normal.font  # cells without a font of their own, and the width unit


def column_points(width: float) -> float:
    return width * UNIT_POINTS + COLUMN_PADDING


def printable_points() -> tuple[float, float]:
    """Width and height of the area inside the margins, in points."""
    return PAGE_POINTS[0] - 2 * MARGIN_INCHES * 72, PAGE_POINTS[1] - 2 * TOP_INCHES * 72


def text_ems(text: str) -> float:
    """How wide a line of text is, in ems: a CJK character, a full-width sign, and the punctuation
    and symbols a CJK face sets full width (“ ” … ‰ ≥ ①) one em, anything else at most 0.6."""
    return sum(1.0 if ord(ch) > 0x2E80 or 0x2010 <= ord(ch) <= 0x27BF else 0.6 for ch in text)


# What a line may not break inside: a run of Latin letters and digits (a number, a word), with
# the opening brackets before it and the closing punctuation after it (kinsoku: no line opens with
# "）" or "，", none ends with "（"); any other character stands alone.
_UNBREAKABLE = re.compile(r"[（(“‘《〈【\[]*(?:[A-Za-z0-9.%‰+\-/:_]+|.)[）)”’》〉】\]，。、；：！？,.;:!?%‰]*")


@functools.lru_cache(maxsize=65536)  # fitting the columns asks the same questions many times
def lines_in(text: str, points: float, size: float = BODY_SIZE) -> int:
    """Lines a wrapped cell ``points`` wide shows ``text`` in at ``size``, each paragraph on its own,
    breaking lines where Excel and LibreOffice may (see ``_UNBREAKABLE``)."""
    room = max(points - CELL_INSET, size) / size
    count = 0
    for paragraph in str(text).split("\n"):
        lines, used = 1, 0.0
        for token in _UNBREAKABLE.findall(paragraph):
            width = text_ems(token)
            if used + width <= room + 1e-9:
                used += width
            elif width <= room:
                lines, used = lines + 1, width
            else:  # longer than a line: broken anywhere
                used += width
                while used > room + 1e-9:
                    lines, used = lines + 1, used - room
        count += lines
    return count


def lines_needed(text: str, width: float) -> int:
    """Lines a wrapped cell of ``width`` (Excel units) shows ``text`` in at 10 pt."""
    return lines_in(text, column_points(width))


@dataclass(frozen=True)
class Block:
    """A cell's text as the heights see it: where it sits (first and last row and column) and its size."""

    text: str
    rows: tuple[int, int]
    columns: tuple[int, int]
    size: float


def text_blocks(sheet: Worksheet, max_column: int | None = None) -> list[Block]:
    """Every cell with text to show, a merged range as one block."""
    merged = {(m.min_row, m.min_col): m for m in sheet.merged_cells.ranges}
    spanned = {(r, c) for m in sheet.merged_cells.ranges for r in range(m.min_row, m.max_row + 1)
               for c in range(m.min_col, m.max_col + 1)} - set(merged)
    blocks = []
    for row in sheet.iter_rows(max_col=max_column):
        for cell in row:
            if cell.value is None or (cell.row, cell.column) in spanned or cell.data_type != "s":
                continue  # a number or formula shows on one line (Excel never wraps a number)
            area = merged.get((cell.row, cell.column))
            rows, columns = ((area.min_row, area.max_row), (area.min_col, area.max_col)) if area else (
                (cell.row, cell.row), (cell.column, cell.column))
            blocks.append(Block(str(cell.value), rows, columns, (cell.font.sz or BODY_SIZE) if cell.font else BODY_SIZE))
    return blocks


def row_heights(blocks: list[Block], widths: dict[int, float], rows: set[int] | None = None) -> dict[int, float]:
    """Each row's height (pt) for its blocks' wrapped text at column ``widths`` (Excel units); a
    merged block's text is shared out over the rows it spans, after the single-row cells. Every
    row a block covers has a height (``rows``: those rows, when the caller knows them)."""
    need: dict[int, float] = {}
    spanning = []
    spans: dict[tuple[int, int], float] = {}  # a few distinct spans, many blocks
    for block in blocks:
        first, last = block.columns
        if block.columns not in spans:
            spans[block.columns] = round(sum(widths.get(c, 8.43) for c in range(first, last + 1)) * UNIT_POINTS
                                         + (last - first + 1) * COLUMN_PADDING, 2)
        points = spans[block.columns]
        height = lines_in(block.text, points, block.size) * POINTS_PER_LINE * block.size / BODY_SIZE + ROW_PADDING
        top, bottom = block.rows
        if bottom > top:
            spanning.append((top, bottom, height))
        elif height > need.get(top, MIN_ROW_POINTS):
            need[top] = height
    for first, last, height in spanning:
        short = height - sum(need.get(r, MIN_ROW_POINTS) for r in range(first, last + 1))
        if short > 0:
            for r in range(first, last + 1):
                need[r] = need.get(r, MIN_ROW_POINTS) + short / (last - first + 1)
    if rows is None:
        rows = {r for b in blocks for r in range(b.rows[0], b.rows[1] + 1)}
    return {r: need.get(r, MIN_ROW_POINTS) for r in rows | need.keys()}


def _widths(sheet: Worksheet) -> dict[int, float]:
    return {c: sheet.column_dimensions[get_column_letter(c)].width or 8.43 for c in range(1, sheet.max_column + 1)}


def fit_row_heights(sheet: Worksheet) -> None:
    """Rows tall enough for their wrapped text, as LibreOffice and Excel print it (openpyxl leaves
    heights unset, and LibreOffice does not grow a row with merged cells: the text overlaps)."""
    for r, points in row_heights(text_blocks(sheet), _widths(sheet)).items():
        sheet.row_dimensions[r].height = round(points, 1)


def fit_columns(sheet: Worksheet, least: list[float], flexible: list[int], step: float = 0.5) -> None:
    """Column widths (Excel units) that fill the A4 text width: each at least ``least``, the room
    left shared among the ``flexible`` columns (1-based) so that the sheet is as short as it can
    be: long texts get the width, and the form the fewest lines.

    Widths go, a few steps at a time, where they save most height per unit; then a step moves
    from one column to another while that still saves height (a line is saved only once a
    column has grown enough, so single steps alone would stall)."""
    columns = len(least)
    room = (printable_points()[0] - columns * COLUMN_PADDING) / UNIT_POINTS - 0.5  # half a unit for rounding
    widths = dict(enumerate(least, 1))
    blocks = text_blocks(sheet, columns)
    rows = {r for b in blocks for r in range(b.rows[0], b.rows[1] + 1)}

    def height(trial: dict[int, float]) -> float:
        return sum(row_heights(blocks, trial, rows).values())

    current = height(widths)
    while (spare := int((room - sum(widths.values())) / step)) > 0:
        # a few steps ahead: a line is saved only once a column has grown by a character or so
        gains = [((current - height({**widths, c: widths[c] + n * step})) / n, n, c)
                 for c in flexible for n in range(1, min(spare, LOOK_AHEAD) + 1)]
        gain, n, column = max(gains, key=lambda g: (g[0], -g[1]))
        if gain <= 0:  # no width saves a line: share the rest evenly
            for i in range(spare):
                widths[flexible[i % len(flexible)]] += step
            break
        widths[column] += n * step
        current = height(widths)
    for _ in range(200):  # bounded: each move saves height
        moves = [(height({**widths, a: widths[a] - k * step, b: widths[b] + k * step}), a, b, k)
                 for a in flexible for b in flexible if a != b for k in range(1, LOOK_AHEAD + 1)
                 if widths[a] - k * step >= least[a - 1]]
        best = min(moves, default=None)
        if best is None or best[0] >= current:
            break
        current, a, b, k = best
        widths[a], widths[b] = widths[a] - k * step, widths[b] + k * step
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = width


def print_setup(sheet: Worksheet, title_rows: tuple[int, int] | None = None, landscape: bool = False) -> None:
    """A4, fitted to the page's width (as many pages down as it takes), 1 cm margins (0.8 cm top and bottom), centred,
    the heading rows repeated on each page."""
    _page(sheet, landscape)
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows and title_rows[0]:
        sheet.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"


def _page(sheet: Worksheet, landscape: bool = False) -> None:
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_margins.left = sheet.page_margins.right = MARGIN_INCHES
    sheet.page_margins.top = sheet.page_margins.bottom = TOP_INCHES
    sheet.page_margins.header = sheet.page_margins.footer = HEADER_INCHES
    sheet.print_options.horizontalCentered = True


@dataclass(frozen=True)
class FormPrint:
    """How a form sheet prints: at ``scale`` percent, on ``pages`` pages (estimated)."""

    scale: int
    pages: int
    height: float  # the print area's height at 100 %, in points


def print_form(sheet: Worksheet, columns: int, last_row: int, title_rows: tuple[int, int] | None) -> FormPrint:
    """The form on one A4 page at the largest scale that fits it, when that keeps every glyph at
    ``SMALLEST_GLYPH`` or more; else at that smallest scale over several pages, the indicator
    heading repeated. The scale is set outright (not "fit to page"), so that Excel and LibreOffice
    print alike."""
    width = sum(column_points(sheet.column_dimensions[get_column_letter(c)].width or 8.43)
                for c in range(1, columns + 1))
    height = sum(sheet.row_dimensions[r].height or MIN_ROW_POINTS for r in range(1, last_row + 1))
    room_width, room_height = printable_points()
    smallest_font = min(((c.font.sz or BODY_SIZE) if c.font else BODY_SIZE)
                        for row in sheet.iter_rows(max_row=last_row, max_col=columns) for c in row if c.value is not None)
    floor = math.ceil(SMALLEST_GLYPH / smallest_font * 100)
    fits = math.floor(min(room_width / width, room_height / height, 1) * 100)
    scale = max(fits, floor)
    _page(sheet)
    sheet.sheet_properties.pageSetUpPr.fitToPage = False
    sheet.page_setup.scale = scale
    if title_rows and title_rows[0]:
        sheet.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    return FormPrint(scale, max(1, math.ceil(height * scale / 100 / room_height)), height)
