"""Text as a report's files can hold it: the control characters XML (hence Excel and Word) cannot
hold, and the format characters that change how the text around them shows, dropped from what
is read (Word's breaks kept as line breaks), and named where a file holds them (the CONTROL-CHAR
checks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# Characters XML (hence Excel and Word files) cannot hold, and the C1 controls that show as
# nothing: Word pastes some of them (U+000B for a line break kept in its paragraph, U+000C for a
# page break, U+0007 for a cell's end); and the format characters that change how the text
# around them shows: the bidirectional embeddings, overrides, isolates and marks (金额12345元
# shown as 元54321额金: text read in another order than it was written) and the line and paragraph
# separators (U+2028, U+2029: a break the line before which is spread to the full width). Text is
# kept without them (see the CONTROL-CHAR check).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069\ufffe\uffff\ud800-\udfff]")
# Word's line and page breaks, the next line (U+0085) and the separators become a line break; the others are dropped.
BREAKS = "\x0b\x0c\x85\u2028\u2029"


def without_control(text: str) -> str:
    """``text`` as reports and workbooks can hold it: Word's breaks a line break, other control characters dropped."""
    return CONTROL.sub(lambda m: "\n" if m.group() in BREAKS else "", text)


def printable(data: Any) -> Any:
    """``data`` (values as read: mappings, lists, texts) with every text :func:`without_control`."""
    if isinstance(data, str):
        return without_control(data) if CONTROL.search(data) else data
    if isinstance(data, dict):
        return {key: printable(value) for key, value in data.items()}
    if isinstance(data, list):
        return [printable(value) for value in data]
    return data


def read_texts(data: Any, loc: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every piece of text in a file's values as read (before the model cleans them), with where it sits."""
    if isinstance(data, str):
        yield loc, data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from read_texts(value, loc + (key,))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            yield from read_texts(item, loc + (i,))


# What the checks that name control characters rest on.
CONTROL_BASIS = "evaltools：Excel、Word 和 PDF 都容不下控制字符；报告照常生成，但文件应当改正"


def control_findings(data: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Each text of ``data`` (a file's values as read) with control characters, and what the
    report made of them (:func:`without_control`): the words of the checks that name them."""
    for loc, text in read_texts(data):
        found = list(dict.fromkeys(CONTROL.findall(text)))
        if found:
            codes = "、".join(f"U+{ord(c):04X}" for c in found[:5]) + ("等" if len(found) > 5 else "")
            breaks = "、".join(f"U+{ord(c):04X}" for c in found if c in BREAKS)
            done = (f"已将 {breaks} 按换行排版" + ("、其余删去" if len(breaks) < len(codes) else "")) if breaks else "已删去"
            yield loc, f"含有不可见的控制字符 {codes}（常见于从 Word 粘贴的文字），报告中{done}：请在文件中删除它们"
