"""How a table cell's text breaks into lines in the PDF: the columns' widths from their content, the
lines of a short text that Typst would end on one character alone, and a label's lines, broken
between its terms with its bracketed score or unit whole on a line of its own; and from those,
how tall a table's rows are and which of them may break across pages.

Reckoned in ems of the cell's size: a Chinese character (and a full-width sign) is one, a Latin
letter or a digit half of one, which is how the 公文 faces set them.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evaltools.document.parts import Cell, Row, Span, Table, grid, plain_text
from evaltools.document.line_breaks import LONE, LONG_RUN, ems_of, greedy, term_lines, unbroken

# A cell that is a figure: an amount or a rate (2019年, 1.人员经费 are labels).
_FIGURE = re.compile(r"\s*[-−+±≥≤<>]?\s*\d[\d,，.]*\s*(?:%|％|‰|元|万元|亿元|万|亿)?\s*")
BODY_WIDTH, FORM_WIDTH = 156 * 72 / 25.4, 180 * 72 / 25.4  # the 版心 and the form page's, in points
PAGE_HEIGHT = 225 * 72 / 25.4  # the 版心's
_INSET = 1.2 * 72 / 25.4 * 2
# What a run that may not break is given beyond its reckoned width (a face's own widths differ a little).
_SPARE = 0.08


def is_figure(text: str) -> bool:
    """Whether a cell's text is a figure (12,345.67, 95%, 1,234.56万元), not a label."""
    return _FIGURE.fullmatch(text) is not None


def least_width(cell_: Cell, size: float) -> float:
    """The narrowest a cell can be without a character or a number pushed out of it, in points."""
    return _widest(cell_) * size * (1 + _SPARE) + _INSET


def _widest(cell_: Cell) -> float:
    """A cell's widest run that may not break, in ems (a run longer than RUN breaks anywhere: a
    character of it is its narrowest)."""
    return _widest_run(plain_text(cell_.content))


@functools.lru_cache(maxsize=8192)  # a table's columns and the size it is set in read each cell's
def _widest_run(text: str) -> float:
    return max((ems_of(m.group()) for m in unbroken(text).finditer(LONG_RUN.sub("W", text))), default=0)


# The smallest size a table is set in to hold its numbers on its page (小六).
SMALLEST = 6.5


# The ems a column of text keeps beside columns of long numbers, where the table is set smaller
# to hold them: at the numbers' least, 机构名称 went a character a line.
TEXT_EMS = 3


def column_ems(part: Table, text: float = TEXT_EMS) -> list[float]:
    """Each column's least width in ems: its widest run that may not break (a number with its
    unit), and for a column of text ``text`` ems (a few characters) a line."""
    placed, columns = grid(part.head + part.rows)
    ems = [0.0] * max(part.columns, columns)  # (a row's cells pushed on by a merged cell above it count)
    for _, column, cell_ in placed:
        if cell_.colspan == 1:
            longest = max((ems_of(line) for line in plain_text(cell_.content).splitlines()), default=0.0)
            ems[column] = max(ems[column], _widest(cell_), min(longest, text))
    return ems


def holds(ems: Sequence[float], size: float, width: float, spare: float = _SPARE) -> bool:
    """Whether columns of ``ems`` (:func:`column_ems`) are held in ``width`` points at ``size``,
    with ``spare`` of each column's width to spare."""
    return sum(ems) * size * (1 + spare) + len(ems) * _INSET <= width


def fitting_size(part: Table, size: float, width: float, ems: Sequence[float] | None = None) -> float:
    """The size at which every column of the table holds its widest run that may not break (a
    number with its unit), and a column of text a few characters a line, in ``width`` points:
    ``size`` where they fit, else smaller, down to :data:`SMALLEST` (twelve columns of 12,345.67
    set over each other at the cells' size). ``ems``: its :func:`column_ems`, where known."""
    ems = column_ems(part) if ems is None else ems
    if holds(ems, size, width):
        return size
    return max(SMALLEST, (width - len(ems) * _INSET) / (sum(ems) * (1 + _SPARE)))


