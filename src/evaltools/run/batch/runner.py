"""Running a batch: plan, send the jobs to an executor, write what comes back, index.

Workers write nothing: the outputs come back with the result and this process writes them,
each file atomically and the run log with the key last, so an interrupted report is simply
redone next time. A failure is one report's result, never the batch's end; Ctrl-C and a lost
cluster end it in one line that says what finished and what did not.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict
from pathlib import Path

from filelock import FileLock, Timeout

from evaltools.domain.files import RUN_LOG, seal, write_atomic
from evaltools.domain.layout import year_folders
from evaltools.domain.workspace import Workspace, absolute
from evaltools.run.batch.executors import ctrl_c_deferred
from evaltools.run.batch.executors import executor as executor_named
from evaltools.run.batch.model import (
    BatchRun,
    BatchSettings,
    ClusterLost,
    Interrupted,
    Job,
    LockedError,
    Result,
    unfinished,
)
from evaltools.run.batch.planning import batch_files, plan
from evaltools.run.index import linked_overview, write_indexes
from evaltools.run.kernels import has_reserved, release_reserved, reserve_kernel
from evaltools.run.kinds import OVERVIEW_KIND
from evaltools.writers.formats import OVERVIEW_LAYOUT, OVERVIEW_ROWS

LOCK_FILE = ".evaltools.lock"


def run_batch(paths: Sequence[Path | str], settings: BatchSettings | None = None, *,
              on_plan: Callable[[int, int], None] | None = None,
              on_result: Callable[[Result], None] | None = None) -> BatchRun:
    """Make every report under ``paths`` (and the overview of each year folder among them);
    see :mod:`evaltools.run.batch.planning` for what is skipped and why.

    ``on_plan(reports, to_make)`` is called once planned, ``on_result`` for each report's result.
    Raises :class:`Interrupted` on Ctrl-C and :class:`ClusterLost` when the Dask scheduler goes
    away, each after writing what finished.
    """
    settings = settings or BatchSettings()
    executor = executor_named(settings.executor)  # an unknown name is refused before any work
    files = batch_files(paths)
    target = settings.out_root or default_out_root(files)
    with outputs_lock(target), _reserved_kernel(settings, years := year_folders(paths)):
        started = time.perf_counter()
        todo, known = plan(settings, files, years)
        planned = time.perf_counter() - started
        overviews = [r for r in known if r.project_file in set(map(str, years))]  # an overview that cannot be read
        results = [r for r in known if r not in overviews]
        reports = sum(job.kind != "overview" for job in todo)
        if on_plan:
            on_plan(reports + len(results), reports)
        for result in results:
            if on_result:
                on_result(result)
        order = {str(f): i for i, f in enumerate(files)}
        early = _EarlyIndex(target, lambda made: sorted(results + made, key=lambda r: order.get(r.project_file, len(order))))
        made = _collect(executor(todo, settings) if todo else iter(()), todo, overviews, on_result, early.write)
        results += made
        results.sort(key=lambda r: order.get(r.project_file, len(order)))
        batch = BatchRun(results, target, overviews=overviews)
        started = time.perf_counter()
        batch.indexes = early.indexes if early.holds() else write_indexes(
            batch.results, batch.out_root, only_if_changed=not any(r.status == "done" for r in batch.overviews))
        batch.seconds = {"plan": round(planned, 3), "index": round(time.perf_counter() - started + early.seconds, 3)}
    return batch


class _EarlyIndex:
    """The year's index, written as soon as every report is in while the overview is still being
    made (a thousand projects' index takes 0.2 s, which the overview's cells leave free). It
    holds at the end unless the overview's files came or went meanwhile (the index links them)."""

    def __init__(self, out_root: Path, ordered: Callable[[list[Result]], list[Result]]) -> None:
        self.out_root, self.ordered = out_root, ordered
        self.indexes: list[Path] = []
        self.linked: dict[Path, list[str]] = {}
        self.seconds = 0.0

    def write(self, made: list[Result]) -> None:
        started = time.perf_counter()
        try:
            self.indexes = write_indexes(self.ordered(made), self.out_root)
        except Exception:  # noqa: BLE001  (the index is written again at the end, and fails there if it must)
            return
        self.linked = {index: linked_overview(index.parent) for index in self.indexes}
        self.seconds = time.perf_counter() - started

    def holds(self) -> bool:
        return bool(self.linked) and all(linked_overview(index.parent) == seen for index, seen in self.linked.items())


