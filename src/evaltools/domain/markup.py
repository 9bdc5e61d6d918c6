"""HTML fragments for the report: everything from the parameters is escaped exactly once.

A :class:`Html` is trusted markup built here; any other string is text and gets escaped
when it is put into one. Narrative fields are Markdown with raw HTML switched off, so a
``<script>`` in a parameter file is shown as text and runs nowhere, and an image that is not
inline data (``![](http://…)``) is shown as text too: a report never loads anything from
the network, in the browser or in the PDF.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from markdown_it import MarkdownIt
from markdown_it.token import Token

from evaltools.domain.control_chars import CONTROL, without_control

# CommonMark without raw HTML; a single line break inside a paragraph is kept as a break,
# as people writing Chinese expect (a soft break would show as a space between characters).
_MARKDOWN = MarkdownIt("commonmark", {"html": False, "breaks": True, "typographer": False}).enable("table")
# A text's lines as paragraphs, and nothing else read as Markdown.
_PLAIN = MarkdownIt("zero", {"breaks": True}).enable("newline")
# What a text says, as against its Markdown: its Chinese characters and its Latin letters.
_WORDS = re.compile(r"[A-Za-z\u3400-\u9fff\uf900-\ufaff]")


def parse(text: str) -> list[Token]:
    """A narrative's Markdown as markdown-it's tokens, for every edition's writer (HTML, PDF,
    Word). Where the parser left some of the text out (lists or quotes nested past its limit:
    markdown-it drops the rest of the text), the text's lines as plain paragraphs instead:
    nothing a unit wrote is lost."""
    env: dict = {}
    tokens = _MARKDOWN.parse(text, env)
    deepest = max((t.level for token in tokens for t in (token, *(token.children or []))), default=0)
    if deepest >= _MARKDOWN.options["maxNesting"] - 1:  # the limit reached: some text may be left out
        read = [token.content for token in tokens] + [token.info for token in tokens] + [  # and the links defined
            f"{label}{ref.get('href', '')}{ref.get('title', '')}" for label, ref in env.get("references", {}).items()]
        kept = sum(len(_WORDS.findall(words)) for words in read)
        tokens = tokens if kept >= len(_WORDS.findall(text)) else _PLAIN.parse(text)
    return _printable(tokens)


def _printable(tokens: list[Token]) -> list[Token]:
    """The tokens' texts without the control characters a parameter file's are cleaned of
    (:data:`evaltools.domain.control_chars.CONTROL`): a character reference (``&#x202e;``) decodes to one."""
    for token in tokens:
        for child in token.children or ():
            if CONTROL.search(child.content):
                child.content = without_control(child.content)
    return tokens


def _is_inline_image(src: str) -> bool:
    return src.startswith("data:image/")


def _image_as_text(renderer, tokens, idx, options, env) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    if _is_inline_image(src):
        return renderer.image(tokens, idx, options, env)
    alt = renderer.renderInlineAsText(token.children or [], options, env)
    return f'<span class="image-link">[图片：{html.escape(alt)} {html.escape(src)}]</span>'


_MARKDOWN.add_render_rule("image", _image_as_text)


def linked_images(text: str | None) -> list[str]:
    """The addresses of the images a Markdown text shows that are not inline data (remote
    URLs, files): a report cannot show them, it never fetches anything."""
    if "![" not in (text or ""):  # every Markdown image starts so (raw HTML is off): most texts need no parse
        return []
    found = []
    for block in parse(text):
        for token in block.children or []:
            src = str(token.attrGet("src") or "") if token.type == "image" else ""
            if token.type == "image" and not _is_inline_image(src):
                found.append(src)
    return found


class Html(str):
    """Markup that is safe to emit as is; displays as HTML in a notebook."""

    def _repr_html_(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        # The text/plain twin of a notebook output: a short stand-in, not the markup again.
        printer.text(f"<HTML，{len(self)} 字符>")

    def __add__(self, other: str) -> Html:
        return Html(str(self) + str(escape(other)))


def escape(content: object) -> Html:
    """``content`` as HTML: trusted :class:`Html` as is, anything else as escaped text."""
    if isinstance(content, Html):
        return content
    if content is None:
        return Html("")
    return Html(html.escape(str(content), quote=True))


def join(parts: Iterable[object], separator: str = "") -> Html:
    return Html(escape(separator).join(escape(part) for part in parts))


_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


def tag(name: str, *content: object, **attrs: object) -> Html:
    """``<name attrs>content</name>`` (a void element such as ``col`` or ``img`` has no end tag);
    ``class_`` stands for ``class``; None/False attrs are left out."""
    rendered = "".join(
        f' {key.rstrip("_").replace("_", "-")}="{html.escape(str(value), quote=True)}"'
        for key, value in attrs.items()
        if value is not None and value is not False
    )
    if name in _VOID:
        return Html(f"<{name}{rendered}>")
    return Html(f"<{name}{rendered}>{join(content)}</{name}>")


def markdown(text: str | None) -> Html:
    """Narrative Markdown as HTML; raw HTML in it is shown as text."""
    return Html(_MARKDOWN.renderer.render(parse(text), _MARKDOWN.options, {})) if text else Html("")