def tall(text: str, width: float, size: float) -> bool:
    """Whether a text set in ``width`` points of ``size`` takes more than a fifth of a page: its
    row may break (kept whole, it would leave a hole, or run off the page's foot)."""
    return height(text, width, size) > 0.2 * PAGE_HEIGHT


def height(text: str, width: float, size: float) -> float:
    """About how tall a text is set in ``width`` points of ``size`` (a line and a half a line)."""
    per_line = max(width / size, 1.0)
    lines = sum(max(1, math.ceil(ems_of(line) / per_line)) for line in text.splitlines() or [""])
    return lines * size * 1.5


def _texts(cells: Sequence[Cell]) -> list[str]:
    """The texts Typst breaks into lines (a heading set in its own lines is not one)."""
    return [plain_text(c.content) for c in cells if not any(isinstance(x, Span) and x.style == "line" for x in c.content)]


def runt_free(cells: Sequence[Cell], size: float, width: float) -> float:
    """The width at which no short cell of a column ends on one character alone, even set in
    even lines (:func:`even_lines`): up to two characters a line more, the fewest that leave
    none; 0 where the column's width leaves none, or no width up to that would."""
    texts = _texts(cells)
    per_line = int((width - _INSET) / (size * 1.02))
    if not any(lone_left(t, width - _INSET, size) for t in texts):
        return 0.0
    wider = next((k for k in (max(per_line + 1, 2), max(per_line + 2, 3))
                  if not any(lone_left(t, k * size * 1.02, size) for t in texts)), None)
    return wider * size * 1.08 + _INSET if wider else 0.0


def _spread(widths: Sequence[float], need: Sequence[float]) -> list[float]:
    """Each column as wide as it needs, the room taken from the columns with most to spare; where
    there is not room for all, the columns short of most go without (a long Latin word breaks
    anyway), so that the others (a number with its unit) still get theirs."""
    need = list(need)
    while True:
        short = sum(max(0.0, n - w) for n, w in zip(need, widths, strict=True))
        spare = [max(0.0, w - n) for n, w in zip(need, widths, strict=True)]
        if short <= sum(spare):
            break
        worst = max(range(len(need)), key=lambda i: need[i] - widths[i])
        need[worst] = widths[worst]
    if short <= 0:
        return list(widths)
    return [max(w, n) if n > w else w - s / sum(spare) * short for w, n, s in zip(widths, need, spare, strict=True)]


def column_widths(part: Table, size: float, width: float) -> list[float]:
    """The table's widths (its percentages), widened where a one-column cell would not hold its
    widest unbreakable run (a number split from its unit, text over the rule) or would leave a
    character alone on its last line, the room taken from the columns with most to spare, but
    from none it would leave a character alone in."""
    total = sum(part.widths)
    widths = [w / total * width for w in part.widths]
    placed, _ = grid(part.head + part.rows)
    need = [0.0] * len(widths)
    single: list[list[Cell]] = [[] for _ in widths]
    for _, column, cell_ in placed:
        if cell_.colspan == 1 and column < len(need):
            need[column] = max(need[column], least_width(cell_, size))
            single[column].append(cell_)
    least = list(need)
    need = [max(n, runt_free(cells, size, w)) for n, cells, w in zip(need, single, widths, strict=True)]
    texts = [_texts(cells) for cells in single]
    spread = list(widths)
    for _ in range(len(widths)):
        tried = _spread(widths, need)
        narrowed = [i for i, (new, old) in enumerate(zip(tried, widths, strict=True))
                    if new < old and any(lone_left(t, new - _INSET, size) for t in texts[i])]
        if not narrowed:
            spread = tried
            break
        for i in narrowed:
            need[i] = widths[i]
    # Where no widths leave both no character alone and every number whole, the numbers whole:
    # a character alone on a line is read, numbers set over each other are not (a department's
    # 11-digit sums, which the text columns gave no room to)
    if sum(least) <= width and any(w < n - 0.01 for w, n in zip(spread, least, strict=True)):
        return _spread(widths, least)
    return spread