def _collect(stream: Iterator[tuple[Job, Result]], todo: list[Job], overviews: list[Result],
             on_result: Callable[[Result], None] | None,
             reports_done: Callable[[list[Result]], None] | None = None) -> list[Result]:
    """Write each result as it comes; the overviews' go to ``overviews``; ``reports_done`` is
    called when every report is in and an overview is still being made. On Ctrl-C or a lost
    cluster the executor is stopped (its ``finally``) and the batch ends in one line."""
    results: list[Result] = []
    reports = sum(job.kind != "overview" for job in todo)
    overviews_left = len(todo) - reports
    try:
        try:
            for job, made in stream:
                with ctrl_c_deferred():  # a report's files are all new or all old, and counted
                    result = receive(made, Path(job.base))
                    (overviews if job.kind == "overview" else results).append(result)
                    overviews_left -= job.kind == "overview"
                if on_result and job.kind != "overview":
                    on_result(result)
                if reports_done and job.kind != "overview" and len(results) == reports and overviews_left:
                    reports_done(results)
        finally:
            if hasattr(stream, "close"):
                stream.close()
    except KeyboardInterrupt:
        raise Interrupted(_said("已中断", results, overviews, todo, "已有的输出未动")) from None
    except ClusterLost as lost:
        raise ClusterLost(lost.scheduler, _said(f"与 Dask 调度器 {lost.scheduler} 的连接已断开", results, overviews,
                                                todo, "重新运行将只生成其余的")) from None
    return results


def _said(what: str, results: list[Result], overviews: list[Result], todo: list[Job], then: str) -> str:
    """One line: what happened, what finished, what did not."""
    finished = [*results, *overviews]
    rest = unfinished(finished, todo)
    names = "、".join(rest[:5]) + ("等" if len(rest) > 5 else "")
    line = f"{what}：已完成 {sum(r.status == 'done' for r in finished)} 个，未完成 {len(rest)} 个"
    return line + (f"（{names}）" if rest else "") + f"；{then}"


def receive(result: Result, base: Path) -> Result:
    """Write what a worker made, on this side: each file atomically, the run log last; only
    below ``base``, whatever a worker sends."""
    outside = [name for name in [*result.payload, *result.removes] if Path(name).is_absolute() or ".." in Path(name).parts
               or not (base / name).parent.resolve().is_relative_to(base.resolve())]  # a link out of the outputs
    if outside:
        return Result(result.project_file, "failed", result.summary, result.duration,
                      f"{result.project_file}：工作进程返回了输出目录之外的路径（{outside[0]}），未写入")
    for name, data in sorted(result.payload.items(), key=lambda item: item[0].endswith(RUN_LOG)):
        write_atomic(base / name, data)
    for name in result.removes:
        (base / name).unlink(missing_ok=True)
    for name in result.payload:
        if Path(name).name == OVERVIEW_LAYOUT:  # run, not only read, by the next batch: sealed as written here
            seal(base / name)
    if result.folder is not None:
        result.folder = str(base / result.folder)
        result.files = {kind: str(Path(result.folder) / name) for kind, name in result.files.items()}
    result.payload, result.removes = {}, []
    return result


@contextmanager
def _reserved_kernel(settings: BatchSettings, years: Sequence[Path]) -> Iterator[None]:
    """The year overview's kernel started while the batch is planned, where a year made before
    is made again (the overview is what takes longest after one change) by the batch's process
    or its workers. Not for a year made for the first time, or all again (``--force``): many
    reports, whose workers' start it would slow. One the command line started already
    (:mod:`evaltools.cli.head_start`) is kept where wanted, else stopped now; stopped at the end
    if nobody took it."""
    wanted = settings.warm and not settings.force and settings.executor == "process"
    made = [(year, folder) for year in years if wanted
            and ((folder := OVERVIEW_KIND.folder(Workspace.of(year, settings.out_root), year)) / OVERVIEW_KIND.log).is_file()]
    if not made:
        release_reserved()
    elif not has_reserved():
        with suppress(Exception):  # a head start only: the job starts its kernel, and says what fails
            year, folder = made[0]
            reserve_kernel(ahead=(absolute(year), absolute(folder / OVERVIEW_ROWS)))
    try:
        yield
    finally:
        release_reserved()


@contextmanager
def outputs_lock(out_root: Path) -> Iterator[None]:
    """One batch at a time per outputs folder; a second one is refused at once, clearly.

    ``filelock`` locks on Linux, macOS and Windows alike; who holds the lock is noted in a
    file beside it, for the message.
    """
    out_root.mkdir(parents=True, exist_ok=True)
    path = out_root / LOCK_FILE
    holder_file = path.with_name(LOCK_FILE + ".holder")
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        try:
            holder = holder_file.read_text(encoding="utf-8").strip() or "?"
        except OSError:
            holder = "?"
        raise LockedError(f"另一个批处理（{holder}）正在写入 {out_root}，请等它结束后再运行") from None
    try:
        write_atomic(holder_file, f"pid {os.getpid()}")
        yield
    finally:
        holder_file.unlink(missing_ok=True)
        lock.release()


def default_out_root(files: Sequence[Path]) -> Path:
    return Workspace.of(files[0]).outputs if files else Path.cwd() / "outputs"


def as_json(batch: BatchRun) -> str:
    return json.dumps([{k: v for k, v in asdict(r).items() if k != "payload"} for r in batch.results],
                      ensure_ascii=False, indent=2)
