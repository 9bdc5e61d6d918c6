"""The neutral document model: every report is one tree of parts, whatever the format.

A report is built in the kernel as parts (headings, paragraphs, Markdown narrative, tables
with merged cells and column widths, figures, field lists, sign-off blocks, page breaks),
grouped in sections. A notebook cell that shows a part gets a MIME bundle with the part's JSON
(:data:`MIME_TYPE`), so the executed notebook holds the report itself, structured; the
writers (``evaltools.writers``) are views of those parts: HTML, PDF and Word, and the Excel
自评表 laid out from the same form part.

Parts are data only. Text in a part is plain text and its ``style`` names a style role
(``evaltools.document.typography.STYLES``); markup is made by the writers. What else a cell's
bundle carries (its ``text/html``) is a view the writers register (:func:`register_view`): the
model does not know the formats.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# A cell's part: its JSON as one line of text. Not as a JSON object (a "+json" type, as notebooks
# executed before wrote it, still read: LEGACY_MIME_TYPE): nbformat makes every object inside one a
# NotebookNode, and every copy, validation and write of the notebook walks them all again (the
# overview of a thousand projects: 0.22 s a pass of those against 0.02 s as text).
MIME_TYPE = "application/vnd.evaltools.part"
LEGACY_MIME_TYPE = "application/vnd.evaltools.part+json"


# Who a part is for: reviewers' material (the findings box, the provenance line) is marked so an
# exporter can leave it out of the edition a unit submits.
REVIEW = "review"


# MIME type → a view of a part in that type (the HTML writer registers text/html): what a
# notebook cell shows beside the part's JSON.
VIEWS: dict[str, Callable[[Any], str]] = {}


def register_view(mime_type: str, view: Callable[[Any], str]) -> None:
    """Show parts in a notebook in ``mime_type`` too, as ``view`` renders them."""
    VIEWS[mime_type] = view


class Part:
    """A piece of a report; shows itself in a notebook as its JSON and the registered views."""

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        views = {mime_type: view(self) for mime_type, view in VIEWS.items()}
        return {MIME_TYPE: to_json(self), **views, "text/plain": f"<{type(self).__name__}>"}

    def __str__(self) -> str:  # the words, so that `"…" in part` reads what the report says
        return words(self)

    def __contains__(self, text: str) -> bool:
        return text in words(self)


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


def to_json(part: Any) -> str:
    """A part as the JSON text a notebook's output holds (:data:`MIME_TYPE`): one line."""
    return json.dumps(to_data(part), ensure_ascii=False, separators=(",", ":"))


def part_of(data: Any) -> Any | None:
    """The part an output's MIME bundle (``data``) carries, or None."""
    if MIME_TYPE in data:
        text = data[MIME_TYPE]
        return from_data(json.loads("".join(text) if isinstance(text, list) else text))
    if LEGACY_MIME_TYPE in data:
        return from_data(data[LEGACY_MIME_TYPE])
    return None


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


def words(part: Any) -> str:
    """Every word a part shows, blocks on lines of their own (what ``str(part)`` gives)."""
    if isinstance(part, str):
        return part
    if isinstance(part, list | tuple):
        return "\n".join(words(p) for p in part)
    if isinstance(part, Span | Heading | Markdown | Paragraph | Cell):
        return plain_text(part)
    if isinstance(part, Row):
        return "\t".join(words(c) for c in part.cells)
    if isinstance(part, Table):
        return words(part.head + part.rows)
    if isinstance(part, Fields):
        return "\n".join(f"{label}\t{value}" for label, value in part.rows)
    if isinstance(part, Signature):
        return f"{part.label}：{part.name}\n{part.date}"
    if isinstance(part, SignOff):
        return words(part.blocks)
    if isinstance(part, ItemList):
        return "\n".join(plain_text(item) for item in part.items)
    if isinstance(part, Section):
        return words(part.children)
    if isinstance(part, Figure):
        return part.caption
    if isinstance(part, AttachedPdf):
        return part.note
    return ""


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
    # Only the places a cell spans in the rows below are kept: a row's own cells follow each other
    # (a year's table of 2,000 cells is placed several times a PDF).
    below: set[tuple[int, int]] = set()
    placed, columns = [], 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row.cells:
            while (r, c) in below:
                c += 1
            placed.append((r, c, cell))
            if cell.rowspan > 1:
                below.update((r + dr, c + dc) for dr in range(1, cell.rowspan) for dc in range(cell.colspan))
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