def _least_lines(ems: float, header: bool) -> float:
    """The ems a line of a table's cell keeps where the table is shared out: a label of the
    header whole up to four characters (二级指标), else in two even lines (年度指/标值), other
    text three characters, the fewest that set any text in lines of two or more (a column
    squeezed beside long names went a character a line, 项/目/数; at two, 二级/机构/甲), as
    :func:`fitting_size` reckons (:data:`TEXT_EMS`)."""
    if header and ems <= 8:
        return ems if ems <= 4.5 else math.ceil(ems / 2)
    return min(ems, TEXT_EMS)


def content_tracks(part: Table, size: float, width: float) -> list[str]:
    """The columns of a table that gives no widths: as wide as their content where it fits (the
    table as narrow as it), else shares of the width it is set in."""
    return tracks_of(content_widths(part, size, width), width)


def tracks_of(widths: Sequence[float], width: float) -> list[str]:
    """Columns of ``widths`` points: as they are where they fit in ``width``, else shares of it."""
    return [f"{w:.2f}pt" for w in widths] if sum(widths) < width else [f"{w:.2f}fr" for w in widths]


def content_widths(part: Table, size: float, width: float) -> list[float]:
    """Widths for a table that gives none, reckoned from its cells as a browser lays out an
    automatic table: each column as wide as its longest line where all fit in ``width``, else
    its widest unbreakable run and a share of the rest by what its lines would take more. Typst
    would measure every cell of a long table for its automatic columns (a year's 330 rows: a
    third of the overview's PDF)."""
    placed, _ = grid(part.head + part.rows)
    columns = part.columns or 1
    least, most, tight = [_INSET] * columns, [_INSET] * columns, [_INSET] * columns
    for _, column, cell_ in placed:
        if cell_.colspan == 1 and column < columns:
            text_ = plain_text(cell_.content)
            longest = max((ems_of(line) for line in text_.splitlines()), default=0.0)
            lines = _least_lines(longest, cell_.header) * size * 1.1 + _INSET
            least[column] = max(least[column], least_width(cell_, size), lines)
            tight[column] = max(tight[column], _widest(cell_) * size + _INSET, lines)
            most[column] = max(most[column], longest * size * 1.1 + _INSET)
    most = [max(a, b) for a, b in zip(least, most, strict=True)]
    if sum(most) <= width:
        return most
    if sum(least) >= width:
        # the numbers' spare given up before a column of text its few characters a line (at 小六,
        # eight columns of 12,345.67万元 left their names a character a line)
        if sum(tight) < width:
            share = (width - sum(tight)) / (sum(least) - sum(tight))
            return [a + (b - a) * share for a, b in zip(tight, least, strict=True)]
        return [w / sum(least) * width for w in least]
    share = (width - sum(least)) / (sum(most) - sum(least))
    return [a + (b - a) * share for a, b in zip(least, most, strict=True)]


# --- lines without a lone character ---------------------------------------------------------------

# The most a cell's characters are drawn together to take one more a line (a 9 pt label: 0.9 pt).
_TIGHTEST = -0.1


def _balanced(runs: Sequence[str], widths: Sequence[float], capacity: float, count: int) -> list[int] | None:
    """``count`` lines of at most ``capacity`` ems, none a lone character, as even as they go: the
    fewest ems on the longest line (None where no such lines are)."""
    n = len(runs)
    best: dict[tuple[int, int], tuple[float, list[int]] | None] = {}

    def fill(start: int, lines: int) -> tuple[float, list[int]] | None:
        if (start, lines) in best:
            return best[start, lines]
        found = None
        if lines == 1:
            width = sum(widths[start:])
            alone = n - start == 1 and LONE.fullmatch(runs[start]) is not None
            found = (width, [n - start]) if width <= capacity and not alone and start < n else None
        else:
            for end in range(start + 1, n - lines + 2):
                width = sum(widths[start:end])
                if width > capacity:
                    break
                if end - start == 1 and LONE.fullmatch(runs[start]):
                    continue
                rest = fill(end, lines - 1)
                if rest and (found is None or max(width, rest[0]) <= found[0]):  # the longer line first
                    found = (max(width, rest[0]), [end - start, *rest[1]])
        best[start, lines] = found
        return found

    result = fill(0, count)
    return result[1] if result else None


