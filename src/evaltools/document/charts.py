"""Charts a reviewer reads at a glance: where points were lost, and where the money went.

Figures are drawn with matplotlib's object API (no pyplot state, any backend) in a CJK font
registered from the system, and become ``parts.Figure`` (PNG with fixed metadata, so the same
data gives the same bytes). Labels are formatted, and grade bands read, from the rules.

The PNG carries the same chart as SVG (its glyphs as outlines, so Chinese needs no font where
it is shown) in a compressed ``iTXt`` chunk, :data:`SVG_CHUNK`: screens, Word and Excel show
the PNG, the PDF sets the vector (:func:`embedded_svg`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import shutil
import struct
import subprocess
import warnings
import zlib
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from evaltools.domain import formatting
from evaltools.domain.cache import JsonCache
from evaltools.domain.fingerprints import code_fingerprint
from evaltools.domain.model import ProjectParams
from evaltools.document.line_breaks import ems_of, term_lines, unbroken
from evaltools.document.parts import Figure as FigurePart
from evaltools.domain.rules import Rules
from evaltools.domain.scoring import ScoreCard
from evaltools.domain.targets import plain_number

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Where Debian's fonts-noto-cjk puts the faces; fc-match finds others elsewhere.
_KNOWN_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)
FONT_HINT = "未找到中文字体，图表中的中文会显示为方框：请安装 fonts-noto-cjk（apt-get install fonts-noto-cjk）"

BLUE, RED, GREY = "#2f5d8a", "#c0392b", "#d9dde3"


@functools.cache
def _matplotlib():
    """matplotlib, imported at the first chart: charts are options of a report, most draw none,
    and matplotlib is half of what a report's kernel would import."""
    import matplotlib
    import matplotlib.figure
    import matplotlib.font_manager

    return matplotlib


def prepare() -> None:
    """Import matplotlib and register the CJK font now: for a kernel that will draw charts."""
    _matplotlib()
    cjk_font_family()


def _new_figure(**kw) -> Figure:
    return _matplotlib().figure.Figure(**kw)


@functools.cache
def cjk_font_file() -> Path | None:
    """The CJK face the charts are drawn in (Debian's, else fontconfig's), or None."""
    candidates = [Path(p) for p in _KNOWN_FONT_FILES if Path(p).is_file()]
    if not candidates and shutil.which("fc-match"):
        found = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"],
                               capture_output=True, text=True, check=False).stdout.strip()
        if found and Path(found).is_file():
            candidates.append(Path(found))
    return candidates[0] if candidates else None


@functools.cache
def cjk_font_family() -> str | None:
    """Register a CJK font with matplotlib once; its family name, or None when there is none."""
    path = cjk_font_file()
    if path is None:
        warnings.warn(FONT_HINT, stacklevel=2)
        return None
    font_manager = _matplotlib().font_manager
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def _style() -> dict:
    family = cjk_font_family()
    return {
        "font.family": [family, "DejaVu Sans"] if family else ["DejaVu Sans"],
        "axes.unicode_minus": False,  # CJK fonts lack U+2212; use the hyphen
        "text.parse_math": False,  # a name's $x$ is text: matplotlib would set it as math, its dollars gone
        "font.size": 9,
        "svg.hashsalt": "evaltools",
    }


SVG_CHUNK = b"evaltools:svg"


def png(figure: Figure, vector: bool = True) -> bytes:
    """The figure as PNG bytes, without Software/date metadata: same chart, same bytes; with
    ``vector``, its SVG (:func:`svg`) rides along in an ``iTXt`` chunk."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=160, metadata={"Software": None}, bbox_inches="tight")
    return with_svg(buffer.getvalue(), svg(figure)) if vector else buffer.getvalue()


def svg(figure: Figure) -> bytes:
    """The figure as SVG, text as outlines (no font needed to show it), without a date: same
    chart, same bytes."""
    buffer = io.BytesIO()
    with _matplotlib().rc_context(_style()):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    return buffer.getvalue()


def with_svg(png_bytes: bytes, svg_bytes: bytes) -> bytes:
    """``png_bytes`` with ``svg_bytes`` in a compressed iTXt chunk before its IEND."""
    data = SVG_CHUNK + b"\0\x01\x00\0\0" + zlib.compress(svg_bytes, 9)
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data + struct.pack(">I", zlib.crc32(b"iTXt" + data))
    end = png_bytes.rfind(b"IEND") - 4
    return png_bytes[:end] + chunk + png_bytes[end:]


def embedded_svg(png_bytes: bytes) -> bytes | None:
    """The SVG a chart's PNG carries (see :func:`with_svg`), or None."""
    at = 8
    while at + 8 <= len(png_bytes):
        length, kind = struct.unpack(">I4s", png_bytes[at:at + 8])
        if kind == b"iTXt" and png_bytes[at + 8:at + 8 + len(SVG_CHUNK) + 1] == SVG_CHUNK + b"\0":
            body = png_bytes[at + 8 + len(SVG_CHUNK) + 5:at + 8 + length]
            try:
                return zlib.decompress(body)
            except zlib.error:
                return None
        if kind == b"IEND":
            return None
        at += 12 + length
    return None


