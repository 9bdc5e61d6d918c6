"""Batches: every project of a department or a year, in parallel, incremental, fault-tolerant.

The parent process plans without loading anything: a report's key is a hash of the content
of every file it is made from (the project file, its department's file, the rules, the
notebook's cells) and of evaltools' own code. A report whose run log records that key and
the formats asked for is skipped; one lacking only a format is exported again from its
executed notebook. The others go, inputs included, to worker processes (or a Dask cluster),
each keeping a warm kernel and its imports for all its notebooks. Workers write nothing: the
outputs come back with the result and this process writes them, each file atomically and the
run log with the key last, so an interrupted project is simply redone next time. A failure
is one project's result, never the batch's end.
"""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import json
import os
import shutil
import socket
import tempfile
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from filelock import FileLock, Timeout

from evaltools import __version__
from evaltools.domain import formatting
from evaltools.domain.checks import check_department, check_project
from evaltools.domain.reviews import REVIEWS_FOLDER, reviews_file
from evaltools.domain.rollup import LoadedDepartment
from evaltools.domain.files import RUN_LOG, read_run_log, write_atomic
from evaltools.domain.fingerprints import code_fingerprint
from evaltools.writers.formats import FORMATS, OVERVIEW, OVERVIEW_ROWS, ROWS_CACHE, SUBMISSION, check_edition, check_formats, file_names
from evaltools.domain.history import previous_sources, previous_year
from evaltools.domain.yamlio import ParamsError, read_yaml
from evaltools.domain.scoring import score
from evaltools.domain.workspace import (
    DEPARTMENT_FILE,
    DEPARTMENT_NOTEBOOK,
    NOTEBOOK,
    OVERVIEW_NOTEBOOK,
    LoadedProject,
    absolute,
    default_notebook,
    find_department_files,
    find_project_files,
    fingerprint_notebook,
    is_department_file,
    is_project_file,
    rules_files_for,
    workspace_root,
)

LOCK_FILE = ".evaltools.lock"
Status = Literal["done", "skipped", "failed"]
STATUS_LABELS = {"done": "已生成", "skipped": "未变，跳过", "failed": "失败"}


@dataclass
class Job:
    """One report to make; plain data, inputs included, so that it runs on any worker, with or
    without the client's disk. Paths in ``inputs``, ``source``, ``notebook`` and ``rules_files``
    are relative to the workspace root."""

    project_file: str  # as the client names it, for messages
    root: str  # the client's workspace root, for messages
    source: str
    inputs: dict[str, bytes]
    notebook: str
    rules_files: list[str]
    key: str
    formats: list[str]
    timeout: int
    warm: bool = True
    edition: str = SUBMISSION
    executed: bytes | None = None  # the report's notebook, executed earlier from the same inputs…
    previous: dict = field(default_factory=dict)  # …and the run log of that run
    base: str = ""  # the client's outputs root for this report (the worker never writes there)
    code: str = field(default_factory=code_fingerprint)  # the evaltools the key was made with
    kind: Literal["report", "overview"] = "report"  # a project's or department's report, or a year's overview
    attached: dict = field(default_factory=dict)  # the files its projects attach, for the run log (see _attached)


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
    payload: dict[str, bytes | str] = field(default_factory=dict, repr=False)  # made by a worker, to write
    removes: list[str] = field(default_factory=list, repr=False)  # stale files to remove, once it is written

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def _summary(loaded: LoadedProject | LoadedDepartment) -> dict:
    """What the summary table, ``batch --json`` and the index show of a project or a department
    report: 总分 and 执行率 (in percent) as numbers, and as the reports show them (``shown``)."""
    if isinstance(loaded, LoadedDepartment):
        kind, name, department = "department", loaded.params.name, loaded.params.name
        card = loaded.card if loaded.params.indicators else None
        findings = check_department(loaded)
    else:
        kind, name, department = "project", loaded.params.project.name, loaded.params.project.department
        card = score(loaded.params, loaded.rules)
        findings = check_project(loaded, card)
    rate = card.execution.rate if card else None
    summary = {
        "kind": kind,
        "name": name,
        "year": loaded.year,
        "department": department,
        "department_folder": absolute(loaded.path).parent.name,
        "total": formatting.number(card.total if card else None),
        "grade": card.grade if card else None,
        "rate": formatting.percent_number(rate),
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
        "shown": {"total": formatting.score(card.total if card else None, loaded.rules),
                  "grade": card.grade if card else formatting.DASH,
                  "rate": formatting.percent(rate, loaded.rules)},
    }
    last = None if isinstance(loaded, LoadedDepartment) else previous_year(loaded.path)
    if last is not None:  # last year's, where its file exists
        summary.update(previous_total=formatting.number(last.total), previous_grade=last.grade,
                       previous_rate=formatting.percent_number(last.rate))
        summary["shown"]["previous"] = (f"{formatting.score(last.total, loaded.rules)}（{last.grade}）· "
                                        f"{formatting.percent(last.rate, loaded.rules)}")
    return summary


