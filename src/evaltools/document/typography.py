"""公文 typography (GB/T 9704): the style roles of a report's text, and the fonts they take.

Declared once for every format. A part's ``style`` names a role (``num``, ``form-title``,
``cover-unit`` …); :data:`STYLES` says what each role looks like (font role, size, weight,
alignment, first-line indent) and which selector ``report.css`` styles it by. The HTML writer
uses the role names as class names and generates the page's font rules from these roles; the
Word writer sets its styles, sizes and alignments from them; ``report.css`` is kept in step with
them by a test. Where the Word edition is set differently on purpose, the role says so and why
(``word``), so the differences are in view here rather than in the writers. The Typst PDF is set
from the same roles (``pdf``, where the printed page deliberately differs, with the reason beside it).

Each font role's stack starts with the fonts the convention names (仿宋_GB2312, 方正小标宋 …),
which a unit that has them installed gets as they are, and ends with the closest free font
Debian ships (fonts-noto-cjk, fonts-arphic-ukai). A rules file may put its own fonts first:

    fonts:
      body: [仿宋_GB2312]
      title: [方正小标宋简体]
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# role → (what the convention asks, the stack), first installed font wins.
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "body": ("仿宋", ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", "Noto Serif CJK SC")),
    "heading1": ("黑体", ("黑体", "SimHei", "Noto Sans CJK SC")),
    "heading2": ("楷体", ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "AR PL UKai CN")),
    "title": ("小标宋", ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC")),
}
# Sizes in points: 二号 22 (title), 三号 16 (body and headings); tables 小四 12 and 五号 10.5.
SIZES = {"title": 22, "body": 16, "table": 12, "form": 10.5}


def stacks(configured: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[str]]:
    """Each role's font families, the configured ones first."""
    configured = configured or {}
    return {role: list(dict.fromkeys([*configured.get(role, ()), *stack])) for role, (_, stack) in ROLES.items()}


_UNSAFE = re.compile(r"[^\w .-]")


def safe_family(name: str) -> str:
    """A configured font name with only letters, digits, spaces, dots and dashes: it can never
    close a string or a stylesheet in any writer that names it."""
    return _UNSAFE.sub("", name)


@dataclass(frozen=True)
class Style:
    """How a role of the text looks. ``font`` is a font role of :data:`ROLES` (None: the text
    around it); ``size`` in points (None: the text around it); ``indent`` the first line's, in
    characters; ``word`` what the Word edition sets differently, on purpose (font, size, bold, align), with the reason beside it;
    ``also`` the other selectors report.css sets the role by (its element, its container);
    ``pdf`` what the Typst PDF sets differently (the same names; ``font`` may also be ``number``,
    the page numbers' 宋体 digits)."""

    selector: str
    font: str | None = None
    size: float | None = None
    bold: bool = False
    align: str | None = None
    indent: float = 0
    word: Mapping[str, Any] = field(default_factory=dict)
    also: tuple[str, ...] = ()
    pdf: Mapping[str, Any] = field(default_factory=dict)

    def in_word(self, name: str) -> Any:
        return self.word.get(name, getattr(self, name))

    def in_pdf(self, name: str) -> Any:
        return self.pdf.get(name, getattr(self, name))


