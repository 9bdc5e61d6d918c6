"""Narrative Markdown as Typst markup (CommonMark, as the HTML reads it): text as string
literals, an image named, never fetched."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from typing import Any

from evaltools.document import typography
from evaltools.document.parts import Cell, Row, Span, Table
from evaltools.domain.markup import parse
from evaltools.writers.typst_lines import BODY_WIDTH, content_tracks, content_widths, tall
from evaltools.writers.typst_text import CONTROL, code, image, literal, long_run, text

# How the writer sets a table of the document model (typst.typeset): a Markdown table of plain
# cells is set as one, its columns reckoned from its cells as the report's own tables are.
SetTable = Callable[[Table], str]

# Narrative Markdown read as the HTML reads it (CommonMark, raw HTML off, a line break kept).
def markdown(source: str | None, files: dict[str, bytes], run: bool = False,
             set_table: SetTable | None = None) -> tuple[str, str | None]:
    """Narrative Markdown as Typst: paragraphs, lists, emphasis, tables, code as text; an image
    is named, never fetched (as in the HTML), but one given in the text itself (a ``data:`` URI),
    which goes into ``files`` (see :func:`evaltools.writers.typst_text.image`).

    Also whether it ends in blocks kept with what follows (headings, or headings written as
    text): "whole" where it is all such blocks, "end" where it ends in them, else None. The
    first of them marks its place, as the first of a run of such blocks does (see the template's
    mark-block), unless they are the whole Markdown and a ``run`` of them goes on before it."""
    if not source:
        return "", None
    tokens = parse(CONTROL.sub("", source))
    kept = _kept(tokens)
    last = _kept_last(tokens, kept)
    ends = None if last is None else "whole" if last == 0 else "end"
    mark = None if ends is None or run and ends == "whole" else last
    return _md_blocks(tokens, files, kept, mark, set_table) + "\n\n", ends


# The most blocks in a row kept with what follows (headings, headings written as text): those
# before them in a longer run end a page where it falls, as paragraphs do; kept together, a run of
# fourteen headings left the page before it half empty. A heading longer than two lines is no
# heading a page should be left empty for: it is set as a paragraph is, and breaks where it falls.
KEPT_RUN = 3
LONG_HEADING = 56


def _kept(tokens: Sequence[Any]) -> set[int]:
    """The opening tokens of the top-level blocks kept with what follows (see :data:`KEPT_RUN`)."""
    runs: list[list[int]] = [[]]
    for i, token in enumerate(tokens):
        if token.level != 0 or token.nesting != 1 and token.type not in ("fence", "code_block", "hr"):
            continue  # a block's inner tokens and its end; a fence, a code block and a rule open and end at once
        heading = token.type == "heading_open" and len(tokens[i + 1].content) <= LONG_HEADING
        if heading or token.type == "paragraph_open" and _heading_like(tokens[i + 1]):
            runs[-1].append(i)
        elif runs[-1]:
            runs.append([])
    return {i for run in runs for i in run[-KEPT_RUN:]}


def _kept_last(tokens: Sequence[Any], kept: set[int]) -> int | None:
    """Where the Markdown's last blocks kept with what follows begin (the index of the first's
    opening token), if it ends in such blocks."""
    first, end = None, len(tokens)
    while end >= 3 and end - 3 in kept:  # a heading's or a paragraph's three tokens
        first = end = end - 3
    return first


# The Markdown tokens that are the same markup wherever they come: inline, then between blocks.
_INLINE_MARKUP = {"softbreak": "#linebreak()", "hardbreak": "#linebreak()", "strong_open": "#strong[",
                  "em_open": "#emph[", "strong_close": "]", "em_close": "]"}
_BLOCK_MARKUP = {"paragraph_close": "\n\n", "heading_open": "#md-heading[#strong[", "heading_close": "]]\n\n",
                 "blockquote_open": "#pad(left: 2em)[", "blockquote_close": "]\n\n",
                 "hr": "#line(length: 100%, stroke: 0.5pt)\n\n"}


def _md_inline(tokens: Sequence[Any], files: dict[str, bytes]) -> str:
    out: list[str] = []
    for token in tokens:
        kind = token.type
        if kind in _INLINE_MARKUP:
            out.append(_INLINE_MARKUP[kind])
        elif kind == "text":
            out.append(text(token.content))
        elif kind == "code_inline":
            out.append(code(token.content))
        elif kind == "image":
            src = str(token.attrGet("src") or "")
            alt = "".join(child.content for child in token.children or [])
            if src.startswith("data:image/") and ";base64," in src:
                try:
                    out.append(f"#box({image(base64.b64decode(src.split(',', 1)[1]), alt, files)})")
                    continue
                except ValueError:
                    pass
            out.append(text(f"[图片：{alt} {src}]"))
        # link_open/close: the link's text is shown, the address is not followed
    return "".join(out)


def _md_blocks(tokens: Sequence[Any], files: dict[str, bytes], kept: set[int] | None = None, mark: int | None = None,
               set_table: SetTable | None = None) -> str:
    """The blocks of ``tokens``, those opened at ``kept`` kept with what follows (None: every
    heading, and every heading written as text: a list item's); the one whose opening token is
    at ``mark`` marks its place."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            args = ", ".join([*(["mark: true"] if i == mark else []), *([] if kept is None or i in kept else ["sticky: false"])])
            out.append(f"#md-heading({args})[#strong[" if args else _BLOCK_MARKUP[kind])
        elif kind in _BLOCK_MARKUP:
            out.append(_BLOCK_MARKUP[kind])
        elif kind == "inline":
            out.append(_md_inline(token.children or [], files))
        elif kind == "paragraph_open" and (i in kept if kept is not None else i + 2 < len(tokens) and _heading_like(tokens[i + 1])):
            marked = "(mark: true)" if i == mark else ""
            out.append(f"#keep-with-next{marked}[{_md_inline(tokens[i + 1].children or [], files)}]\n\n")
            i += 2  # its text and its end
        elif kind in ("bullet_list_open", "ordered_list_open"):
            end = _closing(tokens, i)
            out.append(_md_list(tokens[i:end + 1], files, set_table))
            i = end
        elif kind == "table_open":
            end = _closing(tokens, i)
            out.append(_md_table(tokens[i:end + 1], files, set_table))
            i = end
        elif kind in ("fence", "code_block"):
            out.append(f"#block(above: 0.5em, below: 0.5em, {_code_block(token.content)})\n\n")
        i += 1
    return "".join(out)


# A paragraph that is a 公文 heading written as text (「五、附件」, 「（一）依据」): short, no sentence.
_HEADING_LIKE = re.compile(r"([一二三四五六七八九十]+、|（[一二三四五六七八九十]+）)[^。；！？]{0,30}")


def _heading_like(token: Any) -> bool:
    return token.type == "inline" and _HEADING_LIKE.fullmatch(token.content.strip()) is not None


def _closing(tokens: Sequence[Any], start: int) -> int:
    depth = 0
    for j in range(start, len(tokens)):
        depth += tokens[j].nesting
        if depth == 0:
            return j
    return len(tokens) - 1


def _code_block(source: str) -> str:
    """A block of code as written; where a line holds a run longer than RUN characters (a key,
    an address), its lines set by the template's `breaking`, so that none runs off the page
    (nothing added: the text copied is the code)."""
    if not long_run(source):
        return f"raw({literal(source)}, block: true)"
    lines = (f"#breaking({literal(line)}, code: true)" for line in source.rstrip("\n").split("\n"))
    return f"[{'#linebreak()'.join(lines)}]"


def _md_list(tokens: Sequence[Any], files: dict[str, bytes], set_table: SetTable | None = None) -> str:
    kind = "enum" if tokens[0].type == "ordered_list_open" else "list"
    items, i = [], 1
    while i < len(tokens) - 1:
        if tokens[i].type == "list_item_open":
            end = _closing(tokens, i)
            items.append("[" + _md_blocks(tokens[i + 1:end], files, set_table=set_table).strip() + "]")
            i = end
        i += 1
    return f"#block(above: 0.3em, below: 0.3em, {{ set par(first-line-indent: 0em); {kind}({', '.join(items) or '[]'}) }})\n\n"


# The inline tokens a cell set as the report's own holds: text, line breaks, bold and emphasis,
# code, and a link's text (its address is not followed); not an image.
_PLAIN_CELL = frozenset({"text", "softbreak", "hardbreak", "strong_open", "strong_close", "em_open", "em_close",
                         "code_inline", "link_open", "link_close", "s_open", "s_close"})
_ALIGNED = {"text-align:right": "num", "text-align:center": "center"}


def _md_table(tokens: Sequence[Any], files: dict[str, bytes], set_table: SetTable | None = None) -> str:
    """A Markdown table. One of text cells (text, bold, emphasis, code, links' text, line breaks)
    is set as the report's own tables are (``set_table``): its columns as wide as its cells need, each number whole with
    its unit, no character alone on a cell's last line. Any other: each row on one page, but a
    row that may not fit on one (a cell of a fifth of a page or more), which breaks: kept
    whole, it would run off the page's foot and lose its text; its columns reckoned from the
    cells' text as well."""
    rows: list[list[tuple[Any, Any]]] = []  # (the cell's opening token, its inline token)
    head = 0
    for i, token in enumerate(tokens):
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "thead_close":
            head = len(rows)
        elif token.type in ("th_open", "td_open") and rows:
            rows[-1].append((token, tokens[i + 1]))
    columns = max((len(r) for r in rows), default=1)
    model = Table([_row(r, columns, False) for r in rows[head:]], head=[_row(r, columns, True) for r in rows[:head]])
    size = typography.STYLES["cell"].in_pdf("size")
    if set_table is not None and all(t.type in _PLAIN_CELL for r in rows for _, inline in r for t in inline.children or []):
        widths = content_widths(model, size, BODY_WIDTH)
        if sum(widths) >= BODY_WIDTH:  # its cells break into lines: widths given, widened where one would end on a character
            model.widths = [w / sum(widths) * 100 for w in widths]
        return set_table(model)
    tracks = content_tracks(model, size, BODY_WIDTH)
    cells = []
    for row in rows:
        breaks = any(tall(inline.content, BODY_WIDTH / columns, size) for _, inline in row)
        bodies = [_md_inline(inline.children or [], files) for _, inline in row]
        cells += [f"table.cell(breakable: true)[{body}]" if breaks else f"[{body}]" for body in bodies]
        cells += ["[]"] * (columns - len(row))
    return (f'#table-of(role("cell").size, 0.5em, (x: 1.2mm, y: 1mm), true, 0.3em, 0.6em, ({", ".join(tracks)},), '
            f'{", ".join(cells)})\n\n')


def _row(cells: Sequence[tuple[Any, Any]], columns: int, header: bool) -> Row:
    """A Markdown table's row as the document model's: its cells' text (bold as bold, emphasis and
    code as theirs), aligned as written."""
    out = []
    for opening, inline in cells:
        content: list[Any] = []
        bold, emphasis = False, False
        for token in inline.children or []:
            if token.type in ("strong_open", "strong_close"):
                bold = token.type == "strong_open"
            elif token.type in ("em_open", "em_close"):
                emphasis = token.type == "em_open"
            elif token.type in ("softbreak", "hardbreak"):
                content.append("\n")
            elif token.type in ("text", "code_inline"):
                style = "code" if token.type == "code_inline" else "emphasis" if emphasis else None
                content.append(Span(token.content, bold=bold, style=style) if bold or style else token.content)
        out.append(Cell(content, header=header, style=_ALIGNED.get(str(opening.attrGet("style") or ""))))
    return Row(out + [Cell([], header=header) for _ in range(columns - len(cells))])
