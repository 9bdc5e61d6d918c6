"""Executing a report notebook with papermill: parameters in, executed notebook out.

Nothing here exports: the executed notebook is the document, and ``evaltools.export`` turns it
into HTML, PDF and Word, as papermill and nbconvert separate the two.
"""

from __future__ import annotations

import atexit
import tempfile
from collections.abc import Sequence
from pathlib import Path

import nbformat

from evaltools.errors import RenderError
from evaltools.files import write_atomic
from evaltools.rollup import LoadedDepartment, load_department
from evaltools.workspace import (
    DEPARTMENT_NOTEBOOK,
    NOTEBOOK,
    LoadedProject,
    default_notebook,
    fingerprint_notebook,
    is_department_file,
    load_project,
    workspace_root,
)
from evaltools.yamlio import plain

Loaded = LoadedProject | LoadedDepartment


def load(file: Path | str, rules_files: Sequence[Path | str] = ()) -> Loaded:
    """A project file, or a department's ``_department.yaml`` (its 部门整体 report)."""
    return load_department(file, rules_files) if is_department_file(Path(file)) else load_project(file, rules_files)


def notebook_for(loaded: Loaded) -> Path | None:
    name = DEPARTMENT_NOTEBOOK if isinstance(loaded, LoadedDepartment) else NOTEBOOK
    return default_notebook(loaded.path, name)


def parameters_for(project: Loaded, notebook: Path, rules_files: Sequence[Path | str] = ()) -> dict:
    """What papermill injects: the merged parameters (plain data), where they came from,
    and the notebook's fingerprint for the provenance line."""
    return {
        "params_file": str(project.path.resolve()),
        "rules_files": [str(Path(f).resolve()) for f in rules_files],
        "notebook_fingerprint": fingerprint_notebook(notebook),
        **plain(project.data),
    }


# The kernel's own log is noise in a batch: its TCP-on-loopback warning, and "KeyboardInterrupt
# caught in kernel" when jupyter_client interrupts it before every shutdown. Cell errors are
# recorded in the notebook and reported by evaltools.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
_warm_kernels: dict[tuple[str, str], object] = {}


def warm_kernel(kernel_name: str, cwd: Path):
    """A kernel kept alive in this process for the next notebooks (``--warm-kernels``).

    Before each notebook its namespace is reset and its execution counter set back to 1, so
    that the executed notebook is the same, byte for byte, as from a fresh kernel (a test
    holds this). A kernel that died is replaced.
    """
    from jupyter_client import KernelManager

    key = (kernel_name, str(cwd))
    manager = _warm_kernels.get(key)
    if manager is None or not manager.is_alive():
        manager = KernelManager(kernel_name=kernel_name)
        manager.start_kernel(cwd=str(cwd), extra_arguments=KERNEL_ARGUMENTS)
        _warm_kernels[key] = manager
        atexit.register(manager.shutdown_kernel, now=True)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute_interactive("get_ipython().reset(new_session=True, aggressive=False)",
                                   silent=True, store_history=False, timeout=60)
    finally:
        client.stop_channels()
    return manager


