"""Executors: what runs a batch's jobs, registered by name as papermill registers its engines.

An executor is a function ``(jobs, settings) -> iterator of (job, result)``, yielding results as
they finish; whatever it yields the batch writes, and an executor stopped early (Ctrl-C, a lost
cluster) stops its workers in its ``finally``. Built in: ``serial`` (in this process),
``process`` (worker processes with warm kernels; the default) and ``dask`` (a Dask cluster).
Others register with :func:`register` or the ``evaltools.executors`` entry-point group
(``name = "package.module:function"``).
"""

from __future__ import annotations

import gc
import importlib
import queue
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path

from evaltools.errors import RenderError
from evaltools.run.batch.model import BatchSettings, Job, Result
from evaltools.run.batch.worker import crash_message, execute_job, laid_out_before, prepare, run_job, unpack
from evaltools.run.kernels import close_event_loop, close_kernels, kill_kernels, start_warm_kernel, thread_kernels
from evaltools.run.kinds import OVERVIEW_KIND

Executor = Callable[[list[Job], BatchSettings], Iterator[tuple[Job, Result]]]

# By "module:function", imported when chosen: each loads what it runs on (Dask, multiprocessing).
_REGISTRY: dict[str, str | Executor] = {
    "serial": f"{__name__}:serial",
    "process": "evaltools.run.batch.pool:process",
    "dask": "evaltools.run.batch.cluster:dask",
}


def register(name: str, executor: str | Executor) -> None:
    """Make ``executor`` (a function, or ``"module:function"``) available as ``--executor name``."""
    _REGISTRY[name] = executor


def names() -> list[str]:
    """The executors there are: the built-in ones, those registered and those of entry points."""
    return sorted({*_REGISTRY, *(point.name for point in entry_points(group="evaltools.executors"))})


def executor(name: str) -> Executor:
    """The executor called ``name``; :class:`RenderError` naming the others for an unknown one."""
    target = _REGISTRY.get(name)
    if target is None:
        found = [point for point in entry_points(group="evaltools.executors") if point.name == name]
        if not found:
            raise RenderError(f"没有名为 {name} 的执行器（可选：{'、'.join(names())}）")
        return found[0].load()
    if isinstance(target, str):
        module, _, function = target.partition(":")
        target = getattr(importlib.import_module(module), function)
    return target


def serial(jobs: list[Job], settings: BatchSettings) -> Iterator[tuple[Job, Result]]:
    """In this process: for one job, cheaper than starting a worker. The warm kernel starts
    first, so that its start overlaps with loading papermill, nbconvert and Typst here."""
    owner = _freezes()
    try:  # in the try: a kernel started, then Ctrl-C, is closed too
        prepare(any(job.warm for job in jobs), overview=all(job.kind == OVERVIEW_KIND.name for job in jobs), freeze=owner)
        for job in jobs:
            yield job, execute_job(job)
    finally:
        close_kernels()
        if owner:
            gc.unfreeze()


def _freezes() -> bool:
    """Whether a batch made in this process may keep what it loads from the collector while it
    runs and give it back at its end (what prepare froze: loaded code, and the batch's kernel
    clients and loops): a process may run many batches (evaltools serve, a notebook). Not where
    the process froze objects of its own, which the giving back would unfreeze too."""
    return gc.get_freeze_count() == 0


# A few jobs: the most a batch makes in threads of its own process (one change: that report, its
# department's report, the year overview). More share one interpreter's lock for their Python
# work (loading, messages, exports) and are made sooner by worker processes, however many cores.
FEW_JOBS = 3


# While a few jobs run in threads, the interpreter's lock changes hands every 0.2 ms rather than
# every 5: the thread that talks to the kernel wakes a few times a cell, and each time it waited
# up to the whole interval for the lock while another thread loaded or exported (20 ms a cell of
# the year overview's, for 3 ms of work). One change at 1,000 projects: 2.66 -> 2.62 s (medians of
# fourteen runs each, alternating; 3.10 -> 2.91 s set for the whole process, on a busier host).
SWITCH_INTERVAL = 0.0002


class _Switching:
    """The process's interval while batches in threads run (a process may run several at once):
    how many run, and the interval before the first."""

    lock = threading.Lock()
    running = 0
    before = 0.0


@contextmanager
def lock_handed_over_often() -> Iterator[None]:
    """:data:`SWITCH_INTERVAL` while the block runs; once no such block runs, the interval as it
    was before the first (one set by others meanwhile is not kept)."""
    entered = False
    try:
        with _Switching.lock:
            if _Switching.running == 0:
                _Switching.before = sys.getswitchinterval()
                sys.setswitchinterval(min(_Switching.before, SWITCH_INTERVAL))
            _Switching.running += 1
            entered = True
        yield
    finally:
        if entered:
            with _Switching.lock:
                _Switching.running -= 1
                if _Switching.running == 0:
                    sys.setswitchinterval(_Switching.before)


