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

from evaltools.errors import RenderError
from evaltools.execute import Loaded, execute, load, normalize, notebook_for, stderr_of
from evaltools.export import DEFAULT_FORMATS, check_formats, made_from, write_all
from evaltools.files import write_atomic
from evaltools.workspace import absolute, workspace_root


@dataclass
class Outputs:
    folder: Path
    notebook: Path
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def output_folder(loaded: Loaded, out_root: Path | None = None) -> Path:
    """``outputs/<year>/<department folder>/<project file stem>/``, wherever the params live;
    a department's own report goes to ``…/<department folder>/_department/``.

    The workspace is the one the file was named in: a project file that is a link into
    another workspace still has its report here, never written into the other one.
    """
    path = absolute(loaded.path)
    return outputs_root(loaded, out_root) / str(loaded.year) / path.parent.name / path.stem


def outputs_root(loaded: Loaded, out_root: Path | None = None) -> Path:
    return Path(out_root) if out_root is not None else workspace_root(loaded.path) / "outputs"


def _refuse_links_out(folder: Path, root: Path) -> None:
    """A report folder inside the outputs that is a link to elsewhere would be written there."""
    if not folder.resolve().is_relative_to(root.resolve()):
        raise RenderError(f"{folder} 是指向输出文件夹之外（{folder.resolve()}）的链接：报告只写在输出文件夹之内，"
                          "请删除这个链接后再运行")


def run(project_file: Path | str | Loaded, formats: Iterable[str] = DEFAULT_FORMATS, out_root: Path | None = None,
        rules_files: Sequence[Path | str] = (), notebook: Path | None = None, timeout: int = 600,
        warm: bool = False) -> Outputs:
    """Parameters → executed notebook → HTML/PDF/Word, for one project (or a department's report).

    Everything is made first and written last, each file atomically, so an interrupted or
    failed run leaves the previous report as it was.
    """
    formats = check_formats(formats)
    project = project_file if isinstance(project_file, Loaded) else load(project_file, rules_files)
    folder = output_folder(project, out_root)
    _refuse_links_out(folder, outputs_root(project, out_root))
    executed_path = folder / "report.ipynb"
    executed = execute(project, executed_path, notebook, rules_files, timeout, warm=warm)
    timings = normalize(executed)
    contents, warnings = made_from(executed, formats)
    warnings = stderr_of(executed) + warnings
    write_atomic(executed_path, nbformat.writes(executed))
    files = write_all(folder, "report", contents)
    executed_path.with_suffix(".failed.ipynb").unlink(missing_ok=True)
    return Outputs(folder, executed_path, files, warnings, timings)


__all__ = ["Loaded", "Outputs", "RenderError", "load", "notebook_for", "output_folder", "run"]
