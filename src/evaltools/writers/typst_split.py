"""A table too wide for its page even at the smallest size the PDF sets a table in: set as
several tables, one under the other, each with some of its columns and its label column again,
as a printer sets a wide table on a portrait page; rather than its numbers set over each other
and past the margin (forty columns of 12,345.67 at 小六).

A part of the document model in, parts of it out: the Typst writer sets each as it sets any
table. An official form is never split: its layout is the form's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from evaltools.document.parts import Cell, Table, grid, plain_text
from evaltools.writers.typst_lines import SMALLEST, holds

# A label column is repeated in each table where it takes at most this share of the width.
_LABEL_SHARE = 0.3
# A cell that reads as a number (a label column has few).
_NUMBER = re.compile(r"\s*[-−+±≥≤<>（(]?\s*\d")


def column_groups(part: Table, size: float, width: float, ems: Sequence[float]) -> list[Table]:
    """``part`` as the tables it is set as in ``width`` points: itself where its columns are held
    at :data:`SMALLEST` (it is then set smaller where it must, see
    :func:`evaltools.writers.typst_lines.fitting_size`); else the fewest tables that are, each of
    consecutive columns, begun after the label column, at the largest size that needs no more
    of them (the cells' ``size`` at most). ``ems``: its columns' least widths (:func:`column_ems`)."""
    # (held with nothing to spare: twelve columns of 12,345.67 are set at 小六 on one line, not cut in two)
    if "form" in part.style.split() or part.columns < 2 or holds(ems, SMALLEST, width, spare=0):
        return [part]
    placed, _ = grid(part.head + part.rows)
    labels = [0] if _label_column(part, placed, ems, width) else []
    cuts = _cuts(part, placed)
    fewest = _groups(ems, labels, cuts, SMALLEST, width)
    at = SMALLEST
    while at + 0.5 <= size and len(_groups(ems, labels, cuts, at + 0.5, width)) == len(fewest):
        at += 0.5
    groups = _groups(ems, labels, cuts, at, width)
    return [_of_columns(part, placed, labels, group) for group in groups] if len(groups) > 1 else [part]


def _label_column(part: Table, placed: list[tuple[int, int, Cell]], ems: Sequence[float], width: float) -> bool:
    """Whether the first column names the rows (few of its body cells are numbers) and is
    narrow enough to be set again beside each share of the others."""
    heads = len(part.head)
    first = [c for r, x, c in placed if x == 0 and r >= heads and c.colspan == 1]
    numbers = sum(bool(_NUMBER.match(plain_text(c.content))) for c in first)
    return bool(first) and numbers * 2 < len(first) and holds(ems[:1], SMALLEST, width * _LABEL_SHARE)


def _cuts(part: Table, placed: list[tuple[int, int, Cell]]) -> set[int]:
    """The columns a table may begin at: none of the body's merged cells runs across the cut (a
    heading's merged cell is set again on each side: it names the columns below it)."""
    heads = len(part.head)
    crossed = {x + k for r, x, c in placed if r >= heads for k in range(1, c.colspan)}
    return set(range(1, part.columns)) - crossed


def _groups(ems: Sequence[float], labels: list[int], cuts: set[int], size: float, width: float) -> list[list[int]]:
    """The other columns in runs that each fit beside the ``labels`` at ``size``, each begun at a
    cut where there is one (else anywhere: a note merged across every column)."""
    groups: list[list[int]] = []
    current: list[int] = []
    for x in (x for x in range(len(ems)) if x not in labels):
        if current and not holds([ems[i] for i in [*labels, *current, x]], size, width):
            at = max([i for i in range(1, len(current)) if current[i] in cuts] + ([len(current)] if x in cuts else []),
                     default=len(current))
            groups.append(current[:at])
            current = current[at:]
        current.append(x)
    return [*groups, current] if current else groups


def _of_columns(part: Table, placed: list[tuple[int, int, Cell]], labels: list[int], group: list[int]) -> Table:
    """The table of the ``labels`` and ``group`` columns of ``part``: each cell clipped to them (a
    merged cell spans those it covers), its rows and heading rows as they are. A merged cell of
    the body cut across (a note over every column) says what it says once, where its columns
    other than the labels begin."""
    columns = [*labels, *group]
    kept = set(columns)
    heads = len(part.head)
    rows: list[list[Cell]] = [[] for _ in part.head + part.rows]
    for r, x, c in sorted(placed, key=lambda item: (item[0], item[1])):
        span = len(kept & set(range(x, x + c.colspan)))
        own = [y for y in range(x, x + c.colspan) if y not in labels]
        if span:
            says = r < heads or not own or own[0] in kept
            rows[r].append(dataclasses.replace(c, colspan=span, content=c.content if says else []))
    total = sum(part.widths[x] for x in columns) if part.widths else 0
    widths = [part.widths[x] / total * 100 for x in columns] if total else []
    made = [dataclasses.replace(row, cells=cells) for row, cells in zip(part.head + part.rows, rows, strict=True)]
    return dataclasses.replace(part, head=made[:heads], rows=made[heads:], widths=widths)
