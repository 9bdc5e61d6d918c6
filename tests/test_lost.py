"""Issue 22, nothing silently lost: the steps a new user took, repeated end to end on a copy of
the bundled example rolled over to a new year, each with the outcome it must have."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from evaltools.newyear import new_year

from conftest import copy_example

EVALTOOLS = str(Path(sys.executable).parent / "evaltools")
PROJECT = Path("xiangxi-ggzy") / "platform-maintenance"
# What must never reach a reader: Python's words for nothing, a missing number, or an object.
LEAKS = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|<NA>|Decimal\(|datetime\.date\(|object at 0x|Traceback")


def evaltools(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([EVALTOOLS, *args], capture_output=True, text=True, check=False, timeout=1800)


@pytest.fixture(scope="module")
def rolled_over(tmp_path_factory) -> Path:
    """The bundled year and the next one, as `new-year` leaves it (the analyst has attached
    this year's notice, nothing else)."""
    root = tmp_path_factory.mktemp("lost") / "workspace"
    copy_example(root, notebooks=True)
    new_year(root / "params" / "2024", root / "params" / "2025")
    shutil.copytree(root / "params" / "2024" / "xiangxi-ggzy" / "attachments",
                    root / "params" / "2025" / "xiangxi-ggzy" / "attachments")
    return root


@pytest.fixture(scope="module")
def batch(rolled_over) -> subprocess.CompletedProcess:
    return evaltools("batch", str(rolled_over / "params"), "--to", "html,pdf,docx", "--jobs", "1")


def pdf_pages(pdf: Path) -> list[str]:
    count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", str(pdf)], capture_output=True,
                                                             text=True).stdout)[1])
    return [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], capture_output=True,
                           text=True).stdout for i in range(1, count + 1)]


def pdf_title(pdf: Path) -> str:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    return re.search(r"^Title:\s*(.*)$", info, re.MULTILINE)[1]


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    html = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+", " ", html)
    return re.sub(r"<[^>]+>", " ", html)


def docx_text(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        return " ".join(re.sub(r"<[^>]+>", " ", archive.read(name).decode("utf-8"))
                        for name in archive.namelist() if name.startswith("word/") and name.endswith(".xml"))


def test_a_batch_right_after_new_year_makes_drafts_counts_them_and_says_so_in_its_exit_status(batch):
    """Step 5: the reports are made, but a report of files with check errors is no submission."""
    assert batch.returncode == 3, batch.stdout + batch.stderr
    summary = next(line for line in batch.stdout.splitlines() if line.startswith("完成"))
    assert "失败 0" in summary and "其中草稿 1" in summary  # the 2025 project (its department only warns)
    assert "Traceback" not in batch.stderr


def test_the_drafts_submission_edition_says_草稿_on_every_page_and_in_its_title(rolled_over, batch):
    outputs = rolled_over / "outputs"
    draft = outputs / "2025" / PROJECT
    pages = pdf_pages(draft / "report.pdf")
    assert len(pages) > 5 and all("草稿" in page for page in pages)
    assert pdf_title(draft / "report.pdf").startswith("【草稿】")
    assert "<title>【草稿】" in (draft / "report.html").read_text(encoding="utf-8")
    with zipfile.ZipFile(draft / "report.docx") as archive:
        headers = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("word/header")]
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert headers and all("草稿" in header for header in headers) and "【草稿】" in core
    finished = outputs / "2024" / PROJECT
    assert not any("草稿" in page for page in pdf_pages(finished / "report.pdf"))
    assert "【草稿】" not in pdf_title(finished / "report.pdf") and "草稿" not in docx_text(finished / "report.docx")


def test_drafts_stay_counted_when_unchanged_and_a_flag_allows_exit_0(rolled_over, batch):
    again = evaltools("batch", str(rolled_over / "params"), "--to", "html,pdf,docx")
    assert again.returncode == 3 and "其中草稿 1" in again.stdout
    allowed = evaltools("batch", str(rolled_over / "params"), "--to", "html,pdf,docx", "--drafts-ok")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr


def test_no_none_nan_or_python_repr_in_any_document_index_or_message(rolled_over, batch):
    """Step 6 and the rule behind it: every output of the bundled year and of the next one."""
    assert not LEAKS.search(batch.stdout + batch.stderr), batch.stdout + batch.stderr
    outputs = rolled_over / "outputs"
    found = []
    for path in sorted(outputs.rglob("*")):
        if path.suffix == ".html":
            text = visible_text(path.read_text(encoding="utf-8"))
        elif path.suffix == ".pdf":
            text = "\n".join(pdf_pages(path))
        elif path.suffix == ".docx":
            text = docx_text(path)
        else:
            continue
        found += [f"{path.relative_to(outputs)}: {m.group(0)}" for m in LEAKS.finditer(text)]
    assert {p.suffix for p in outputs.rglob("*")} >= {".html", ".pdf", ".docx"}
    assert (outputs / "2024" / "index.html").is_file() and (outputs / "2025" / "index.html").is_file()
    assert found == []
    for command in (("check", str(rolled_over / "params")), ("score", str(rolled_over / "params" / "2025"))):
        said = evaltools(*command)
        assert not LEAKS.search(said.stdout + said.stderr), (command, said.stdout + said.stderr)


