"""Batches: every project of a department or a year, in parallel, incremental, fault-tolerant.

The parent process plans: it loads, scores and checks every project (milliseconds each) and
computes its key, a content hash of everything that made its outputs (merged parameters,
rules, notebook, evaltools' own code and templates, formats). A project whose recorded key
matches is skipped. The others go to worker processes (or a Dask cluster), each of which
executes the notebook in a fresh kernel and renders in-process. A failure is one project's
result, never the batch's end; outputs are written atomically and the run log with the key
last, so an interrupted project is simply redone next time.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from filelock import FileLock, Timeout

from evaltools import __version__
from evaltools.checks import check_department, check_project
from evaltools.rollup import LoadedDepartment
from evaltools.files import RUN_LOG, read_run_log, write_atomic
from evaltools.yamlio import ParamsError
from evaltools.scoring import percent, score
from evaltools.workspace import (
    LoadedProject,
    absolute,
    find_department_files,
    find_project_files,
    fingerprint_notebook,
    workspace_root,
)

LOCK_FILE = ".evaltools.lock"
Status = Literal["done", "skipped", "failed"]
STATUS_LABELS = {"done": "已生成", "skipped": "未变，跳过", "failed": "失败"}


@functools.cache
def code_fingerprint() -> str:
    """Hash of evaltools' own code, templates and default rules: a change re-renders everything."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".j2", ".css", ".json", ".yaml"):
            digest.update(str(path.relative_to(package)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_key(project: LoadedProject | LoadedDepartment, notebook: Path, formats: Sequence[str]) -> str:
    parts = {
        "params": project.fingerprint,
        "rules": project.rules.fingerprint,
        "notebook": fingerprint_notebook(notebook),
        "code": code_fingerprint(),
        "formats": sorted(formats),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:24]


@dataclass
class Job:
    """One project to render; plain data so that it travels to any worker."""

    project_file: str
    key: str
    formats: list[str]
    out_root: str | None
    rules_files: list[str]
    notebook: str
    timeout: int
    summary: dict
    warm: bool = False


@dataclass
class Result:
    project_file: str
    status: Status
    summary: dict = field(default_factory=dict)  # name, department, total, grade, rate, findings
    duration: float = 0.0
    message: str = ""
    folder: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def _summary(loaded: LoadedProject | LoadedDepartment) -> dict:
    """What the summary table and the index show of a project or a department report."""
    if isinstance(loaded, LoadedDepartment):
        kind, name, department = "department", loaded.params.name, loaded.params.name
        card = loaded.card if loaded.params.indicators else None
        findings = check_department(loaded)
    else:
        kind, name, department = "project", loaded.params.project.name, loaded.params.project.department
        card = score(loaded.params, loaded.rules)
        findings = check_project(loaded, card)
    return {
        "kind": kind,
        "name": name,
        "year": loaded.year,
        "department": department,
        "department_folder": absolute(loaded.path).parent.name,
        "total": str(card.total) if card else "—",
        "grade": card.grade if card else "—",
        "rate": percent(card.execution.rate, loaded.rules) if card else "—",
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
    }


def _is_current(folder: Path, key: str, formats: Sequence[str]) -> bool:
    log = read_run_log(folder)
    if not log or log.get("key") != key:
        return False
    return all((folder / name).is_file() for name in ["report.ipynb", *(f"report.{f}" for f in formats)])


def batch_files(paths: Iterable[Path | str]) -> list[Path]:
    """The project files under ``paths``, then the department files with a report to make."""
    paths = list(paths)
    return [*find_project_files(paths), *find_department_files(paths)]


def plan(files: Sequence[Path], formats: Sequence[str], out_root: Path | None = None,
         rules_files: Sequence[Path | str] = (), notebook: Path | None = None, timeout: int = 600,
         force: bool = False, warm: bool = False) -> tuple[list[Job], list[Result]]:
    """Split the files into jobs to run and results known already (skipped, or invalid)."""
    from evaltools.build import load, notebook_for, output_folder

    jobs, known = [], []
    for file in files:
        try:
            project = load(file, rules_files)
        except ParamsError as exc:
            known.append(Result(str(file), "failed", message=str(exc)))
            continue
        department = isinstance(project, LoadedDepartment)
        source = (notebook if not department else None) or notebook_for(project)
        if source is None:
            known.append(Result(str(file), "failed", message="找不到报告笔记本（notebooks/ 文件夹）"))
            continue
        key = build_key(project, source, formats)
        folder = output_folder(project, out_root)
        summary = _summary(project)
        if not force and _is_current(folder, key, formats):
            files = {f: str(folder / f"report.{f}") for f in formats}
            known.append(Result(str(file), "skipped", summary, folder=str(folder), files=files))
        else:
            jobs.append(Job(str(file), key, list(formats), str(out_root) if out_root else None,
                            [str(r) for r in rules_files], str(source), timeout, summary, warm))
    return jobs, known


def execute_job(job: Job) -> Result:
    """Run one job (in a worker): render, then record the key. Never raises for a bad project."""
    from evaltools.build import RenderError, run

    started = time.monotonic()
    try:
        outputs = run(job.project_file, job.formats, Path(job.out_root) if job.out_root else None,
                      job.rules_files, Path(job.notebook), job.timeout, warm=job.warm)
    except (RenderError, ParamsError) as exc:
        return Result(job.project_file, "failed", job.summary, time.monotonic() - started, str(exc))
    except Exception as exc:  # anything else is still this project's failure, not the batch's
        return Result(job.project_file, "failed", job.summary, time.monotonic() - started,
                      f"{job.project_file}：{type(exc).__name__}: {exc}")
    duration = time.monotonic() - started
    log = {
        "key": job.key, "evaltools": __version__, "status": "done",
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "duration": round(duration, 3),
        "summary": job.summary, "timings": outputs.timings, "warnings": outputs.warnings,
    }

    write_atomic(outputs.folder / RUN_LOG, json.dumps(log, ensure_ascii=False, indent=2, default=str))
    return Result(job.project_file, "done", job.summary, duration, folder=str(outputs.folder),
                  files={k: str(v) for k, v in outputs.files.items()}, warnings=outputs.warnings)


# --- executors -------------------------------------------------------------------------------------


def _process_pool(jobs: list[Job], workers: int) -> Iterator[Result]:
    """Worker processes (spawned: no state shared with the parent), results as they finish."""
    import multiprocessing

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    pending: dict[Future, Job] = {pool.submit(execute_job, job): job for job in jobs}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    yield future.result()
                except Exception as exc:  # a worker that died (killed, out of memory)
                    yield Result(job.project_file, "failed", job.summary, message=f"工作进程异常退出：{exc}")
    finally:
        # On Ctrl-C: drop what has not started, let running projects stop (their files are
        # written atomically, so none is left half-written), and only then return.
        pool.shutdown(wait=True, cancel_futures=True)


def _dask(jobs: list[Job], workers: int, scheduler: str | None) -> Iterator[Result]:
    """The same jobs on a Dask cluster: ``scheduler`` is its address, or None for a LocalCluster."""
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        futures = {client.submit(execute_job, job, pure=False): job for job in jobs}
        for future in as_completed(futures):
            job = futures[future]
            try:
                yield future.result()
            except Exception as exc:
                yield Result(job.project_file, "failed", job.summary, message=f"Dask 任务失败：{exc}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _serial(jobs: list[Job]) -> Iterator[Result]:
    for job in jobs:
        yield execute_job(job)


# --- the batch -----------------------------------------------------------------------------------


class LockedError(Exception):
    """Another batch is writing into the same outputs."""


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
    return (workspace_root(files[0]) if files else Path.cwd()) / "outputs"


@dataclass
class BatchRun:
    results: list[Result]
    out_root: Path
    indexes: list[Path] = field(default_factory=list)

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == "failed"]

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)


def run_batch(paths: Sequence[Path | str], formats: Sequence[str] = ("html", "pdf"), *, jobs: int | None = None,
              out_root: Path | None = None, rules_files: Sequence[Path | str] = (), notebook: Path | None = None,
              timeout: int = 600, force: bool = False, executor: str = "process", scheduler: str | None = None,
              warm: bool = False,
              on_plan: Callable[[int, int], None] | None = None,
              on_result: Callable[[Result], None] | None = None) -> BatchRun:
    """Render every project under ``paths``; see the module docstring for what is skipped and why."""
    from evaltools.index import write_indexes
    from evaltools.export import check_formats

    formats = check_formats(formats)  # a typo in --to is refused before any work
    files = batch_files(paths)
    target = Path(out_root) if out_root else default_out_root(files)
    workers = max(1, jobs or os.cpu_count() or 1)
    with outputs_lock(target):
        todo, results = plan(files, formats, out_root, rules_files, notebook, timeout, force, warm)
        if on_plan:
            on_plan(len(todo) + len(results), len(todo))
        for result in results:
            if on_result:
                on_result(result)
        if executor == "dask":
            stream = _dask(todo, workers, scheduler)
        elif workers == 1 or len(todo) <= 1:
            stream = _serial(todo)
        else:
            stream = _process_pool(todo, min(workers, len(todo)))
        for result in stream:
            results.append(result)
            if on_result:
                on_result(result)
        order = {str(f): i for i, f in enumerate(files)}
        results.sort(key=lambda r: order.get(r.project_file, len(order)))
        batch = BatchRun(results, target)
        batch.indexes = write_indexes(batch.results, batch.out_root, only_if_changed=True)
    return batch


def as_json(batch: BatchRun) -> str:
    return json.dumps([asdict(r) for r in batch.results], ensure_ascii=False, indent=2)
