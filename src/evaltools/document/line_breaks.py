"""Where a line of Chinese text may break, for every format: the runs that must stay whole (a
number with its unit, a document's number, a Latin word, a character with the punctuation after
it), how wide each is set, and the lines a short label breaks into between the words it is made
of (「公共资源交易/平台运行维护费」, never 「公共资源交易平/台运行维护费」).

Reckoned in ems of the text's size: a Chinese character (and a full-width sign) is one, a Latin
letter or a digit about half of one, as the 公文 faces set them. The PDF's tables (see
:mod:`evaltools.writers.typst_lines`) and the charts' labels break by these rules.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

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


def unbroken(text: str) -> re.Pattern[str]:
    """What cannot be broken in ``text``, as much of it as ``text`` may hold (see :func:`glued_pattern`)."""
    return _UNBROKEN[glued_pattern(text)]



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


def ems_of(text: str) -> float:
    """How wide a text is set, in ems of its size (Latin letters and digits as the widest face sets them)."""
    return sum(map(_em, text))


@functools.cache
def _em(character: str) -> float:
    return _LATIN.get(character) or (0.5 if _HALF.match(character) else 1.0)


# A Chinese character (with the punctuation after it) that a line must not hold alone.
LONE = re.compile(rf"[\u3400-\u9fff\uf900-\ufaff][{CLOSING}]*")


def greedy(widths: Sequence[float], capacity: float) -> list[int]:
    """How many runs each line takes, filled as Typst fills them."""
    lines, used = [0], 0.0
    for w in widths:
        if lines[-1] and used + w > capacity:
            lines.append(0)
            used = 0.0
        lines[-1] += 1
        used += w
    return lines


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
    widths = [ems_of(r) for r in runs]
    if not runs or max(widths) > capacity:
        return None
    inside = _inside_terms("".join(runs))
    offsets = list(itertools.accumulate(len(r) for r in runs))
    fewest = math.ceil(sum(widths) / capacity - 1e-9)
    best: tuple[tuple[Any, ...], list[int]] | None = None
    natural = len(greedy(widths, capacity))
    for count in range(fewest, max(natural, min(most, natural + 1, len(runs))) + 1):  # at most one line more
        if math.comb(len(runs) - 1, count - 1) > _MOST_SPLITS:
            break  # a label of many short lines: even_lines' to set
        for split in _splits(count, len(runs)):
            starts = list(itertools.accumulate((0, *split)))[:-1]
            line_widths = [sum(widths[a:a + k]) for a, k in zip(starts, split, strict=True)]
            if max(line_widths) > capacity or any(
                    k == 1 and LONE.fullmatch(runs[a]) for a, k in zip(starts, split, strict=True)):
                continue
            cost = (sum(offsets[a - 1] in inside for a in starts[1:]), count, max(line_widths),
                    tuple(-w for w in line_widths))
            if best is None or cost < best[0]:
                best = (cost, list(split))
    if best is None:
        return None
    starts = list(itertools.accumulate((0, *best[1])))[:-1]
    return ["".join(runs[a:a + k]) for a, k in zip(starts, best[1], strict=True)]


