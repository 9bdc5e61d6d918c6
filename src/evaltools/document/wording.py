"""The reports' generated sentences, kept in Jinja2 templates rather than in Python.

``templates/wording/project.j2`` and ``department.j2`` hold one macro per sentence; the report
modules hand them figures already formatted (``evaltools.domain.formatting``) and get a paragraph
back. Changing a sentence is one edit in one file, and it changes in HTML, PDF and Word alike.
The templates are autoescaped, so text from a parameter file can never turn into markup; the
only markup a sentence may carry is <strong>, which becomes a bold run.
"""

from __future__ import annotations

import functools
from html.parser import HTMLParser
from importlib import resources
from typing import Any

import jinja2

from evaltools.document.parts import Inline, Paragraph, Span

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(resources.files("evaltools") / "templates" / "wording")),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=False,
)


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


@functools.cache
def _macros(report: str) -> Any:
    return _ENVIRONMENT.get_template(f"{report}.j2").module


def say(report: str, sentence: str, *args: Any, **kwargs: Any) -> list[Inline]:
    """The sentence ``sentence`` of ``report`` ("project" or "department") as text runs."""
    return runs(str(getattr(_macros(report), sentence)(*args, **kwargs)).strip())


def text(report: str, sentence: str, *args: Any, **kwargs: Any) -> str:
    """The sentence as plain text (titles, captions, table cells)."""
    return "".join(r if isinstance(r, str) else r.text for r in say(report, sentence, *args, **kwargs))


def paragraph(report: str, sentence: str, *args: Any, style: str | None = None, **kwargs: Any) -> Paragraph:
    return Paragraph(say(report, sentence, *args, **kwargs), style)