def lone_left(text: str, width: float, size: float) -> bool:
    """Whether a cell's text ends on one character alone in ``width`` points, set as Typst sets it
    and in even lines alike (long text, of more than 12 lines, is the paragraph's to break)."""
    room = width / size  # in ems: Latin runs are fractions of one (湘西州第10部门: 7.12)
    capacity = math.floor(room + 1e-6)
    if not room + 1e-6 < ems_of(text) <= 12 * max(capacity, 1):
        return False
    runs = [m.group() for m in unbroken(text).finditer(text.strip())]
    lines = greedy([ems_of(r) for r in runs], room)
    alone = 1 < len(lines) <= 12 and lines[-1] == 1 and LONE.fullmatch(runs[-1]) is not None
    return alone and even_lines(text, width, size) is None


@functools.lru_cache(maxsize=8192)  # a year's table sets the same names and numbers in its rows
def even_lines(text: str, width: float, size: float) -> tuple[list[str], float] | None:
    """The lines to set a short cell's ``text`` in, and the tracking (pt, never positive) they
    need, where Typst would leave its last character alone on a line in ``width`` points of
    ``size`` (「服务对象满意度指标」 two a line: 「标」 alone): the same count of lines, evenly
    filled (9 characters four a line: 3, 3, 3); else a character more a line, drawn at most a
    tenth of an em closer (9 characters two a line: 3, 3, 3). None where no lone character is
    left, or neither way avoids one."""
    room = width / size  # in ems: Latin runs are fractions of one, and a line of 7.12 fits in 7.8
    capacity = math.floor(room + 1e-6)
    if not room + 1e-6 < ems_of(text) <= 12 * max(capacity, 1):  # on one line, or long text: the paragraph's
        return None
    runs = [m.group() for m in unbroken(text).finditer(text.strip())]
    widths = [ems_of(r) for r in runs]
    natural = greedy(widths, room)
    if len(runs) < 2 or capacity < 2 or len(natural) > 12 or natural[-1] != 1 or not LONE.fullmatch(runs[-1]):
        return None
    for wider in (capacity, capacity + 1):
        # Typst draws a line's characters closer by the tracking between them (a line's last keeps
        # its width); a fifth of a point to spare
        tracking = min(0.0, (width - 0.2 - wider * size) / max(wider - 1, 1))
        if tracking < _TIGHTEST * size:
            return None
        lines = _balanced(runs, widths, wider, math.ceil(sum(widths) / wider))
        lines = lines or _balanced(runs, widths, wider, len(greedy(widths, wider)))
        if lines:
            starts = [sum(lines[:i]) for i in range(len(lines))]
            return ["".join(runs[a:a + k]) for a, k in zip(starts, lines, strict=True)], tracking if wider > capacity else 0.0
    return None


# --- labels: a reader's breaks ------------------------------------------------------------------

# A label ending on a bracketed score or unit: 「满意度指标（10分）」, 「项目资金（万元）」.
_BRACKETED = re.compile(r"(?P<name>.*[^\s（])(?P<group>（[^（）]{1,8}）)")
# The most characters a label breaks by terms (longer text is the paragraph's, or even_lines').
_LABEL_RUNS = 16


@functools.lru_cache(maxsize=4096)  # a batch sets the same labels in every report
def label_lines(text: str, width: float, size: float, most: int = 0) -> tuple[list[str], float] | None:
    """The lines to set a short label in, where it takes more than one line in ``width`` points of
    ``size``, and the tracking (pt, never positive) they need: broken as a reader would, between
    terms and evenly (「服务对象/满意度/指标」, not 「服务对象满/意度指标」), never leaving a
    character alone; a bracketed score or unit ending it (「（10分）」, 「（万元）」) on a line of
    its own, whole (「满意度/指标/（10分）」, never 「满意度指/标（10分）」). Where that needs it,
    a character more a line, drawn at most a tenth of an em closer. None for a label that fits on
    one line, a longer text, or one no such lines hold. ``most``: the lines its row holds anyway
    (more lines than Typst would set, to break between terms, where they cost no height)."""
    text = text.strip()
    capacity = math.floor(width / size + 1e-6)
    if len(text) > 2 * _LABEL_RUNS or capacity < 2 or ems_of(text) <= max(capacity, (width - 0.2) / size) or "\n" in text:
        return None
    bracketed = _BRACKETED.fullmatch(text)
    name, group = (bracketed["name"], bracketed["group"]) if bracketed else (text, "")
    runs = [m.group() for m in unbroken(name).finditer(name)]
    if len(runs) > _LABEL_RUNS or "".join(runs) != name:
        return None
    for wider in (capacity, capacity + 1):
        tracking = min(0.0, (width - 0.2 - wider * size) / max(wider - 1, 1))
        room = max(wider, (width - 0.2) / size)  # in ems: Latin and digits are less than one
        if tracking < _TIGHTEST * size or ems_of(group) > room:
            return None
        lines = [name] if ems_of(name) <= room else term_lines(runs, room, most - bool(group))
        if lines:
            return lines + ([group] if group else []), tracking if wider > capacity else 0.0
    return None