def _embed(figure: Figure, alt: str, caption: str, vector: bool = True) -> FigurePart:
    """A chart as a part. The year overview's charts go without their SVG: drawing it costs the
    kernel about as much as the PNG (0.13 s of CPU a chart) and saves the PDF 0.02 s, and the
    overview is made again after every change of the year."""
    return FigurePart(png(figure, vector), alt, caption)


class ChartCache(JsonCache):
    """Charts drawn before, by what they were drawn from (the function, its data, the CJK face):
    the year overview, made again after every change of the year, draws only the charts whose
    data changed, and its kernel imports matplotlib only then."""

    def __init__(self, path: str | Path | None = None):
        super().__init__(path, "charts")

    def chart(self, draw: Callable[..., FigurePart], *data: object) -> FigurePart:
        """``draw(*data)``, or the part it drew from the same data before."""
        if self.path is None:
            return draw(*data)
        font = cjk_font_file()
        if font is None:  # drawn or kept, a chart without a Chinese face says so
            warnings.warn(FONT_HINT, stacklevel=2)
        # the code too: a chart drawn otherwise (a name's $x$ as text, not math) is drawn again
        what = json.dumps([draw.__module__, draw.__qualname__, data, str(font), code_fingerprint()], ensure_ascii=False,
                          default=str)
        key = hashlib.sha256(what.encode("utf-8")).hexdigest()[:24]
        kept = self.get(key)
        if kept is None:
            part = draw(*data)
            kept = {"png": base64.b64encode(part.png).decode("ascii"), "alt": part.alt, "caption": part.caption}
        self.keep(key, kept)
        self.save(final=False)  # the notebook's last chart is not known: the file holds every chart drawn so far
        return FigurePart(base64.b64decode(kept["png"]), kept["alt"], kept["caption"])


