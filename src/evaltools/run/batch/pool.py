"""The ``process`` executor: worker processes, each keeping a warm kernel for its notebooks.

On Linux the workers are forked from a server that has loaded papermill, nbconvert and
Typst once, each adopting a kernel this process started at once (the kernels start and
import while the server loads); elsewhere they are spawned, each loading everything and
starting its own kernel. Workers ignore Ctrl-C: the batch stops them (and their kernels) itself,
so that the interrupt is said once, by the batch, whichever process the terminal's signal
reaches first.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import forkserver, resource_tracker
from multiprocessing.connection import wait as wait_for
from multiprocessing.util import Finalize

from evaltools.run.batch.executors import FEW_JOBS, children_ignore_ctrl_c, ctrl_c_deferred, serial, threaded
from evaltools.run.batch.model import BatchSettings, Job, Result
from evaltools.run.batch.worker import execute_job, prepare
from evaltools.run.kernels import ADOPTABLE, close_kernels, kill_kernels, launch_kernels, stop_kernels

# What a worker loads, loaded once by the server the workers are forked from.
PRELOAD = ["evaltools.run.preload"]


def process(jobs: list[Job], settings: BatchSettings) -> Iterator[tuple[Job, Result]]:
    """Worker processes (no state shared with this one), results as they finish; one job, or
    one worker, runs in this process (:func:`serial`), and a few jobs run in threads of this
    process (:func:`threaded`)."""
    workers = min(settings.workers, len(jobs))
    warm = any(job.warm for job in jobs)
    if workers <= 1:
        yield from serial(jobs, settings)
        return
    if warm and len(jobs) <= FEW_JOBS:  # a few jobs: threads in this process
        yield from threaded(jobs, settings)
        return
    context, kernels, managers = _pool_context(warm, workers, overview=any(job.kind == "overview" for job in jobs))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                               initargs=(warm, kernels))
    pending: dict[Future, Job] = {}
    finished = False
    try:
        with ctrl_c_deferred():  # a worker stopped while it starts would print multiprocessing's traceback
            pending.update((pool.submit(execute_job, job), job) for job in jobs)
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    yield job, future.result()
                except Exception as exc:  # a worker that died (killed, out of memory)
                    yield job, Result(job.project_file, "failed", message=f"{job.project_file}：工作进程异常退出：{exc}")
        finished = True
    finally:
        if not finished:  # stopped early (Ctrl-C): what runs is dropped, nothing of it is written
            _stop_workers(pool)
        pool.shutdown(wait=True, cancel_futures=True)
        stop_kernels(managers)
        if kernels is not None:
            shutil.rmtree(kernels[0], ignore_errors=True)
        _stop_resource_tracker()


def _stop_workers(pool: ProcessPoolExecutor, grace: float = 5.0) -> None:
    """Stop the workers now rather than wait for their reports: each kills its kernel and exits
    on SIGTERM (see :func:`_worker_init`), and is killed if it has not within ``grace`` seconds."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the pool keeps them by pid
    for worker in processes:
        if worker.is_alive():
            worker.terminate()
    for worker in processes:
        worker.join(grace)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _pool_context(warm: bool, workers: int, overview: bool = False):
    """How workers are started (see the module's docstring). Returns the context, the kernels
    to hand out and their managers (stopped at the end)."""
    if not (ADOPTABLE and "forkserver" in multiprocessing.get_all_start_methods()):
        return multiprocessing.get_context("spawn"), None, []
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    with children_ignore_ctrl_c():  # the server (and so the workers it forks) leaves Ctrl-C to the batch
        forkserver.ensure_running()
    if not warm:
        return context, None, []
    managers, handed = launch_kernels(workers, overview=overview)
    return context, (tempfile.mkdtemp(prefix="evaltools-kernels-"), handed), managers


def _worker_init(warm: bool, kernels: tuple[str, list[dict]] | None = None) -> None:
    """A worker process pays its imports and its kernel's start once, before its first job.

    It leaves Ctrl-C to the batch, stops its kernels when told to stop (SIGTERM) and when the
    batch dies (even by kill -9), and at its normal end (a worker's atexit handlers do not run).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _stop_now)
    _watch_parent()
    Finalize(None, close_kernels, exitpriority=10)
    prepare(warm, kernels, alongside=False)  # the pool's workers keep every core busy: a thread more only contends


def _stop_now(signum: int, frame: object) -> None:
    kill_kernels()
    os._exit(1)


def _watch_parent() -> None:
    """In a worker: when the batch process dies, kill this worker's kernels and exit, rather
    than finish notebooks nobody will receive."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait_for([parent.sentinel])
        kill_kernels()
        os._exit(1)

    threading.Thread(target=watch, name="evaltools-parent", daemon=True).start()


def _stop_resource_tracker() -> None:
    """The pool's queues start multiprocessing's resource tracker; stop and reap it, rather
    than leave it behind (a zombie once it exits) for as long as this process lives."""
    stop = getattr(resource_tracker._resource_tracker, "_stop", None)  # Python ≥ 3.8, POSIX
    if stop is not None:
        stop()