# The style roles, by the name a part's ``style`` gives them. In order: the page's font rules
# list each font role's selectors in this order.
STYLES: dict[str, Style] = {
    # PDF not justified: justifying lets Typst narrow the punctuation and set 29 or 30 characters a line.
    "body": Style("body", "body", 16, align="justify", indent=2, also=("html", "p"), pdf={"align": "left"}),  # 仿宋 三号
    "heading1": Style("h2", "heading1", 16, indent=2),  # 一、 黑体 三号
    "cover-unit": Style(".cover-unit", "heading1", 20, align="center"),
    "attachment-label": Style(".attachment-label", "heading1"),
    "heading2": Style("h3", "heading2", 16, indent=2),  # （一） 楷体 三号
    "title": Style("h1", "title", 22, bold=True, align="center"),  # 小标宋 二号
    "table-title": Style(".table-title", "title", 18, bold=True, align="center"),
    "form-title": Style(".form-title", "title", 16, bold=True, align="center", also=(".form-caption",)),
    "attachment-title": Style("h2.attachment-title", "title", 22, bold=True, align="center"),
    "heading3": Style("h4", None, 16, bold=True, indent=2),  # 1. bold 三号
    "report-title": Style(".report-title"),  # the title (h1) that starts the report proper, on a new page
    "cover-title": Style(".cover-title", size=22),
    "form-year": Style(".form-year", size=12, align="center", also=(".form-caption",)),
    # The forms' small print: a unit edits and prints the Word form as it is, and Word and
    # LibreOffice give no glyph under 五号 (10.5 pt) the sharpness the PDF gives 9 pt.
    "form-note": Style(".form-note", size=9, word={"size": 10.5}),
    "form-sign": Style(".form-sign", size=9, word={"size": 10.5}),
    "note": Style(".note"),
    "provenance": Style("footer.provenance", size=9),
    "cover-fields": Style(".cover-fields", size=14),  # Word: a two-column table
    "cell": Style("table", size=10),
    "form": Style("table.form", size=9, word={"size": 10.5}),  # 五号 in Word, as the form's small print
    "num": Style("td.num", align="right"),
    "center": Style("td.center", align="center"),
    # Word: bold labels, so that a unit editing the form tells the form's own words from what it fills in.
    "label": Style("td.label", align="center", word={"bold": True}),
    "caption": Style("figcaption", size=12),
    "signoff-page": Style(".signoff-page", size=14),
    # 4号 "— 1 —", odd pages right, even pages left, a character in from the edge, as GB/T 9704 places
    # them for printing on both sides (the HTML's print CSS centres them, @bottom-center). The PDF
    # sets the digits in 宋体 as GB/T 9704 asks.
    "page-number": Style("@bottom-center", size=14, word={"align": "outside"}, pdf={"font": "number"}),
    "code": Style("pre", size=9),
    # Where a container sets its text apart: the first page's tables (小四), a cell of text, a header's cell, a
    # total's cell, the review's findings box, the form page's page numbers and attachment label.
    "first-page-cell": Style(".first-page table", size=12),
    "text-cell": Style("td.text", align="justify", indent=2, also=("td.text p",)),
    "header-cell": Style("th", align="center"),
    "first-page-heading2": Style(".first-page h3"),  # the first page's （一） at the margin, as on the printed form
    "total": Style("td.total", size=10.5),
    "findings": Style("aside.findings", size=10.5),
    "form-page-number": Style("@bottom-center", size=10.5, pdf={"font": "number"}),
    # The PDF's form page has set it in 14 pt since the Typst writer came, the HTML in 12 pt (to be aligned).
    "form-attachment-label": Style(".self-evaluation-form .attachment-label", size=12, pdf={"size": 14}),
}
# The report's titles (the cover's and the report proper's): the title role, in lines that break
# only between their segments (the year, the quoted name, the kind of report).
TITLES = ("report-title", "cover-title")


def selectors_by_font() -> dict[str, list[str]]:
    """Each font role's selectors: what the page's font rules set (body first, then the headings'
    and the titles' roles)."""
    return {font: [s.selector for s in STYLES.values() if s.font == font] for font in ROLES}


def is_title(style: str | None) -> bool:
    return style in TITLES


# A title's lines are laid out here: a line holds 20 em of 二号 (22 pt) on the 156 mm 版心,
# digits half an em.
_TITLE_SEGMENTS = re.compile(r"(“[^”]*”)")
TITLE_LINE = 20


def _ems(text: str) -> float:
    return sum(0.5 if unicodedata.east_asian_width(c) in ("Na", "H") else 1 for c in text)


def title_lines(text: str, width: float = TITLE_LINE) -> list[str]:
    """``text`` in lines that break only between segments; a segment longer than a line is its own."""
    lines: list[str] = []
    for segment in (s for s in _TITLE_SEGMENTS.split(text) if s):
        if lines and _ems(lines[-1] + segment) <= width:
            lines[-1] += segment
        else:
            lines.append(segment)
    return lines


@functools.cache
def installed_families() -> frozenset[str]:
    """The font families fontconfig knows (what the charts can use); empty without fontconfig."""
    if shutil.which("fc-list") is None:
        return frozenset()
    listing = subprocess.run(["fc-list", ":", "family"], capture_output=True, text=True, check=False).stdout
    return frozenset(name.strip() for line in listing.splitlines() for name in line.split(","))


def fonts_used(configured: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Each role's font as this machine will print it: the first of its stack that is installed."""
    installed = installed_families()
    return {role: next((f for f in stack if f in installed), "—") for role, stack in stacks(configured).items()}


# Each role's font as Word and WPS on a unit's Windows machine name it (the system's 仿宋 and
# 楷体; 方正小标宋 installed with the 公文 fonts).
WORD_FONTS = {"body": "仿宋", "heading1": "黑体", "heading2": "楷体", "title": "方正小标宋简体"}


def word_fonts(configured: Mapping[str, Sequence[str]] | None = None) -> dict[str, str]:
    """Each role's East Asian font for Word: the unit's configured font, else :data:`WORD_FONTS`
    (a document names one font a role, and Word substitutes it where it is missing)."""
    configured = configured or {}
    return {role: (list(configured.get(role) or ()) or [font])[0] for role, font in WORD_FONTS.items()}


def fonts_line(configured: Mapping[str, Sequence[str]] | None = None) -> str:
    """"正文 仿宋：Noto Serif CJK SC；…" for the provenance."""
    used = fonts_used(configured)
    return "；".join(f"{ROLES[role][0]}：{font}" for role, font in used.items())