def _wrapped(text: str, width: int = 13) -> str:
    """A label in lines of at most ``width`` ems, broken as a reader would and as the PDF's tables
    break theirs (:func:`evaltools.document.line_breaks.term_lines`): between the words it is made
    of (公共资源交易/平台运行维护费, not 公共资源交易平/台运行维护费), a number whole with its unit,
    in the fewest lines, as even as they go, no character alone. A label too long to weigh every
    break is cut in even lines of characters."""
    if "\n" in text:  # lines the label was written in: each wrapped on its own
        return "\n".join(_wrapped(line, width) for line in text.split("\n"))
    if not text or ems_of(text) <= width:
        return text
    lines = term_lines([m.group() for m in unbroken(text).finditer(text)], width)
    if lines is None:
        count = -(-len(text) // width)
        even = -(-len(text) // count)
        lines = [text[i:i + even] for i in range(0, len(text), even)]
    return "\n".join(lines)


NAME_WIDTH = 12  # characters a line of a bar's name: the unit names of a year (18 characters) take two lines


def _names(names: Sequence[str]) -> tuple[list[str], float]:
    """Bars' names whole, wrapped in lines of ``NAME_WIDTH`` characters, and the height (inches)
    each bar's row needs for the longest of them (9 pt lines)."""
    labels = [_wrapped(name, NAME_WIDTH) for name in names]
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    return labels, max(0.45, 0.16 * lines + 0.2)


def score_chart(card: ScoreCard, rules: Rules, caption: str = "各项得分与分值") -> FigurePart:
    """One bar per scored item: the weight in grey, the score over it, red where points were lost."""
    return _embed(*score_figure(card, rules), caption=caption)


def score_figure(card: ScoreCard, rules: Rules) -> tuple[Figure, str]:
    labels = ["预算执行率"] + [_wrapped(f"{row.level2.removesuffix('指标')}：{row.indicator.name}")
                               for row in card.indicators]
    weights = [card.execution.weight] + [row.weight for row in card.indicators]
    scores = [card.execution.score] + [row.score for row in card.indicators]
    with _matplotlib().rc_context(_style()):
        figure = _new_figure(figsize=(6.4, sum(0.3 + 0.16 * label.count("\n") for label in labels) + 1.0), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        axes.barh(positions, [float(w) for w in weights], color=GREY, height=0.6, label="分值")
        colours = [RED if s < w else BLUE for s, w in zip(scores, weights, strict=True)]
        axes.barh(positions, [float(s) for s in scores], color=colours, height=0.6, label="得分")
        for y, s, w in zip(positions, scores, weights, strict=True):
            axes.text(float(w) + 0.2, y, f"{plain_number(s)}/{plain_number(w)}", va="center", fontsize=8)
        axes.set_yticks(positions, labels)
        axes.set_xlim(0, float(max(weights)) * 1.25)
        axes.set_xlabel("分")
        axes.spines[["top", "right"]].set_visible(False)
        axes.set_title(f"总分 {formatting.score(card.total, rules)}（{card.grade}）", loc="left", fontsize=10)
    lost = [f"{row.indicator.name}（扣{plain_number(row.lost)}分）" for row in card.indicators if row.lost > 0]
    return figure, "各项得分条形图。" + ("扣分项：" + "；".join(lost) if lost else "无扣分项。")


def spending_chart(params: ProjectParams, rules: Rules, caption: str = "项目资金实际支出构成") -> FigurePart:
    """Spending by item, in 万元, with each item's share (rounded as the table shows it)."""
    return _embed(*spending_figure(params, rules), caption=caption)


def spending_figure(params: ProjectParams, rules: Rules) -> tuple[Figure, str]:
    items = sorted(params.spending, key=lambda item: item.amount, reverse=True)
    total = sum((item.amount for item in items), Decimal(0))
    with _matplotlib().rc_context(_style()):
        figure = _new_figure(figsize=(6.4, 0.45 * len(items) + 0.8))
        axes = figure.add_subplot()
        positions = list(range(len(items)))[::-1]
        amounts = [float(item.amount / 10_000) for item in items]
        axes.barh(positions, amounts, color=BLUE, height=0.6)
        for y, item, amount in zip(positions, items, amounts, strict=True):
            wan = formatting.money(item.amount / 10_000, rules)
            axes.text(amount, y, f" {wan}万元（{formatting.share(item.amount, total, rules)}）", va="center", fontsize=8)
        axes.set_yticks(positions, [item.item for item in items])
        axes.set_xlim(0, max(amounts, default=1) * 1.45)
        axes.set_xlabel("万元")
        axes.spines[["top", "right"]].set_visible(False)
    return figure, "支出构成条形图：" + "；".join(f"{item.item} {item.amount} 元" for item in items)


def projects_chart(lines: Sequence, rules: Rules, caption: str = "各项目自评总分") -> FigurePart:
    """The department's projects by 总分, with the rules' grade bands' lower bounds as guides
    (red below the lowest passing band); their names whole."""
    return _embed(*projects_figure(lines, rules), caption=caption)


def projects_figure(lines: Sequence, rules: Rules) -> tuple[Figure, str]:
    floor = formatting.grade_floor(rules)
    lines = sorted(lines, key=lambda line: line.total)
    labels, row = _names([line.name for line in lines])
    with _matplotlib().rc_context(_style()):
        figure = _new_figure(figsize=(6.4, row * len(lines) + 1.0))
        axes = figure.add_subplot()
        positions = list(range(len(lines)))
        totals = [float(line.total) for line in lines]
        axes.barh(positions, totals, color=[BLUE if line.total >= floor else RED for line in lines], height=0.6)
        for y, line in zip(positions, lines, strict=True):
            axes.text(float(line.total) + 0.5, y, f"{formatting.score(line.total, rules)}（{line.grade}）", va="center", fontsize=8)
        for band in rules.grades:
            if band.min > 0:
                axes.axvline(float(band.min), color=GREY, linewidth=0.8, zorder=0)
        axes.set_yticks(positions, labels)
        axes.set_xlim(0, 115)
        axes.set_xlabel("总分")
        axes.spines[["top", "right"]].set_visible(False)
    alt = "各项目总分：" + "；".join(f"{line.name} {line.total}分 {line.grade}" for line in lines)
    return figure, alt


# --- the year overview -------------------------------------------------------------------------------

GRADE_SHADES = (BLUE, "#6f93b8", "#b7791f", RED, "#7f1d1d")


def grades_by_department_chart(counts: dict[str, dict[str, int]], caption: str = "各部门项目的等级分布") -> FigurePart:
    """One stacked bar per department: its projects by grade, best grade first."""
    return _embed(*grades_by_department_figure(counts), caption=caption, vector=False)


def grades_by_department_figure(counts: dict[str, dict[str, int]]) -> tuple[Figure, str]:
    grades = list(dict.fromkeys(g for by_grade in counts.values() for g in by_grade))
    names = list(counts)
    labels, row = _names(names)
    with _matplotlib().rc_context(_style()):
        figure = _new_figure(figsize=(6.4, row * len(names) + 1.2))
        axes = figure.add_subplot()
        positions = list(range(len(names)))[::-1]
        left = [0] * len(names)
        for i, grade in enumerate(grades):
            values = [counts[name].get(grade, 0) for name in names]
            axes.barh(positions, values, left=left, color=GRADE_SHADES[i % len(GRADE_SHADES)], height=0.6, label=grade)
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(positions, labels)
        axes.set_xlabel("项目数")
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.legend(loc="lower right", fontsize=8, frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
    alt = "；".join(f"{name}：" + "，".join(f"{g} {n} 个" for g, n in by_grade.items()) for name, by_grade in counts.items())
    return figure, alt


def execution_chart(rates: dict[str, tuple[float, str]], threshold: float = 90.0, caption: str | None = None) -> FigurePart:
    """Each given project's 预算执行率 (value, as shown), lowest first; red under ``threshold`` percent."""
    return _embed(*execution_figure(rates, threshold), caption=caption or f"各项目预算执行率（红色：低于{threshold:g}%）",
                  vector=False)


def execution_figure(rates: dict[str, tuple[float, str]], threshold: float = 90.0) -> tuple[Figure, str]:
    names = list(rates)
    values = [rates[name][0] for name in names]
    labels, row = _names(names)
    with _matplotlib().rc_context(_style()):
        figure = _new_figure(figsize=(6.4, max(row - 0.13, 0.32) * len(names) + 1.0))
        axes = figure.add_subplot()
        positions = list(range(len(names)))
        axes.barh(positions, values, color=[RED if v < threshold else BLUE for v in values], height=0.6)
        axes.axvline(threshold, color=GREY, linewidth=1, zorder=0)
        axes.set_yticks(positions, labels)
        axes.set_xlim(0, max([*values, 100.0]) * 1.1)
        axes.set_xlabel("预算执行率（%）")
        axes.spines[["top", "right"]].set_visible(False)
    alt = "各项目预算执行率：" + "；".join(f"{name} {shown}" for name, (_, shown) in rates.items())
    return figure, alt


def department_spending_chart(departments: dict[str, tuple[float | None, float, str, str]],
                              caption: str = "各部门项目支出与已自评项目的全年预算数") -> FigurePart:
    """Per department: its stated 项目支出 beside its self-evaluated projects' 全年预算数 (万元; values, as shown)."""
    return _embed(*department_spending_figure(departments), caption=caption, vector=False)


def department_spending_figure(departments: dict[str, tuple[float | None, float, str, str]]) -> tuple[Figure, str]:
    names = list(departments)
    labels, row = _names(names)
    with _matplotlib().rc_context(_style()):
        figure = _new_figure(figsize=(6.4, max(row, 0.7) * len(names) + 1.0))
        axes = figure.add_subplot()
        positions = [2 * i for i in range(len(names))][::-1]
        stated = [departments[n][0] or 0 for n in names]
        covered = [departments[n][1] for n in names]
        axes.barh([p + 0.35 for p in positions], stated, color=GREY, height=0.7, label="部门项目支出")
        axes.barh([p - 0.35 for p in positions], covered, color=BLUE, height=0.7, label="已自评项目的全年预算数")
        axes.set_yticks(positions, labels)
        axes.set_xlabel("万元")
        axes.legend(loc="lower right", fontsize=8, frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
    alt = "；".join(f"{name}：项目支出 {shown_stated} 万元，已自评项目的全年预算数 {shown_covered} 万元"
                   for name, (_, _, shown_stated, shown_covered) in departments.items())
    return figure, alt
