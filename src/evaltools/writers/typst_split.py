"""A table too wide for its page even at the smallest size the PDF sets a table in: set as
several tables, one under the other, each with some of its columns and its label columns again,
as a printer sets a wide table on a portrait page; rather than its numbers set over each other
and past the margin (forty columns of 12,345.67 at 小六).

A part of the document model in, parts of it out: the Typst writer sets each as it sets any
table, all at one size. An official form is never split: its layout is the form's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

from evaltools.document.parts import Cell, Table, grid, plain_text
from evaltools.writers.typst_lines import SMALLEST, column_ems, holds, is_figure

# The label columns are set again beside each share where they take at most this share of the width.
_LABEL_SHARE = 0.3
# A cell that counts the rows (序号).
_COUNT = re.compile(r"\s*\d{1,4}[.、]?\s*")
# The ems a column of text is given in a share: a few characters a line more than where the
# table is only set smaller (a 说明 of eighty characters beside seventeen amounts went two a line).
_SHARE_TEXT_EMS = 8


@dataclass(frozen=True)
class Shares:
    """A table as the tables it is set as, and the size they are all set in (None: as one table)."""

    tables: list[Table]
    size: float | None = None


def column_groups(part: Table, size: float, width: float, ems: Sequence[float]) -> Shares:
    """``part`` as the tables it is set as in ``width`` points: itself where its columns are held
    at :data:`SMALLEST` (it is then set smaller where it must, see
    :func:`evaltools.writers.typst_lines.fitting_size`); else the fewest tables that are, each of
    consecutive columns beside the label columns, at the largest size that needs no more of them
    (the cells' ``size`` at most), which they are all set in. ``ems``: its columns' least widths
    (:func:`evaltools.writers.typst_lines.column_ems`)."""
    # (held with nothing to spare: twelve columns of 12,345.67 are set at 小六 on one line, not cut in two)
    if "form" in part.style.split() or len(ems) < 2 or holds(ems, SMALLEST, width, spare=0):
        return Shares([part])
    placed, _ = grid(part.head + part.rows)
    labels = _labels(part, placed, ems, width)
    cuts = _cuts(part, placed, len(ems))
    ems = column_ems(part, text=_SHARE_TEXT_EMS)
    fewest = _groups(ems, labels, cuts, SMALLEST, width)
    at = SMALLEST
    while at + 0.5 <= size and len(_groups(ems, labels, cuts, at + 0.5, width)) == len(fewest):
        at += 0.5
    groups = _groups(ems, labels, cuts, at, width)
    if len(groups) < 2:
        return Shares([part])
    return Shares([_of_columns(part, placed, labels, group, len(ems)) for group in groups], at)


def _labels(part: Table, placed: list[tuple[int, int, Cell]], ems: Sequence[float], width: float) -> list[int]:
    """The columns that name the rows, set again beside each share: the first where few of its
    body cells are numbers, or where it counts the rows (序号), with the second where that names
    them. None where they would take too much of the width."""
    heads = len(part.head)

    def body(x: int) -> list[str]:
        return [plain_text(c.content) for r, at, c in placed if at == x and r >= heads and c.colspan == 1]

    def naming(texts: list[str]) -> bool:
        return bool(texts) and sum(map(is_figure, texts)) * 2 < len(texts)

    first = body(0)
    if naming(first):
        labels = [0]
    elif first and all(_COUNT.fullmatch(t) or not t.strip() for t in first):
        labels = [0, 1] if len(ems) > 2 and naming(body(1)) else [0]
    else:
        return []
    return labels if holds([ems[x] for x in labels], SMALLEST, width * _LABEL_SHARE) else []


def _cuts(part: Table, placed: list[tuple[int, int, Cell]], columns: int) -> set[int]:
    """The columns a share may begin at: none of the body's merged cells runs across the cut (a
    heading's merged cell is set again on each side: it names the columns below it)."""
    heads = len(part.head)
    crossed = {x + k for r, x, c in placed if r >= heads for k in range(1, c.colspan)}
    return set(range(1, columns)) - crossed


def _groups(ems: Sequence[float], labels: list[int], cuts: set[int], size: float, width: float) -> list[list[int]]:
    """The other columns in runs that each fit beside the ``labels`` at ``size``: each cut where
    the run after it still fits, at a cut where one does, else anywhere (a note merged across
    every column is then cut too)."""
    groups: list[list[int]] = []
    current: list[int] = []
    for x in (x for x in range(len(ems)) if x not in labels):
        if current and not holds([ems[i] for i in [*labels, *current, x]], size, width):
            fitting = [i for i in range(1, len(current) + 1) if (current[i] if i < len(current) else x) in cuts
                       and holds([ems[k] for k in [*labels, *current[i:], x]], size, width)]
            at = max(fitting, default=len(current))
            groups.append(current[:at])
            current = current[at:]
        current.append(x)
    return [*groups, current] if current else groups


def _of_columns(part: Table, placed: list[tuple[int, int, Cell]], labels: list[int], group: list[int],
                columns: int) -> Table:
    """The table of the ``labels`` and ``group`` columns of ``part``: each cell clipped to them (a
    merged cell spans those it covers), its heading rows as they are. A merged cell of the body
    cut across says what it says once, where its columns other than the labels begin, unless it
    begins in the labels and does not run across the whole table (合计 over two label columns is
    set beside every share; a note under every column, once); a row of the body with nothing to
    say in this share is left out of it."""
    kept = set([*labels, *group])
    heads = len(part.head)
    rows: list[list[Cell]] = [[] for _ in part.head + part.rows]
    said = [r < heads for r in range(len(rows))]
    covered: set[int] = set()  # rows a cell of this share spans into from a row above
    for r, x, c in sorted(placed, key=lambda item: (item[0], item[1])):
        span = len(kept & set(range(x, x + c.colspan)))
        if not span:
            continue
        own = [y for y in range(x, x + c.colspan) if y not in labels]
        says = r < heads or not own or own[0] in kept or (x in labels and c.colspan < columns)
        rows[r].append(dataclasses.replace(c, colspan=span, content=c.content if says else []))
        said[r] = said[r] or says or c.rowspan > 1
        covered.update(range(r + 1, r + c.rowspan))
    made = [dataclasses.replace(row, cells=cells) for row, cells in zip(part.head + part.rows, rows, strict=True)]
    body = [row for r, row in enumerate(made[heads:], heads) if said[r] or r in covered]
    # its widths reckoned from its own cells: shares of the whole's would leave a column of text
    # as narrow as the whole squeezed it
    return dataclasses.replace(part, head=made[:heads], rows=body, widths=[])
