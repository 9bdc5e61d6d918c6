"""Rendering for the server: what changed under ``params/`` made again, here, with a warm kernel.

All rendering runs on one thread of the server process: the warm kernel (and its asyncio
loop), papermill, nbconvert and WeasyPrint are loaded once and kept, so a saved project costs
its cells and exports, not a process and a kernel start. A save is made in two steps: first the
HTML of what changed (what the open page shows: the figure to beat is save → refreshed page),
then the PDF and Word files and the year overview.

The batch is reached through :func:`_rebuild` alone, so that it can follow the batch's shape.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from evaltools.domain.workspace import absolute, is_department_file
from evaltools.run.batch import (
    Result,
    batch_files,
    execute_job,
    outputs_lock,
    plan,
    receive,
    year_folders,
)
from evaltools.run.export import warm_up
from evaltools.run.index import write_indexes, write_year_index
from evaltools.run.kernels import close_kernels, start_warm_kernel

QUICK = ("html",)  # what a page shows: made first
FULL = ("html", "pdf", "docx")  # the downloads


def _rebuild(paths: Sequence[Path], formats: Sequence[str], out_root: Path, overview: bool,
             interrupted: Callable[[], bool] = lambda: False,
             on_result: Callable[[Result], None] = lambda result: None) -> list[Result]:
    """The one call into the batch: plan what changed under ``paths`` from content fingerprints,
    make it in this process (its warm kernel), write it (``on_result`` told of each) and the
    index. Returns every result, skipped ones included, and the year overviews'. Between two
    reports, ``interrupted()`` may stop it: what is left is planned again next time (its run log
    lacks it)."""
    files = batch_files(paths)
    years = year_folders(paths) if overview else []
    results, overviews = [], []
    with outputs_lock(out_root):
        todo, known = plan(files, list(formats), out_root, years=years)
        results += known
        for job in sorted(todo, key=lambda job: job.kind == "overview"):  # the reports' pages first
            if interrupted():
                break
            made = receive(execute_job(job), Path(job.base))
            on_result(made)
            (overviews if job.kind == "overview" else results).append(made)
        write_indexes(results, out_root, only_if_changed=False)
    return results + overviews


@dataclass
class Change:
    """What one rendering step changed: pages to reload (URL paths) and reports that failed."""

    reload: set[str] = field(default_factory=set)
    errors: dict[str, str] = field(default_factory=dict)  # URL path of the report page → message
    fixed: set[str] = field(default_factory=set)  # report pages whose error is gone
    seconds: float = 0.0


def report_page(file: Path, out_root: Path) -> str:
    """The URL path of the HTML report made of the parameter file ``file``, as the batch lays
    the outputs out: /<year>/<department folder>/<report folder>/report.html."""
    file = absolute(file)
    stem = "_department" if is_department_file(file) else file.stem
    return f"/{file.parent.parent.name}/{file.parent.name}/{stem}/report.html"


def _change(results: list[Result], out_root: Path, seconds: float, indexes: bool = True) -> Change:
    change = Change(seconds=round(seconds, 3))
    root = out_root.resolve()
    for result in results:
        if Path(result.project_file).is_dir():  # a year's overview
            if result.status != "skipped":
                change.reload.add(f"/{Path(result.project_file).name}/overview.html")
            continue
        page = report_page(Path(result.project_file), out_root)
        if result.status == "skipped":  # as it was: a file saved invalid, then put back
            change.fixed.add(page)
            continue
        if result.status == "failed":
            change.errors[page] = result.message
            continue
        change.fixed.add(page)
        if result.folder:
            folder = Path(result.folder).resolve()
            if folder.is_relative_to(root):
                page = "/" + (folder.relative_to(root) / "report.html").as_posix()
        change.reload.add(page)
    if indexes and (change.reload or change.errors):
        change.reload |= {f"/{page.split('/')[1]}/index.html" for page in [*change.reload, *change.errors]}
    return change


class Renderer:
    """Renders what is under ``paths`` into ``out_root`` on its one thread; ``notify`` is told
    of each step's :class:`Change` (from that thread)."""

    def __init__(self, paths: Sequence[Path], out_root: Path, notify: Callable[[Change], None],
                 formats: Sequence[str] = FULL) -> None:
        self.paths, self.out_root, self.notify, self.formats = list(paths), out_root, notify, list(formats)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaltools-render")
        self._wanted = threading.Event()
        self._full = threading.Event()
        self._stopping = threading.Event()
        self.busy = threading.Lock()
        self.errors: dict[str, str] = {}
        self.last: list[Change] = []

    def start(self) -> None:
        """Warm up, then make what is missing or stale; then wait for changes."""
        self._wanted.set()
        self._full.set()
        self._thread.submit(self._loop)

    def changed(self, full: bool = False) -> None:
        """Something under the watched folders changed (or, ``full``, the decisions the overview counts)."""
        if full:
            self._full.set()
        self._wanted.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wanted.set()
        self._thread.shutdown(wait=True)

    def _loop(self) -> None:
        start_warm_kernel()  # starts while the exporters load
        warm_up()
        try:
            while not self._stopping.is_set():
                if not self._wanted.wait(timeout=0.5):
                    if self._full.is_set():
                        self._step(self.formats, overview=True)
                        self._full.clear()
                    continue
                self._wanted.clear()
                self._full.set()  # after the pages, their downloads and the overview, once things are quiet
                self._step(QUICK, overview=False)
        finally:
            close_kernels()

    def _step(self, formats: Sequence[str], overview: bool) -> None:
        if self._stopping.is_set():
            return
        started = time.perf_counter()

        def made(result: Result) -> None:  # its page reloads as soon as it is written, before the others
            self._publish(_change([result], self.out_root, time.perf_counter() - started, indexes=False))

        with self.busy:
            try:
                results = _rebuild(self.paths, formats, self.out_root, overview, self._wanted.is_set, made)
            except Exception as exc:  # another batch holds the outputs, a disk error: said on the pages, kept going
                self._publish(Change(errors={"*": f"{type(exc).__name__}: {exc}"}, reload={"*"}))
                return
        self.errors.pop("*", None)
        change = _change(results, self.out_root, time.perf_counter() - started)
        change.reload = {page for page in change.reload if page.endswith("/index.html")}  # the reports' pages: done
        change.errors = {}
        self._publish(change)

    def _publish(self, change: Change) -> None:
        cleared = {page for page in change.fixed if self.errors.pop(page, None) is not None}
        change.reload |= cleared | {f"/{page.split('/')[1]}/index.html" for page in cleared}
        self.errors.update(change.errors)
        self.last = [*self.last[-19:], change]
        if change.reload or change.errors:
            self.notify(change)

    def refresh_index(self, year: str) -> None:
        """The index of ``year`` again (a decision was recorded), then the overview that counts them.
        Not waiting for a rendering under way: its own index is written again after this, by the full step."""
        write_year_index(self.out_root / year)
        self.changed(full=True)
