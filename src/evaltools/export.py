"""Exporting an executed report notebook: HTML and an A4 PDF, in-process.

nbconvert's ``HTMLExporter`` (with the workspace's lean template) makes the page and WeasyPrint
prints it; nothing here executes.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

import nbformat

from evaltools.errors import RenderError
from evaltools.files import write_atomic

FORMATS = ("html", "pdf", "docx")
DEFAULT_FORMATS = ("html", "pdf")
TEMPLATE = "evaltools_report"


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
    if parameters.get("year_folder"):  # the year overview
        return f"{Path(parameters['year_folder']).name}年度预算绩效自评总览"
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


def write_all(folder: Path, name: str, made: dict[str, bytes | str]) -> dict[str, Path]:
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
    return write_all(folder, name, made_from(notebook, formats)[0])


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(f"不支持的格式：{', '.join(unknown)}（可选：{', '.join(FORMATS)}）")
    return formats


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