def execute(project: Loaded, destination: Path, notebook: Path | None = None,
            rules_files: Sequence[Path | str] = (), timeout: int = 600,
            kernel_name: str = "python3", warm: bool = False) -> nbformat.NotebookNode:
    """Run the notebook for one project with papermill; nothing is written.

    Each notebook gets a fresh kernel, or with ``warm`` this process's warm kernel (reset).
    On failure the executed notebook (with the failing cell's error) is written beside
    ``destination`` as ``*.failed.ipynb`` and :class:`RenderError` names the cell and the error.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = notebook or notebook_for(project)
    if notebook is None:
        raise RenderError(f"{project.path}：找不到报告笔记本（工作区 {workspace_root(project.path)} 的 notebooks/）；"
                          "可用 --notebook 指定")
    engine = {"km": warm_kernel(kernel_name, notebook.parent)} if warm else {}
    with tempfile.TemporaryDirectory(prefix="evaltools-") as scratch:
        scratch_out = Path(scratch) / destination.name
        try:
            executed = papermill.execute_notebook(
                str(notebook), str(scratch_out),
                parameters=parameters_for(project, notebook, rules_files),
                kernel_name=kernel_name, cwd=str(notebook.parent), progress_bar=False,
                log_output=False, execution_timeout=timeout, report_mode=True,
                extra_arguments=KERNEL_ARGUMENTS, **engine,
                # papermill would rewrite the whole notebook after every cell; nobody watches it here
                # (a failed run's notebook is still written, by papermill's error path).
                request_save_on_cell_execute=False,
            )
        except PapermillExecutionError as exc:
            stale = _warm_kernels.pop((kernel_name, str(notebook.parent)), None) if warm else None
            if stale is not None:  # a failed notebook may leave anything behind: start clean next time
                stale.shutdown_kernel(now=True)
            if scratch_out.exists():
                write_atomic(destination.with_suffix(".failed.ipynb"), scratch_out.read_bytes())
            raise RenderError(f"{project.path}：第 {exc.exec_count} 个单元出错：{exc.ename}: {exc.evalue}") from None
        except Exception as exc:  # a cell that runs too long, a kernel that dies or cannot start
            kind = type(exc).__name__
            if kind == "CellTimeoutError":
                reason = f"有单元执行超过 {timeout} 秒，已停止（可用 --timeout 放宽）"
            elif kind == "DeadKernelError":
                reason = "内核意外退出（内存不足，或代码调用了 exit？）"
            else:
                reason = f"{kind}: {exc}"
            raise RenderError(f"{project.path}：笔记本无法执行：{reason}") from None
    return nbformat.from_dict(executed)


def normalize(notebook: nbformat.NotebookNode) -> dict:
    """Take the volatile metadata (times, durations, temporary paths) out of an executed
    notebook, so that the same inputs give the same bytes; returns it for the run log."""
    papermill_meta = notebook.metadata.get("papermill", {})
    volatile = ("start_time", "end_time", "duration", "input_path", "output_path", "exception")
    timings: dict = {key: papermill_meta.pop(key) for key in volatile if key in papermill_meta}
    cells = []
    for index, cell in enumerate(notebook.cells):
        cell_meta = cell.get("metadata", {})
        if "injected-parameters" in cell_meta.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        cell_meta.pop("execution", None)
        run_info = cell_meta.pop("papermill", None)
        if run_info and run_info.get("duration") is not None:
            cells.append({"cell": index, "duration": run_info["duration"], "status": run_info.get("status")})
    timings["cells"] = cells
    return timings


def stderr_of(notebook: nbformat.NotebookNode) -> list[str]:
    """What the cells printed to stderr (warnings): not in the report, so reported here."""
    return [
        output.get("text", "").strip()
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]


def execute_overview(year_folder: Path, notebook: Path, timeout: int = 600,
                     kernel_name: str = "python3") -> nbformat.NotebookNode:
    """Run the year overview notebook for ``params/<year>`` with papermill; nothing is written."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        executed = papermill.execute_notebook(
            str(notebook), None, parameters={"year_folder": str(Path(year_folder).resolve())},
            kernel_name=kernel_name, cwd=str(notebook.parent), progress_bar=False, log_output=False,
            execution_timeout=timeout, report_mode=True, extra_arguments=KERNEL_ARGUMENTS,
            request_save_on_cell_execute=False,
        )
    except PapermillExecutionError as exc:
        raise RenderError(f"{year_folder}：年度总览第 {exc.exec_count} 个单元出错：{exc.ename}: {exc.evalue}") from None
    except Exception as exc:  # a cell that runs too long, a kernel that dies or cannot start
        raise RenderError(f"{year_folder}：年度总览无法执行：{type(exc).__name__}: {exc}") from None
    return nbformat.from_dict(executed)