def batch_files(paths: Iterable[Path | str]) -> list[Path]:
    """The project files under ``paths``, then the department files with a report to make."""
    paths = list(paths)
    return [*find_project_files(paths), *find_department_files(paths)]


# --- planning: from content fingerprints, nothing loaded ------------------------------------------


@dataclass
class _Folder:
    """What every file of a params folder shares: found once per batch, not once per file."""

    path: Path  # resolved
    root: Path  # the workspace root; paths of inputs are taken from there
    relative: str  # the folder's path from the root
    shared: dict[str, Path]  # the department's file and the rules that apply, by path from the root
    outputs: Path  # where its reports go by default


def _relative(path: Path, root: Path, elsewhere: str) -> str:
    """``path`` (resolved) from the workspace root; a file outside it is shipped under a name
    of its own."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else elsewhere


class _Inputs:
    """The files reports are made from, read and hashed once per batch (a department's and the
    rules' files serve many projects), and the folders they are in."""

    def __init__(self) -> None:
        self.cache: dict[Path, tuple[bytes, str]] = {}
        self.folders: dict[Path, _Folder] = {}
        self.notebooks: dict[tuple[Path, str], Path | None] = {}
        self.cells: dict[Path, str] = {}

    def read(self, path: Path) -> tuple[bytes, str]:
        if path not in self.cache:
            data = path.read_bytes()
            self.cache[path] = data, hashlib.sha256(data).hexdigest()
        return self.cache[path]

    def notebook_hash(self, path: Path) -> str:
        if path not in self.cells:  # cell sources only: a notebook saved with outputs is the same notebook
            self.cells[path] = fingerprint_notebook(path)
        return self.cells[path]

    def folder(self, path: Path) -> _Folder:
        if path not in self.folders:
            resolved = absolute(path)
            department = resolved / DEPARTMENT_FILE
            workspace = root = workspace_root(department)
            if root == resolved:  # no params/ tree: keep the folder's name, as the outputs do
                root = resolved.parent
            shared = [department] if department.is_file() else []
            shared += [absolute(p) for p in rules_files_for(department)]
            self.folders[path] = _Folder(resolved, root, resolved.relative_to(root).as_posix(),
                                         {_relative(p, root, f"_elsewhere/{p.name}"): p for p in shared},
                                         workspace / "outputs")
        return self.folders[path]

    def default_notebook(self, file: Path, kind: str) -> Path | None:
        key = (file.parent, kind)
        if key not in self.notebooks:
            self.notebooks[key] = default_notebook(file, kind)
        return self.notebooks[key]


def _named_inputs(file: Path, inputs: _Inputs, hint: dict | None = None) -> tuple[dict[str, Path], dict]:
    """Every file a report of ``file`` is made from, by its path from the workspace root: the
    file, its department's file and rules, the projects a department report rolls up, the files
    they attach and last year's files; and the record of the attached files for the run log."""
    folder = inputs.folder(file.parent)
    root = folder.root
    named = {f"{folder.relative}/{file.name}": folder.path / file.name, **folder.shared}
    if is_department_file(file):  # the department's report rolls up every project of its folder
        named.update((f"{folder.relative}/{p.name}", p) for p in folder.path.iterdir() if p.is_file() and is_project_file(p))
    projects = [p for p in named.values() if is_project_file(p)]
    attached = _attached(projects, folder.path, inputs, hint)
    named.update((_relative(folder.path / name, root, f"_attached/{Path(name).name}"), folder.path / name)
                 for name in attached["files"])
    for project in projects:  # last year, shown beside this year
        named.update((_relative(p, root, f"_previous/{p.parent.name}/{p.name}"), p) for p in previous_sources(project))
    return named, attached


def _job(file: Path, named: dict[str, Path], source: str, notebook: Path, rules_files: Sequence[Path],
         formats: list[str], base: Path, timeout: int, warm: bool, inputs: _Inputs, edition: str = SUBMISSION,
         **kw) -> Job:
    """The job for the inputs ``named``, with its key: a hash of every input's content, the
    notebook's cells and evaltools' own code (the formats asked for are not in it: another
    format reuses the executed notebook)."""
    root = inputs.folder(file.parent if file.is_file() else file).root
    extra = [_relative(p, root, f"_rules/{i}/{p.name}") for i, p in enumerate(rules_files)]
    named = {**named, **dict(zip(extra, rules_files, strict=True))}
    book = _relative(notebook, root, f"notebooks/{notebook.name}")
    contents = {rel: inputs.read(path) for rel, path in named.items()}
    key = hashlib.sha256(json.dumps({
        "files": {rel: digest for rel, (_, digest) in sorted(contents.items())},
        "rules": extra, "notebook": [book, inputs.notebook_hash(notebook)], "code": code_fingerprint(),
        "edition": edition,
    }, sort_keys=True).encode()).hexdigest()[:24]
    data = {rel: content for rel, (content, _) in contents.items()}
    data[book] = inputs.read(notebook)[0]
    return Job(str(file), str(root), source, data, book, extra, key, formats, timeout, warm, edition, base=str(base),
               **kw)


def _attached(projects: Sequence[Path], folder: Path, inputs: _Inputs, hint: dict | None = None) -> dict:
    """The files the ``projects`` attach (``narrative.attachments``, their own or their
    department's), which travel with the job, as names from their ``folder``; a missing one is
    the project's error, said when it is loaded.

    Finding them means reading the YAML; the run log records them with a hash of the files
    they were read from (``hint``), so that a batch with nothing changed parses no YAML.
    """
    department = folder / DEPARTMENT_FILE
    sources = [*projects, *([department] if department.is_file() else [])]
    digest = hashlib.sha256("".join(inputs.read(p)[1] for p in sources).encode()).hexdigest()[:24]
    if hint and hint.get("from") == digest and isinstance(hint.get("files"), list):
        return {"from": digest, "files": [f for f in hint["files"] if (folder / f).is_file()]}

    def listed(data: object) -> list:
        narrative = data.get("narrative") if isinstance(data, dict) else None
        entries = narrative.get("attachments") if isinstance(narrative, dict) else None
        return entries if isinstance(entries, list) else []

    files: list[str] = []
    try:
        shared = read_yaml(department).data.get("defaults") if department.is_file() else None
        for project in projects:
            own = read_yaml(project).data
            files += [entry.get("file") for entry in [*listed(shared), *listed(own)] if isinstance(entry, dict)]
    except (ParamsError, AttributeError):
        pass
    found = [f for f in dict.fromkeys(files) if isinstance(f, str) and (folder / f).is_file()]
    return {"from": digest, "files": found}


OVERVIEW_LOG = f"{OVERVIEW}.{RUN_LOG}"  # outputs/<year>/overview.run.json


def _overview_job(year_folder: Path, named: dict[str, Path], formats: list[str], base: Path, timeout: int,
                  warm: bool, inputs: _Inputs) -> Job | None:
    """The year overview's job, made from ``named`` (what the year's reports are made from),
    the departments' files and the year's rules; None without an overview notebook."""
    notebook = inputs.default_notebook(year_folder / DEPARTMENT_FILE, OVERVIEW_NOTEBOOK)
    if notebook is None:
        return None
    named = {**inputs.folder(year_folder).shared, **named}
    decisions = reviews_file(inputs.folder(year_folder).root, year_folder.name)
    if decisions.is_file():  # the overview counts the reviewers' decisions
        named[f"{REVIEWS_FOLDER}/{decisions.name}"] = decisions
    for department in sorted(year_folder.glob(f"*/{DEPARTMENT_FILE}")):
        named.update(inputs.folder(department.parent).shared)
    source = _relative(year_folder.resolve(), inputs.folder(year_folder).root, year_folder.name)
    return _job(year_folder, named, source, absolute(notebook), [], formats, base, timeout, warm, inputs,
                kind="overview")


def _guess_folder(file: Path, base: Path, inputs: _Inputs) -> Path:
    """Where the file's report was written, as laid out by year and department folder; its run
    log's key, which covers the file's content, says whether the guess is right."""
    folder = inputs.folder(file.parent).path
    return base / folder.parent.name / folder.name / file.stem


def _recorded(folder: Path, key: str, formats: Sequence[str], edition: str = SUBMISSION, name: str = "report",
              log: dict | None = None) -> tuple[dict | None, list[str]]:
    """The run log of the report ``name`` in ``folder`` if it was made from ``key``, and which
    of ``formats`` it lacks."""
    if not log or log.get("key") != key or not (folder / f"{name}.ipynb").is_file():
        return None, list(formats)
    names = file_names(formats, edition, name)
    return log, [f for f in formats if f not in log.get("formats", []) or not (folder / names[f]).is_file()]


def plan(files: Sequence[Path], formats: Sequence[str], out_root: Path | None = None,
         rules_files: Sequence[Path | str] = (), notebook: Path | None = None, timeout: int = 600,
         force: bool = False, warm: bool = True, edition: str = SUBMISSION,
         years: Sequence[Path] = ()) -> tuple[list[Job], list[Result]]:
    """Split the files into jobs to run and results known already (skipped, or without a notebook);
    with ``years``, the overview of each of those year folders, first of the jobs (it is the longest).

    Nothing is loaded: a report whose run log records the key of its inputs' content, with the
    formats asked for, is current. A report made from the same inputs but lacking a format is
    a job that reuses its executed notebook.
    """
    jobs, known = [], []
    inputs = _Inputs()
    extra_rules = [absolute(r) for r in rules_files]
    year_inputs: dict[Path, dict[str, Path]] = {Path(year).resolve(): {} for year in years}
    for file in files:
        department = is_department_file(file)
        kind = DEPARTMENT_NOTEBOOK if department else NOTEBOOK
        source = (notebook if not department else None) or inputs.default_notebook(file, kind)
        if source is None:
            known.append(Result(str(file), "failed", message=f"{file}：找不到报告笔记本（notebooks/ 文件夹）"))
            continue
        base = Path(out_root) if out_root else inputs.folder(file.parent).outputs
        folder = _guess_folder(file, base, inputs)
        log = None if force else read_run_log(folder)
        try:
            named, attached = _named_inputs(file, inputs, (log or {}).get("attached"))
            job = _job(file, named, f"{inputs.folder(file.parent).relative}/{file.name}", absolute(source),
                       extra_rules, list(formats), base, timeout, warm, inputs, edition, attached=attached)
        except OSError as exc:
            known.append(Result(str(file), "failed", message=f"{file}：无法读取（{exc.strerror or exc}）"))
            continue
        year = inputs.folder(file.parent).path.parent
        if year in year_inputs:
            year_inputs[year].update(named)
        log, missing = _recorded(folder, job.key, formats, edition, log=log)
        if log is not None and not missing:
            files_made = {f: str(folder / name) for f, name in file_names(formats, edition).items()}
            known.append(Result(str(file), "skipped", log.get("summary", {}), folder=str(folder), files=files_made))
            continue
        if log is not None:  # same inputs, another format: export the notebook executed before
            job.executed, job.previous, job.formats = (folder / "report.ipynb").read_bytes(), log, missing
        jobs.append(job)
    overviews = []
    for year, named in year_inputs.items():
        base = Path(out_root) if out_root else inputs.folder(year).outputs
        try:
            job = _overview_job(year, named, list(formats), base, timeout, warm, inputs)
        except OSError as exc:
            known.append(Result(str(year), "failed", message=f"{year}：无法读取（{exc.strerror or exc}）"))
            continue
        if job is None:
            continue
        folder = base / year.name
        if (folder / OVERVIEW_ROWS).is_file():  # last run's rows, for the projects unchanged since (not in the key)
            job.inputs[ROWS_CACHE] = (folder / OVERVIEW_ROWS).read_bytes()
        log, missing = (None, list(formats)) if force else _recorded(
            folder, job.key, formats, name=OVERVIEW, log=read_run_log(folder, OVERVIEW_LOG))
        if log is not None and not missing:
            continue
        if log is not None:
            job.executed, job.previous, job.formats = (folder / f"{OVERVIEW}.ipynb").read_bytes(), log, missing
        overviews.append(job)
    return overviews + jobs, known


# --- running a job (in a worker) -------------------------------------------------------------------


def execute_job(job: Job) -> Result:
    """Make one report, or a year's overview (in a worker): from a private copy of its inputs,
    into memory.

    The result carries the files to write (``payload``, relative to the outputs root), the run
    log last; the worker writes nothing, so it needs no access to the client's disk. Never
    raises for a bad project.
    """
    # papermill, nbconvert and WeasyPrint: only where reports are made (not for `check`)
    import nbformat

    from evaltools.run.build import make, make_overview, relative_folder
    from evaltools.errors import RenderError
    from evaltools.run.execute import load

    started = time.monotonic()
    summary: dict = {}
    if job.code != code_fingerprint():  # a cluster's worker with another evaltools would make other reports
        return Result(job.project_file, "failed", message=f"{job.project_file}：工作机上的 evaltools（{__version__}，"
                      f"代码指纹 {code_fingerprint()}）与提交方不同（{job.code}）：请在各机器安装同一版本")
    overview = job.kind == "overview"
    name, log_name = (OVERVIEW, OVERVIEW_LOG) if overview else ("report", RUN_LOG)
    folder = Path(job.source).name if overview else None  # outputs/<year>/overview.*
    with tempfile.TemporaryDirectory(prefix="evaltools-job-") as scratch:
        workspace = Path(scratch).resolve()

        def mine(text: str) -> str:  # messages name the client's files, not this copy
            return text.replace(str(workspace), job.root)

        for rel, data in job.inputs.items():
            (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
            (workspace / rel).write_bytes(data)
        rules = [workspace / r for r in job.rules_files]
        try:
            executed = nbformat.reads(job.executed.decode("utf-8"), as_version=4) if job.executed else None
            if overview:
                made = make_overview(workspace / job.source, job.formats, workspace / job.notebook, job.timeout,
                                     job.warm, executed, rows_cache=True)
            else:
                project = load(workspace / job.source, rules)
                summary = _summary(project)
                folder = relative_folder(project).as_posix()
                made = make(project, job.formats, rules, workspace / job.notebook, job.timeout, job.warm, executed,
                            job.edition)
        except ParamsError as exc:
            return Result(job.project_file, "failed", summary, time.monotonic() - started, mine(str(exc)))
        except RenderError as exc:
            failed = {f"{folder}/{name}.failed.ipynb": exc.failed_notebook} if exc.failed_notebook and folder else {}
            return Result(job.project_file, "failed", summary, time.monotonic() - started, mine(str(exc)),
                          folder=folder, payload=failed)
        except Exception as exc:  # anything else is still this project's failure, not the batch's
            return Result(job.project_file, "failed", summary, time.monotonic() - started,
                          mine(f"{job.project_file}：{type(exc).__name__}: {exc}"))
    duration = time.monotonic() - started
    log = {
        "key": job.key, "evaltools": __version__, "status": "done",
        "formats": sorted({*job.formats, *job.previous.get("formats", [])}),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "duration": round(duration, 3),
        "summary": summary, "attached": job.attached,
        "timings": made.timings or job.previous.get("timings", {}),
        "phases": {**job.previous.get("phases", {}), **made.phases},
        "warnings": [mine(w) for w in made.warnings],
    }
    payload = {f"{folder}/{file}": data for file, data in made.contents.items()}
    if job.executed:  # the executed notebook on disk stays as it is
        payload.pop(f"{folder}/{name}.ipynb")
    payload[f"{folder}/{log_name}"] = json.dumps(log, ensure_ascii=False, indent=2, default=str)
    return Result(job.project_file, "done", summary, duration, folder=folder,
                  files={kind: file for file in made.contents if (kind := file.rsplit(".", 1)[-1]) in FORMATS},
                  warnings=log["warnings"], payload=payload, removes=[f"{folder}/{name}.failed.ipynb"])


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
    if result.folder is not None:
        result.folder = str(base / result.folder)
        result.files = {kind: str(Path(result.folder) / name) for kind, name in result.files.items()}
    result.payload, result.removes = {}, []
    return result


# --- executors -------------------------------------------------------------------------------------


def _watch_parent() -> None:
    """In a worker: when the batch process dies (even by kill -9), kill this worker's kernels
    and exit, rather than finish notebooks nobody will receive."""
    import multiprocessing
    import threading
    from multiprocessing.connection import wait as wait_for

    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        wait_for([parent.sentinel])
        from evaltools.run.kernels import kill_kernels

        kill_kernels()
        os._exit(1)

    threading.Thread(target=watch, name="evaltools-parent", daemon=True).start()


def _prepare(warm: bool, kernels: tuple[str, list[dict]] | None = None) -> None:
    """Start the warm kernel (or adopt one the batch started, from ``kernels``), then load what
    making a report needs while it starts and imports."""
    from evaltools.run.kernels import adopt_kernel, start_warm_kernel

    handed = _take(kernels) if warm else None
    if handed is not None:
        adopt_kernel(handed)
    elif warm:
        start_warm_kernel()
    from evaltools.run.export import warm_up

    warm_up()
    # What is loaded now lives as long as the process: frozen, the garbage collector no longer
    # walks it (a tenth of each PDF's time otherwise).
    gc.freeze()


def _take(kernels: tuple[str, list[dict]] | None) -> dict | None:
    """The first kernel of ``kernels`` (a folder of claims, the kernels) no other worker took:
    each is claimed by creating its file, which only one process can. None when all are taken
    (a worker started again): it starts its own."""
    if kernels is None:
        return None
    claims, handed = kernels
    for number, kernel in enumerate(handed):
        try:
            os.close(os.open(Path(claims) / str(number), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        return kernel
    return None


def _worker_init(warm: bool, kernels: tuple[str, list[dict]] | None = None) -> None:
    """A worker process pays its imports and its kernel's start once, before its first job."""
    from multiprocessing.util import Finalize

    from evaltools.run.kernels import close_kernels

    _watch_parent()
    Finalize(None, close_kernels, exitpriority=10)  # a worker's atexit handlers do not run
    _prepare(warm, kernels)


# What a worker loads, loaded once by the server the workers are forked from.
PRELOAD = ["evaltools.run.preload"]


def _pool_context(warm: bool, workers: int, overview: bool = False):
    """How workers are started: on Linux, forked from a server that has loaded papermill,
    nbconvert and WeasyPrint once, each adopting a kernel this process starts at once (the
    kernels start and import while the server loads); elsewhere spawned, each loading
    everything and starting its own kernel. Returns the context, the kernels to hand out and
    their managers (stopped at the end)."""
    import multiprocessing

    from evaltools.run.kernels import ADOPTABLE, launch_kernels

    if not (ADOPTABLE and "forkserver" in multiprocessing.get_all_start_methods()):
        return multiprocessing.get_context("spawn"), None, []
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    if not warm:
        return context, None, []
    managers, handed = launch_kernels(workers, overview=overview)
    return context, (tempfile.mkdtemp(prefix="evaltools-kernels-"), handed), managers


def _process_pool(jobs: list[Job], workers: int) -> Iterator[tuple[Job, Result]]:
    """Worker processes (no state shared with this one), results as they finish."""
    from evaltools.run.kernels import stop_kernels

    warm = any(job.warm for job in jobs)
    context, kernels, managers = _pool_context(warm, workers, overview=any(job.kind == "overview" for job in jobs))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_init,
                               initargs=(warm, kernels))
    pending: dict[Future, Job] = {pool.submit(execute_job, job): job for job in jobs}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    yield job, future.result()
                except Exception as exc:  # a worker that died (killed, out of memory)
                    yield job, Result(job.project_file, "failed", message=f"{job.project_file}：工作进程异常退出：{exc}")
    finally:
        # On Ctrl-C: drop what has not started, let running projects stop (their files are
        # written atomically, so none is left half-written), and only then return.
        pool.shutdown(wait=True, cancel_futures=True)
        stop_kernels(managers)
        if kernels is not None:
            shutil.rmtree(kernels[0], ignore_errors=True)
        _stop_resource_tracker()


def _stop_resource_tracker() -> None:
    """The pool's queues start multiprocessing's resource tracker; stop and reap it, rather
    than leave it behind (a zombie once it exits) for as long as this process lives."""
    from multiprocessing import resource_tracker

    stop = getattr(resource_tracker._resource_tracker, "_stop", None)  # Python ≥ 3.8, POSIX
    if stop is not None:
        stop()


class ClusterError(Exception):
    """The Dask scheduler cannot be reached."""


def _connect(scheduler: str, timeout: float = 5.0):
    """A client of the scheduler at ``scheduler``, or :class:`ClusterError` in seconds."""
    from dask.distributed import Client

    try:
        if scheduler.startswith("tcp://"):  # refused or unroutable: say so now, not after Dask's retries
            host, _, port = scheduler.removeprefix("tcp://").rpartition(":")
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
        return Client(scheduler, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"无法连接 Dask 调度器 {scheduler}（{type(exc).__name__}: {exc}）："
                           "请确认 dask scheduler 正在运行、地址与端口正确") from None


def _dask(jobs: list[Job], workers: int, scheduler: str | None) -> Iterator[tuple[Job, Result]]:
    """The same jobs on a Dask cluster: ``scheduler`` is its address, or None for a LocalCluster.

    Jobs carry their inputs and results their outputs, so the workers need no shared disk.
    """
    from dask.distributed import LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = _connect(scheduler) if scheduler else _connect(cluster.scheduler_address)
    try:
        futures = {client.submit(execute_job, job, pure=False): job for job in jobs}
        for future in as_completed(futures):
            job = futures.pop(future)
            try:
                yield job, future.result()
            except Exception as exc:
                yield job, Result(job.project_file, "failed", message=f"{job.project_file}：Dask 任务失败：{exc}")
            future.release()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _serial(jobs: list[Job]) -> Iterator[tuple[Job, Result]]:
    """In this process: for one job, cheaper than starting a worker. The warm kernel starts
    first, so that its start overlaps with loading papermill, nbconvert and WeasyPrint here."""
    from evaltools.run.kernels import close_kernels

    _prepare(any(job.warm for job in jobs))
    try:
        for job in jobs:
            yield job, execute_job(job)
    finally:
        close_kernels()


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
    seconds: dict[str, float] = field(default_factory=dict)  # planning, writing the indexes
    overviews: list[Result] = field(default_factory=list)  # one per year: outputs/<year>/overview.*

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.status == "failed"]

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)


def run_batch(paths: Sequence[Path | str], formats: Sequence[str] = ("html", "pdf"), *, jobs: int | None = None,
              out_root: Path | None = None, rules_files: Sequence[Path | str] = (), notebook: Path | None = None,
              timeout: int = 600, force: bool = False, executor: str = "process", scheduler: str | None = None,
              warm: bool = True, edition: str = SUBMISSION,
              on_plan: Callable[[int, int], None] | None = None,
              on_result: Callable[[Result], None] | None = None) -> BatchRun:
    """Render every project under ``paths``; see the module docstring for what is skipped and why."""
    from evaltools.run.index import write_indexes

    formats = check_formats(formats)  # a typo in --to is refused before any work
    check_edition(edition)
    files = batch_files(paths)
    target = Path(out_root) if out_root else default_out_root(files)
    workers = max(1, jobs or os.cpu_count() or 1)
    with outputs_lock(target):
        started = time.perf_counter()
        years = year_folders(paths)
        todo, results = plan(files, formats, out_root, rules_files, notebook, timeout, force, warm, edition, years)
        planned = time.perf_counter() - started
        overviews = [r for r in results if r.project_file in set(map(str, years))]  # an overview that cannot be read
        results = [r for r in results if r not in overviews]
        reports = sum(job.kind == "report" for job in todo)
        if on_plan:
            on_plan(reports + len(results), reports)
        for result in results:
            if on_result:
                on_result(result)
        if not todo:
            stream: Iterator[tuple[Job, Result]] = iter(())
        elif executor == "dask":
            stream = _dask(todo, workers, scheduler)
        elif workers == 1 or len(todo) == 1:
            stream = _serial(todo)
        else:
            stream = _process_pool(todo, min(workers, len(todo)))
        for job, made in stream:
            result = receive(made, Path(job.base))
            if job.kind == "overview":
                overviews.append(result)
                continue
            results.append(result)
            if on_result:
                on_result(result)
        order = {str(f): i for i, f in enumerate(files)}
        results.sort(key=lambda r: order.get(r.project_file, len(order)))
        batch = BatchRun(results, target)
        batch.overviews = overviews
        started = time.perf_counter()
        batch.indexes = write_indexes(batch.results, batch.out_root,
                                      only_if_changed=not any(r.status == "done" for r in batch.overviews))
        batch.seconds = {"plan": round(planned, 3), "index": round(time.perf_counter() - started, 3)}
    return batch


def year_folders(paths: Iterable[Path | str]) -> list[Path]:
    """The years a batch renders whole: year folders given (params/2024), or found in one (params/)."""
    found = set()
    for path in map(Path, paths):
        if path.is_dir():
            found.update(p.resolve() for p in [path, *path.iterdir()] if p.is_dir() and re.fullmatch(r"\d{4}", p.name))
    return sorted(found)


def as_json(batch: BatchRun) -> str:
    return json.dumps([{k: v for k, v in asdict(r).items() if k != "payload"} for r in batch.results],
                      ensure_ascii=False, indent=2)
