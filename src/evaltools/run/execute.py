"""Executing a report notebook with papermill: parameters in, executed notebook out.

Nothing here exports: the executed notebook is the document, and ``evaltools.run.export`` turns it
into HTML, PDF and Word, as papermill and nbconvert separate the two.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path

import nbformat

import evaltools.run.papermill_lean  # noqa: F401  (before papermill: see there)
import papermill
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError
from papermill.utils import remove_args

from evaltools.domain.workspace import Workspace
from evaltools.errors import RenderError
from evaltools.run.kernels import (
    KERNEL_ARGUMENTS,
    discard_kernel,
    drop_pending,
    kernel_output_file,
    last_words,
    last_words_in,
    warm_kernel,
)
from evaltools.run.kinds import Loaded, ReportKind, Subject, kind_of
from evaltools.run.options import Options
from evaltools.writers.draft import mark_draft


def load(file: Path | str, rules_files: Sequence[Path | str] = ()) -> Loaded:
    """A project file, or a department's ``_department.yaml`` (its 部门整体 report)."""
    subject = kind_of(file).load(Path(file), rules_files)
    assert not isinstance(subject, Path), "a year folder is made into an overview, not loaded"
    return subject


def notebook_for(kind: ReportKind, workspace: Workspace) -> Path:
    """The kind's notebook in the workspace (else the checkout's); :class:`RenderError` without one."""
    notebook = workspace.notebook(kind.notebook)
    if notebook is None:
        raise RenderError(f"找不到{kind.label}笔记本 notebooks/{kind.notebook}（工作区 {workspace.root}）；"
                          "可用 --notebook 指定")
    return notebook


# nbclient's own log of a notebook's run (a kernel that died, a cell past its timeout): the
# report's message says it, logging's last resort would print it besides, twice.
_QUIET = logging.getLogger("evaltools.run.execute.nbclient")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class _Client(PapermillNotebookClient):
    """papermill's client, stopping its cells' tasks when interrupted, before the kernel is
    shut down (by nbclient, for a kernel it started; by :func:`_papermill`, for a warm one)."""

    @contextmanager
    def setup_kernel(self, **kwargs):
        with super().setup_kernel(**kwargs):
            try:
                yield
            except BaseException as exc:
                if not isinstance(exc, Exception):  # Ctrl-C, exit: see drop_pending
                    drop_pending()
                raise

    def start_new_kernel(self, **kwargs):
        with self._stopped_if_interrupted():
            super().start_new_kernel(**kwargs)

    def start_new_kernel_client(self):
        with self._stopped_if_interrupted():
            return super().start_new_kernel_client()

    @contextmanager
    def _stopped_if_interrupted(self):
        """nbclient stops a kernel it is starting after an error only: after Ctrl-C the kernel
        would go on starting alone, in a working folder about to be removed, and print its
        traceback on the batch's terminal."""
        try:
            yield
        except BaseException as exc:
            if not isinstance(exc, Exception) and self.owns_km and self.km is not None:
                drop_pending()
                with suppress(Exception):  # not started after all, or already gone
                    if self.kc is not None:
                        self.kc.stop_channels()
                    run_sync(self.km.shutdown_kernel)(now=True)
            raise


