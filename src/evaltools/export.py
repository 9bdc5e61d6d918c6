"""Exporting an executed report notebook to HTML, an A4 PDF and Word, in-process.

A thin layer over the nbconvert exporters of ``evaltools.exporters`` (the same that
``jupyter nbconvert --to evaltools_pdf`` uses): everything is made in memory first, then
written atomically. Nothing here executes.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import nbformat

from evaltools.errors import RenderError
from evaltools.exporters import HtmlReportExporter, WordReportExporter
from evaltools.exporters.pdf_report import CJK_FONT_MISSING, cjk_fonts_installed, html_to_pdf
from evaltools.files import write_atomic
from evaltools.formats import DEFAULT_FORMATS, check_formats



@functools.cache
def _html_exporter() -> HtmlReportExporter:
    return HtmlReportExporter()


@functools.cache
def _word_exporter() -> WordReportExporter:
    return WordReportExporter()


def to_html(notebook: nbformat.NotebookNode) -> str:
    """The report as one self-contained HTML page: no code, no scripts, no network."""
    return _html_exporter().from_notebook_node(notebook)[0]


def to_pdf(html: str) -> bytes:
    """The HTML page as an A4 PDF with embedded CJK fonts (what ``evaltools_pdf`` does)."""
    return html_to_pdf(html)


def to_docx(notebook: nbformat.NotebookNode) -> bytes:
    """The report as an editable Word document."""
    return _word_exporter().from_notebook_node(notebook)[0]


def warm_up() -> None:
    """Load the exporters before the first report: nbconvert's template compiled, WeasyPrint
    with the Chinese fonts it will embed already read."""
    to_pdf(to_html(nbformat.v4.new_notebook()).replace("</body>", "<p>预热 <b>预热</b></p></body>"))


def made_from(notebook: nbformat.NotebookNode, formats: Sequence[str],
              seconds: dict[str, float] | None = None) -> tuple[dict[str, bytes | str], list[str]]:
    """The HTML, PDF and/or Word of an executed notebook, in memory, with any warning for the
    user; the time each took goes into ``seconds``."""
    made: dict[str, bytes | str] = {}
    warnings: list[str] = []
    seconds = {} if seconds is None else seconds
    if "html" in formats or "pdf" in formats:
        started = time.perf_counter()
        html = to_html(notebook)
        seconds["html"] = time.perf_counter() - started
        if "html" in formats:
            made["html"] = html
        if "pdf" in formats:
            started = time.perf_counter()
            made["pdf"] = to_pdf(html)  # from the same page: the PDF exporter's own way, without a second HTML pass
            seconds["pdf"] = time.perf_counter() - started
            if not cjk_fonts_installed():
                warnings.append(CJK_FONT_MISSING)
    if "docx" in formats:
        started = time.perf_counter()
        made["docx"] = to_docx(notebook)
        seconds["docx"] = time.perf_counter() - started
    return made, warnings


def write_all(folder: Path, name: str, made: dict[str, bytes | str]) -> dict[str, Path]:
    written = {}
    for kind, data in made.items():
        written[kind] = folder / f"{name}.{kind}"
        write_atomic(written[kind], data)
    return written


def render(notebook: nbformat.NotebookNode, folder: Path, formats: Iterable[str] = DEFAULT_FORMATS,
           name: str = "report") -> dict[str, Path]:
    """Write the HTML, PDF and/or Word of an executed notebook into ``folder``."""
    formats = check_formats(formats)
    return write_all(folder, name, made_from(notebook, formats)[0])


def render_file(executed_path: Path | str, formats: Iterable[str] = DEFAULT_FORMATS) -> dict[str, Path]:
    """Render an executed notebook again, without executing it."""
    executed_path = Path(executed_path)
    try:
        notebook = nbformat.read(executed_path, as_version=4)
    except FileNotFoundError:
        raise RenderError(f"{executed_path}：文件不存在") from None
    except Exception as exc:
        raise RenderError(f"{executed_path}：不是可读的笔记本（{exc}）") from None
    return render(notebook, executed_path.parent, formats, name=executed_path.stem)
