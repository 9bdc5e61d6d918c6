"""Exporting an executed report notebook to HTML, an A4 PDF and Word, in-process.

A thin layer over the nbconvert exporters of ``evaltools.writers`` (the same that
``jupyter nbconvert --to evaltools_pdf`` uses): everything is made in memory first, then
written atomically. Nothing here executes. The HTML page is for reviewers (with the 审核提示
and the provenance); the PDF and Word are by default the edition a unit submits (without).
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from warnings import catch_warnings, simplefilter

import nbformat

from evaltools.errors import RenderError
from evaltools.writers import pdf_engine
from evaltools.writers.pdf_engine import FontWarning
from evaltools.writers.html import HtmlReportExporter
from evaltools.writers.pdf import CJK_FONT_MISSING, Typeset, cjk_fonts_installed, compile_typeset, notebook_to_pdf, typeset
from evaltools.domain.files import write_atomic
from evaltools.writers.formats import DEFAULT_FORMATS, REVIEW_EDITION, SUBMISSION, check_edition, check_formats, file_names



# One export at a time in a process, whichever of its threads asks (a batch of a few jobs makes
# them in threads): the warnings are caught process-wide, and Typst's compiler is one per process.
_EXPORTING = threading.Lock()

# Typst lays a report's pages out in a thread of its own while its HTML is made: a gain where a
# core is free (a report, or the few of one change, made in the caller's process), a loss where
# every core already runs a worker (a pool's: html + pdf 0.20 s a report against 0.175 s in turn).
_alongside = True


def typeset_alongside(flag: bool) -> None:
    """Whether Typst lays out a PDF in a thread while the HTML is made (the default) or before it."""
    global _alongside
    _alongside = flag


@functools.cache
def _html_exporter(edition: str = REVIEW_EDITION) -> HtmlReportExporter:
    return HtmlReportExporter(edition=edition)


@functools.cache
def _word_exporter(edition: str = SUBMISSION):
    # python-docx takes a quarter of a second to import: only where a Word file is made (a
    # batch without one is made sooner, and a one-project batch most of all).
    from evaltools.writers.docx import WordReportExporter

    return WordReportExporter(edition=edition)


def to_html(notebook: nbformat.NotebookNode, edition: str = REVIEW_EDITION) -> str:
    """The report as one self-contained HTML page: no code, no scripts, no network."""
    return _html_exporter(edition).from_notebook_node(notebook)[0]


def to_pdf(notebook: nbformat.NotebookNode, edition: str = SUBMISSION, pdf_standard: str | None = None) -> bytes:
    """The report as an A4 PDF typeset by Typst, with embedded CJK fonts and the notebook's
    attached PDFs (what ``evaltools_pdf`` does); PDF/A-2b when ``pdf_standard`` is "a-2b"."""
    return notebook_to_pdf(notebook, edition, pdf_standard)


def to_docx(notebook: nbformat.NotebookNode, edition: str = SUBMISSION) -> bytes:
    """The report as an editable Word document."""
    return _word_exporter(edition).from_notebook_node(notebook)[0]


def warm_up(typeset: bool = True) -> None:
    """Load the exporters before the first report: nbconvert's template compiled, Typst's
    compiler made with the fonts read and (``typeset``) every role's Chinese face laid out once.

    A process that forks others warms up without ``typeset``: Typst's first compile starts its
    threads, and a process forked from one with threads hangs in its own first compile."""
    notebook = nbformat.v4.new_notebook()
    with _EXPORTING:
        to_html(notebook)
        pdf_engine.compiler()
        if not typeset:
            return
        notebook.cells.append(nbformat.v4.new_markdown_cell("# 预热\n\n## 预热\n\n预热 **预热**\n\n| 预热 |\n|---|\n| 1 |"))
        to_pdf(notebook)


def made_from(notebook: nbformat.NotebookNode, formats: Sequence[str], edition: str = SUBMISSION,
              seconds: dict[str, float] | None = None, pdf_standard: str | None = None,
              meanwhile: Callable[[], object] | None = None, sources: list[Typeset] | None = None
              ) -> tuple[dict[str, bytes | str], list[str]]:
    """The HTML, PDF and/or Word of an executed notebook, in memory, with any warning for the
    user; the time each took goes into ``seconds``. The HTML is the review edition; the PDF and
    Word are ``edition``. ``meanwhile`` (the caller's own work on the notebook: its bytes) is
    called once, while Typst lays out the pages; the PDF's Typst source goes into ``sources``."""
    check_edition(edition)
    with _EXPORTING:
        return _made_from(notebook, formats, edition, {} if seconds is None else seconds, pdf_standard, meanwhile,
                          [] if sources is None else sources)



def _made_from(notebook: nbformat.NotebookNode, formats: Sequence[str], edition: str, seconds: dict[str, float],
               pdf_standard: str | None, meanwhile: Callable[[], object] | None, sources: list[Typeset]
               ) -> tuple[dict[str, bytes | str], list[str]]:
    made: dict[str, bytes | str] = {}
    warnings: list[str] = []
    with ThreadPoolExecutor(1, thread_name_prefix="evaltools-typst") if _alongside else _InTurn() as typst_thread:
        pdf = None
        if "pdf" in formats:
            started = time.perf_counter()
            with catch_warnings(record=True) as caught:
                simplefilter("always", FontWarning)
                report = typeset(notebook, edition)
            sources.append(report)
            warnings += [str(w.message) for w in caught if issubclass(w.category, FontWarning)]
            setting = time.perf_counter() - started
            # Typst lays the pages out without the interpreter's lock: the HTML (and ``meanwhile``) is made meanwhile.
            pdf = typst_thread.submit(_timed, compile_typeset, report, pdf_standard)
            if not cjk_fonts_installed():
                warnings.append(CJK_FONT_MISSING)
        if "html" in formats:
            started = time.perf_counter()
            made["html"] = to_html(notebook)
            seconds["html"] = time.perf_counter() - started
        if meanwhile is not None:
            meanwhile()
        if pdf is not None:
            made["pdf"], compiling = pdf.result()
            seconds["pdf"] = setting + compiling
    if "docx" in formats:
        started = time.perf_counter()
        made["docx"] = to_docx(notebook, edition)
        seconds["docx"] = time.perf_counter() - started
    return made, warnings


class _InTurn:
    """An executor that runs what it is given at once, in the caller's thread."""

    def __enter__(self) -> _InTurn:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def submit(self, function: Callable, *args: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(function(*args))
        except BaseException as exc:
            future.set_exception(exc)
        return future


def _timed(function: Callable, *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    return function(*args), time.perf_counter() - started


def write_all(folder: Path, name: str, made: dict[str, bytes | str], edition: str = SUBMISSION) -> dict[str, Path]:
    written = {}
    for kind, file_name in file_names(made, edition, name).items():
        written[kind] = folder / file_name
        write_atomic(written[kind], made[kind])
    return written


def render(notebook: nbformat.NotebookNode, folder: Path, formats: Iterable[str] = DEFAULT_FORMATS,
           name: str = "report", edition: str = SUBMISSION, pdf_standard: str | None = None) -> dict[str, Path]:
    """Write the HTML, PDF and/or Word of an executed notebook into ``folder``."""
    formats = check_formats(formats)
    return write_all(folder, name, made_from(notebook, formats, edition, pdf_standard=pdf_standard)[0], edition)



def render_file(executed_path: Path | str, formats: Iterable[str] = DEFAULT_FORMATS, edition: str = SUBMISSION,
                pdf_standard: str | None = None) -> dict[str, Path]:
    """Render an executed notebook again, without executing it."""
    executed_path = Path(executed_path)
    try:
        notebook = nbformat.read(executed_path, as_version=4)
    except FileNotFoundError:
        raise RenderError(f"{executed_path}：文件不存在") from None
    except Exception as exc:
        raise RenderError(f"{executed_path}：不是可读的笔记本（{exc}）") from None
    return render(notebook, executed_path.parent, formats, name=executed_path.stem, edition=edition,
                  pdf_standard=pdf_standard)