def test_the_index_shows_a_department_report_without_a_score_as_a_dash(tmp_path):
    from evaltools.run.index import build_index

    department = {"kind": "department", "name": "某局", "department": "某局", "year": 2025, "total": None, "grade": None,
                  "rate": None, "errors": 0, "warnings": 3, "shown": {"total": "—", "grade": "—", "rate": "—"},
                  "status": "done", "message": "", "folder": tmp_path}
    page = visible_text(build_index("2025", [department], tmp_path))
    assert "综合得分 —，等级 —" in page and not LEAKS.search(page)


def _with_cell(source: Path, target: Path, code: str) -> Path:
    """A copy of a report notebook with one more code cell at the end (an analyst's)."""
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(code))
    nbformat.write(notebook, target)
    return target


def test_an_added_cell_reads_workspace_paths_as_in_jupyterlab_and_a_failing_one_is_named(example_workspace):
    """Step 12 under `evaltools run` (working in the workspace root): `params/2024` and `../params/2024`
    both name the workspace's year, as in JupyterLab; a cell that fails is named with its notebook."""
    notebooks = example_workspace / "notebooks"
    project = example_workspace / "params" / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    paths = _with_cell(notebooks / "project_self_evaluation.ipynb", notebooks / "paths.ipynb",
                       "import evaltools\n"
                       "assert len(evaltools.read_projects('params/2024')) == len(evaltools.read_projects('../params/2024')) == 1")
    made = evaltools("run", str(project), "--to", "html", "--notebook", str(paths))
    assert made.returncode == 0, made.stderr
    broken = _with_cell(notebooks / "project_self_evaluation.ipynb", notebooks / "mine.ipynb", "# 我的试验\n1/0")
    failed = evaltools("run", str(project), "--to", "html", "--notebook", str(broken))
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    cells = len(__import__("nbformat").read(broken, as_version=4).cells)
    assert f"笔记本 {broken} 的第 {cells} 个单元（# 我的试验）出错：ZeroDivisionError" in failed.stderr.replace("\n", "")


def test_run_says_a_draft_is_one_and_exits_3_unless_drafts_are_ok(workspace):
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    project.write_text(project.read_text(encoding="utf-8").replace("    score: 13\n", "    score: 12\n", 1), encoding="utf-8")
    made = evaltools("run", str(project), "--to", "html")
    assert made.returncode == 3 and "草稿：参数文件有 1 个检查错误（TOTAL-SCORE）" in made.stdout
    assert evaltools("run", str(project), "--to", "html", "--drafts-ok").returncode == 0


def test_a_missing_attachment_refuses_only_its_report_in_a_batch_and_never_scoring(workspace):
    """Step 2: score and check work; the batch refuses that one report, naming field and path."""
    shutil.rmtree(workspace / "2024" / "xiangxi-ggzy" / "attachments")
    scored = evaltools("score", "--json", str(workspace / "2024"))
    assert scored.returncode == 0 and '"total_score": 96.0' in scored.stdout
    checked = evaltools("check", str(workspace / "2024"))
    assert checked.returncode == 1 and "[ATTACHMENT-MISSING]" in checked.stdout
    made = evaltools("batch", str(workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"), "--to", "html")
    said = (made.stdout + made.stderr).replace("\n", "")
    assert made.returncode == 1 and "narrative.attachments[0].file" in said and "attachments/notice.md 不存在" in said
    assert not (workspace.parent / "outputs" / "2024" / PROJECT / "report.html").exists()


def test_control_characters_pasted_from_word_never_fail_a_report_and_are_named(example_workspace):
    """A finance officer pastes from Word: a line break kept in its paragraph (U+000B), a page
    break (U+000C), a cell's end mark (U+0007), an escape sequence. The file is read, every
    format is made with the text as the reader meant it, and the checker and the review edition
    name each field that had one."""
    project = example_workspace / "params" / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = project.read_text(encoding="utf-8")
    for old, new in (("单位负责人：董佳瑛。", "单位负责人：董佳瑛。\x0b部门\x07简况\x1b[0m：\x0c"),
                     ("  leader: 董佳瑛", '  leader: "董佳瑛\\a"')):
        assert old in text
        text = text.replace(old, new, 1)
    project.write_text(text, encoding="utf-8")

    checked = evaltools("check", str(project))
    assert checked.returncode == 0, checked.stderr  # warnings: the report is usable
    assert checked.stdout.count("[CONTROL-CHAR]") == 2 and "narrative.unit" in checked.stdout
    assert "U+000B、U+0007、U+001B、U+000C" in checked.stdout and "project.leader" in checked.stdout

    made = evaltools("run", str(project), "--to", "html,pdf,docx")
    assert made.returncode == 0, made.stderr
    folder = example_workspace / "outputs" / "2024" / PROJECT
    pdf = subprocess.run(["pdftotext", str(folder / "report.pdf"), "-"], capture_output=True, text=True, check=True).stdout
    assert "单位负责人：董佳瑛。\n部门简况[0m：" in pdf
    with zipfile.ZipFile(folder / "report.docx") as docx:
        body = docx.read("word/document.xml").decode("utf-8")
    assert "部门简况[0m：" in body and not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", body)
    review = (folder / "report.html").read_text(encoding="utf-8")
    assert review.count("[CONTROL-CHAR]") == 2 and "\x0b" not in review

    workbook = example_workspace / "form.xlsx"
    exported = evaltools("export-xlsx", str(project), "-o", str(workbook))
    assert exported.returncode == 0, exported.stderr
    import openpyxl

    cells = [c.value for row in openpyxl.load_workbook(workbook).worksheets[0].iter_rows() for c in row]
    assert "董佳瑛" in {c for c in cells if isinstance(c, str)} or any("董佳瑛" in c for c in cells if isinstance(c, str))