class _Engine(NBClientEngine):
    """papermill's nbclient engine with :class:`_Client`, given the warm kernel's client (``kc``)
    as well as its manager: nbclient would otherwise connect a new client to the kernel for
    every notebook."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None, stderr_file=None,
                                 start_timeout=60, execution_timeout=None, kc=None, said=None, **kwargs):
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        # A kernel nbclient started is killed once the notebook ran (jupyter_client interrupts it
        # first), not asked to shut down: ipykernel, shutting down, may log a traceback from its
        # closed sockets (and a report's kernel has nothing to save).
        client = _Client(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                         kernel_name=kernel_name, log=_QUIET, log_output=log_output,
                         stdout_file=stdout_file, stderr_file=stderr_file, shutdown_kernel="immediate", **kwargs)
        client.kc = kc
        # a kernel it starts writes what it says itself to ``said`` (see evaltools.run.kernels.kernel_output_file)
        return client.execute(**({"stdout": said, "stderr": said} if said is not None else {}))


ENGINE = "evaltools"
papermill_engines.register(ENGINE, _Engine)


def execute(kind: ReportKind, subject: Subject, workspace: Workspace, notebook: Path | None = None,
            rules_files: Sequence[Path | str] = (), timeout: int = 600, warm: bool = False,
            caches: bool = False, kernel_name: str = "python3") -> nbformat.NotebookNode:
    """Run the kind's notebook for ``subject`` with papermill; nothing is written (but the
    overview's ``caches``, in ``.evaltools/`` of the workspace).

    The kernel works in the workspace root. Each notebook gets a fresh kernel, or with
    ``warm`` this thread's warm kernel (reset), discarded after any failure so that a cell
    stuck past the timeout never reaches the next notebook. On failure :class:`RenderError`
    names the cell and the error, and carries the executed notebook (with the failing cell's
    error) as ``failed_notebook`` for the caller to keep.
    """
    notebook = notebook or notebook_for(kind, workspace)
    parameters = kind.parameters(subject, workspace, rules_files, notebook, caches)
    try:
        return _papermill(notebook, parameters, workspace.root, f"{kind.output}.ipynb", timeout, kernel_name, warm)
    except _Failed as failed:
        where = kind.path_of(subject)
        reason = _reason(failed.error, timeout, kind, notebook, failed.said)
        raise RenderError(f"{where}：{reason}", failed_notebook=failed.notebook) from None


@dataclass
class Executed:
    """A notebook executed for a report: the notebook (marked a draft where the report's files
    have check errors), its volatile metadata taken out (:func:`normalize`), and the seconds
    its kernel (start or reset, messages) and its cells took."""

    notebook: nbformat.NotebookNode
    timings: dict
    phases: dict[str, float]


def run_cells(kind: ReportKind, subject: Subject, options: Options, workspace: Workspace,
              caches: bool = False) -> Executed:
    """Execute the kind's notebook for ``subject`` as :func:`execute` does, ready to export
    (:func:`evaltools.run.build.make`). Needs papermill only: a batch's job runs its cells while
    its process still loads nbconvert and Typst."""
    kind.refuse_unusable(subject)  # a missing attached file refuses this report, naming field and path
    started = time.perf_counter()
    notebook = execute(kind, subject, workspace, options.notebook, options.rules_files, options.timeout, options.warm,
                       caches)
    timings = normalize(notebook)
    cells = sum(cell["duration"] for cell in timings["cells"])
    phases = {"cells": cells, "kernel": time.perf_counter() - started - cells}
    mark_draft(notebook, kind.error_codes(subject))
    return Executed(notebook, timings, phases)


class _Failed(Exception):
    def __init__(self, error: Exception, notebook: bytes | None, said: str = ""):
        self.error, self.notebook, self.said = error, notebook, said


def _papermill(notebook: Path, parameters: dict, cwd: Path, name: str, timeout: int, kernel_name: str,
               warm: bool) -> nbformat.NotebookNode:
    """papermill, in a fresh kernel or this process's warm one, working in ``cwd``; a failure
    raises :class:`_Failed` with the error and the notebook as far as it ran."""
    with tempfile.TemporaryDirectory(prefix="evaltools-") as scratch, nullcontext() if warm else kernel_output_file() as said:
        scratch_out = Path(scratch) / name
        try:
            kernel = warm_kernel(kernel_name, cwd) if warm else None
            engine = {"km": kernel.manager, "kc": kernel.client} if kernel else {"said": said}
            executed = papermill.execute_notebook(
                str(notebook), str(scratch_out), parameters=parameters,
                # papermill changes this process's folder to start a kernel there; a warm kernel
                # is moved by its reset instead, and this process (whose threads may be making
                # other reports) stays where it is.
                kernel_name=kernel_name, cwd=None if kernel else str(cwd), progress_bar=False,
                log_output=False, execution_timeout=timeout, report_mode=True,
                extra_arguments=KERNEL_ARGUMENTS, engine_name=ENGINE, **engine,
                # papermill would rewrite the whole notebook after every cell; nobody watches it here
                # (a failed run's notebook is still written, by papermill's error path).
                request_save_on_cell_execute=False,
            )
        except BaseException as exc:
            if not isinstance(exc, Exception):  # Ctrl-C, exit: not this project's failure…
                drop_pending()  # …nor a traceback under the batch's line (interrupted in the warm kernel's reset)
            words = last_words(kernel_name) if warm else last_words_in(said)  # why it died, where it did
            if warm:
                discard_kernel(kernel_name)
            if not isinstance(exc, Exception):
                raise
            raise _Failed(exc, scratch_out.read_bytes() if scratch_out.exists() else None, words) from None
    return nbformat.from_dict(executed)


def _cell(exc: PapermillExecutionError, notebook: Path | None) -> str:
    """Which cell failed, as the analyst finds it: the notebook, the cell's place there (papermill
    counts its injected parameters cell too) and its first line."""
    first = next((line.strip() for line in (exc.source or "").splitlines() if line.strip()), "")
    place = exc.cell_index + 1
    if notebook is not None:
        try:
            cells = nbformat.read(notebook, as_version=4).cells
            place = next(i for i, cell in enumerate(cells, 1) if cell.source == exc.source)
        except (OSError, ValueError, StopIteration):
            pass  # the place in the executed notebook, then
    where = f"笔记本 {notebook} 的" if notebook is not None else ""
    return f"{where}第 {place} 个单元（{first[:60]}{'…' if len(first) > 60 else ''}）"


def _reason(exc: Exception, timeout: int, kind: ReportKind, notebook: Path | None = None, said: str = "") -> str:
    """Why the notebook failed; ``said``: what a kernel that died last wrote itself."""
    label = "" if kind.output == "report" else kind.label
    if isinstance(exc, PapermillExecutionError):
        return f"{label}{_cell(exc, notebook)}出错：{exc.ename}: {exc.evalue}"
    name = type(exc).__name__
    if name == "CellTimeoutError":
        reason = f"有单元执行超过 {timeout} 秒，已停止（可用 --timeout 放宽）"
    elif name == "DeadKernelError":
        reason = "内核意外退出（内存不足，或代码调用了 exit？）" + (f"，它最后输出：{said}" if said else "")
    else:
        reason = f"{name}: {exc}"
    return f"{label}笔记本无法执行：{reason}"


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
