"""Building a report: load the parameters, execute the notebook, export it, write it.

Everything is made first and written last, each file atomically, so an interrupted or failed
run leaves the previous report as it was. The failed notebook is kept as
``report.failed.ipynb`` for the analyst to read.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from evaltools.errors import RenderError
from evaltools.run.execute import Loaded, execute, execute_overview, load, normalize, notebook_for, stderr_of
from evaltools.run.export import DEFAULT_FORMATS, check_formats, made_from
from evaltools.writers.formats import OVERVIEW, OVERVIEW_ROWS, ROWS_CACHE, SUBMISSION, check_edition, file_names
from evaltools.domain.files import write_atomic
from evaltools.domain.workspace import OVERVIEW_NOTEBOOK, absolute, default_notebook, workspace_root

FAILED_NOTEBOOK = "report.failed.ipynb"


@dataclass
class Made:
    """One report in memory: file name → content (``report.ipynb``, ``report.html``, …)."""

    contents: dict[str, bytes | str]
    warnings: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds: kernel, cells, html, pdf, docx


@dataclass
class Outputs:
    folder: Path
    notebook: Path
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def relative_folder(loaded: Loaded) -> Path:
    """``<year>/<department folder>/<project file stem>``: where a report goes below the outputs;
    a department's own report goes to ``<year>/<department folder>/_department``."""
    path = absolute(loaded.path)
    return Path(str(loaded.year)) / path.parent.name / path.stem


def output_folder(loaded: Loaded, out_root: Path | None = None) -> Path:
    """``outputs/<year>/<department folder>/<project file stem>/``, wherever the params live.

    The workspace is the one the file was named in: a project file that is a link into
    another workspace still has its report here, never written into the other one.
    """
    return outputs_root(loaded, out_root) / relative_folder(loaded)


def outputs_root(loaded: Loaded, out_root: Path | None = None) -> Path:
    return Path(out_root) if out_root is not None else workspace_root(loaded.path) / "outputs"


def _refuse_links_out(folder: Path, root: Path) -> None:
    """A report folder inside the outputs that is a link to elsewhere would be written there."""
    if not folder.resolve().is_relative_to(root.resolve()):
        raise RenderError(f"{folder} 是指向输出文件夹之外（{folder.resolve()}）的链接：报告只写在输出文件夹之内，"
                          "请删除这个链接后再运行")


def make(project: Loaded, formats: Iterable[str] = DEFAULT_FORMATS, rules_files: Sequence[Path | str] = (),
         notebook: Path | None = None, timeout: int = 600, warm: bool = False,
         executed: nbformat.NotebookNode | None = None, edition: str = SUBMISSION,
         pdf_standard: str | None = None) -> Made:
    """Parameters → executed notebook → HTML/PDF/Word, in memory; nothing is written.

    With ``executed`` (a notebook executed earlier from the same inputs) nothing is executed:
    only the formats asked for are made from it. Raises :class:`RenderError` (carrying the
    failed notebook when a cell failed).
    """
    formats = check_formats(formats)
    check_edition(edition)
    timings: dict = {}
    phases: dict[str, float] = {}
    if executed is None:
        started = time.perf_counter()
        executed = execute(project, Path("report.ipynb"), notebook, rules_files, timeout, warm=warm)
        timings = normalize(executed)
        phases["cells"] = sum(cell["duration"] for cell in timings["cells"])
        phases["kernel"] = time.perf_counter() - started - phases["cells"]  # start or reset, messages
    contents, warnings = made_from(executed, formats, edition, phases, pdf_standard)
    warnings = stderr_of(executed) + warnings
    files: dict[str, bytes | str] = {"report.ipynb": nbformat.writes(executed)}
    files.update({name: contents[kind] for kind, name in file_names(contents, edition).items()})
    return Made(files, warnings, timings, {name: round(value, 3) for name, value in phases.items()})


def write_report(folder: Path, made: Made) -> dict[str, Path]:
    """Write a made report into ``folder``, each file atomically, and drop a stale failed notebook."""
    written = {}
    for name, data in made.contents.items():
        write_atomic(folder / name, data)
        written[name.rsplit(".", 1)[-1]] = folder / name
    (folder / FAILED_NOTEBOOK).unlink(missing_ok=True)
    return written


