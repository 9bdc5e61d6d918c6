"""The params/ tree: which files are projects, and one project loaded with all that applies to it.

Layout::

    params/<year>/_rules.yaml                    optional scoring-rule overrides for the year
    params/<year>/<department>/_department.yaml  what the department's projects share
    params/<year>/<department>/_rules.yaml       optional overrides for this department only
    params/<year>/<department>/<project>.yaml    one project

Files whose name starts with ``_`` are never projects. The ``defaults`` mapping of
``_department.yaml`` is deep-merged *under* each project file of its folder: mappings merge
key by key (recursively) and the project's value wins; a list or a scalar in the project
replaces the department's whole value (lists are not concatenated); ``key: null`` in a project
removes the department's value. Rule files apply outermost first, the explicit ``--rules``
file last.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaltools.domain import memo
from evaltools.domain.files import os_error_message
# Names only, in a module of their own that the command line reads before loading the rest;
# still found here, beside the workspace they describe.
from evaltools.domain.layout import YEAR_FOLDER, absolute, display_path, workspace_root  # noqa: F401
from evaltools.domain.model import ProjectParams
from evaltools.domain.yamlio import (
    Loc,
    ParamsError,
    Problem,
    YamlFile,
    deep_merge,
    fingerprint,
    locate,
    read_yaml,
    validate,
)
from evaltools.domain.rules import Rules, load_rules

DEPARTMENT_FILE = "_department.yaml"
NOTEBOOK = "project_self_evaluation.ipynb"  # in <workspace>/notebooks/
DEPARTMENT_NOTEBOOK = "department_overall.ipynb"
OVERVIEW_NOTEBOOK = "year_overview.ipynb"  # one per params/<year>
RULES_FILE = "_rules.yaml"
YAML_SUFFIXES = (".yaml", ".yml")


def is_department_file(path: Path) -> bool:
    return Path(path).name == DEPARTMENT_FILE


def is_project_file(path: Path) -> bool:
    return path.suffix in YAML_SUFFIXES and not path.name.startswith(("_", "."))


def find_project_files(paths: Iterable[Path | str]) -> list[Path]:
    """Project files named directly or found below folders, in a stable order."""
    found: list[Path] = []
    for path in map(resolve, paths):
        try:
            found.extend(_project_files(path))
        except OSError as exc:  # a name too long, a folder that cannot be read…
            raise ParamsError([Problem(path, None, "", os_error_message(exc).removeprefix(f"{path}："))]) from None
    return list(dict.fromkeys(found))


def _project_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and is_project_file(p))
    if path.is_file() and path.suffix in YAML_SUFFIXES and path.name not in (RULES_FILE, DEPARTMENT_FILE):
        return [path]
    if path.name == DEPARTMENT_FILE and path.is_file():
        return []  # a department file is not a project; `evaltools run` renders its own report
    if not path.exists():
        raise ParamsError([Problem(path, None, "", not_found(path))])
    raise ParamsError([Problem(path, None, "", "不是参数文件（应为 .yaml 文件或包含它们的文件夹）")])


def find_department_files(paths: Iterable[Path | str]) -> list[Path]:
    """Department files with a department report to make: below folders, or named directly.

    A ``_department.yaml`` holding only ``defaults`` has no report of its own.
    """
    found = []
    for path in map(Path, paths):
        try:
            candidates = sorted(path.rglob(DEPARTMENT_FILE)) if path.is_dir() else [path] if is_department_file(path) else []
        except OSError:
            continue  # a path that cannot be read is reported where the projects are found
        for candidate in candidates:
            try:
                data = read_yaml(candidate).data
            except ParamsError:
                found.append(candidate)  # reported when it is loaded
                continue
            if set(data) - {"defaults"}:
                found.append(candidate)
    return found


def rules_files_for(project_file: Path) -> list[Path]:
    """``_rules.yaml`` files that apply to a project, outermost first.

    The search climbs from the project's folder up to (and including) the folder named
    ``params``, or two levels (the year) when there is none, so rules never leak in from
    outside the workspace.
    """
    folder = absolute(project_file).parent
    chain = []
    for depth, candidate in enumerate([folder, *folder.parents]):
        if (candidate / RULES_FILE).is_file():
            chain.append(candidate / RULES_FILE)
        if candidate.name == "params" or depth >= 2:
            break
    return list(reversed(chain))


def attached_file(name: str, folder: Path) -> tuple[Path | None, str | None]:
    """An attached document's file, relative to ``folder`` (where the parameter file naming it
    lies), or what is wrong with it: it must exist and lie inside the workspace (a report never
    reads from elsewhere)."""
    path = (folder / name).resolve()
    root = workspace_root(folder / "_")
    if not path.is_relative_to(root.resolve()):
        return None, f"附件文件 {name} 不在工作区 {root} 之内"
    if not path.is_file():
        return None, f"附件文件 {name} 不存在（相对于参数文件所在的文件夹 {folder}）"
    return path, None


def find_attachments(params: ProjectParams, folder: Path) -> tuple[dict[int, Path], dict[int, str]]:
    """The attached documents' files by their place in ``narrative.attachments``, and what is
    wrong with each that cannot be used (see :func:`attached_file`)."""
    found, wrong = {}, {}
    for i, attachment in enumerate(params.narrative.attachments):
        if not isinstance(attachment, str):
            path, problem = attached_file(attachment.file, folder)
            if path is not None:
                found[i] = path
            else:
                wrong[i] = problem
    return found, wrong


def attachment_files(params: ProjectParams, sources: Sequence[tuple[YamlFile, Loc]]) -> dict[int, Path]:
    """The attached documents' files; raises :class:`ParamsError` naming the field and the path
    of each that cannot be used (the report cannot be made without them; ``check`` reports the
    same as ATTACHMENT-MISSING, and scoring does not need them)."""
    files = [source for source in sources if source[0].path.is_file()] or sources  # not the notebook's overrides
    found, problems = {}, []
    for i, attachment in enumerate(params.narrative.attachments):
        if isinstance(attachment, str):
            continue
        loc = ("narrative", "attachments", i, "file")
        yaml_file, prefix = locate(files, loc)
        path, problem = attached_file(attachment.file, absolute(yaml_file.path).parent)
        if path is None:
            problems.append(Problem(yaml_file.path, yaml_file.line_of(prefix + loc), f"narrative.attachments[{i}].file",
                                    str(problem)))
        else:
            found[i] = path
    if problems:
        raise ParamsError(problems)
    return found


def fingerprint_notebook(path: Path | str) -> str:
    """Hash of a notebook's cell sources: what the report was made by, outputs aside."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    return hashlib.sha256("\x1e".join(sources).encode("utf-8")).hexdigest()[:16]


