"""Text and images as Typst markup: every text a string literal (``#"…"``), never markup, so
nothing of a report is evaluated as Typst code; a number kept on one line with its unit."""

from __future__ import annotations

import hashlib
import io
import re

import PIL.Image

from evaltools.writers.pdf_engine import shows_image
from evaltools.document.line_breaks import CLOSING, LONG_RUN, glued_pattern

# C0/C1 controls but tab and newline, lone surrogates, and the bidirectional controls: nothing a
# PDF can show or Typst read, or what would show text in an order other than written.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The line and paragraph separators: a plain line break (Typst spreads the line before U+2028 to the full width).
_SEPARATORS = re.compile("[\u2028\u2029]")
_CLOSING = re.compile(f"[{CLOSING}]*")


def long_run(text: str) -> bool:
    """Whether ``text`` holds a run with nowhere to break a line (line_breaks.LONG_RUN: Latin
    letters, digits, signs, longer than RUN characters), which Typst would set past the page's
    edge or a cell's rule: set by the template's `breaking`, a box a character (no character
    added: the text copied is the text)."""
    return LONG_RUN.search(text) is not None


def code(text: str) -> str:
    """Inline code as Typst markup: raw, its text unchanged; a long run set to break (see :func:`long_run`)."""
    return f"#breaking({literal(text)}, code: true)" if long_run(text) else f"#raw({literal(text)})"


def _plain(value: str) -> str:
    """Text without numbers to glue, as string literals; a long run as boxes (see LONG_RUN)."""
    out, last = [], 0
    for match in LONG_RUN.finditer(value):
        if match.start() > last:
            out.append(f"#{literal(value[last:match.start()])}")
        out.append(f"#breaking({literal(match[0])})")
        last = match.end()
    if last < len(value):
        out.append(f"#{literal(value[last:])}")
    return "".join(out)


def literal(text: object) -> str:
    """``text`` as a Typst string literal: shown as it is, never evaluated."""
    clean = _SEPARATORS.sub("\n", CONTROL.sub("", str(text)))
    escaped = clean.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "").replace("\t", " ")
    return f'"{escaped}"'


def text(value: object) -> str:
    """Plain text as Typst markup: string literals, each number boxed with its unit, a long run
    given places to break."""
    value = CONTROL.sub("", str(value))
    out, last = [], 0
    for match in glued_pattern(value).finditer(value):
        if match.start() > last:
            out.append(_plain(value[last:match.start()]))
        # Punctuation that may not start a line goes into the box, and a bracket into it too: beside
        # a box, Typst may break where text may not (「106.62万元」 ending a line, 「；」 starting the
        # next). A zero-width box at each end keeps Typst from setting the box's first bracket or
        # last punctuation half-width, as it sets them at a line's start or end.
        end = match.end() + len(_CLOSING.match(value, match.end()).group())
        glued = value[match.start():end]
        opening = "#\"（\"" if glued.startswith("（") else ""  # Typst sets it half-width at a line's start
        glued = glued.removeprefix("（")
        guard = "#box(width: 0pt)" if _CLOSING.fullmatch(glued[-1]) else ""
        out.append(f"{opening}#box[#{literal(glued)}{guard}]" if guard else f"{opening}#box({literal(glued)})")
        last = end
    if last < len(value):
        out.append(_plain(value[last:]))
    return "".join(out)


def is_svg(data: bytes) -> bool:
    return data.lstrip()[:5] in (b"<?xml", b"<svg ") or data.lstrip()[:4] == b"<svg"


def _raster(data: bytes) -> str | None:
    """The file extension Typst knows a raster image by, if it decodes (a broken one, or one of a
    format Typst does not read, is named in the PDF instead of failing it)."""
    try:
        with PIL.Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            return RASTERS.get(picture.format or "")
    except Exception:  # noqa: BLE001  (whatever Pillow raises: not an image Typst can show)
        return None


# Pillow's name of a format → the extension Typst reads it by.
RASTERS = {"PNG": "png", "JPEG": "jpg", "GIF": "gif", "WEBP": "webp"}


def image(data: bytes, alt: str, files: dict[str, bytes], width: str = "100%") -> str:
    """An image from its bytes: put in ``files`` (compiled beside the source, see
    :func:`evaltools.writers.pdf_engine.compile_pdf`) under a name made of its content, and named
    in the markup; nothing is read from the disk or the network. Typst reads an image file at
    once, and a PNG written in the source as an array of its bytes takes it longer to parse than
    to lay out the pages (a 23-page overview: 0.19 s of 0.49 s). One that does not decode, or
    that Typst cannot set (a narrative's, a cell's output: anyone's bytes), as its alt text.
    ``width``: Typst's, a length or a name the markup around it binds."""
    kind = "svg" if is_svg(data) else _raster(data)
    if kind is None or not shows_image(data, kind):
        return f"[{text(f'[图片：{alt}]')}]"
    name = f"/{hashlib.sha256(data).hexdigest()[:32]}.{kind}"
    files[name] = data
    return f'image({literal(name)}, width: {width}, alt: {literal(alt)})'
