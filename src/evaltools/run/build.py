"""Building a report: load the parameters, execute the notebook, export it, write it.

Everything is made first and written last, each file atomically, so an interrupted or failed
run leaves the previous report as it was. The failed notebook is kept as
``report.failed.ipynb`` for the analyst to read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from evaltools.domain.files import write_atomic
from evaltools.domain.workspace import Workspace
from evaltools.errors import RenderError
from evaltools.run.execute import Executed, Loaded, load, run_cells, stderr_of
from evaltools.run.export import DEFAULT_FORMATS, made_from
from evaltools.run.kinds import OVERVIEW_KIND, ReportKind, Subject, kind_of
from evaltools.run.options import Options
from evaltools.writers.formats import OVERVIEW_CACHES, OVERVIEW_LAYOUT, SUBMISSION, file_names
from evaltools.writers.pdf import Typeset
from evaltools.writers.pdf_engine import kept_source

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


def output_folder(loaded: Loaded, out_root: Path | None = None) -> Path:
    """``outputs/<year>/<department folder>/<project file stem>/``, wherever the params live
    (see :meth:`Workspace.report_folder`)."""
    return kind_of(loaded.path).folder(Workspace.of(loaded.path, out_root), loaded.path, loaded)


def _refuse_links_out(folder: Path, root: Path) -> None:
    """A report folder inside the outputs that is a link to elsewhere would be written there."""
    if not folder.resolve().is_relative_to(root.resolve()):
        raise RenderError(f"{folder} 是指向输出文件夹之外（{folder.resolve()}）的链接：报告只写在输出文件夹之内，"
                          "请删除这个链接后再运行")


def make(kind: ReportKind, subject: Subject, options: Options, workspace: Workspace | None = None,
         executed: nbformat.NotebookNode | Executed | None = None, caches: bool = False) -> Made:
    """Parameters → executed notebook → HTML/PDF/Word, in memory; nothing is written.

    ``executed``: the notebook executed already for these inputs, by :func:`run_cells` (its
    timings kept), or earlier (only the formats asked for are made from it); else it is executed
    now. With ``caches`` (the overview) the notebook reuses the projects' rows and the charts
    kept in ``.evaltools/`` of the workspace, and what it used comes back as
    ``overview.rows.json`` and ``overview.charts.json``, with its PDF's Typst source as
    ``overview.layout.zip`` (see :func:`evaltools.writers.pdf_engine.lay_out_ahead`), for the next run. Raises
    :class:`RenderError` (carrying the failed notebook when a cell failed).
    """
    workspace = workspace or Workspace.of(kind.path_of(subject))
    if executed is None:
        executed = run_cells(kind, subject, options, workspace, caches)
    elif not isinstance(executed, Executed):  # executed earlier: only exported again, no timings
        kind.refuse_unusable(subject)  # a missing attached file refuses this report, naming field and path
        executed = Executed(executed, {}, {})
    notebook, timings, phases = executed.notebook, executed.timings, dict(executed.phases)
    edition = kind.edition_of(options.edition)
    files: dict[str, bytes | str] = {}

    def notebook_file() -> None:  # 0.2 s for a year overview's: while its PDF is laid out
        files[f"{kind.output}.ipynb"] = nbformat.writes(notebook)

    sources: list[Typeset] = []
    contents, warnings = made_from(notebook, options.formats, edition, phases, options.pdf_standard, notebook_file, sources)
    files.update({name: contents[f] for f, name in file_names(contents, edition, kind.output).items()})
    for name, kept in OVERVIEW_CACHES.items() if caches else ():
        if (workspace.root / kept).is_file():
            files[name] = (workspace.root / kept).read_bytes()
    if caches and sources:  # for the next run to lay out while the cells run again
        files[OVERVIEW_LAYOUT] = kept_source(sources[0].source.markup, sources[0].source.files)
    return Made(files, stderr_of(notebook) + warnings, timings, {name: round(value, 3) for name, value in phases.items()})



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
    options = Options(tuple(formats), edition, timeout, warm, Path(notebook) if notebook else None, tuple(rules_files),
                      pdf_standard)
    subject = project_file if isinstance(project_file, Loaded) else load(project_file, options.rules_files)
    kind = kind_of(subject.path)
    workspace = Workspace.of(subject.path, out_root)
    folder = kind.folder(workspace, subject.path, subject)
    _refuse_links_out(folder, workspace.outputs)
    try:
        made = make(kind, subject, options, workspace)
    except RenderError as exc:
        keep_failed(folder, exc)
        raise
    files = write_report(folder, made)
    return Outputs(folder, files.pop("ipynb"), files, made.warnings, made.timings)


def run_overview(year_folder: Path | str, out_root: Path, formats: Iterable[str] = DEFAULT_FORMATS,
                 timeout: int = 600) -> Outputs:
    """The year overview of ``params/<year>``: ``<out_root>/<year>/overview.{ipynb,html,pdf,docx}``."""
    workspace = Workspace.of(year_folder, out_root)
    folder = OVERVIEW_KIND.folder(workspace, Path(year_folder))
    made = make(OVERVIEW_KIND, Path(year_folder), Options(tuple(formats), timeout=timeout), workspace)
    files = write_report(folder, made)
    return Outputs(folder, files.pop("ipynb"), files, made.warnings, made.timings)


__all__ = ["Loaded", "Made", "Options", "Outputs", "RenderError", "load", "make", "output_folder", "run",
           "run_overview"]
