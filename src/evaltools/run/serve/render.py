"""Rendering for the server: what changed under ``params/`` made again, here, with a warm kernel.

A save is made in two steps. First the HTML of what changed (what the open pages show: the
figure to beat is save → refreshed page), on one thread of the server process, where the warm
kernel (and its asyncio loop) and nbconvert are loaded once and kept: a save costs its cells
and export, not a process and a kernel start. Then, once nothing has been saved for half a
second, the PDF and Word files and the year overview, in one background process set up as a
batch's worker, so that a save never waits behind a PDF; a save meanwhile is made at once.

The batch is reached through :func:`_rebuild` and :func:`_background` alone, so that they can
follow the batch's shape.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as Pending
from dataclasses import dataclass, field
from pathlib import Path

from evaltools.domain.workspace import absolute, is_department_file
from evaltools.run.batch import (
    BatchSettings,
    Job,
    Result,
    batch_files,
    execute_job,
    outputs_lock,
    plan,
    receive,
    year_folders,
)
from evaltools.run.batch.worker import prepare
from evaltools.run.export import warm_up
from evaltools.run.index import write_indexes, write_year_index
from evaltools.run.kernels import close_kernels, start_warm_kernel

QUICK = ("html",)  # what a page shows: made first
FULL = ("html", "pdf", "docx")  # the downloads
Make = Callable[[Job], Result | None]
RETRY = 3.0  # seconds before trying again what could not be made (another batch holding the outputs)


def _rebuild(paths: Sequence[Path], formats: Sequence[str], out_root: Path, overview: bool,
             make: Make = execute_job, on_result: Callable[[Result], None] = lambda result: None) -> list[Result]:
    """The one call into the batch: plan what changed under ``paths`` from content fingerprints,
    make each job (``make``: here, by default, in this thread's warm kernel), write it
    (``on_result`` told of each) and the index. Returns every result, skipped ones included,
    and the year overviews'. ``make`` returning None stops it: what is left is planned again
    next time (its run log lacks it). The outputs are locked while planned and written, not
    while a job is made elsewhere."""
    files = batch_files(paths)
    years = year_folders(paths) if overview else []
    settings = BatchSettings(formats=tuple(formats), out_root=out_root, warm=True)
    with outputs_lock(out_root):
        todo, known = plan(settings, files, years)
    results, overviews = list(known), []
    for job in sorted(todo, key=lambda job: job.kind == "overview"):  # the reports' pages first
        made = make(job)
        if made is None:
            break
        with outputs_lock(out_root):
            made = receive(made, Path(job.base))
        on_result(made)
        (overviews if job.kind == "overview" else results).append(made)
    with outputs_lock(out_root):
        write_indexes(results, out_root, only_if_changed=False)
    return results + overviews


def _background() -> ProcessPoolExecutor:
    """Where the downloads and the overview are made: one worker process set up as the batch's
    (its warm kernel, the exporters loaded, gone when the server goes), so that a save never
    waits for a PDF."""
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_background_init)


def start_background() -> ProcessPoolExecutor:
    """The background process, started now, from the main thread, with Ctrl-C ignored (which it
    inherits): Ctrl-C reaches the whole process group, and the server stops this process after
    its job, rather than the user seeing its traceback."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        pool = _background()
        pool.submit(int)  # starts it now: it loads while the server renders the pages
    finally:
        signal.signal(signal.SIGINT, previous)
    return pool


def _background_init() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops this process (see start_background)
    prepare(True)


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
            page = f"/{Path(result.project_file).name}/overview.html"
            if result.status == "done":
                change.reload.add(page)
                change.fixed.add(page)
            elif result.status == "failed":
                change.errors[page] = result.message
            continue
        page = report_page(Path(result.project_file), out_root)
        if result.status == "skipped":  # as it was: a file saved invalid, then put back
            change.fixed.add(page)
            continue
        if result.status == "failed":
            change.errors[page] = result.message
            continue
        change.fixed.add(page)
        if "html" not in result.files:  # its PDF or Word file only: the page is as it was
            continue
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
                 formats: Sequence[str] = FULL, years: Sequence[str] = (),
                 background: ProcessPoolExecutor | None = None) -> None:
        self.paths, self.out_root, self.notify, self.formats = list(paths), out_root, notify, list(formats)
        self.years = list(years)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="evaltools-render")
        self._wanted = threading.Event()
        self._full = threading.Event()
        self._stopping = threading.Event()
        self._pool = background  # made when first needed if not given
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
                if self._wanted.wait(timeout=0.5):
                    self._quick()
                elif self._full.is_set():  # quiet for half a second: the downloads and the overview
                    self._full.clear()
                    self._step(self.formats, overview=True, make=self._elsewhere)
        finally:
            close_kernels()
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)

    def _quick(self) -> None:
        self._wanted.clear()
        self._full.set()
        self._step(QUICK, overview=False)

    def _elsewhere(self, job: Job) -> Result | None:
        """A job of the full step, made in the background process. A save meanwhile is made here
        at once; the job's result, made from what was there before, is then dropped (None: the
        full step is planned again)."""
        if self._pool is None:
            self._pool = _background()
        future, saved = self._pool.submit(execute_job, job), False
        while True:
            try:
                made = future.result(timeout=0.05)
                break
            except Pending:
                if self._stopping.is_set():
                    future.cancel()
                    return None
                if self._wanted.is_set():
                    self._quick()
                    saved = True
            except Exception as exc:  # the process died (killed, out of memory): another one next time
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
                made = Result(job.project_file, "failed", message=f"{job.project_file}：后台进程异常退出：{exc}")
                break
        return None if saved else made

    def _step(self, formats: Sequence[str], overview: bool, make: Make = execute_job) -> None:
        if self._stopping.is_set():
            return
        started = time.perf_counter()

        def made(result: Result) -> None:  # its page reloads as soon as it is written, before the others
            self._publish(_change([result], self.out_root, time.perf_counter() - started, indexes=False))

        try:
            results = _rebuild(self.paths, formats, self.out_root, overview, make, made)
        except Exception as exc:  # another batch holds the outputs, a disk error: said on the pages, tried again
            self._publish(Change(errors={"*": f"{type(exc).__name__}: {exc}"}, reload={"*"}))
            self._stopping.wait(RETRY)
            self._full.set()
            return
        if self.errors.pop("*", None) is not None:
            self.notify(Change(reload={"*"}))  # the pages that said it
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
