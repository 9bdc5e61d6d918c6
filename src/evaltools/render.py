"""From a parameter file to the executed notebook, its HTML and its A4 PDF, in-process.

papermill executes the notebook with the project's merged parameters; nbconvert's
``HTMLExporter`` (with the workspace's lean template) and WeasyPrint render it, all as
library calls. Outputs are written to a temporary file beside their destination and moved
into place only when complete: a failed run never leaves a half-written file where a good
one stood. The failed notebook is kept as ``report.failed.ipynb`` for the analyst to read.
"""

from __future__ import annotations

import atexit
import functools
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import nbformat

from evaltools.params import plain
from evaltools.department import LoadedDepartment, load_department
from evaltools.workspace import (
    DEPARTMENT_NOTEBOOK,
    NOTEBOOK,
    LoadedProject,
    default_notebook,
    fingerprint_notebook,
    is_department_file,
    load_project,
    workspace_root,
)

FORMATS = ("html", "pdf", "docx")
DEFAULT_FORMATS = ("html", "pdf")
TEMPLATE = "evaltools_report"


class RenderError(Exception):
    """A report could not be made; the message says which project and why."""


@dataclass
class Outputs:
    folder: Path
    notebook: Path
    files: dict[str, Path] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)


Loaded = LoadedProject | LoadedDepartment


def load(file: Path | str, rules_files: Sequence[Path | str] = ()) -> Loaded:
    """A project file, or a department's ``_department.yaml`` (its 部门整体 report)."""
    return load_department(file, rules_files) if is_department_file(Path(file)) else load_project(file, rules_files)


def notebook_for(loaded: Loaded) -> Path | None:
    name = DEPARTMENT_NOTEBOOK if isinstance(loaded, LoadedDepartment) else NOTEBOOK
    return default_notebook(loaded.path, name)


