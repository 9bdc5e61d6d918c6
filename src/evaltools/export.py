"""Exporting an executed report notebook to HTML, an A4 PDF and Word, in-process.

A thin layer over the nbconvert exporters of ``evaltools.exporters`` (the same that
``jupyter nbconvert --to evaltools_pdf`` uses): everything is made in memory first, then
written atomically. Nothing here executes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from pathlib import Path

import nbformat

from evaltools.errors import RenderError
from evaltools.exporters import HtmlReportExporter, WordReportExporter
from evaltools.exporters.pdf_report import CJK_FONT_MISSING, cjk_fonts_installed, html_to_pdf
from evaltools.files import write_atomic

FORMATS = ("html", "pdf", "docx")
DEFAULT_FORMATS = ("html", "pdf")


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


def made_from(notebook: nbformat.NotebookNode, formats: Sequence[str]) -> tuple[dict[str, bytes | str], list[str]]:
    """The HTML, PDF and/or Word of an executed notebook, in memory, with any warning for the user."""
    made: dict[str, bytes | str] = {}
    warnings: list[str] = []
    if "html" in formats or "pdf" in formats:
        html = to_html(notebook)
        if "html" in formats:
            made["html"] = html
        if "pdf" in formats:
            made["pdf"] = to_pdf(html)  # from the same page: the PDF exporter's own way, without a second HTML pass
            if not cjk_fonts_installed():
                warnings.append(CJK_FONT_MISSING)
    if "docx" in formats:
        made["docx"] = to_docx(notebook)
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


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(f"不支持的格式：{', '.join(unknown)}（可选：{', '.join(FORMATS)}）")
    return formats


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
