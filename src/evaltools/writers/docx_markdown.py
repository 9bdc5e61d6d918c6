"""Markdown in the Word edition: CommonMark (narrative, a notebook's Markdown cells) as the Word
writer's paragraphs, headings, lists and simple tables, one markdown-it token at a time."""

from __future__ import annotations

from typing import Any

from evaltools.document.parts import Span
from evaltools.document.typography import STYLES
from evaltools.domain.markup import parse  # as the HTML's: raw HTML off, a single line break kept as a break


class MarkdownWriter:
    """Markdown-it's tokens as Word paragraphs, one token at a time, through the Word writer's
    ``paragraph``, ``heading`` and ``simple_table`` (``writer``), into ``container``."""

    def __init__(self, writer: Any, container):
        self.writer, self.container = writer, container
        self.lists: list[list[int]] = []  # per open list: [ordered, counter]
        self.heading_level: int | None = None
        self.table_rows: list[list[str]] | None = None

    def write(self, text: str | None) -> None:
        for token in parse(text or ""):
            kind = token.type
            if kind in ("bullet_list_open", "ordered_list_open"):
                self.lists.append([kind == "ordered_list_open", int(token.attrGet("start") or 1)])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "heading_open":
                self.heading_level = int(token.tag[1])
            elif kind == "table_open":
                self.table_rows = []
            elif kind == "tr_open" and self.table_rows is not None:
                self.table_rows.append([])
            elif kind == "table_close" and self.table_rows is not None:
                self.writer.simple_table(self.container, self.table_rows)
                self.table_rows = None
            elif kind == "inline":
                self.inline(_inline(token))
            elif kind in ("fence", "code_block"):
                self.writer.add_paragraph(self.container, [token.content.rstrip("\n")], size=STYLES["code"].size)

    def inline(self, content: list) -> None:
        writer, container = self.writer, self.container
        if self.table_rows is not None:
            self.table_rows[-1].append("".join(c.text if isinstance(c, Span) else c for c in content))
        elif self.heading_level is not None:
            writer.heading(container, "".join(c.text if isinstance(c, Span) else c for c in content), self.heading_level)
            self.heading_level = None
        elif self.lists:
            ordered, number = self.lists[-1]
            self.lists[-1][1] += 1
            writer.paragraph(container, [f"{number}. " if ordered else "• ", *content], indent=False)
        else:
            writer.paragraph(container, content)


def _inline(token) -> list:
    content: list = []
    bold = 0
    for child in token.children or []:
        if child.type == "strong_open":
            bold += 1
        elif child.type == "strong_close":
            bold -= 1
        elif child.type in ("softbreak", "hardbreak"):
            content.append("\n")
        elif child.type in ("text", "code_inline"):
            content.append(Span(child.content, bold=True) if bold else child.content)
        elif child.type == "image":  # named, as the HTML and the PDF name one they do not show
            alt = "".join(c.content for c in child.children or [])
            src = str(child.attrGet("src") or "")
            content.append(f"[图片：{alt}]" if src.startswith("data:") else f"[图片：{alt} {src}]")
    return content
