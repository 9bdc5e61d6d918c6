"""What a batch is made of: its settings, the jobs it sends, the results it gets back, and
the ways it can end short (another batch holds the outputs, the cluster is lost, Ctrl-C)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from evaltools.domain.fingerprints import code_fingerprint
from evaltools.run.options import Options
from evaltools.writers.formats import SUBMISSION

Status = Literal["done", "skipped", "failed"]
STATUS_LABELS = {"done": "已生成", "skipped": "未变，跳过", "failed": "失败"}


@dataclass(frozen=True)
class BatchSettings(Options):
    """Everything a batch is asked: how reports are made (:class:`Options`), and how many at
    once, where to, on which executor."""

    warm: bool = True  # each worker keeps a warm kernel for its notebooks
    jobs: int | None = None  # workers (default: the CPU count)
    out_root: Path | None = None  # default: each workspace's outputs/
    force: bool = False  # ignore the recorded fingerprints
    executor: str = "process"  # a name in the executors' registry (evaltools.run.batch.executors)
    scheduler: str | None = None  # the Dask scheduler's address (None: a LocalCluster)

    @property
    def workers(self) -> int:
        return max(1, self.jobs or os.cpu_count() or 1)


@dataclass
class Job:
    """One report to make; plain data, inputs included, so that it runs on any worker, with or
    without the client's disk. Paths in ``inputs``, ``source``, ``notebook`` and ``rules_files``
    are relative to one folder (the workspace root, or above it: see ``home``); ``folder`` is
    the report's folder below ``base``."""

    kind: str  # a name of evaltools.run.kinds.KINDS
    project_file: str  # as the client names it, for messages
    root: str  # the client's workspace root, for messages
    source: str
    inputs: dict[str, bytes]
    notebook: str
    rules_files: list[str]
    key: str
    folder: str
    base: str  # the client's outputs root for this report (the worker never writes there)
    formats: list[str]
    timeout: int
    warm: bool = True
    edition: str = SUBMISSION
    pdf_standard: str | None = None  # "a-2b": the PDF as PDF/A-2b
    executed: bytes | None = None  # the report's notebook, executed earlier from the same inputs…
    previous: dict = field(default_factory=dict)  # …and the run log of that run
    code: str = field(default_factory=code_fingerprint)  # the evaltools the key was made with
    attached: dict = field(default_factory=dict)  # the files its parameter files attach, for the run log
    home: str = "."  # the workspace root, from the folder the inputs are named from


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


class LockedError(Exception):
    """Another batch is writing into the same outputs."""


class ClusterError(Exception):
    """The Dask scheduler cannot be reached, or was lost during the batch."""


class ClusterLost(ClusterError):
    """The scheduler went away mid-batch; what finished is written, a rerun makes the rest."""

    def __init__(self, scheduler: str, message: str = "") -> None:
        super().__init__(message or f"与 Dask 调度器 {scheduler} 的连接已断开")
        self.scheduler = scheduler


class Interrupted(Exception):
    """Ctrl-C during a batch: what finished is written whole, nothing else was touched."""


def unfinished(done: list[Result], planned: list[Job]) -> list[str]:
    """The jobs of ``planned`` without a result in ``done``, named for the user: a file's name,
    or a year's overview."""
    finished = {r.project_file for r in done}
    return [f"{Path(job.project_file).name} 年度总览" if job.kind == "overview" else Path(job.project_file).name
            for job in planned if job.project_file not in finished]
