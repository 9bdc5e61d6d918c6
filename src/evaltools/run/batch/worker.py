"""The worker's side of a batch: make one job's report (one ``make(kind, …)``) from a private
copy of its inputs, into memory, and give back the files to write.

The worker writes nothing, so it needs no access to the client's disk; a bad project is its
result, never an exception.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from evaltools import __version__
from evaltools.domain import memo
from evaltools.domain.files import scratch, sealed, write_tree
from evaltools.domain.fingerprints import code_fingerprint
from evaltools.domain.workspace import Workspace
from evaltools.domain.yamlio import ParamsError
from evaltools.errors import RenderError
from evaltools.run.batch.model import Job, Result
from evaltools.run.kernels import adopt_kernel, has_warm_kernel, start_warm_kernel
from evaltools.run.kinds import KINDS, OVERVIEW_KIND, ReportKind
from evaltools.run.options import Options
from evaltools.writers.formats import FORMATS, OVERVIEW_LAYOUT


def unpack(job: Job) -> tempfile.TemporaryDirectory:
    """The job's private copy of its inputs, written now into a temporary folder of its own,
    removed by its ``cleanup``. A batch in threads unpacks its jobs before the threads start:
    a thread writing a thousand files (the year overview's) while another computes waits for the
    interpreter's lock at every call, 0.35 s where 0.05 s would do."""
    folder = scratch("evaltools-job-", sum(map(len, job.inputs.values())))
    try:
        write_tree(Path(folder.name), job.inputs)
    except BaseException:
        folder.cleanup()
        raise
    return folder


def execute_job(job: Job, unpacked: Path | None = None) -> Result:
    """Make one job's report: the result carries the files to write (``payload``, relative to
    the outputs root), the run log last. From the copy of its inputs in ``unpacked`` (see
    :func:`unpack`; the caller removes it), else from one of its own."""
    refused = _refused(job)
    if refused is not None:  # before its files are written
        return refused
    try:
        with (nullcontext(str(unpacked)) if unpacked is not None else unpack(job)) as folder:
            ran = run_job(job, Path(folder))
            return ran if isinstance(ran, Result) else ran()
    finally:
        memo.forget()  # the job's copy is gone: what was kept of its files serves no other job


def _refused(job: Job) -> Result | None:
    """The job's failure where this worker runs another evaltools than the one that planned it
    (a cluster's worker would make other reports)."""
    if job.code == code_fingerprint():
        return None
    return Result(job.project_file, "failed", message=f"{job.project_file}：工作机上的 evaltools（{__version__}，"
                  f"代码指纹 {code_fingerprint()}）与提交方不同（{job.code}）：请在各机器安装同一版本")


def run_job(job: Job, folder: Path) -> Result | Callable[[], Result]:
    """Run one job's cells, from the copy of its inputs in ``folder``, in this thread's warm
    kernel: the job's result where it ends there (refused, failed, its notebook executed
    before), else its export, to call in any thread while ``folder`` exists (so that a kernel
    runs another job's cells meanwhile): it gives the result."""
    started = time.monotonic()
    refused = _refused(job)
    if refused is not None:
        return refused
    kind = KINDS[job.kind]
    if job.warm:
        _adopt_for(kind is OVERVIEW_KIND)
    root = folder.resolve()
    summary: dict = {}
    options = Options(tuple(job.formats), job.edition, job.timeout, job.warm, root / job.notebook,
                      tuple(root / r for r in job.rules_files), job.pdf_standard)
    try:
        subject = kind.load(root / job.source, options.rules_files)
        summary = kind.summary(subject)
        # papermill, then nbconvert and Typst (1.5 s to import, measured): only where reports
        # are made, never in the parent that plans and writes while its workers make them; and
        # after the job's files are written and its subject loaded, which a job in a thread
        # does while the batch's process imports them. The cells need papermill only: a job in
        # a thread runs them while the process loads the rest (the year overview's kernel,
        # started before the batch planned, is ready long before).
        from evaltools.run.execute import run_cells

        home = (root / job.home).resolve()
        workspace = Workspace(home, home / "outputs")
        executed = _notebook(job.executed) if job.executed else run_cells(kind, subject, options, workspace,
                                                                          kind is OVERVIEW_KIND)
    except Exception as exc:  # noqa: BLE001  (a report's failure, not the batch's: see _failed)
        memo.forget()  # the job ends here (see export)
        return _failed(job, kind, summary, started, root, exc)
    ran = time.monotonic()

    def export() -> Result:
        since = started + (time.monotonic() - ran)  # its time, not the wait for another job's export
        try:
            from evaltools.run.build import make

            made = make(kind, subject, options, workspace, executed, caches=kind is OVERVIEW_KIND)
        except Exception as exc:  # noqa: BLE001
            return _failed(job, kind, summary, since, root, exc)
        finally:
            memo.forget()  # the job's copy is gone next: what was kept of its files serves no other job
        return _done(job, kind.output, kind.log, made, summary, [_named(w, root, job) for w in made.warnings],
                     time.monotonic() - since)

    return export


def laid_out_before(job: Job) -> Callable[[threading.Event], None] | None:
    """The layout of the job's PDF as it was made before, to run where a core is free while the
    job's cells run (:func:`evaltools.writers.pdf_engine.lay_out_ahead`, until the event is set):
    where this process sees the client's outputs (a job made in the batch's own process) and the
    report kept its PDF's source there (the year overview's), sealed as this machine's batch wrote
    it (:func:`evaltools.domain.files.sealed`: Typst runs what it lays out); else None."""
    kept = Path(job.base) / job.folder / OVERVIEW_LAYOUT
    if job.kind != OVERVIEW_KIND.name or job.executed is not None or "pdf" not in job.formats or not sealed(kept):
        return None  # (a folder it may not read is not sealed: no head start, and the report says what fails)

    def lay_out(due: threading.Event) -> None:
        # Typst only (not nbconvert, which the batch loads meanwhile): the layout begins as soon as it is loaded
        from evaltools.writers.pdf_engine import lay_out_ahead

        lay_out_ahead(kept, job.pdf_standard, due)

    return lay_out


def _named(text: str, root: Path, job: Job) -> str:
    """A message naming the client's files, not the job's copy in ``root`` (as given or resolved,
    and as an error's repr of a Windows path writes it, its backslashes doubled)."""
    for copy in dict.fromkeys([str(root), str(root.resolve())]):
        text = text.replace(copy, job.root).replace(copy.replace("\\", "\\\\"), job.root.replace("\\", "\\\\"))
    return text


def _failed(job: Job, kind: ReportKind, summary: dict, started: float, root: Path, exc: Exception) -> Result:
    """A report's failure as its result: bad parameters, a cell or an export that failed (with
    the failed notebook), anything else still this report's, never the batch's."""
    took = time.monotonic() - started
    if isinstance(exc, ParamsError):
        return Result(job.project_file, "failed", summary, took, _named(str(exc), root, job))
    if isinstance(exc, RenderError):
        failed = {f"{job.folder}/{kind.output}.failed.ipynb": exc.failed_notebook} if exc.failed_notebook else {}
        return Result(job.project_file, "failed", summary, took, _named(str(exc), root, job), folder=job.folder,
                      payload=failed)
    return Result(job.project_file, "failed", summary, took, crash_message(job, exc, root))


def crash_message(job: Job, exc: BaseException, root: Path) -> str:
    """What an error nothing expected says: the report's file, the error's type and words (the
    client's files named, not the job's copy in ``root``)."""
    return _named(f"{job.project_file}：{type(exc).__name__}: {exc}", root, job)


def _notebook(executed: bytes):
    import nbformat  # already loaded by evaltools.run.execute (see execute_job)

    return nbformat.reads(executed.decode("utf-8"), as_version=4)


def _done(job: Job, name: str, log_name: str, made, summary: dict, warnings: list[str], duration: float) -> Result:
    """The made report as files to write below the outputs, its run log (with the key) last."""
    log = {
        "key": job.key, "evaltools": __version__, "status": "done",
        "formats": sorted({*job.formats, *job.previous.get("formats", [])}),
        "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "duration": round(duration, 3),
        "summary": summary, "attached": job.attached,
        "timings": made.timings or job.previous.get("timings", {}),
        "phases": {**job.previous.get("phases", {}), **made.phases},
        "warnings": warnings,
    }
    payload = {f"{job.folder}/{file}": data for file, data in made.contents.items()}
    if job.executed:  # the executed notebook on disk stays as it is
        payload.pop(f"{job.folder}/{name}.ipynb")
    payload[f"{job.folder}/{log_name}"] = json.dumps(log, ensure_ascii=False, indent=2, default=str)
    return Result(job.project_file, "done", summary, duration, folder=job.folder,
                  files={kind: file for file in made.contents if (kind := file.rsplit(".", 1)[-1]) in FORMATS},
                  warnings=warnings, payload=payload, removes=[f"{job.folder}/{name}.failed.ipynb"])


# The kernels the batch started for this worker's process (see :func:`prepare`), until one is adopted.
_handed: list[tuple[str, list[dict]]] = []


def prepare(warm: bool, kernels: tuple[str, list[dict]] | None = None, overview: bool = False,
            freeze: bool = True, alongside: bool = True) -> None:
    """Start the warm kernel (the year overview's, with ``overview``; or note the kernels the
    batch started, ``kernels``, to adopt one at the first job: the one made for the job's kind),
    then load what making a report needs while it starts and imports; with ``freeze``, keep it
    from the collector (a batch made in the caller's process gives it back at its end). Without
    ``alongside`` (a pool's workers, which keep every core busy) Typst lays out each PDF before
    the HTML is made, not in a thread beside it."""
    if warm and kernels is not None:
        _handed.append(kernels)
    elif warm:
        start_warm_kernel(overview=overview)
    # papermill, nbconvert and Typst: in a worker (or a serial batch) only, see execute_job; after
    # the kernel is started, which starts meanwhile (0.5 s); papermill first, for a job in a thread
    # to run its cells while the others load.
    import evaltools.run.execute  # noqa: F401
    from evaltools.run.export import typeset_alongside, warm_up

    typeset_alongside(alongside)
    warm_up()
    # Frozen, the garbage collector no longer walks what is loaded now (a tenth of each PDF's time
    # otherwise, and a tenth of one change's: the report and the year overview in threads).
    if freeze:
        gc.freeze()


def _adopt_for(overview: bool) -> None:
    """Before this worker's first job: adopt a kernel the batch started, the year overview's
    (it has loaded pandas and matplotlib) for the overview, another for a report; else start one."""
    if has_warm_kernel():
        return
    handed = take_kernel(_handed.pop(), overview) if _handed else None
    if handed is not None:
        adopt_kernel(handed)
    else:
        start_warm_kernel(overview=overview)


def take_kernel(kernels: tuple[str, list[dict]] | None, overview: bool = False) -> dict | None:
    """A kernel of ``kernels`` (a folder of claims, the kernels) no other worker took, one made
    for the job (the year overview's when ``overview``) if there is one left; each is claimed
    by creating its file, which only one process can. None when all are taken (a worker started
    again): it starts its own."""
    if kernels is None:
        return None
    claims, handed = kernels
    ranked = sorted(enumerate(handed), key=lambda item: bool(item[1].get("overview")) != overview)
    for number, kernel in ranked:
        try:
            os.close(os.open(Path(claims) / str(number), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            continue
        return kernel
    return None