def threaded(jobs: list[Job], settings: BatchSettings) -> Iterator[tuple[Job, Result]]:
    """In this process, for a few jobs (:data:`FEW_JOBS`), cheaper than starting workers: one
    thread runs the jobs' cells in turn in one warm kernel, and another exports each job once
    its cells have run, while the kernel runs the next. No server loads papermill, nbconvert and
    Typst to fork them: this process loads them once, while the kernel starts.

    After one change (that report and the year overview) the overview takes longest: its kernel,
    started before the batch planned, holds the year read ahead and runs the overview's cells
    first, while its PDF as made before is laid out (Typst then lays out again only what
    changed); then the report's cells, while the overview is exported. One kernel, not one a
    job: a second kernel's start (0.5 s of a core) and its cells beside the overview's cost the
    overview more than the report's cells after it (0.15 s)."""
    done: queue.SimpleQueue = queue.SimpleQueue()
    kernels: list = []  # the runner's kernels, live (a process may hold others, of other threads)
    stopping = threading.Event()
    delivered: set[int] = set()
    overview = any(job.kind == OVERVIEW_KIND.name for job in jobs)

    def deliver(job: Job, result: Result) -> None:
        delivered.add(id(job))
        done.put((job, result))

    def export(job: Job, made: Callable[[], Result], root: Path) -> None:
        deliver(job, _guarded(job, made, root))

    def run(unpacked: list[tempfile.TemporaryDirectory]) -> None:
        exports = ThreadPoolExecutor(1, thread_name_prefix="evaltools-export")
        failure: BaseException | None = None
        kernels.append(thread_kernels())
        try:
            start_warm_kernel(overview=overview)
            for job, inputs in sorted(zip(jobs, unpacked, strict=True), key=lambda pair: pair[0].kind != OVERVIEW_KIND.name):
                if stopping.is_set():  # stopped: nothing more is run, nothing more is received
                    return
                due = threading.Event()
                try:
                    if (lay_out := laid_out_before(job)) is not None:
                        exports.submit(lay_out, due)
                    ran = run_job(job, Path(inputs.name))
                except BaseException as exc:  # noqa: BLE001  (run_job gives a report's failure as its result)
                    ran = _crashed(job, exc, Path(inputs.name))
                finally:
                    due.set()
                if isinstance(ran, Result):
                    deliver(job, ran)
                elif not stopping.is_set():
                    exports.submit(export, job, ran, Path(inputs.name))
        except BaseException as exc:  # noqa: BLE001  (the kernel did not start: the jobs fail, the batch goes on)
            failure = exc
        finally:
            exports.shutdown(wait=True, cancel_futures=stopping.is_set())
            for job, inputs in zip(jobs, unpacked, strict=True):  # each job has its one result, however the thread ended
                if id(job) not in delivered:
                    deliver(job, _crashed(job, failure or RuntimeError("未执行"), Path(inputs.name)))
            close_kernels()  # this thread's
            close_event_loop()  # this thread's, with its sockets: a process may run many batches
            for inputs in unpacked:  # once the kernel, working there, is gone (Windows removes no folder in use)
                inputs.cleanup()

    unpacked: list[tempfile.TemporaryDirectory] = []
    finished = False
    owner = _freezes()
    with lock_handed_over_often():
        try:
            unpacked += map(unpack, jobs)  # before the thread starts (see unpack)
            # A daemon thread: a batch stopped early (Ctrl-C) kills the kernel and leaves without it.
            runner = threading.Thread(target=run, args=(unpacked,), name="evaltools-jobs", daemon=True)
            runner.start()
            prepare(False, freeze=owner)  # while the kernel starts
            for _ in jobs:
                yield _next(done)
            finished = True
        finally:
            if not finished:
                stopping.set()
                kill_kernels([kernel for live in kernels for kernel in list(live.values())])  # its cells stop
                for inputs in unpacked:
                    inputs.cleanup()
            else:  # the thread closes its kernel while the batch writes its index (and the process waits for it)
                threading.Thread(target=runner.join, name="evaltools-closing").start()
            if owner:
                gc.unfreeze()


def _guarded(job: Job, export: Callable[[], Result], root: Path) -> Result:
    try:
        return export()
    except BaseException as exc:  # noqa: BLE001  (the export gives a report's failure as its result)
        return _crashed(job, exc, root)


def _crashed(job: Job, exc: BaseException, root: Path) -> Result:
    """An unexpected error's result, naming the client's files (not the job's copy in ``root``)."""
    return Result(job.project_file, "failed", message=crash_message(job, exc, root))


def _next(done: queue.SimpleQueue) -> tuple[Job, Result]:
    while True:  # in short waits, so that Ctrl-C is seen at once
        try:
            return done.get(timeout=0.2)
        except queue.Empty:
            continue


@contextmanager
def children_ignore_ctrl_c() -> Iterator[None]:
    """Processes started meanwhile ignore SIGINT (an ignored signal stays ignored in a child,
    and Python then installs no handler of its own): the batch stops them itself, and a
    terminal's Ctrl-C, sent to every process of the group, is said once, by the batch."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: nothing to arrange
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C raised once the block is done, not in the middle of it (workers starting, a
    report's files being written)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
