"""Planning a batch, in the parent process, from content fingerprints: nothing is loaded.

A report's key is a hash of the content of every file it is made from (see
:func:`_sources`), of its notebook's cells and of evaltools' own code. A report whose run log
records that key and the formats asked for is skipped; one lacking only a format is exported
again from its executed notebook; the others become jobs, inputs included.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from evaltools.domain.files import read_run_log
from evaltools.domain.fingerprints import code_fingerprint
from evaltools.domain.history import previous_file
from evaltools.domain.reviews import reviews_file
from evaltools.domain.layout import year_folders
from evaltools.domain.workspace import (
    DEPARTMENT_FILE,
    Workspace,
    absolute,
    find_department_files,
    find_project_files,
    fingerprint_notebook,
    is_department_file,
    listed_attachments,
)
from evaltools.run.batch.model import BatchSettings, Job, Result
from evaltools.run.kinds import DEPARTMENT, OVERVIEW_KIND, PROJECT, ReportKind
from evaltools.writers.formats import OVERVIEW_CACHES, file_names


def batch_files(paths: Iterable[Path | str]) -> list[Path]:
    """The project files under ``paths``, then the department files with a report to make."""
    paths = list(paths)
    return [*find_project_files(paths), *find_department_files(paths)]


class _Inputs:
    """The files reports are made from, read and hashed once per batch (a department's and the
    rules' files serve many reports), and the workspaces they are in."""

    def __init__(self, out_root: Path | None) -> None:
        self.out_root = out_root
        self.cache: dict[Path, tuple[bytes, str]] = {}
        self.workspaces: dict[Path, Workspace] = {}
        self.of: dict[Path, Workspace] = {}  # by the path as given
        self.cells: dict[Path, str] = {}
        self.notebooks: dict[tuple[str, Path], Path | None] = {}
        self.parts: dict[Path, _Part] = {}
        self.names: dict[tuple[Path, Path, str], str] = {}
        self.inside: dict[tuple[Path, str], bool] = {}
        self.found: dict[Path, bool] = {}
        self.anchors: dict[Path, Path] = {}

    def read(self, path: Path) -> tuple[bytes, str]:
        if path not in self.cache:
            data = path.read_bytes()
            self.cache[path] = data, hashlib.sha256(data).hexdigest()
        return self.cache[path]

    def exists(self, path: Path) -> bool:
        """Whether the file ``path`` exists, looked at once per batch (a department's file for each of its projects)."""
        if path not in self.found:
            self.found[path] = path in self.cache or path.is_file()
        return self.found[path]

    def notebook_hash(self, path: Path) -> str:
        if path not in self.cells:  # cell sources only: a notebook saved with outputs is the same notebook
            self.cells[path] = fingerprint_notebook(path)
        return self.cells[path]

    def notebook(self, kind: ReportKind, settings: BatchSettings, workspace: Workspace) -> Path | None:
        """The notebook of ``kind``'s reports in ``workspace``, found once per batch."""
        if (kind.name, workspace.root) not in self.notebooks:
            self.notebooks[kind.name, workspace.root] = _notebook(kind, settings, workspace)
        return self.notebooks[kind.name, workspace.root]

    def part(self, file: Path, anchor: Path, workspace: Workspace, hint: dict | None) -> _Part:
        """What ``file`` brings to a report's sources (:func:`_part`), found once per batch: the
        overview's sources are every project's."""
        if file not in self.parts:
            self.parts[file] = _part(file, anchor, workspace, self, hint)
        return self.parts[file]

    def name(self, path: Path, anchor: Path, elsewhere: str) -> str:
        """:func:`_name`, once per batch for each file (the overview names every report's files again)."""
        if (path, anchor, elsewhere) not in self.names:
            self.names[path, anchor, elsewhere] = _name(path, anchor, elsewhere)
        return self.names[path, anchor, elsewhere]

    def travels(self, anchor: Path, name: str, inside: Path) -> bool:
        """Whether the attached file ``name`` exists inside the workspace, looked up once per batch."""
        if (anchor, name) not in self.inside:
            self.inside[anchor, name] = (anchor / name).is_file() and (anchor / name).resolve().is_relative_to(inside)
        return self.inside[anchor, name]

    def workspace(self, path: Path, folder: bool | None = None) -> Workspace:
        """The workspace of a file or a ``folder`` (looked at where not said), resolved once per folder."""
        if path not in self.of:
            folder = path.is_dir() if folder is None else folder
            where = absolute(path) if folder else absolute(path).parent
            if where not in self.workspaces:
                self.workspaces[where] = Workspace.of(where, self.out_root)
            self.of[path] = self.workspaces[where]
        return self.of[path]

    def anchor(self, workspace: Workspace) -> Path:
        """:func:`_anchor`, once per workspace (a year's reports share one)."""
        if workspace.root not in self.anchors:
            self.anchors[workspace.root] = _anchor(workspace)
        return self.anchors[workspace.root]


def _sources(kind: ReportKind, path: Path, inputs: _Inputs, hint: dict | None) -> tuple[dict[str, Path], dict]:
    """Every file the report of ``path`` is made from, by its name in the workspace: its
    parameter files, and for each its department's file, its rules and the files it attaches,
    and last year's file with all of those too (an overview: and the year's reviewers'
    decisions, which it counts); and the record of the attached files, for the run log (the
    next plan reads no YAML when none of the parameter files changed)."""
    workspace = inputs.workspace(path)
    anchor = inputs.anchor(workspace)
    named: dict[str, Path] = {}
    each: dict[str, dict] = {}
    for file in kind.parameter_files(path):  # an overview's are every report's of the year: each file's part once a batch
        part = inputs.part(file, anchor, workspace, hint)
        named.update(part.named)
        each.update(part.each)
    if kind is OVERVIEW_KIND:
        named.update((inputs.name(r, anchor, "_outside"), r) for r in workspace.rules_for(absolute(path) / DEPARTMENT_FILE))
        counted = reviews_file(workspace.root, absolute(path).name)
        if counted.is_file():  # the overview counts the reviewers' decisions
            named[inputs.name(counted, anchor, "_outside")] = counted
    found = dict.fromkeys(a for entry in each.values() for a in entry["files"])
    # only files inside the workspace travel (a name with "..", or a link, leading out is the report's error)
    inside = anchor.resolve()
    attached = {"each": each, "files": [f for f in found if inputs.travels(anchor, f, inside)]}
    named.update((name, anchor / name) for name in attached["files"])
    return named, attached


@dataclass
class _Part:
    """What one parameter file brings to a report's sources: files by name, and the record of
    what it (and last year's file, and their departments' files) attach."""

    named: dict[str, Path]
    each: dict[str, dict]


def _part(file: Path, anchor: Path, workspace: Workspace, inputs: _Inputs, hint: dict | None) -> _Part:
    """:class:`_Part` of ``file``: it, last year's file, their departments' files and rules."""
    files = [file, *([last] if file.name != DEPARTMENT_FILE and (last := previous_file(file)) is not None else [])]
    departments = [d for d in dict.fromkeys(f.parent / DEPARTMENT_FILE for f in files) if inputs.exists(d)]
    rules = [r for folder in dict.fromkeys(f.parent for f in files) for r in workspace.rules_for(folder / DEPARTMENT_FILE)]
    named = {inputs.name(f, anchor, "_outside"): f for f in [*files, *departments, *rules]}
    return _Part(named, _attached([*files, *departments], anchor, inputs, hint))


def _anchor(workspace: Workspace) -> Path:
    """The folder a job's inputs are named from: the workspace root; for files outside a
    ``params/`` tree, two levels up, where their rules chain may reach."""
    return workspace.root if workspace.params.is_dir() else workspace.root.parent.parent


def _name(path: Path, anchor: Path, elsewhere: str) -> str:
    """A file's name in the job: from the ``anchor``; one outside it under a name of its own."""
    path = absolute(path)
    text, root = os.fspath(path), os.path.join(os.fspath(anchor), "")
    if text.startswith(root):  # as below, in a tenth of the time: a year's plan names ten thousand files
        return text[len(root):].replace(os.sep, "/")
    if path.is_relative_to(anchor):
        return path.relative_to(anchor).as_posix()
    return f"{elsewhere}/{hashlib.sha256(str(path).encode()).hexdigest()[:8]}/{path.name}"


def _attached(files: Sequence[Path], anchor: Path, inputs: _Inputs, hint: dict | None) -> dict[str, dict]:
    """For each of the parameter ``files``, by its name, the files it attaches, which travel
    with the job (a missing one is the report's error, said when it is loaded), by name from
    the workspace root.

    Finding them means reading the YAML; the run log records them for each file with a hash of
    what they were read from (the file and its department's, ``hint``), so that a batch parses
    only the files that changed (the overview, made from the whole year, the one changed project).
    """
    known = hint.get("each") if isinstance(hint, dict) and isinstance(hint.get("each"), dict) else {}
    each: dict[str, dict] = {}
    for file in files:
        department = file.parent / DEPARTMENT_FILE
        read_from = [inputs.read(f)[1] for f in dict.fromkeys((department, file)) if inputs.exists(f)]
        digest = hashlib.sha256("".join(read_from).encode()).hexdigest()[:24]
        name = inputs.name(file, anchor, "_outside")
        entry = known.get(name)
        if not (isinstance(entry, dict) and entry.get("from") == digest and isinstance(entry.get("files"), list)):
            # every file named, found or not: one added later is then found by its name (and the key changes)
            named = (Path(os.path.normpath(a)) for a in listed_attachments(file, existing=False))
            entry = {"from": digest, "files": [a.relative_to(anchor).as_posix() for a in named if a.is_relative_to(anchor)]}
        each[name] = entry
    return each


def _job(kind: ReportKind, path: Path, settings: BatchSettings, inputs: _Inputs, log: dict | None,
         folder: Path) -> Job:
    """The job of the report of ``path``, with its key: a hash of every input's content, the
    notebook's cells and evaltools' own code (the formats asked for are not in it: another
    format reuses the executed notebook)."""
    workspace = inputs.workspace(path)
    notebook = inputs.notebook(kind, settings, workspace)
    assert notebook is not None, "planned only with a notebook"
    named, attached = _sources(kind, path, inputs, (log or {}).get("attached"))
    anchor = inputs.anchor(workspace)
    extra = [_name(p, anchor, f"_rules/{i}") for i, p in enumerate(settings.rules_files)]
    named.update(zip(extra, map(absolute, settings.rules_files), strict=True))
    book = _name(notebook, anchor, "notebooks")
    contents = {name: inputs.read(file) for name, file in named.items()}
    key = hashlib.sha256(json.dumps({
        "kind": kind.name, "files": {name: digest for name, (_, digest) in sorted(contents.items())},
        "rules": extra, "notebook": [book, inputs.notebook_hash(notebook)], "code": code_fingerprint(),
        "edition": settings.edition, **({"pdf_standard": settings.pdf_standard} if settings.pdf_standard else {}),
    }, sort_keys=True).encode()).hexdigest()[:24]
    data = {name: content for name, (content, _) in contents.items()}
    data[book] = inputs.read(notebook)[0]
    return Job(kind.name, str(path), str(anchor), _name(path, anchor, "_outside"), data, book,
               extra, key, folder.relative_to(workspace.outputs).as_posix(), str(workspace.outputs),
               list(settings.formats), settings.timeout, settings.warm, settings.edition, settings.pdf_standard, attached=attached,
               home=workspace.root.relative_to(anchor).as_posix())


def _notebook(kind: ReportKind, settings: BatchSettings, workspace: Workspace) -> Path | None:
    """``--notebook`` for the projects' reports, else the kind's notebook of the workspace."""
    if settings.notebook is not None and kind is PROJECT:
        return absolute(settings.notebook)
    return workspace.notebook(kind.notebook)


def _recorded(folder: Path, job: Job, kind: ReportKind, formats: Sequence[str], log: dict | None
              ) -> tuple[dict | None, list[str]]:
    """The run log of the report in ``folder`` if it was made from the job's key, and which of
    ``formats`` it lacks."""
    if not log or log.get("key") != job.key or not (folder / f"{kind.output}.ipynb").is_file():
        return None, list(formats)
    names = file_names(formats, job.edition, kind.output)
    return log, [f for f in formats if f not in log.get("formats", []) or not (folder / names[f]).is_file()]


def _plan_one(path: Path, settings: BatchSettings, inputs: _Inputs, year: bool = False) -> Job | Result | None:
    """The job for the report of ``path`` (a ``year`` folder's overview, else a parameter file's
    report), or its result when it is current (skipped) or cannot be planned (failed); None for
    an overview that is current."""
    kind = OVERVIEW_KIND if year else DEPARTMENT if is_department_file(path) else PROJECT
    if inputs.notebook(kind, settings, inputs.workspace(path, folder=year)) is None:
        return Result(str(path), "failed", message=f"{path}：找不到{kind.label}笔记本（notebooks/{kind.notebook}）")
    folder = kind.folder(inputs.workspace(path), path)
    log = None if settings.force else read_run_log(folder, kind.log)
    try:
        job = _job(kind, path, settings, inputs, log, folder)
    except OSError as exc:
        return Result(str(path), "failed", message=f"{path}：无法读取（{exc.strerror or exc}）")
    for name, kept in OVERVIEW_CACHES.items() if kind is OVERVIEW_KIND else ():  # last run's rows and charts
        if (folder / name).is_file():  # (not in the key)
            job.inputs[f"{job.home}/{kept}"] = (folder / name).read_bytes()
    log, missing = _recorded(folder, job, kind, settings.formats, log)
    if log is not None and not missing:
        if kind is OVERVIEW_KIND:
            return None
        made = {f: str(folder / name) for f, name in file_names(settings.formats, settings.edition).items()}
        return Result(str(path), "skipped", log.get("summary", {}), folder=str(folder), files=made)
    if log is not None:  # same inputs, another format: export the notebook executed before
        job.executed, job.previous = (folder / f"{kind.output}.ipynb").read_bytes(), log
        job.formats = missing
    return job


def plan(settings: BatchSettings, files: Sequence[Path], years: Sequence[Path] = ()) -> tuple[list[Job], list[Result]]:
    """Split the reports of ``files`` into jobs to run and results known already (skipped, or
    that cannot be planned); with ``years``, the overview of each of those year folders, first
    of the jobs (it is the longest). Nothing is loaded and nothing heavy imported: see the
    module's docstring."""
    jobs: list[Job] = []
    known: list[Result] = []
    inputs = _Inputs(settings.out_root)
    for path, year in [*((Path(y), True) for y in years), *((f, False) for f in files)]:
        planned = _plan_one(path, settings, inputs, year)
        if isinstance(planned, Job):
            jobs.append(planned)
        elif planned is not None:
            known.append(planned)
    return jobs, known


def plan_paths(paths: Sequence[Path | str], settings: BatchSettings) -> tuple[list[Job], list[Result]]:
    """:func:`plan` for what ``evaltools batch PATH…`` makes: the reports under ``paths`` and the
    overview of each year folder among them."""
    return plan(settings, batch_files(paths), year_folders(paths))