# --- rows: how tall, and which may break -------------------------------------------------------------

CELL_INSET_Y = 1 * 72 / 25.4  # a cell's inset above and below, at the most (points)


@dataclass(frozen=True)
class RowLayout:
    """What the writer knows of a table's rows: which may break across pages (a narrative), and
    whether its last row is kept with the one before (a total never alone on a page)."""

    number: int
    breaking: list[bool]
    keep_last: bool

    def repeats(self, part: Table, rooms: Mapping[int, tuple[float, float]], r: int, c: Cell) -> bool:
        """Whether a cell is set again where its rows run onto a new page: a short one (a label, not
        a number, however it is aligned) beside a narrative that breaks."""
        return (any(self.breaking[r:r + c.rowspan]) and not tall_cell(c, rooms) and "num" not in (c.style or "").split()
                and not is_figure(plain_text(c.content)))


def tallest_rows(placed: Sequence[tuple[int, int, Cell]], rooms: Mapping[int, tuple[float, float]]) -> dict[int, float]:
    """Each row's tallest one-row cell, about (see typst_lines.height), in points."""
    tallest: dict[int, float] = {}
    for r, _, c in placed:
        if c.rowspan == 1:
            width, size = rooms.get(id(c), (BODY_WIDTH / 4, 10.0))
            content = plain_text(c.content)
            labelled = label_lines(content, width, size) if rooms and "num" not in (c.style or "").split() else None
            high = len(labelled[0]) * size * 1.5 if labelled else height(content, width, size)
            tallest[r] = max(tallest.get(r, 0.0), high + 2 * CELL_INSET_Y)
    return tallest


def lines_held(tallest: Mapping[int, float], r: int, c: Cell, rooms: Mapping[int, tuple[float, float]]) -> int:
    """The lines a cell's rows hold anyway (where a label may take one more to break between terms)."""
    size = rooms.get(id(c), (0.0, 10.0))[1]
    return int((sum(tallest.get(y, 0.0) for y in range(r, r + c.rowspan)) - 2 * CELL_INSET_Y) / (size * 1.5) + 1e-6)


def tall_cell(c: Cell, rooms: Mapping[int, tuple[float, float]]) -> bool:
    """A narrative, or a cell that, set in its width, would take more than a fifth of a page."""
    width, size = rooms.get(id(c), (BODY_WIDTH / 4, 10.0))  # a table of no widths: a quarter of the 版心
    return "text" in (c.style or "").split() or tall(plain_text(c.content), width, size)


def row_breaks(row: Row, rooms: Mapping[int, tuple[float, float]]) -> bool:
    """Whether a row may break across pages: it holds a tall cell (kept whole, it would leave a
    hole, or run off the page); a row of short cells stays on one page."""
    return any(tall_cell(c, rooms) for c in row.cells)


def cell_rooms(part: Table, widths: Sequence[float], size: float, inset: float) -> dict[int, tuple[float, float]]:
    """Each cell's text width and size in points (by the cell's ``id``), the table's widths given."""
    placed, _ = grid(part.head + part.rows)
    return {id(c): (sum(widths[x:x + c.colspan]) - 2 * inset, size) for _, x, c in placed}
