"""How a table cell's text breaks into lines in the PDF: the columns' widths from their content, the
lines of a short text that Typst would end on one character alone, and a label's lines, broken
between its terms with its bracketed score or unit whole on a line of its own.

Reckoned in ems of the cell's size: a Chinese character (and a full-width sign) is one, a Latin
letter or a digit half of one, which is how the 公文 faces set them.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

from evaltools.document.parts import Cell, Span, Table, grid, plain_text
from evaltools.domain.targets import NUMBER_BEGINS as _BEGINS

# A number with its unit, and a short bracketed unit, set as one unbreakable box: 106.62万元,
# 100%, 2024年度, ≥95%, ≥95, 1.2万平方米, 2.5个百分点, 5118单, 1.2万元/年, 95kW, 95%以上,
# 12月31日前, （万元） (its brackets outside the box: they never start or end a line anyway). A
# unit may follow 万 or 亿, and the longest unit is taken (平方米, not 平方; 个百分点, not 个).
_UNITS = "|".join(sorted([
    "%", "％", "‰", "元", "个", "项", "人次", "人天", "人日", "人", "次", "家", "天", "日", "个工作日", "工作日", "个月", "月",
    "年度", "年", "分", "号", "台", "套", "件", "户", "条", "平方米", "平方公里", "平方千米", "立方米", "㎡", "千米", "公里",
    "米", "公顷", "亩", "吨", "千克", "公斤", "千瓦时", "千瓦", "小时", "期", "批", "份", "篇", "场", "倍", "周", "名", "所",
    "座", "辆", "笔", "宗", "类", "处", "个百分点", "百分点", "单", "册", "本", "张", "块", "株", "棵", "头", "只", "间",
    "栋", "层", "段", "根", "盏", "部", "节", "课时", "学时", "例", "床", "位", "秒", "分钟", "季度", "届", "轮", "组",
    "支", "口", "眼", "升", "毫升", "兆瓦", "度", "户次", "车次", "架次", "台次", "件次", "批次", "场次", "班次",
    "美元", "港元", "欧元", "日元", "英镑"], key=len, reverse=True))
# A unit: a Chinese one (after a multiple, 千 万 亿 百万 …, or per another: 元/平方米, 次/年), a
# multiple alone, or a Latin one (kW, GB, km/h: at most five letters, not the start of a longer
# word); 余 or 多 before or after the multiple (200余个, 100多万元, 3.5万余元); then a word that ends
# the figure (以上, 左右, 前, 底 …), which would be left alone on a line.
_TIMES = "(?:[余多]?[十百千万亿]{1,3}[余多]?|[余多])"
_UNIT = (rf"(?:{_TIMES}?(?:{_UNITS})(?:/{_TIMES}?(?:{_UNITS}))?|{_TIMES}|[A-Za-z]{{1,5}}(?:/[A-Za-z]{{1,3}})?(?![A-Za-z]))"
         r"(?:以[上下内前后]|左右|[前底末内初])?")
# Numbers of at most 30 digits and separators, begun where a number begins: a run of ten thousand
# digits is matched in one pass, not tried from each of its digits to its end. A sign keeps its
# number whether or not a unit follows (≥95), and so does a plus or minus where it is no hyphen
# (-3.5%, not the one of 2023-2024 or A-3).
# (the lookahead first: most characters begin nothing, and are passed over five times sooner)
_SIGN = r"(?:[≥≤＞＜><±]|(?<![A-Za-z0-9.,，%‰）)])[+\-−＋－])"
# A document's number is never broken between its year and its number (国办函〔2019〕/41号); its
# issuer's short name may end the line before (glued too, a line before it ended up to nine
# characters short).
_DOCUMENT_NUMBER = r"[〔［【\[]\d{4}[〕］】\]]\d{1,6}号"
_NUMBERS = (rf"(?=[\d≥≤＞＜><±（+\-−＋－])(?:{_SIGN}\s?{_BEGINS}\d[\d,，.]{{0,30}}(?:\s?{_UNIT})?"
            rf"|{_BEGINS}\d[\d,，.]{{0,30}}\s?{_UNIT}"
            rf"|（[^（）\s]{{1,4}}）|{_BEGINS}\d{{1,20}}(?:\.\d{{1,20}})?[～~-]\d{{1,20}}(?:\.\d{{1,20}})?)")
GLUED = re.compile(rf"{_NUMBERS}|{_DOCUMENT_NUMBER}")
# …without documents' numbers, for a text with no bracket they begin with (most: a tenth of the
# time a table's cells take, where every character would be looked at for a number's issuer)
_GLUED_NUMBERS = re.compile(_NUMBERS)
_BRACKETS = frozenset("〔［【[")


def glued_pattern(text: str) -> re.Pattern[str]:
    """:data:`GLUED`, or as much of it as ``text`` may hold."""
    return GLUED if not _BRACKETS.isdisjoint(text) else _GLUED_NUMBERS
# The longest run of Latin letters, digits and signs set without a place to break: a longer one
# (an address, a key) is set a box a character by the template's `breaking`, and breaks anywhere.
RUN = 30
LONG_RUN = re.compile(rf"[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]{{{RUN + 1},}}")
# Punctuation that may not start a line: it stays with what it follows.
CLOSING = "，。、；：！？）》”’」』〕】…"
# What cannot be broken in a cell: a glued number and unit, a Latin word (of at most RUN letters:
# a longer one is given places to break, see LONG_RUN), or a Chinese character, each with the
# punctuation after it.
_UNBROKEN = {glued: re.compile(rf"(?:（?(?:{glued.pattern})）?|[A-Za-z0-9.,%‰/:·_@-]{{1,{RUN}}}|.)[{CLOSING}]*")
             for glued in (GLUED, _GLUED_NUMBERS)}


def _unbroken(text: str) -> re.Pattern[str]:
    """What cannot be broken in ``text``, as much of it as ``text`` may hold (see :func:`glued_pattern`)."""
    return _UNBROKEN[glued_pattern(text)]


# A cell that is a figure: an amount or a rate (2019年, 1.人员经费 are labels).
_FIGURE = re.compile(r"\s*[-−+±≥≤<>]?\s*\d[\d,，.]*\s*(?:%|％|‰|元|万元|亿元|万|亿)?\s*")
BODY_WIDTH, FORM_WIDTH = 156 * 72 / 25.4, 180 * 72 / 25.4  # the 版心 and the form page's, in points
PAGE_HEIGHT = 225 * 72 / 25.4  # the 版心's
_INSET = 1.2 * 72 / 25.4 * 2
# What a run that may not break is given beyond its reckoned width (a face's own widths differ a little).
_SPARE = 0.08


# Half-width characters (Unicode's Na and H: Latin, digits, half-width forms), half an em each.
_HALF = re.compile("[\u0020-\u007e\u00a2-\u00a3\u00a5-\u00a6\u00ac\u00af\u20a9\u27e6-\u27ed\u2985-\u2986"
                   "\uff61-\uffbe\uffc2-\uffc7\uffca-\uffcf\uffd2-\uffd7\uffda-\uffdc\uffe8-\uffee]")


# Latin letters, digits and signs as wide as the widest of the faces a PDF is set in sets them (Noto
# Serif CJK's, to a hundredth of an em: digits 0.56, not the half an em of 仿宋_GB2312), so that a run
# reckoned to fit a cell does (「2024年12月31日前」 is 8.2 ems, not 8: at 8 a line, 「前」 went
# alone; 「ISO/IEC27001」 is 6.6, and ran over the rules of a column 6 ems wide).
_LATIN = {character: width for width, characters in (
    (0.2, "'"), (0.26, " "), (0.31, "!"), (0.32, "j|"), (0.33, ",.:;"), (0.34, "il"), (0.35, "-[]"), (0.36, "/\\"),
    (0.37, "()t"), (0.38, '"{}'), (0.39, "f"), (0.41, "IJ"), (0.44, "?`"), (0.47, "r"), (0.48, "*1s"), (0.5, "z"),
    (0.54, "c"), (0.55, "$7ev"), (0.56, "0234568ay"), (0.57, "9S_gx"), (0.58, "#+<=>^~"), (0.6, "o"), (0.61, "Zkq"),
    (0.63, "FLd"), (0.64, "bp"), (0.65, "P"), (0.66, "ETu"), (0.67, "Bhn"), (0.69, "Y"), (0.7, "CX"), (0.72, "ARV"),
    (0.74, "K"), (0.75, "G"), (0.77, "DOQ"), (0.78, "&"), (0.8, "NU"), (0.84, "w"), (0.86, "H"), (0.92, "@"), (0.93, "%"),
    (0.98, "Mm"), (1.06, "W")) for character in characters}


def _ems(run: str) -> float:
    return sum(map(_em, run))


def text_ems(text: str) -> float:
    """How wide a text is set, in ems of its size (Latin letters and digits as the widest face sets them)."""
    return _ems(text)


@functools.cache
def _em(character: str) -> float:
    return _LATIN.get(character) or (0.5 if _HALF.match(character) else 1.0)


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
    return max((_ems(m.group()) for m in _unbroken(text).finditer(LONG_RUN.sub("W", text))), default=0)


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
            longest = max((_ems(line) for line in plain_text(cell_.content).splitlines()), default=0.0)
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
    lines = sum(max(1, math.ceil(_ems(line) / per_line)) for line in text.splitlines() or [""])
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
            longest = max((_ems(line) for line in text_.splitlines()), default=0.0)
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

_LONE = re.compile(rf"[\u3400-\u9fff\uf900-\ufaff][{CLOSING}]*")
# The most a cell's characters are drawn together to take one more a line (a 9 pt label: 0.9 pt).
_TIGHTEST = -0.1


def _greedy(widths: Sequence[float], capacity: float) -> list[int]:
    """How many runs each line takes, filled as Typst fills them."""
    lines, used = [0], 0.0
    for w in widths:
        if lines[-1] and used + w > capacity:
            lines.append(0)
            used = 0.0
        lines[-1] += 1
        used += w
    return lines


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
            alone = n - start == 1 and _LONE.fullmatch(runs[start]) is not None
            found = (width, [n - start]) if width <= capacity and not alone and start < n else None
        else:
            for end in range(start + 1, n - lines + 2):
                width = sum(widths[start:end])
                if width > capacity:
                    break
                if end - start == 1 and _LONE.fullmatch(runs[start]):
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
    if not room + 1e-6 < _ems(text) <= 12 * max(capacity, 1):
        return False
    runs = [m.group() for m in _unbroken(text).finditer(text.strip())]
    lines = _greedy([_ems(r) for r in runs], room)
    alone = 1 < len(lines) <= 12 and lines[-1] == 1 and _LONE.fullmatch(runs[-1]) is not None
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
    if not room + 1e-6 < _ems(text) <= 12 * max(capacity, 1):  # on one line, or long text: the paragraph's
        return None
    runs = [m.group() for m in _unbroken(text).finditer(text.strip())]
    widths = [_ems(r) for r in runs]
    natural = _greedy(widths, room)
    if len(runs) < 2 or capacity < 2 or len(natural) > 12 or natural[-1] != 1 or not _LONE.fullmatch(runs[-1]):
        return None
    for wider in (capacity, capacity + 1):
        # Typst draws a line's characters closer by the tracking between them (a line's last keeps
        # its width); a fifth of a point to spare
        tracking = min(0.0, (width - 0.2 - wider * size) / max(wider - 1, 1))
        if tracking < _TIGHTEST * size:
            return None
        lines = _balanced(runs, widths, wider, math.ceil(sum(widths) / wider))
        lines = lines or _balanced(runs, widths, wider, len(_greedy(widths, wider)))
        if lines:
            starts = [sum(lines[:i]) for i in range(len(lines))]
            return ["".join(runs[a:a + k]) for a, k in zip(starts, lines, strict=True)], tracking if wider > capacity else 0.0
    return None


# --- labels: a reader's breaks ------------------------------------------------------------------

# A label ending on a bracketed score or unit: 「满意度指标（10分）」, 「项目资金（万元）」.
_BRACKETED = re.compile(r"(?P<name>.*[^\s（])(?P<group>（[^（）]{1,8}）)")
# The words a form's labels are made of (the rules' 一级/二级 names, the forms' own): a label
# is broken between them where its lines allow it, never inside one.
TERMS = ("服务对象", "社会公众", "可持续", "满意度", "可行性", "规范性", "及时率", "执行率", "到位率", "使用率",
         "指标值", "完成值", "指标", "数量", "质量", "时效", "成本", "经济", "社会", "生态", "环境", "效益",
         "影响", "产出", "满意", "公众", "对象", "服务", "项目", "资金", "预算", "执行", "部门", "整体", "支出",
         "绩效", "评价", "实施", "方案", "政府", "采购", "管理", "使用", "完成", "情况", "目标", "年度", "计划",
         "投资", "分析", "单位", "名称", "主管", "总体", "实际", "偏差", "原因", "改进", "措施", "基本", "收入",
         "结转", "结余", "财政", "拨款", "申请", "其他", "控制", "合计", "总额", "人员", "编制", "联系", "公共",
         "资源", "交易", "平台", "运行", "稳定", "保障", "推进", "建设", "全面", "系统", "安全", "电子",
         "智慧", "维护", "费用", "运营", "信息", "数据", "考核", "按期", "办结", "成立", "通知", "工作",
         "全年", "上年", "本年", "当年", "自评", "累计")
# The most characters a label breaks by terms (longer text is the paragraph's, or even_lines').
_LABEL_RUNS = 16
_MOST_SPLITS = 3500  # the ways of breaking a label tried, at the most (16 characters in 6 lines: 3,003)


def _inside_terms(text: str) -> set[int]:
    """The places (character offsets) where a break would cut one of :data:`TERMS`."""
    cut: set[int] = set()
    for term in TERMS:
        start = text.find(term)
        while start >= 0:
            cut.update(range(start + 1, start + len(term)))
            start = text.find(term, start + 1)
    return cut


def _splits(count: int, n: int) -> Iterator[tuple[int, ...]]:
    """Every way of cutting ``n`` runs into ``count`` lines of at least one run."""
    for cuts in itertools.combinations(range(1, n), count - 1):
        yield tuple(b - a for a, b in zip((0, *cuts), (*cuts, n), strict=True))


def term_lines(runs: Sequence[str], capacity: float, most: int = 0) -> list[str] | None:
    """``runs`` in lines of at most ``capacity`` ems, none of them one character alone: cut inside
    as few terms as they can be, in the fewest lines (one more than Typst would set where the row
    holds ``most`` lines anyway), as even as they go, the longer lines first. None
    where no such lines are."""
    widths = [_ems(r) for r in runs]
    if not runs or max(widths) > capacity:
        return None
    inside = _inside_terms("".join(runs))
    offsets = list(itertools.accumulate(len(r) for r in runs))
    fewest = math.ceil(sum(widths) / capacity - 1e-9)
    best: tuple[tuple[Any, ...], list[int]] | None = None
    natural = len(_greedy(widths, capacity))
    for count in range(fewest, max(natural, min(most, natural + 1, len(runs))) + 1):  # at most one line more
        if math.comb(len(runs) - 1, count - 1) > _MOST_SPLITS:
            break  # a label of many short lines: even_lines' to set
        for split in _splits(count, len(runs)):
            starts = list(itertools.accumulate((0, *split)))[:-1]
            line_widths = [sum(widths[a:a + k]) for a, k in zip(starts, split, strict=True)]
            if max(line_widths) > capacity or any(
                    k == 1 and _LONE.fullmatch(runs[a]) for a, k in zip(starts, split, strict=True)):
                continue
            cost = (sum(offsets[a - 1] in inside for a in starts[1:]), count, max(line_widths),
                    tuple(-w for w in line_widths))
            if best is None or cost < best[0]:
                best = (cost, list(split))
    if best is None:
        return None
    starts = list(itertools.accumulate((0, *best[1])))[:-1]
    return ["".join(runs[a:a + k]) for a, k in zip(starts, best[1], strict=True)]


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
    if len(text) > 2 * _LABEL_RUNS or capacity < 2 or _ems(text) <= max(capacity, (width - 0.2) / size) or "\n" in text:
        return None
    bracketed = _BRACKETED.fullmatch(text)
    name, group = (bracketed["name"], bracketed["group"]) if bracketed else (text, "")
    runs = [m.group() for m in _unbroken(name).finditer(name)]
    if len(runs) > _LABEL_RUNS or "".join(runs) != name:
        return None
    for wider in (capacity, capacity + 1):
        tracking = min(0.0, (width - 0.2 - wider * size) / max(wider - 1, 1))
        room = max(wider, (width - 0.2) / size)  # in ems: Latin and digits are less than one
        if tracking < _TIGHTEST * size or _ems(group) > room:
            return None
        lines = [name] if _ems(name) <= room else term_lines(runs, room, most - bool(group))
        if lines:
            return lines + ([group] if group else []), tracking if wider > capacity else 0.0
    return None
