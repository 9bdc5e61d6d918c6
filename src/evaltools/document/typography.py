"""公文 typography (GB/T 9704): which font and size each role of a report's text takes.

One configuration for every format: the HTML/PDF stylesheet takes the stacks from here (a
``Typography`` part puts them into the page), and the Word exporter can name the same faces.
Each role's stack starts with the fonts the convention names (仿宋_GB2312, 方正小标宋 …), which
a unit that has them installed gets as they are, and ends with the closest free font Debian
ships (fonts-noto-cjk, fonts-arphic-ukai). A rules file may put its own fonts first:

    fonts:
      body: [仿宋_GB2312]
      title: [方正小标宋简体]
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence

# role → (what the convention asks, the stack), first installed font wins.
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "body": ("仿宋", ("仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", "Noto Serif CJK SC")),
    "heading1": ("黑体", ("黑体", "SimHei", "Noto Sans CJK SC")),
    "heading2": ("楷体", ("楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "AR PL UKai CN")),
    "title": ("小标宋", ("方正小标宋简体", "方正小标宋_GBK", "FZXiaoBiaoSong-B05S", "Noto Serif CJK SC")),
}
# Sizes in points: 二号 22 (title), 三号 16 (body and headings); tables 小四 12 and 五号 10.5.
SIZES = {"title": 22, "body": 16, "table": 12, "form": 10.5}
GENERIC = {"body": "serif", "heading1": "sans-serif", "heading2": "serif", "title": "serif"}


def stacks(configured: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[str]]:
    """Each role's font families, the configured ones first."""
    configured = configured or {}
    return {role: list(dict.fromkeys([*configured.get(role, ()), *stack])) for role, (_, stack) in ROLES.items()}


_UNSAFE = re.compile(r"[^\w .-]")


def css_family(families: Sequence[str], generic: str) -> str:
    """A CSS font-family list; a configured name can never close the string or the stylesheet."""
    return ", ".join([*(f'"{_UNSAFE.sub("", f)}"' for f in families), generic])


def stylesheet(configured: Mapping[str, Sequence[str]] | None = None) -> str:
    """The font rules of the report's stylesheet for these stacks (report.css has the rest)."""
    families = {role: css_family(stack, GENERIC[role]) for role, stack in stacks(configured).items()}
    return (f"body {{ font-family: {families['body']}; }}\n"
            f"h2, .cover-unit, .attachment-label {{ font-family: {families['heading1']}; }}\n"
            f"h3 {{ font-family: {families['heading2']}; }}\n"
            f"h1, .table-title, .form-title, h2.attachment-title {{ font-family: {families['title']}; }}\n")


@functools.cache
def installed_families() -> frozenset[str]:
    """The font families fontconfig knows (what WeasyPrint can use); empty without fontconfig."""
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
