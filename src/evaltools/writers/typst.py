"""The document's parts as Typst markup (the PDF is typeset from it by :mod:`evaltools.writers.pdf_engine`).

Every text of a report (the parameters' narrative, names, a notebook's Markdown) is written
as a Typst *string literal* (``#"…"``), never as markup: ``#import``, ``#read(…)``, ``$``, ``*``
or a backslash in a narrative print as themselves and nothing of them is evaluated. Control
characters are dropped; a number is kept on one line with its unit (``#box``). The styling is
the style roles' (:data:`evaltools.document.typography.STYLES`, written above the template as
``#let roles = (…)``, see :func:`roles`) and the layout the template's
(``templates/typst/report.typ``): this module says which role each part plays.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

from evaltools.document.charts import embedded_svg
from evaltools.document.parts import (
    REVIEW,
    AttachedPdf,
    Cell,
    Fields,
    Figure,
    Heading,
    ItemList,
    Markdown,
    PageBreak,
    Paragraph,
    Section,
    Signature,
    SignOff,
    Span,
    Table,
    Typography,
    grid,
    plain_text,
)
from evaltools.document import line_breaks, typography
from evaltools.document.typography import Style, title_lines
from evaltools.writers import typst_lines
from evaltools.writers.typst_flow import figures_before_a_page
from evaltools.writers.typst_lines import (BODY_WIDTH, FORM_WIDTH, PAGE_HEIGHT, RowLayout, cell_rooms, column_ems, column_widths,
                                          content_widths, even_lines, fitting_size, label_lines, lines_held, row_breaks,
                                          tallest_rows, tall_cell, tracks_of)
from evaltools.writers.typst_markdown import markdown
from evaltools.writers.typst_split import column_groups
from evaltools.writers.typst_text import code, image, is_svg, literal, text

__all__ = ["Context", "Source", "document", "image", "is_svg", "literal", "markdown", "text", "typeset"]


@dataclass(frozen=True)
class Context:
    """Where a part is: the first page's 小四 tables, the form's 小五, the edition."""

    edition: str = "submission"
    first_page: bool = False
    form: bool = False
    # The document's tables in order: a table whose labels span rows is known by its number.
    tables: Iterator[int] = field(default_factory=itertools.count, compare=False, repr=False)
    # The images, by the name the markup reads them by: compiled beside it (see Source).
    files: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    # How many of the last blocks set, in the document's order, keep with what follows (headings,
    # labels, a Markdown part ending in headings): the first of such a run marks its place, and a
    # figure right after one reckons from that mark (see the template's mark-block and figure-of).
    kept: list[int] = field(default_factory=lambda: [0], compare=False, repr=False)
    # The figures (by id) that nothing but other figures parts from a new page or the document's
    # end (see :func:`evaltools.writers.typst_flow.figures_before_a_page`): they never float.
    closing: frozenset[int] = field(default_factory=frozenset, compare=False, repr=False)


# --- inline -------------------------------------------------------------------------------------------

_BADGE_COLOURS = {"error": "#b0301f", "warning": "#b7791f"}


def span(part: Span) -> str:
    body = f"[{text(part.text)}]"
    styles = (part.style or "").split()
    if "badge" in styles:
        colour = next((_BADGE_COLOURS[s] for s in styles if s in _BADGE_COLOURS), "#000")
        return f'#text(fill: rgb("{colour}"), weight: "bold"){body}'
    if "code" in styles:  # a Markdown cell's code
        body = code(part.text)
    elif "emphasis" in styles:
        body = f"#emph{body}"
    else:
        return f"#strong{body}" if part.bold else text(part.text)
    return f"#strong[{body}]" if part.bold else body


def inline(content: Iterable[Any]) -> str:
    """Runs of text; spans styled "line" each on a line of their own (a heading's segments)."""
    out: list[str] = []
    previous_line = False
    for item in content:
        is_line = isinstance(item, Span) and item.style == "line"
        if is_line and previous_line:
            out.append("#linebreak()")
        previous_line = is_line
        out.append(span(item) if isinstance(item, Span) else text(item) if isinstance(item, str) else "")
    return "".join(out)


# --- blocks -------------------------------------------------------------------------------------------


@functools.singledispatch
def typeset(part: Any, ctx: Context) -> str:
    """A part (or text) as Typst markup, ending with a paragraph break where it is a block."""
    return text(part) + "\n\n" if part not in (None, "") else ""


def blocks(parts: Iterable[Any], ctx: Context) -> str:
    out: list[str] = []
    runs: list[Any] = []
    parts = list(parts)
    index = 0
    while index < len(parts):
        part = parts[index]
        index += 1
        if isinstance(part, str | Span):  # text beside blocks (a cell's content) stays one paragraph
            runs.append(part)
            continue
        if runs:
            out.append(inline(runs) + "\n\n")
            runs = []
        if isinstance(part, Figure) and ctx.kept[0]:
            markup, index = _kept_figures(parts, index - 1, ctx)
            out.append(f"#{markup}\n\n")
            continue
        out.append(typeset(part, ctx))
        if not isinstance(part, Section | Typography | Markdown):  # a section's last block is its children's; Markdown says
            ctx.kept[0] = ctx.kept[0] + 1 if _keeps_with_next(part) else 0
    if runs:
        out.append(inline(runs))
    return "".join(out)


# How many figures and headings a figure after a heading sets after it, one inside the other (Typst
# stops at a depth of show rules and contexts: a run of 60 figures would fail the document).
_KEPT_RUN = 10


def _kept_figures(parts: list[Any], index: int, ctx: Context, after: str = "true", depth: int = 0) -> tuple[str, int]:
    """The figure at ``index``, right after blocks kept with what follows (a heading), with the
    figures and the heading right after it, and the index after them. Each is set by the one
    before it (the template's ``then``), which passes on whether it floated: after a heading's
    figure that floated, the next figure and the next heading go on with the heading's run, kept
    with what follows the floats (the text that fills the page), never left alone at the page's
    foot, and the next figure reckons from where that run begins (see figure-of, heading-of).
    ``after``: the figure's after-kept, as Typst (the one before it passes ``held``); past
    :data:`_KEPT_RUN` of them, what follows is set on its own, as after any figure."""
    following = parts[index + 1] if index + 1 < len(parts) and depth < _KEPT_RUN else None
    then, end = "", index + 1
    if isinstance(following, Figure):
        inner, end = _kept_figures(parts, index + 1, ctx, after="held", depth=depth + 1)
        then = f", then: held => {inner}"
    elif isinstance(following, Heading) and following.style is None:
        ctx.kept[0] = 0  # the heading begins a run: it marks its place (or, held, goes on with the one before)
        then, end = f", then: held => {_heading(following, ctx, held=True)}", index + 2
        ctx.kept[0] = 1
    else:
        ctx.kept[0] = 0
    return _figure(parts[index], ctx, after, then), end


# The paragraphs the template keeps with what follows (see its `paragraph`).
_STICKY_PARAGRAPHS = frozenset({"attachment-label", "form-attachment-label", "table-title"})


def _keeps_with_next(part: Any) -> bool:
    """Whether the block ``part`` sets keeps with what follows."""
    return isinstance(part, Heading) or isinstance(part, Paragraph) and part.style in _STICKY_PARAGRAPHS


def _mark(ctx: Context) -> str:
    """The arguments of a block kept with what follows that begins a run of such blocks: it marks its place."""
    return "" if ctx.kept[0] else ", mark: true"


@typeset.register
def _(part: Span, ctx: Context) -> str:
    return span(part)


@typeset.register
def _(part: Paragraph, ctx: Context) -> str:
    role = "form-attachment-label" if ctx.form and part.style == "attachment-label" else part.style
    style = literal(role) if role else "none"
    mark = _mark(ctx) if _keeps_with_next(part) else ""
    body = _fields(part, ctx) if part.style == "form-sign" else inline(part.content)
    return f"#paragraph({style}{mark})[{body}]\n\n"


# Where a form's signature line may break: between its fields, set apart by two 全角 spaces.
_FIELD_GAP = re.compile("(\u3000{2,})")


def _fields(part: Paragraph, ctx: Context) -> str:
    """A form's signature line (单位负责人签字：…　　联系电话：…　　填报日期：    年  月  日), each
    field kept on one line with its label where it fits on one: the line breaks between fields,
    never after 联系电话： or inside the date's blanks (「年」 alone at a line's end, 「月 日」 on the next)."""
    size = typography.STYLES["form-sign"].in_pdf("size")
    width = (FORM_WIDTH if ctx.form else BODY_WIDTH) / size
    out = []
    for piece in _FIELD_GAP.split(plain_text(part.content)):
        kept = piece and not _FIELD_GAP.fullmatch(piece) and line_breaks.ems_of(piece) <= width
        out.append(f"#box[{text(piece)}]" if kept else text(piece))
    return "".join(out)


@typeset.register
def _(part: Heading, ctx: Context) -> str:
    return f"#{_heading(part, ctx)}\n\n"


def _heading(part: Heading, ctx: Context, held: bool = False) -> str:
    """The heading as a Typst call; ``held``: set by the figure before it, which says whether it
    goes on with that figure's run (a Typst variable ``held``, see :func:`_kept_figures`)."""
    if part.style in ("report-title", "cover-title"):
        body = "#linebreak()".join(text(line) for line in title_lines(part.text))
    else:
        body = text(part.text)
    style = literal(part.style) if part.style else "none"
    mark = _mark(ctx) + (", held: held" if held and not ctx.kept[0] else "")
    return f"heading-of({part.level}, {style}, {_bool(ctx.first_page)}{mark})[{body}]"


def _bool(value: bool) -> str:
    return "true" if value else "false"


@typeset.register
def _(part: Typography, ctx: Context) -> str:
    return ""  # the fonts are set once, for the whole document (see :func:`document`)


@typeset.register
def _(part: Markdown, ctx: Context) -> str:
    markup, ends = markdown(part.text, ctx.files, run=ctx.kept[0] > 0, set_table=lambda table: typeset(table, ctx))
    if markup:  # (nothing set: what follows is next to what came before)
        ctx.kept[0] = ctx.kept[0] + 1 if ends == "whole" else 1 if ends == "end" else 0
    return markup


@typeset.register
def _(part: PageBreak, ctx: Context) -> str:
    return "#pagebreak(weak: true)\n"


@typeset.register
def _(part: AttachedPdf, ctx: Context) -> str:
    return f'#paragraph("attached-pdf")[{text(part.note)}]\n\n'


@typeset.register
def _(part: Fields, ctx: Context) -> str:
    cells = ", ".join(f"[{text(label)}], [{text(value)}]" for label, value in part.rows)
    return f"#fields-of({cells})\n\n"


@typeset.register
def _(part: Signature, ctx: Context) -> str:
    return f"#signature([{text(part.label + '：')}], [{text(part.name)}], [{text(part.date)}], false)\n"


@typeset.register
def _(part: SignOff, ctx: Context) -> str:
    # the colon set with the label: after a boxed （签字） Typst could start a line with it
    blocks_ = [f"signature([{text(b.label + '：')}], [{text(b.name)}], [{text(b.date)}], {_bool(part.style == 'single' and i == 0)})"
               for i, b in enumerate(part.blocks)]
    if part.style == "single":
        return (f'#block(above: 4mm, stroke: (top: 0.5pt + rgb("#666")), inset: (top: 3mm), width: 100%, '
                f"grid(columns: 1fr, row-gutter: 2mm, {', '.join(blocks_)}))\n\n")
    # Two a row, their dates in a row of their own: a label that takes two lines (项目实施单位负责人
    # （签字）：董佳瑛) set its date a line lower than the one beside it.
    cells: list[str] = []
    for i in range(0, len(part.blocks), 2):
        pair = [*part.blocks[i:i + 2], None][:2]
        cells += [f"signature-line([{text(b.label + '：')}], [{text(b.name)}])" if b else "[]" for b in pair]
        cells += [f"signature-date([{text(b.date)}])" if b else "[]" for b in pair]
    return f"#grid(columns: (1fr, 1fr), column-gutter: 8mm, row-gutter: (5mm, 6mm), {', '.join(cells)})\n\n"


@typeset.register
def _(part: ItemList, ctx: Context) -> str:
    if part.style == "attachments":  # 附件1：… lines, indented as paragraphs, kept together (公文's 附件说明)
        # …where they take at most a third of a page: a longer list, kept whole, left the page
        # before it empty and ran off the next one's foot, its last lines lost
        size = typography.STYLES["body"].in_pdf("size")
        tall_ = sum(typst_lines.height(plain_text(item), BODY_WIDTH - 2 * size, size) for item in part.items) > PAGE_HEIGHT / 3
        return f"#block(breakable: {_bool(tall_)})[{''.join(f'{inline(item)}#parbreak()' for item in part.items)}]\n\n"
    kind = "enum" if part.ordered else "list"
    items = ", ".join(f"[{inline(item)}]" for item in part.items)
    return f"#block(above: 1mm, below: 1mm, {{ set par(first-line-indent: 0em); {kind}({items}) }})\n\n"


@typeset.register
def _(part: Figure, ctx: Context) -> str:
    return f"#{_figure(part, ctx, 'true' if ctx.kept[0] else None)}\n\n"


def _figure(part: Figure, ctx: Context, after: str | None, then: str = "") -> str:
    """The figure as a Typst call; ``after``: whether it follows blocks kept with it (Typst's
    ``true``, or ``held`` where the figure before it says), ``then``: what it sets after it."""
    vector = embedded_svg(part.png)  # a chart's vector twin (see evaltools.document.charts)
    # the picture as a function of its width: the template sets a figure smaller where that makes it fit
    after = "" if not after else ", after-kept: true" if after == "true" else f", after-kept: {after}, held: {after}"
    stays = ", floats: false" if id(part) in ctx.closing else ""
    return f"figure-of(width => {image(vector or part.png, part.alt, ctx.files, 'width')}, [{text(part.caption)}]{after}{stays}{then})"


# --- sections -----------------------------------------------------------------------------------------

_FINDINGS_COLOURS = {"clean": "#2e7d32", "has-warnings": "#b7791f", "has-errors": "#b0301f"}


# The sections set inside a block of their own (see below).
_WRAPPED = frozenset({"form-page", "cover", "first-page", "signoff-page", "form-caption", "findings", "provenance"})


@typeset.register
def _(part: Section, ctx: Context) -> str:
    if ctx.edition == "submission" and part.audience == REVIEW:
        return ""
    styles = set((part.style or "").split())
    inner_ctx = replace(ctx, first_page=ctx.first_page or "first-page" in styles, form=ctx.form or "form-page" in styles)
    inner = blocks(part.children, inner_ctx)
    if styles & _WRAPPED or part.element == "footer":  # its blocks are inside another: none is next to what follows
        ctx.kept[0] = 0
    if "form-page" in styles:
        return f"#form-page[\n{inner}]\n"
    if "cover" in styles:
        return f"#fit-page(block(width: 100%)[#v(25mm)\n#set align(center)\n#set par(first-line-indent: 0em)\n{inner}])\n#pagebreak()\n"
    if "first-page" in styles:
        return f"{inner}#pagebreak(weak: true)\n"
    if "attachment" in styles:
        return f"#pagebreak(weak: true)\n{inner}"
    if "signoff-page" in styles:
        return f"#signoff-page[\n{inner}]\n"
    if "form-caption" in styles:
        return f"#block(below: 1.5mm, width: 100%)[#set align(center)\n{inner}]\n"
    if "findings" in styles:
        colour = next((_FINDINGS_COLOURS[s] for s in styles if s in _FINDINGS_COLOURS), "#999")
        return f'#findings-box(rgb("{colour}"))[\n{inner}]\n'
    if "provenance" in styles or part.element == "footer":
        return f"#provenance[\n{inner}]\n"
    return inner


# --- tables -------------------------------------------------------------------------------------------


# A role's alignment as Typst's; justified text is set from the left, and says so (``justify``).
_ALIGNMENTS = {"left": "left", "center": "center", "right": "right", "justify": "left"}


def _align(cell: Cell) -> str:
    """The first of the cell's roles that aligns it (``num``, ``label``, ``center``), else a
    header's (``header-cell``), else the left."""
    for name in [*(cell.style or "").split(), *(["header-cell"] if cell.header else [])]:
        look = typography.STYLES.get(name)
        if look is not None and look.in_pdf("align"):
            return f"{_ALIGNMENTS[look.in_pdf('align')]} + horizon"
    return "left + horizon"


def cell_args(part: Cell, ctx: Context, room: tuple[float, float] | None = None,
              breaks: bool = False, most: int = 0) -> tuple[list[str], str]:
    """A cell's arguments but its place and rowspan, and its body, as Typst; ``room``: the width
    of its text and the size it is set in (points), where the table's widths are known; ``breaks``:
    its row holds a narrative, which breaks where it does not fit (a row breaks only where all
    its cells may: it would leave a hole, or run off the page); ``most``: the lines its rows hold
    anyway (see :func:`_lines`)."""
    styles = set((part.style or "").split())
    args = [f"colspan: {part.colspan}"] if part.colspan > 1 else []
    if part.rowspan > 1 or breaks:
        # A label spanning rows breaks with them (the table's cells are otherwise unbreakable), and
        # is set again where a page breaks inside them; a group kept together (see spanned-table)
        # breaks only where it does not fit on a page.
        args.append("breakable: true")
    args.append(f"align: {_align(part)}")
    if "continued" in styles:
        args.append("stroke: (top: none, rest: rule)")
    body = _lines(part, room, most) or blocks(part.content, ctx).rstrip()
    if "num" in styles:
        body = f"#box[{body}]"  # a number never wraps
    elif "text" in styles:
        body = f"#text-cell[{body}]"
    if "total" in styles:
        body = f'#text(size: role("total").size)[{body}]'
    return args, body


def _lines(part: Cell, room: tuple[float, float] | None, most: int = 0) -> str | None:
    """A short plain cell set in lines of its own: broken between its terms, a bracketed score or
    unit ending it on a line of its own (a label: :func:`~evaltools.writers.typst_lines.label_lines`),
    else, where it would end on one character alone, in even lines (``even_lines``); None for the rest."""
    if room is None or not part.content or not all(isinstance(x, str) for x in part.content):
        return None
    content = "".join(part.content)
    number = "num" in (part.style or "").split()  # a number is boxed whole
    found = (None if number else label_lines(content, *room, most)) or even_lines(content, *room)
    if found is None:
        return None
    lines, tracking = found
    body = "#linebreak()".join(f"#box[{text(line)}]" for line in lines)  # each line as reckoned, never broken again
    return f"#text(tracking: {tracking:.3f}pt)[{body}]" if tracking < 0 else body


def cell(part: Cell, ctx: Context, room: tuple[float, float] | None = None, breaks: bool = False,
         at: tuple[int, int] | None = None, most: int = 0) -> str:
    args, body = cell_args(part, ctx, room, breaks, most)
    place = [f"x: {at[0]}", f"y: {at[1]}"] if at else []
    rowspan = [f"rowspan: {part.rowspan}"] if part.rowspan > 1 else []
    return f"table.cell({', '.join(place + rowspan + args)})[{body}]"


# The last row's keeper: a cell of no width beyond the last column, over the last two rows, that
# does not break (Typst keeps a rowspan that may not break on one page); its rules fall on the
# table's own right edge, so nothing of it shows.
KEEPER = "table.cell(stroke: none, inset: 0pt)[]"


def spanned_cells(part: Table, ctx: Context, rooms: Mapping[int, tuple[float, float]], layout: RowLayout) -> list[str]:
    """The body's cells as the template's ``spanned-table`` takes them: each with its place (x, y),
    its rowspan, whether its rows keep together (a label over rows that each keep with the next:
    a 一级指标's), whether it carries its row's marker (the first cell of one row that starts
    in each row), which tells the next layout on which page the row begins, and whether it is set
    again where its rows run onto a new page (``repeat``: a label beside a narrative; the narrative
    beside it carries the row's end marker, which tells on which page the row ends)."""
    placed, _ = grid(part.rows)
    offset = len(part.head)
    marked: dict[int, int] = {}
    for i, (r, _, c) in enumerate(placed):
        if r not in marked or (c.rowspan == 1 and placed[marked[r]][2].rowspan > 1):
            marked[r] = i
        # a breaking row's narrative starts at its top, wherever a short label beside it is set
        if layout.breaking[r] and c.rowspan == 1 and tall_cell(c, rooms) and not tall_cell(placed[marked[r]][2], rooms):
            marked[r] = i
    marks = set(marked.values())
    tallest = tallest_rows(placed, rooms)
    out = []
    for i, (r, column, c) in enumerate(placed):
        args, body = cell_args(c, ctx, rooms.get(id(c)), layout.breaking[r], lines_held(tallest, r, c, rooms))
        repeat = layout.repeats(part, rooms, r, c)
        if layout.breaking[r] and not repeat:
            body += f"#metadata(({layout.number}, {r + offset}))<evaltools-row-end>"
        keep = (c.rowspan > 1 and "keep-next" in (part.rows[r].style or "").split()
                and "continued" not in (c.style or "").split())
        # A group surely shorter than a page is kept whole without the template measuring it
        # (a measure a group, a sixth of a report's compile).
        fits = keep and sum(tallest.get(y, PAGE_HEIGHT) for y in range(r, r + c.rowspan)) < 0.8 * PAGE_HEIGHT
        out.append(f"(x: {column}, y: {r + offset}, rowspan: {c.rowspan}, keep: {_bool(keep)}, fits: {_bool(fits)}, "
                   f"mark: {_bool(i in marks)}, repeat: {_bool(repeat)}, args: ({', '.join(args)},), body: [{body}])")
    if layout.keep_last:
        keeper = len(part.widths) or part.columns
        out.append(f"(x: {keeper}, y: {offset + len(part.rows) - 2}, rowspan: 2, keep: false, "
                   "fits: true, mark: false, repeat: false, args: (breakable: false, stroke: none, inset: 0pt,), body: [])")
        # the keeper's column in a row that breaks: a cell that breaks too (one Typst fills in
        # takes the table's unbreakable cells, and the row would run off the page's foot)
        out += [f"(x: {keeper}, y: {r + offset}, rowspan: 1, keep: false, fits: true, mark: false, repeat: false, "
                "args: (breakable: true, stroke: none, inset: 0pt,), body: [])" for r, breaks in enumerate(layout.breaking) if breaks]
    return out


def _head(part: Table, ctx: Context, rooms: Mapping[int, tuple[float, float]], keep_last: bool) -> str:
    if not part.head:
        return "none"
    rows = [[cell(c, ctx, rooms.get(id(c))) for c in r.cells] + ([KEEPER] if keep_last else []) for r in part.head]
    return f"table.header(repeat: true, {', '.join(c for r in rows for c in r)})"


@typeset.register
def _(part: Table, ctx: Context) -> str:
    size, ems = typography.STYLES[_cell_role(part, ctx)[0]].in_pdf("size"), column_ems(part)
    shares = column_groups(part, size, FORM_WIDTH if ctx.form else BODY_WIDTH, ems)
    if shares.size is None:
        return _table(part, ctx, ems)
    return "".join(_table(share, ctx, size=shares.size) for share in shares.tables)


def _cell_role(part: Table, ctx: Context) -> tuple[str, str, float, float]:
    """A table's cells' style role, their leading, and their insets across and down (mm)."""
    if "form" in part.style.split():
        return "form", "0.25em", 0.8, 0.4
    return ("first-page-cell" if ctx.first_page else "cell"), "0.5em", 1.2, 1


def _table(part: Table, ctx: Context, ems: Sequence[float] | None = None, size: float | None = None) -> str:
    """A table; ``ems``: its :func:`column_ems`, where known; ``size``: the size it is set in
    (the shares of a table cut in its columns: all in one), else the one that holds its numbers."""
    styles = set(part.style.split())
    size_role, leading, inset, inset_y = _cell_role(part, ctx)
    role_size = typography.STYLES[size_role].in_pdf("size")
    width = FORM_WIDTH if ctx.form else BODY_WIDTH
    size = fitting_size(part, role_size, width, ems) if size is None else size  # the widths are reckoned in it
    if part.widths:
        widths = column_widths(part, size, width)
        tracks = [f"{w:.2f}fr" for w in widths]
    else:  # its cells' widths known too: a name squeezed beside numbers is set in even lines (二级机构/甲)
        natural = content_widths(part, size, width)
        tracks = tracks_of(natural, width)
        widths = natural if sum(natural) < width else [w / sum(natural) * width for w in natural]
    rooms = cell_rooms(part, widths, size, inset * 72 / 25.4)
    breaking = [row_breaks(r, rooms) for r in part.rows]
    # The last row never alone on a page (a form's 总分, a 合计): kept with the row before where
    # neither may break.
    layout = RowLayout(next(ctx.tables), breaking, len(part.rows) >= 2 and not any(breaking[-2:]))
    columns = "(" + ", ".join(tracks + (["0pt"] if layout.keep_last else [])) + ",)"
    # The form's tables, and the first page's, are one form, as on paper.
    spacing = "0pt, 0pt" if "form" in styles or ctx.first_page else "0.3em, 0.6em"
    unbreakable = _bool("narrative" not in styles)
    head = _head(part, ctx, rooms, layout.keep_last)
    shown = f"role({literal(size_role)}).size" if size == role_size else f"{size:.2f}pt"  # smaller to hold its numbers
    settings = (f"{shown}, {leading}, (x: {inset}mm, y: {inset_y}mm), {unbreakable}, "
                f"{spacing}, {columns}")
    placed, _ = grid(part.rows)
    spans = any(c.rowspan > 1 and plain_text(c.content).strip() for _, _, c in placed)
    if spans or any(layout.repeats(part, rooms, r, c) for r, _, c in placed):
        area = "form-area" if ctx.form else "page-area"
        return (f"#spanned-table({layout.number}, {area}, {len(part.head)}, {settings}, {head}, "
                f"{', '.join(spanned_cells(part, ctx, rooms, layout))})\n\n")
    offset = len(part.head)
    cells = [head] if part.head else []
    tallest = tallest_rows(placed, rooms)
    cells += [cell(c, ctx, rooms.get(id(c)), breaking[r], (x, r + offset) if layout.keep_last else None,
                   lines_held(tallest, r, c, rooms)) for r, x, c in placed]
    if layout.keep_last:
        cells.append(f"table.cell(x: {len(tracks)}, y: {offset + len(part.rows) - 2}, rowspan: 2, breakable: false, "
                     "stroke: none, inset: 0pt)[]")
        cells += [f"table.cell(x: {len(tracks)}, y: {r + offset}, breakable: true, stroke: none, inset: 0pt)[]"
                  for r, breaks in enumerate(breaking) if breaks]  # as in spanned_cells
    return f"#table-of({settings}, {', '.join(cells)})\n\n"


# --- the document -------------------------------------------------------------------------------------


@functools.cache
def template() -> str:
    return (resources.files("evaltools") / "templates" / "typst" / "report.typ").read_text(encoding="utf-8")


def font_array(families: Sequence[str]) -> str:
    return "(" + "".join(f"{literal(f)}, " for f in families) + ")"


def _points(value: float | None, unit: str) -> str:
    return "none" if value is None else f"{value:g}{unit}"


def role_entry(style: Style) -> str:
    """One style role as the PDF sets it (its ``pdf`` overrides applied), a Typst dictionary."""
    font, align = style.in_pdf("font"), style.in_pdf("align")
    return (f"(font: {literal(font) if font else 'none'}, size: {_points(style.in_pdf('size'), 'pt')}, "
            f"bold: {_bool(style.in_pdf('bold'))}, align: {_ALIGNMENTS[align] if align else 'none'}, "
            f"justify: {_bool(align == 'justify')}, indent: {_points(style.in_pdf('indent'), 'em')})")


def roles() -> str:
    """``#let roles = (…)``: every style role of :data:`typography.STYLES`, read by the template."""
    entries = "".join(f"  {literal(name)}: {role_entry(style)},\n" for name, style in typography.STYLES.items())
    return f"#let roles = (\n{entries})\n"


@dataclass(frozen=True)
class Source:
    """A report as Typst source: its markup, and the files it reads (its images, by name)."""

    markup: str
    files: Mapping[str, bytes]


def document(parts: Iterable[Any], fonts: Mapping[str, Sequence[str]], title: str = "",
             edition: str = "submission", draft: str | None = None) -> Source:
    """The whole report as one Typst source: the fonts, the style roles, the template, then every
    part in order; ``draft`` (the 草稿 mark, see ``writers.draft``) at the head of every page when given."""
    parts = list(parts)
    ctx = Context(edition, closing=figures_before_a_page(parts, edition))
    body = blocks(parts, ctx)
    cover = any(isinstance(p, Section) and "cover" in (p.style or "").split() for p in parts)
    head = ("#let fonts = (" + "".join(f"{role}: {font_array(stack)}, " for role, stack in fonts.items()) + ")\n"
            + roles() + f"#let title = {literal(title)}\n"
            f"#let draft = {literal(draft) if draft else 'none'}\n#let has-cover = {_bool(cover)}\n")
    return Source(head + template() + "\n" + body, ctx.files)
