"""The neutral document model: every report is one tree of parts, whatever the format.

A report is built in the kernel as parts (headings, paragraphs, Markdown narrative, tables
with merged cells and column widths, figures, field lists, sign-off blocks, page breaks),
grouped in sections. A notebook cell that shows a part gets a MIME bundle with the part as
JSON (:data:`MIME_TYPE`) beside its ``text/html``, so the executed notebook holds the report
itself, structured; the exporters (``evaltools.writers``) write HTML, PDF and Word from
those parts, and the Excel 自评表 is laid out from the same form part.

Text in a part is plain text; markup is made only when a part is rendered to HTML here
(``to_html``), where everything from the parameters is escaped exactly once.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import re
import unicodedata
from importlib import resources
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from evaltools.document import typography
from evaltools.domain.markup import Html, escape, join, markdown, tag

MIME_TYPE = "application/vnd.evaltools.part+json"
NOTEBOOK_SCOPE = "evaltools-part"  # a part's HTML in a notebook: report.css applies inside it only


@functools.cache
def notebook_style(scope: str = NOTEBOOK_SCOPE) -> str:
    """The report's stylesheet for a part shown in a notebook: each rule of report.css applied
    inside ``.evaltools-part`` only (JupyterLab's own page untouched); page rules left out."""
    css = re.sub(r"/\*.*?\*/", "", (resources.files("evaltools") / "templates" / "evaltools_report" / "report.css")
                 .read_text(encoding="utf-8"), flags=re.DOTALL)
    rules = [f".{scope} td {{ text-align: left; }}"]  # JupyterLab right-aligns every cell; the report's own classes decide
    start = 0
    while (brace := css.find("{", start)) >= 0:
        depth, end = 1, brace + 1
        while depth and end < len(css):
            depth += {"{": 1, "}": -1}.get(css[end], 0)
            end += 1
        prelude, body = css[start:brace].strip(), re.sub(r"\s+", " ", css[brace + 1:end - 1]).strip()
        start = end
        if prelude.startswith("@"):
            continue  # @page and @media print: paper only
        selectors = [f".{scope}" if s.strip() in ("html", "body") else f".{scope} {s.strip()}" for s in prelude.split(",")]
        rules.append(f"{', '.join(selectors)} {{ {body} }}")
    return "\n".join(rules)


# Who a part is for: reviewers' material (the findings box, the provenance line) is marked so an
# exporter can leave it out of the edition a unit submits.
REVIEW = "review"


class Part:
    """A piece of a report; shows itself in a notebook as its JSON and its HTML."""

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        # In JupyterLab the part brings the report's style with it (grid lines, alignment, the
        # sign-off layout); the exporters render each part afresh, styled by the report template.
        html = f'<div class="{NOTEBOOK_SCOPE}"><style>{notebook_style()}</style>{to_html(self)}</div>'
        return {MIME_TYPE: to_data(self), "text/html": html, "text/plain": f"<{type(self).__name__}>"}

    def __str__(self) -> str:  # so that `"…" in part` style checks read the rendered report
        return str(to_html(self))

    def __contains__(self, text: str) -> bool:
        return text in str(self)


@dataclass(eq=True)
class Span(Part):
    """A run of text inside a paragraph or a cell; ``style`` names its role (badge, …)."""

    text: str
    bold: bool = False
    style: str | None = None


Inline = str | Span


@dataclass(eq=True)
class Paragraph(Part):
    content: list[Inline]
    style: str | None = None


@dataclass(eq=True)
class Heading(Part):
    level: int
    text: str
    style: str | None = None


@dataclass(eq=True)
class Markdown(Part):
    """Narrative as the parameters (or a notebook's Markdown cell) write it; raw HTML stays text."""

    text: str


@dataclass(eq=True)
class Cell(Part):
    """A table cell. ``value`` is the exact number behind the text (for Excel), ``kind`` what
    it is (money, score, rate, weight), ``name`` what the form calls it (for Excel formulas)."""

    content: list[Any] = field(default_factory=list)
    colspan: int = 1
    rowspan: int = 1
    header: bool = False
    style: str | None = None
    value: str | None = None
    kind: str | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        return plain_text(self.content)


@dataclass(eq=True)
class Row(Part):
    cells: list[Cell]
    style: str | None = None
    key: str | None = None


@dataclass(eq=True)
class Table(Part):
    """Rows (merged cells as row/colspans); ``head`` rows repeat on each page; widths in percent."""

    rows: list[Row]
    head: list[Row] = field(default_factory=list)
    widths: list[float] = field(default_factory=list)
    style: str = "grid"

    @property
    def columns(self) -> int:
        return len(self.widths) or max((sum(c.colspan for c in r.cells) for r in self.head + self.rows), default=0)


@dataclass(eq=True)
class Typography(Part):
    """The report's fonts (``evaltools.document.typography``): a stylesheet in HTML, font names for Word."""

    fonts: dict[str, list[str]] = field(default_factory=dict)


@dataclass(eq=True)
class Figure(Part):
    png: bytes
    alt: str
    caption: str


@dataclass(eq=True)
class AttachedPdf(Part):
    """A PDF attached as it is: appended to the PDF edition page by page; named elsewhere."""

    title: str
    pdf: bytes
    note: str = ""


@dataclass(eq=True)
class Fields(Part):
    """Label → value lines (a cover's 项目名称, 主管部门 …)."""

    rows: list[tuple[str, str]]
    style: str = "cover-fields"


@dataclass(eq=True)
class Signature(Part):
    label: str
    name: str = ""
    date: str = ""


@dataclass(eq=True)
class SignOff(Part):
    """Sign-off blocks side by side; ``style`` "single" stacks them (an office's opinion, its
    signature and its seal, one under the other)."""

    blocks: list[Signature]
    style: str | None = None


@dataclass(eq=True)
class ItemList(Part):
    items: list[list[Inline]]
    ordered: bool = False
    style: str | None = None


@dataclass(eq=True)
class PageBreak(Part):
    pass


@dataclass(eq=True)
class Section(Part):
    """Parts in order. ``element`` is its HTML element (section, aside, footer, div, or None for
    a plain group); ``style`` its role (cover, chapter, attachment …); ``audience`` who it is for."""

    children: list[Any]
    style: str | None = None
    element: str | None = "section"
    audience: str | None = None


PART_TYPES = {cls.__name__: cls for cls in (Span, Paragraph, Heading, Markdown, Cell, Row, Table, Typography, Figure,
                                            AttachedPdf, Fields,
                                            Signature, SignOff, ItemList, PageBreak, Section)}


def group(*children: Any) -> Section:
    """Parts shown together by one cell, with no element of their own."""
    return Section(flatten(children), element=None)


def flatten(children: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for child in children:
        if child is None or child == "":
            continue
        if isinstance(child, list | tuple):
            out += flatten(child)
        elif isinstance(child, Section) and child.element is None and child.audience is None:
            out += child.children
        else:
            out.append(child)
    return out


# --- JSON ------------------------------------------------------------------------------------------


def to_data(part: Any) -> Any:
    """A part as plain JSON data: {"type": "Table", …}; PNG bytes as base64."""
    if isinstance(part, Part):
        data: dict[str, Any] = {"type": type(part).__name__}
        for f in dataclasses.fields(part):
            value = getattr(part, f.name)
            if value == f.default or (f.default_factory is not dataclasses.MISSING and value == f.default_factory()):
                continue  # defaults are left out: smaller notebooks, same meaning
            data[f.name] = base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else to_data(value)
        return data
    if isinstance(part, list | tuple):
        return [to_data(p) for p in part]
    return part


def from_data(data: Any) -> Any:
    """The inverse of :func:`to_data`."""
    if isinstance(data, list):
        return [from_data(d) for d in data]
    if not isinstance(data, dict) or "type" not in data:
        return data
    cls = PART_TYPES[data["type"]]
    values = {k: from_data(v) for k, v in data.items() if k != "type"}
    if cls is Figure:
        values["png"] = base64.b64decode(values["png"])
    if cls is AttachedPdf:
        values["pdf"] = base64.b64decode(values["pdf"])
    if cls is Fields:
        values["rows"] = [tuple(r) for r in values["rows"]]
    return cls(**values)


# --- text ------------------------------------------------------------------------------------------


def plain_text(content: Any) -> str:
    """The words of parts, without markup (for checks, search and the Word/Excel cells)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list | tuple):
        return "".join(plain_text(c) for c in content)
    if isinstance(content, Span | Heading | Markdown):
        return content.text
    if isinstance(content, Paragraph | Cell):
        return plain_text(content.content)
    if isinstance(content, Section):
        return "\n".join(plain_text(c) for c in content.children)
    return ""


class _Runs(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.runs: list[Inline] = []
        self.bold = 0

    def handle_starttag(self, name, attrs):
        self.bold += name in ("strong", "b")

    def handle_endtag(self, name):
        self.bold -= name in ("strong", "b")

    def handle_data(self, data):
        self.runs.append(Span(data, bold=True) if self.bold else data)


def runs(markup: str) -> list[Inline]:
    """Escaped text with <strong> (what a wording template renders) as runs of plain text."""
    parser = _Runs()
    parser.feed(str(markup))
    parser.close()
    return [r for r in parser.runs if (r.text if isinstance(r, Span) else r)]


# --- HTML ------------------------------------------------------------------------------------------


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


# Titles break only between their segments (the year, the quoted name, the kind of report), as
# lines laid out here: a line holds 20 em of 二号 (22 pt) on the 156 mm 版心, digits half an em.
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


@to_html.register
def _(part: Heading) -> Html:
    if part.style in ("report-title", "cover-title"):
        lines = title_lines(part.text)
        if len(lines) > 1:
            return tag(f"h{part.level}", *(tag("span", line, class_="line") for line in lines), class_=part.style)
    return tag(f"h{part.level}", part.text, class_=part.style)


@to_html.register
def _(part: Typography) -> Html:
    return tag("style", Html(typography.stylesheet(part.fonts)))


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


# --- building shorthands (what the report modules write) --------------------------------------------


def content_of(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return flatten(value)
    return [value]


def td(content: Any = "", *, cls: str | None = None, colspan: int = 1, rowspan: int = 1, value: Any = None,
       kind: str | None = None, name: str | None = None) -> Cell:
    return Cell(content_of(content), colspan or 1, rowspan or 1, False, cls,
                None if value is None else str(value), kind, name)


def th(content: Any = "", *, colspan: int = 1, rowspan: int = 1, cls: str | None = None) -> Cell:
    return Cell(content_of(content), colspan or 1, rowspan or 1, True, cls)


def tr(*cells: Cell, cls: str | None = None, key: str | None = None) -> Row:
    return Row(list(cells), cls, key)


def table(*rows: Row, head: Sequence[Row] = (), cls: str = "grid", colgroup: Sequence[float] = ()) -> Table:
    return Table(list(rows), list(head), list(colgroup), cls)


def p(*content: Any, cls: str | None = None) -> Paragraph:
    return Paragraph(flatten(content), cls)


def h(level: int, text: str, cls: str | None = None) -> Heading:
    return Heading(level, text, cls)


def section(*children: Any, cls: str | None = None, element: str | None = "section", audience: str | None = None
            ) -> Section:
    return Section(flatten(children), cls, element, audience)


def grid(rows: list) -> tuple[list[tuple[int, int, Cell]], int]:
    """Where each cell of rows with row/colspans sits: (row, column, cell), and the column count."""
    taken: set[tuple[int, int]] = set()
    placed, columns = [], 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row.cells:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            taken.update((r + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan))
            c += cell.colspan
            columns = max(columns, c)
    return placed, columns


def walk(part: Any) -> Iterable[Any]:
    """Every part in the tree, depth first, in document order."""
    yield part
    children: Iterable[Any] = ()
    if isinstance(part, Section):
        children = part.children
    elif isinstance(part, Table):
        children = part.head + part.rows
    elif isinstance(part, Row):
        children = part.cells
    elif isinstance(part, Cell | Paragraph):
        children = part.content
    for child in children:
        yield from walk(child)