def output_folder(loaded: Loaded, out_root: Path | None = None) -> Path:
    """``outputs/<year>/<department folder>/<project file stem>/``, wherever the params live;
    a department's own report goes to ``…/<department folder>/_department/``."""
    path = loaded.path.resolve()
    base = Path(out_root) if out_root is not None else workspace_root(path) / "outputs"
    return base / str(loaded.year) / path.parent.name / path.stem


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` completely or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; reports are meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- execution ------------------------------------------------------------------------------------


def parameters_for(project: Loaded, notebook: Path, rules_files: Sequence[Path | str] = ()) -> dict:
    """What papermill injects: the merged parameters (plain data), where they came from,
    and the notebook's fingerprint for the provenance line."""
    return {
        "params_file": str(project.path.resolve()),
        "rules_files": [str(Path(f).resolve()) for f in rules_files],
        "notebook_fingerprint": fingerprint_notebook(notebook),
        **plain(project.data),
    }


# The kernel's own log is noise in a batch: its TCP-on-loopback warning, and "KeyboardInterrupt
# caught in kernel" when jupyter_client interrupts it before every shutdown. Cell errors are
# recorded in the notebook and reported by evaltools.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
_warm_kernels: dict[tuple[str, str], object] = {}


def warm_kernel(kernel_name: str, cwd: Path):
    """A kernel kept alive in this process for the next notebooks (``--warm-kernels``).

    Before each notebook its namespace is reset and its execution counter set back to 1, so
    that the executed notebook is the same, byte for byte, as from a fresh kernel (a test
    holds this). A kernel that died is replaced.
    """
    from jupyter_client import KernelManager

    key = (kernel_name, str(cwd))
    manager = _warm_kernels.get(key)
    if manager is None or not manager.is_alive():
        manager = KernelManager(kernel_name=kernel_name)
        manager.start_kernel(cwd=str(cwd), extra_arguments=KERNEL_ARGUMENTS)
        _warm_kernels[key] = manager
        atexit.register(manager.shutdown_kernel, now=True)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        client.execute_interactive("get_ipython().reset(new_session=True, aggressive=False)",
                                   silent=True, store_history=False, timeout=60)
    finally:
        client.stop_channels()
    return manager


def execute(project: Loaded, destination: Path, notebook: Path | None = None,
            rules_files: Sequence[Path | str] = (), timeout: int = 600,
            kernel_name: str = "python3", warm: bool = False) -> nbformat.NotebookNode:
    """Run the notebook for one project with papermill; nothing is written.

    Each notebook gets a fresh kernel, or with ``warm`` this process's warm kernel (reset).
    On failure the executed notebook (with the failing cell's error) is written beside
    ``destination`` as ``*.failed.ipynb`` and :class:`RenderError` names the cell and the error.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook = notebook or notebook_for(project)
    if notebook is None:
        raise RenderError(f"{project.path}：找不到报告笔记本（工作区 {workspace_root(project.path)} 的 notebooks/）；"
                          "可用 --notebook 指定")
    engine = {"km": warm_kernel(kernel_name, notebook.parent)} if warm else {}
    with tempfile.TemporaryDirectory(prefix="evaltools-") as scratch:
        scratch_out = Path(scratch) / destination.name
        try:
            executed = papermill.execute_notebook(
                str(notebook), str(scratch_out),
                parameters=parameters_for(project, notebook, rules_files),
                kernel_name=kernel_name, cwd=str(notebook.parent), progress_bar=False,
                log_output=False, execution_timeout=timeout, report_mode=True,
                extra_arguments=KERNEL_ARGUMENTS, **engine,
                # papermill would rewrite the whole notebook after every cell; nobody watches it here
                # (a failed run's notebook is still written, by papermill's error path).
                request_save_on_cell_execute=False,
            )
        except PapermillExecutionError as exc:
            stale = _warm_kernels.pop((kernel_name, str(notebook.parent)), None) if warm else None
            if stale is not None:  # a failed notebook may leave anything behind: start clean next time
                stale.shutdown_kernel(now=True)
            if scratch_out.exists():
                write_atomic(destination.with_suffix(".failed.ipynb"), scratch_out.read_bytes())
            raise RenderError(f"{project.path}：第 {exc.exec_count} 个单元出错：{exc.ename}: {exc.evalue}") from None
        except Exception as exc:  # a cell that runs too long, a kernel that dies or cannot start
            kind = type(exc).__name__
            if kind == "CellTimeoutError":
                reason = f"有单元执行超过 {timeout} 秒，已停止（可用 --timeout 放宽）"
            elif kind == "DeadKernelError":
                reason = "内核意外退出（内存不足，或代码调用了 exit？）"
            else:
                reason = f"{kind}: {exc}"
            raise RenderError(f"{project.path}：笔记本无法执行：{reason}") from None
    return nbformat.from_dict(executed)


def normalize(notebook: nbformat.NotebookNode) -> dict:
    """Take the volatile metadata (times, durations, temporary paths) out of an executed
    notebook, so that the same inputs give the same bytes; returns it for the run log."""
    papermill_meta = notebook.metadata.get("papermill", {})
    volatile = ("start_time", "end_time", "duration", "input_path", "output_path", "exception")
    timings: dict = {key: papermill_meta.pop(key) for key in volatile if key in papermill_meta}
    cells = []
    for index, cell in enumerate(notebook.cells):
        cell_meta = cell.get("metadata", {})
        if "injected-parameters" in cell_meta.get("tags", []):
            cell["id"] = "injected-parameters"  # papermill gives it a random id
        cell_meta.pop("execution", None)
        run_info = cell_meta.pop("papermill", None)
        if run_info and run_info.get("duration") is not None:
            cells.append({"cell": index, "duration": run_info["duration"], "status": run_info.get("status")})
    timings["cells"] = cells
    return timings


def stderr_of(notebook: nbformat.NotebookNode) -> list[str]:
    """What the cells printed to stderr (warnings): not in the report, so reported here."""
    return [
        output.get("text", "").strip()
        for cell in notebook.cells if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream" and output.get("name") == "stderr"
    ]


# --- rendering ------------------------------------------------------------------------------------


def _templates() -> Path:
    return Path(str(resources.files("evaltools") / "templates"))


@functools.cache
def _exporter():
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name=TEMPLATE, extra_template_basedirs=[str(_templates())])
    exporter.exclude_input = True
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    return exporter


@functools.cache
def _css() -> str:
    return (_templates() / TEMPLATE / "report.css").read_text(encoding="utf-8")


def _title(notebook: nbformat.NotebookNode) -> str:
    parameters = notebook.metadata.get("papermill", {}).get("parameters", {})
    year = parameters.get("year") or (parameters.get("defaults") or {}).get("year")
    project = (parameters.get("project") or {}).get("name")
    if project and year:
        return f"{year}年度“{project}”绩效自评报告"
    unit = (parameters.get("unit") or {}).get("name")
    return f"{unit}{year}年度部门整体支出绩效自评报告" if unit and year else "绩效自评报告"


def to_html(notebook: nbformat.NotebookNode) -> str:
    """The report as one self-contained HTML page: no code, no scripts, no network."""
    title = _title(notebook)
    body, _ = _exporter().from_notebook_node(notebook, resources={"evaltools": {"title": title, "css": _css()}})
    return body


CJK_FONT_MISSING = ("系统中没有中文字体，PDF 中的中文会显示为方框：请安装 fonts-noto-cjk"
                    "（apt-get install fonts-noto-cjk，或运行 scripts/system-deps.sh）")


@functools.cache
def cjk_fonts_installed() -> bool:
    """Whether fontconfig (which WeasyPrint uses) knows a Chinese font."""
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(listing.stdout.strip())


def to_pdf(html: str) -> bytes:
    """The same page as an A4 PDF with embedded CJK fonts, in-process (WeasyPrint)."""
    import weasyprint

    if not cjk_fonts_installed():
        import warnings

        warnings.warn(CJK_FONT_MISSING, stacklevel=2)

    return weasyprint.HTML(string=html, base_url=None).write_pdf()


def made_from(notebook: nbformat.NotebookNode, formats: Sequence[str]) -> tuple[dict[str, bytes | str], list[str]]:
    """The HTML and/or PDF of an executed notebook, in memory, with any warning for the user."""
    made: dict[str, bytes | str] = {}
    warnings: list[str] = []
    if "html" not in formats and "pdf" not in formats:
        return made, warnings
    html = to_html(notebook)
    if "html" in formats:
        made["html"] = html
    if "pdf" in formats:
        made["pdf"] = to_pdf(html)
        if not cjk_fonts_installed():
            warnings.append(CJK_FONT_MISSING)
    return made, warnings


def _write_all(folder: Path, name: str, made: dict[str, bytes | str]) -> dict[str, Path]:
    written = {}
    for kind, data in made.items():
        written[kind] = folder / f"{name}.{kind}"
        write_atomic(written[kind], data)
    return written


def render(notebook: nbformat.NotebookNode, folder: Path, formats: Iterable[str] = DEFAULT_FORMATS,
           name: str = "report") -> dict[str, Path]:
    """Write the HTML and/or PDF of an executed notebook into ``folder``."""
    formats = check_formats(formats)
    if "docx" in formats:
        raise RenderError("Word（docx）由参数直接生成，不经笔记本：请用 evaltools run … --to docx")
    return _write_all(folder, name, made_from(notebook, formats)[0])


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(f"不支持的格式：{', '.join(unknown)}（可选：{', '.join(FORMATS)}）")
    return formats


def run(project_file: Path | str | Loaded, formats: Iterable[str] = DEFAULT_FORMATS, out_root: Path | None = None,
        rules_files: Sequence[Path | str] = (), notebook: Path | None = None, timeout: int = 600,
        warm: bool = False) -> Outputs:
    """Parameters → executed notebook → HTML/PDF, for one project (or a department's report).

    Everything is made first and written last, each file atomically, so an interrupted or
    failed run leaves the previous report as it was.
    """
    formats = check_formats(formats)
    project = project_file if isinstance(project_file, Loaded) else load(project_file, rules_files)
    folder = output_folder(project, out_root)
    executed_path = folder / "report.ipynb"
    executed = execute(project, executed_path, notebook, rules_files, timeout, warm=warm)
    timings = normalize(executed)
    contents, warnings = made_from(executed, formats)
    warnings = stderr_of(executed) + warnings
    if "docx" in formats:
        if isinstance(project, LoadedProject):
            from evaltools.document import WordReport
            from evaltools.report import ProjectReport

            contents["docx"] = WordReport(ProjectReport.of(project, fingerprint_notebook(notebook or notebook_for(project)))
                                          ).to_bytes()
        else:
            warnings.append("部门整体报告暂不生成 Word（docx）：请用 HTML 或 PDF")
    write_atomic(executed_path, nbformat.writes(executed))
    files = _write_all(folder, "report", contents)
    executed_path.with_suffix(".failed.ipynb").unlink(missing_ok=True)
    return Outputs(folder, executed_path, files, warnings, timings)


def render_file(executed_path: Path | str, formats: Iterable[str] = DEFAULT_FORMATS) -> dict[str, Path]:
    """Render an executed notebook again, without executing it."""
    executed_path = Path(executed_path)
    try:
        notebook = nbformat.read(executed_path, as_version=4)
    except FileNotFoundError:
        raise RenderError(f"{executed_path}：文件不存在") from None
    except Exception as exc:
        raise RenderError(f"{executed_path}：不是可读的笔记本（{exc}）") from None
    return render(notebook, executed_path.parent, formats, name=executed_path.stem)