def declared_parameters(path: Path | str) -> frozenset[str]:
    """The names a notebook's ``parameters`` cell assigns: what papermill may inject into it
    without a warning (a workspace's notebook may be older than the evaltools that runs it)."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
               for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    return frozenset(re.findall(r"^([A-Za-z_]\w*)\s*(?::[^=\n]*)?=", "\n".join(sources), re.MULTILINE))


def default_notebook(params_file: Path, name: str = NOTEBOOK) -> Path | None:
    """The workspace's own report notebook, else the one of the evaltools checkout."""
    return Workspace.of(params_file).notebook(name)


def source_fingerprint(params_file: Path, name: str = NOTEBOOK, given: str | None = None) -> str | None:
    """The fingerprint papermill injected, else that of the notebook a report of this file uses."""
    if given is not None:
        return given
    source = default_notebook(params_file, name)
    return fingerprint_notebook(source) if source else None




@dataclass
class Workspace:
    """A workspace resolved once: its root (the folder holding ``params/``), where its reports
    go, its notebooks and the rules chain of each folder; and the one answer to where a
    report goes (:meth:`report_folder`).

    The root is the one a file was named in: a project file that is a link into another
    workspace still has its report here.
    """

    root: Path
    outputs: Path
    _rules: dict[Path, list[Path]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, path: Path | str, outputs: Path | str | None = None) -> Workspace:
        """The workspace of a file or folder (a folder is taken as one holding files)."""
        path = absolute(path)
        root = workspace_root(path / DEPARTMENT_FILE if path.is_dir() else path)
        return cls(root, Path(outputs) if outputs is not None else root / "outputs")

    @property
    def params(self) -> Path:
        return self.root / "params"

    @property
    def notebooks(self) -> Path:
        return self.root / "notebooks"

    def notebook(self, name: str) -> Path | None:
        """The workspace's own notebook ``name``, else the one of the evaltools checkout."""
        for folder in (self.notebooks, Path(__file__).resolve().parents[3] / "notebooks"):
            if (folder / name).is_file():
                return folder / name
        return None

    def rules_for(self, file: Path) -> list[Path]:
        """The ``_rules.yaml`` chain that applies to ``file`` (:func:`rules_files_for`), once per folder."""
        folder = absolute(file).parent
        if folder not in self._rules:
            self._rules[folder] = rules_files_for(folder / DEPARTMENT_FILE)
        return self._rules[folder]

    def name_of(self, path: Path | str) -> str | None:
        """``path`` as the reports name it: from the root, the same on every machine and in a
        worker's copy; None outside the workspace."""
        path = absolute(path)
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else None

    def report_folder(self, file: Path | str, year: int | None = None) -> Path:
        """Where the report of ``file`` (a project's, or a department's ``_department.yaml``)
        goes: ``<outputs>/<year>/<department folder>/<file stem>``. The year is the year
        folder's name; for a file outside a year folder, ``year`` (the file's own ``year``,
        read when not given)."""
        path = absolute(file)
        return self.year_folder(path.parent.parent, year if year is not None else lambda: _year_of(path)) \
            / path.parent.name / path.stem

    def year_folder(self, folder: Path, year: int | Callable[[], int | None] | None = None) -> Path:
        """``<outputs>/<year>``: where a year's overview and index go."""
        name = folder.name
        if not YEAR_FOLDER.fullmatch(name):
            found = year() if callable(year) else year
            name = str(found) if found is not None else name
        return self.outputs / name