def keep_failed(folder: Path, exc: RenderError) -> None:
    """The notebook of a failed run, beside the report for the analyst to read."""
    if exc.failed_notebook is not None:
        write_atomic(folder / FAILED_NOTEBOOK, exc.failed_notebook)


def run(project_file: Path | str | Loaded, formats: Iterable[str] = DEFAULT_FORMATS, out_root: Path | None = None,
        rules_files: Sequence[Path | str] = (), notebook: Path | None = None, timeout: int = 600,
        warm: bool = False, edition: str = SUBMISSION, pdf_standard: str | None = None) -> Outputs:
    """Parameters → executed notebook → HTML/PDF/Word, for one project (or a department's report);
    the PDF and Word in ``edition`` (see :func:`evaltools.writers.formats.file_names`), the PDF
    as PDF/A-2b with ``pdf_standard="a-2b"``.

    Everything is made first and written last, each file atomically, so an interrupted or
    failed run leaves the previous report as it was.
    """
    formats = check_formats(formats)
    check_edition(edition)
    project = project_file if isinstance(project_file, Loaded) else load(project_file, rules_files)
    folder = output_folder(project, out_root)
    _refuse_links_out(folder, outputs_root(project, out_root))
    try:
        made = make(project, formats, rules_files, notebook, timeout, warm, edition=edition, pdf_standard=pdf_standard)
    except RenderError as exc:
        keep_failed(folder, exc)
        raise
    files = write_report(folder, made)
    notebook_path = files.pop("ipynb")
    return Outputs(folder, notebook_path, files, made.warnings, made.timings)




def overview_notebook(year_folder: Path) -> Path:
    notebook = default_notebook(year_folder, OVERVIEW_NOTEBOOK)
    if notebook is None:
        raise RenderError(f"{year_folder}：找不到年度总览笔记本 notebooks/{OVERVIEW_NOTEBOOK}")
    return notebook


def make_overview(year_folder: Path | str, formats: Iterable[str] = DEFAULT_FORMATS, notebook: Path | None = None,
                  timeout: int = 600, warm: bool = False, executed: nbformat.NotebookNode | None = None,
                  rows_cache: bool = False, pdf_standard: str | None = None) -> Made:
    """The year overview of ``params/<year>`` in memory: ``overview.{ipynb,html,pdf,docx}``
    (with ``executed``, the overview executed earlier from the same inputs, nothing is executed).

    With ``rows_cache`` the notebook reuses the projects' rows kept in ``.evaltools/`` of the
    workspace (where a batch puts the last run's) and the rows it used come back as
    ``overview.rows.json``, for the next run."""
    year_folder = Path(year_folder)
    timings: dict = {}
    phases: dict[str, float] = {}
    if executed is None:
        started = time.perf_counter()
        executed = execute_overview(year_folder, notebook or overview_notebook(year_folder), timeout, warm=warm,
                                    rows_cache=ROWS_CACHE if rows_cache else None)
        timings = normalize(executed)
        phases["cells"] = sum(cell["duration"] for cell in timings["cells"])
        phases["kernel"] = time.perf_counter() - started - phases["cells"]
    contents, warnings = made_from(executed, check_formats(formats), seconds=phases, pdf_standard=pdf_standard)
    files: dict[str, bytes | str] = {f"{OVERVIEW}.ipynb": nbformat.writes(executed)}
    files.update({name: contents[kind] for kind, name in file_names(contents, SUBMISSION, OVERVIEW).items()})
    kept = workspace_root(year_folder) / ROWS_CACHE
    if rows_cache and kept.is_file():
        files[OVERVIEW_ROWS] = kept.read_bytes()
    return Made(files, stderr_of(executed) + warnings, timings, {k: round(v, 3) for k, v in phases.items()})


def run_overview(year_folder: Path | str, out_root: Path, formats: Iterable[str] = DEFAULT_FORMATS,
                 timeout: int = 600) -> Outputs:
    """The year overview of ``params/<year>``: ``<out_root>/<year>/overview.{ipynb,html,pdf,docx}``."""
    folder = Path(out_root) / Path(year_folder).name
    made = make_overview(year_folder, formats, timeout=timeout)
    files = write_report(folder, made)
    return Outputs(folder, files.pop("ipynb"), files, made.warnings, made.timings)


__all__ = ["Loaded", "Made", "Outputs", "RenderError", "load", "make", "make_overview", "notebook_for", "output_folder",
           "run", "run_overview"]
