"""The HTML view of parts: each part type's markup, escaped exactly once.

Light on purpose (no nbconvert): the notebook kernel shows parts through it
(:mod:`evaltools.writers.notebook`), and the HTML exporter renders each output from its part
with the very same functions, so a cell in JupyterLab and the exported page agree. Class names
come from the style roles (:data:`evaltools.document.typography.STYLES`), which ``report.css``
styles; the font rules of the page are generated from those roles here.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping, Sequence
from typing import Any

from evaltools.document import typography
from evaltools.document.parts import (
    AttachedPdf,
    Cell,
    Fields,
    Figure,
    Heading,
    ItemList,
    Markdown,
    PageBreak,
    Paragraph,
    Part,
    Row,
    Section,
    Signature,
    SignOff,
    Span,
    Table,
    Typography,
)
from evaltools.domain.markup import Html, escape, join, markdown, tag

# Generic CSS families that end each font role's stack.
GENERIC = {"body": "serif", "heading1": "sans-serif", "heading2": "serif", "title": "serif"}


def html(part: Any) -> str:
    """A part (or text) as an HTML fragment."""
    return str(to_html(part))


def _inline(content: Sequence[Any]) -> Html:
    return join(to_html(c) if isinstance(c, Part) else c for c in content)


@functools.singledispatch
def to_html(part: Any) -> Html:
    return escape(part)


@to_html.register
def _(part: Span) -> Html:
    if part.bold:
        return tag("strong", part.text, class_=part.style)
    return tag("span", part.text, class_=part.style) if part.style else escape(part.text)


@to_html.register
def _(part: Paragraph) -> Html:
    return tag("p", _inline(part.content), class_=part.style)


@to_html.register
def _(part: Heading) -> Html:
    if typography.is_title(part.style):
        lines = typography.title_lines(part.text)
        if len(lines) > 1:
            return tag(f"h{part.level}", *(tag("span", line, class_="line") for line in lines), class_=part.style)
    return tag(f"h{part.level}", part.text, class_=part.style)


@to_html.register
def _(part: Typography) -> Html:
    return tag("style", Html(stylesheet(part.fonts)))


@to_html.register
def _(part: Markdown) -> Html:
    return markdown(part.text)


def _span(n: int) -> int | None:
    return n if n > 1 else None


@to_html.register
def _(part: Cell) -> Html:
    return tag("th" if part.header else "td", _inline(part.content), class_=part.style,
               colspan=_span(part.colspan), rowspan=_span(part.rowspan))


@to_html.register
def _(part: Row) -> Html:
    return tag("tr", *(to_html(c) for c in part.cells), class_=part.style)


@to_html.register
def _(part: Table) -> Html:
    parts = []
    if part.widths:
        parts.append(tag("colgroup", join(tag("col", style=f"width:{w:g}%") for w in part.widths)))
    if part.head:
        parts.append(tag("thead", *(to_html(r) for r in part.head)))
    parts.append(tag("tbody", *(to_html(r) for r in part.rows)))
    return tag("table", *parts, class_=part.style)


@to_html.register
def _(part: Figure) -> Html:
    data = base64.b64encode(part.png).decode("ascii")
    return tag("figure", tag("img", src=f"data:image/png;base64,{data}", alt=part.alt), tag("figcaption", part.caption),
               class_="chart")


@to_html.register
def _(part: AttachedPdf) -> Html:
    return tag("p", part.note, class_="attached-pdf")


@to_html.register
def _(part: Fields) -> Html:
    return tag("dl", *(tag("div", tag("dt", label), tag("dd", value)) for label, value in part.rows), class_=part.style)


@to_html.register
def _(part: Signature) -> Html:
    signer = tag("span", part.name, class_="signer") if part.name else ""  # a name is never broken
    return tag("div", tag("div", f"{part.label}：", signer), tag("div", part.date, class_="date"), class_="sign-block")


@to_html.register
def _(part: SignOff) -> Html:
    return tag("div", *(to_html(b) for b in part.blocks), class_=" ".join(filter(None, ("signoff", part.style))))


@to_html.register
def _(part: ItemList) -> Html:
    return tag("ol" if part.ordered else "ul", *(tag("li", _inline(item)) for item in part.items), class_=part.style)


@to_html.register
def _(part: PageBreak) -> Html:
    return tag("div", class_="page-break")


@to_html.register
def _(part: Section) -> Html:
    inner = join(to_html(c) for c in part.children)
    return tag(part.element, inner, class_=part.style) if part.element else inner


# --- the font rules of the page -----------------------------------------------------------------


def css_family(families: Sequence[str], generic: str) -> str:
    """A CSS font-family list; a configured name can never close the string or the stylesheet."""
    return ", ".join([*(f'"{typography.safe_family(f)}"' for f in families), generic])


def stylesheet(configured: Mapping[str, Sequence[str]] | None = None) -> str:
    """The font rules of the report's stylesheet: each font role's stack, for the selectors of the
    style roles set in it (report.css has the rest)."""
    families = {role: css_family(stack, GENERIC[role]) for role, stack in typography.stacks(configured).items()}
    return "".join(f"{', '.join(selectors)} {{ font-family: {families[font]}; }}\n"
                   for font, selectors in typography.selectors_by_font().items())