def _year_of(path: Path) -> int | None:
    try:
        year = read_yaml(path).data.get("year")
    except (ParamsError, AttributeError):
        return None
    return year if isinstance(year, int) else None


def listed_attachments(file: Path, existing: bool = True) -> list[Path]:
    """The attached files a parameter file names (``narrative.attachments``, its own or its
    department's defaults; for the department file, also its report's ``attachments``), those
    that exist (else all), read from the YAML without validating it: what must travel with the
    file for it to load elsewhere."""
    file = absolute(file)
    department = file.parent / DEPARTMENT_FILE
    sources = [f for f in dict.fromkeys((department, file)) if f.is_file()]
    # Keyed by content: last year's file is asked for by every check and figure of this year's report.
    state = tuple(hashlib.sha256(f.read_bytes()).hexdigest() for f in sources)
    return [path for path in _listed(file, state) if path.is_file() or not existing]


@memo.kept(maxsize=1024)
def _listed(file: Path, state: tuple) -> tuple[Path, ...]:
    def listed(data: object) -> list:
        narrative = data.get("narrative") if isinstance(data, dict) else None
        entries = narrative.get("attachments") if isinstance(narrative, dict) else None
        return [e.get("file") for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []

    names: list = []
    try:
        department = file.parent / DEPARTMENT_FILE
        if department.is_file():
            shared = read_yaml(department).data
            names += listed(shared.get("defaults"))
            if file.name == DEPARTMENT_FILE and isinstance(shared.get("attachments"), list):  # its own report's 附件
                names += [e.get("file") for e in shared["attachments"] if isinstance(e, dict)]
        if file.name != DEPARTMENT_FILE:
            names += listed(read_yaml(file).data)
    except (ParamsError, AttributeError, OSError):
        pass
    return tuple(file.parent / name for name in dict.fromkeys(names) if isinstance(name, str))


@dataclass
class LoadedProject:
    """A project's validated parameters with the rules that score it and where each came from."""

    path: Path
    params: ProjectParams
    rules: Rules
    data: dict[str, Any]
    sources: Sequence[tuple[YamlFile, Loc]]

    def locate(self, loc: Loc) -> tuple[Path, int | None]:
        """The file (project or department) that sets ``loc``, and its line there."""
        yaml_file, prefix = locate(self.sources, loc)
        return yaml_file.path, yaml_file.line_of(prefix + loc)

    @property
    def year(self) -> int:
        return self.params.year

    @property
    def fingerprint(self) -> str:
        """Hash of the merged parameters and of the files they attach: what the report is made from
        (an attachment that cannot be found counts as such: finding it changes the fingerprint)."""
        found, wrong = find_attachments(self.params, absolute(self.path).parent)
        attached = {str(i): hashlib.sha256(path.read_bytes()).hexdigest() for i, path in found.items()}
        attached.update({str(i): "<missing>" for i in wrong})
        return fingerprint({**self.data, "<attached>": attached} if attached else self.data)

    @property
    def attachments(self) -> dict[int, Path]:
        """The attached documents' files by their place in ``narrative.attachments``."""
        return attachment_files(self.params, self.sources)


def department_defaults(folder: Path) -> tuple[YamlFile, dict[str, Any]] | None:
    path = folder / DEPARTMENT_FILE
    if not path.is_file():
        return None
    department = read_yaml(path)
    defaults = department.data.get("defaults", {})
    if not isinstance(defaults, dict):
        line = department.line_of(("defaults",))
        raise ParamsError([Problem(path, line, "defaults", "应为键值映射：各项目共用的参数")])
    return department, defaults


def load_project(path: Path | str, rules: Rules | Sequence[Path | str] | None = None,
                 overrides: Mapping[str, Any] | None = None) -> LoadedProject:
    """Read, merge and validate one project file.

    ``rules`` is a ready :class:`Rules`, or extra override files applied after the
    ``_rules.yaml`` files of the workspace. ``overrides`` (values papermill injected into a
    notebook) are deep-merged last. Raises :class:`ParamsError` naming file, line and field
    for anything that does not fit the model.
    """
    path = resolve(path)
    project = read_yaml(path)
    sources: list[tuple[YamlFile, Loc]] = []
    merged: dict[str, Any] = {}
    department = department_defaults(path.parent)
    if department is not None:
        sources.append((department[0], ("defaults",)))
        merged = department[1]
    sources.append((project, ()))
    merged = deep_merge(merged, project.data)
    if overrides:
        sources.append((YamlFile(Path("<笔记本参数>"), dict(overrides)), ()))
        merged = deep_merge(merged, overrides)
    params = validate(ProjectParams, merged, sources)
    if not isinstance(rules, Rules):
        rules = load_rules(*rules_files_for(path), *(rules or ()))
    if params.options.display:  # the project's own shown precisions win over its rules'
        rules = rules.model_copy(update={"display": rules.display.override(params.options.display)})
    return LoadedProject(path, params, rules, merged, sources)


# --- which file a report notebook reports on --------------------------------------------------

EXAMPLE_PROJECT = "params/2024/xiangxi-ggzy/platform-maintenance.yaml"
EXAMPLE_DEPARTMENT = "params/2024/xiangxi-ggzy/_department.yaml"


def find_workspace(start: Path | None = None) -> Path | None:
    """The workspace a relative path is read from: the working folder or the nearest folder
    above it that holds ``params/``."""
    start = Path.cwd() if start is None else start
    for folder in (start, *start.parents):
        if (folder / "params").is_dir():
            return folder
    return None


def resolve(path: str | Path) -> Path:
    """A path given to the library, found the same way in JupyterLab (working in notebooks/),
    under papermill and ``evaltools run`` (working in the workspace root) and in a script.

    An absolute path, or one that exists from the working folder, is taken as it is; else the
    first that exists of: the path from a folder above the working folder (``params/2024`` in
    notebooks/), from the workspace's notebooks/ folder (``../params/2024`` as written in a
    notebook, run from the workspace root). A path found nowhere is returned as given, for the
    caller to say so.
    """
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path
    bases = list(Path.cwd().parents)
    workspace = find_workspace()
    if workspace is not None:
        bases.append(workspace / "notebooks")
    for base in bases:
        if (base / path).exists():
            return Path(os.path.normpath(base / path))
    return path


def not_found(path: Path) -> str:
    """Where a path that does not exist was looked for."""
    if path.is_absolute():
        return "文件或文件夹不存在"
    workspace = find_workspace()
    where = f"工作目录 {Path.cwd()} 及其上级文件夹" + (f"、工作区 {workspace}" if workspace else "")
    return f"文件或文件夹不存在（在{where}中都没有找到）"


def notebook_source(params_file: str | Path | None, values: Mapping[str, Any],
                    department: bool = False) -> tuple[Path, dict[str, Any]]:
    """The file a report notebook reports on, and the values given to change it.

    - ``params_file`` given (``evaltools run`` injects it, and nothing else of the file;
      ``papermill -p params_file …``): that file, with any other value given deep-merged over it
      (``papermill -p params_file … -f changes.yaml``: a what-if, never made by evaltools);
    - nothing given (JupyterLab, nbval): the bundled example;
    - values but no ``params_file`` (``papermill -f params/<year>/<dept>/<project>.yaml``): refused
      with what to write instead, since the values alone do not say which department's
      defaults and rules apply.
    """
    given = {key: value for key, value in values.items() if value is not None}
    if params_file is not None:
        return resolve(params_file), given
    if not given:
        return resolve(EXAMPLE_DEPARTMENT if department else EXAMPLE_PROJECT), {}
    kind = "部门文件（_department.yaml）" if department else "项目参数文件"
    usage = ("papermill NOTEBOOK OUT.ipynb -p params_file params/<年度>/<部门>/"
             + ("_department.yaml" if department else "<项目>.yaml")
             + "（只改部分取值时，再加 -f 覆盖文件）")
    reason = (f"注入了{kind}的取值（{'、'.join(given)}），却没有给出 params_file：papermill -f 只给出文件的内容，"
              "不给出它的路径，无法知道它属于哪个部门、套用哪些部门默认值和评分规则")
    raise ParamsError([Problem(Path("<papermill 参数>"), None, "params_file", f"{reason}。请改用 {usage}")])
