"""Batches: parallel equals serial, failures stay local, unchanged projects are skipped.

Real notebooks in real kernels; HTML only where the PDF adds nothing to what is tested.
"""

import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from evaltools.run.batch import BatchSettings, LockedError, batch_files, outputs_lock, plan, run_batch, year_folders
from evaltools.cli import main

from conftest import PARAMS, ROOT, add_project, in_fresh_python


def settings(formats, **options) -> BatchSettings:
    return BatchSettings(formats=tuple(formats), **options)


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> Path:
    """A workspace with two projects in the seed's department."""
    root = tmp_path_factory.mktemp("workspace")
    shutil.copytree(PARAMS, root / "params")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    add_project(root / "params" / "2024" / "xiangxi-ggzy", "expert-system", "专家评审系统升级", "50.00", "40.00")
    return root / "params" / "2024"


def files_of(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("report.*"))}


@pytest.fixture(scope="module")
def parallel(year, tmp_path_factory):
    out = tmp_path_factory.mktemp("parallel")
    return run_batch([year], settings(["html"], jobs=2, out_root=out)), out


def statuses(batch) -> dict[str, str]:
    return {Path(r.project_file).stem: r.status for r in batch.results}


def test_every_project_and_the_department_report_are_rendered(parallel):
    batch, out = parallel
    assert statuses(batch) == {"platform-maintenance": "done", "expert-system": "done", "_department": "done"}
    assert (out / "2024" / "xiangxi-ggzy" / "expert-system" / "report.html").is_file()
    assert (out / "2024" / "xiangxi-ggzy" / "_department" / "report.html").is_file()
    assert {r.summary["total"] for r in batch.results} == {96.0, 94.0, None}  # numbers, for --json
    assert {r.summary["shown"]["total"] for r in batch.results} == {"96", "94", "—"}  # as the reports show them


def test_parallel_equals_serial_byte_for_byte(parallel, year, tmp_path):
    batch, out = parallel
    run_batch([year], settings(["html"], jobs=1, out_root=tmp_path))
    serial, parallel_files = files_of(tmp_path), files_of(out)
    assert serial.keys() == parallel_files.keys() and len(serial) == 6
    assert serial == parallel_files


def test_warm_kernels_give_the_same_bytes_as_fresh_ones(parallel, year, tmp_path):
    """Each worker's kernel reused (and reset) for its projects, the default: outputs equal
    those of a fresh kernel per notebook."""
    _, out = parallel
    batch = run_batch([year], settings(["html"], jobs=1, out_root=tmp_path, warm=False))
    assert set(statuses(batch).values()) == {"done"}
    assert files_of(tmp_path) == files_of(out)


def test_the_year_overview_is_rendered_beside_the_reports_and_linked_from_the_index(parallel):
    batch, out = parallel
    [overview] = batch.overviews
    assert overview.status == "done" and Path(overview.files["html"]) == out / "2024" / "overview.html"
    html = (out / "2024" / "overview.html").read_text(encoding="utf-8")
    assert "2024年度预算绩效自评总览" in html and "专家评审系统升级" in html  # the project under 90 %
    assert "<script" not in html and 'class="grid"' in html and "data:image/png;base64," in html
    assert 'href="overview.html"' in (out / "2024" / "index.html").read_text(encoding="utf-8")


def test_a_rerun_with_no_change_executes_nothing(parallel, year):
    batch, out = parallel
    before = {p: p.stat().st_mtime_ns for p in [*out.rglob("report.*"), *out.rglob("overview.*")]}
    again = run_batch([year], settings(["html"], jobs=2, out_root=out))
    assert set(statuses(again).values()) == {"skipped"} and len(again.results) == 3
    assert again.overviews == []
    assert {p: p.stat().st_mtime_ns for p in [*out.rglob("report.*"), *out.rglob("overview.*")]} == before


def test_force_renders_again(year, tmp_path):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    run_batch([seed], settings(["html"], out_root=tmp_path))
    assert [r.status for r in run_batch([seed], settings(["html"], out_root=tmp_path, force=True)).results] == ["done"]


def test_changing_one_project_reruns_only_that_one(year, tmp_path):
    run_batch([year], settings(["html"], jobs=2, out_root=tmp_path))
    rows = tmp_path / "2024" / "overview.rows.json"  # each project's rows, by the contents of its files
    before = json.loads(rows.read_text(encoding="utf-8"))["projects"]
    charts = tmp_path / "2024" / "overview.charts.json"  # the charts it drew, by their data
    charts_before = json.loads(charts.read_text(encoding="utf-8"))["charts"]
    second = year / "xiangxi-ggzy" / "expert-system.yaml"
    original = second.read_text(encoding="utf-8")
    try:
        second.write_text(original.replace("    score: 13\n", "    score: 12\n", 1), encoding="utf-8")
        rerun = run_batch([year], settings(["html"], out_root=tmp_path))
    finally:
        second.write_text(original, encoding="utf-8")
    # the department report shows the projects' scores, so it is made again too; so is the overview
    assert statuses(rerun) == {"expert-system": "done", "platform-maintenance": "skipped", "_department": "done"}
    assert [o.status for o in rerun.overviews] == ["done"]
    assert "专家评审系统升级" in (tmp_path / "2024" / "overview.html").read_text(encoding="utf-8")
    after = json.loads(rows.read_text(encoding="utf-8"))["projects"]  # the overview loaded the changed one
    changed, kept = "params/2024/xiangxi-ggzy/expert-system.yaml", "params/2024/xiangxi-ggzy/platform-maintenance.yaml"
    assert after[kept] == before[kept] and after[changed]["key"] != before[changed]["key"]
    assert after[changed]["rows"]["project"]["总分"] != before[changed]["rows"]["project"]["总分"]
    # 94 → 93 is still 优, and no budget changed: the overview drew no chart again
    assert len(charts_before) == 3 and json.loads(charts.read_text(encoding="utf-8"))["charts"] == charts_before


def test_with_nothing_changed_planning_parses_no_parameter_file(parallel, year, monkeypatch):
    """No change is decided from the content of the files and the run logs: the files a
    project attaches are known from its run log, not by reading the YAML again."""
    import evaltools.domain.workspace

    _, out = parallel
    files, years = batch_files([year]), year_folders([year])

    def refuse(path, *args, **kw):
        raise AssertionError(f"{path} parsed while planning")

    monkeypatch.setattr(evaltools.domain.workspace, "read_yaml", refuse)
    evaltools.domain.workspace._listed.cache_clear()  # as in a new process
    jobs, known = plan(settings(["html"], out_root=out), files, years)
    assert jobs == [] and {r.status for r in known} == {"skipped"} and len(known) == 3


def test_with_one_project_changed_planning_parses_that_project_alone(year, tmp_path, monkeypatch):
    """The overview is made from the whole year, yet after one change planning reads the YAML of
    the changed file only: each file's attachments are recorded with a hash of what they were
    read from (a thousand projects took two seconds to plan, parsing every one): the unchanged
    project is not parsed."""
    import evaltools.domain.workspace

    run_batch([year], settings(["html"], jobs=2, out_root=tmp_path))
    second = year / "xiangxi-ggzy" / "expert-system.yaml"
    original = second.read_text(encoding="utf-8")
    parsed: list[str] = []
    real = evaltools.domain.workspace.read_yaml
    monkeypatch.setattr(evaltools.domain.workspace, "read_yaml", lambda path, *a, **kw: parsed.append(Path(path).name)
                        or real(path, *a, **kw))
    evaltools.domain.workspace._listed.cache_clear()  # as in a new process
    try:
        second.write_text(original.replace("    score: 13\n", "    score: 12\n", 1), encoding="utf-8")
        jobs, _ = plan(settings(["html"], out_root=tmp_path), batch_files([year]), year_folders([year]))
    finally:
        second.write_text(original, encoding="utf-8")
    assert sorted(job.kind for job in jobs) == ["department", "overview", "project"]
    assert set(parsed) == {"expert-system.yaml", "_department.yaml"}  # its department's defaults name attachments too


def test_an_attached_file_that_comes_back_is_found_by_the_next_batch_and_the_overview(tmp_path):
    """A project whose attached notice is missing is made with ATTACHMENT-MISSING, and so is the
    overview's row of it; once the file is back, the next batch makes both again without it,
    though no parameter file changed (each records the files it names, found or not)."""
    shutil.copytree(PARAMS, tmp_path / "params")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    year, out = tmp_path / "params" / "2024", tmp_path / "outputs"
    notice = year / "xiangxi-ggzy" / "attachments" / "notice.md"
    kept = notice.read_bytes()
    notice.unlink()

    def codes() -> set[str]:
        rows = json.loads((out / "2024" / "overview.rows.json").read_text(encoding="utf-8"))["projects"]
        return {f["代码"] for entry in rows.values() for f in entry["rows"]["findings"]}

    run_batch([year], settings(["html"], out_root=out))
    assert "ATTACHMENT-MISSING" in codes()
    notice.write_bytes(kept)
    again = run_batch([year], settings(["html"], out_root=out))
    assert statuses(again)["platform-maintenance"] == "done" and [o.status for o in again.overviews] == ["done"]
    assert "ATTACHMENT-MISSING" not in codes()


def test_the_overview_is_made_from_the_year_by_its_path_in_the_workspace(parallel):
    """The injected folder is relative to the workspace root, where the kernel works: the
    executed overview is the same wherever the workspace (or a worker's copy of it) lies."""
    _, out = parallel
    overview = nbformat.read(out / "2024" / "overview.ipynb", as_version=4)
    [injected] = [c for c in overview.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'year_folder = "params/2024"' in injected.source and 'rows_cache = ".evaltools/overview-rows.json"' in injected.source
    assert 'charts_cache = ".evaltools/overview-charts.json"' in injected.source
    log = json.loads((out / "2024" / "overview.run.json").read_text(encoding="utf-8"))
    assert log["status"] == "done" and len(log["key"]) == 24 and log["phases"]["cells"] > 0


def test_asking_for_another_format_exports_the_executed_notebook_again(year, tmp_path):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    [first] = run_batch([seed], settings(["html"], out_root=tmp_path)).results
    notebook = Path(first.folder) / "report.ipynb"
    executed = notebook.stat().st_mtime_ns
    result = run_batch([seed], settings(["html", "pdf", "docx"], out_root=tmp_path)).results[0]
    assert result.status == "done" and Path(result.files["pdf"]).is_file() and Path(result.files["docx"]).is_file()
    assert notebook.stat().st_mtime_ns == executed  # not executed again: same inputs, same notebook
    log = json.loads((notebook.parent / "run.json").read_text(encoding="utf-8"))
    assert log["formats"] == ["docx", "html", "pdf"] and log["timings"]["cells"]
    assert [r.status for r in run_batch([seed], settings(["pdf"], out_root=tmp_path)).results] == ["skipped"]


def test_volatile_metadata_goes_to_the_run_log(parallel):
    _, out = parallel
    folder = out / "2024" / "xiangxi-ggzy" / "platform-maintenance"
    notebook = nbformat.read(folder / "report.ipynb", as_version=4)
    assert "start_time" not in notebook.metadata.papermill and "output_path" not in notebook.metadata.papermill
    assert all("execution" not in c.metadata and "papermill" not in c.metadata for c in notebook.cells)
    log = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    assert log["timings"]["start_time"] and log["summary"]["grade"] == "优" and len(log["key"]) == 24


def test_broken_projects_are_reported_and_the_others_rendered(year, tmp_path, capsys):
    department = year.parent / "broken-year" / "2024" / "xiangxi-ggzy"
    shutil.copytree(year / "xiangxi-ggzy", department)
    (department.parents[1] / "_rules.yaml").write_bytes((year / "_rules.yaml").read_bytes())
    out = tmp_path / "out"
    assert main(["batch", str(department), "--to", "html", "--out", str(out)]) == 0
    good = out / "2024" / "xiangxi-ggzy" / "platform-maintenance" / "report.html"
    kept = out / "2024" / "xiangxi-ggzy" / "expert-system" / "report.html"
    kept_bytes = kept.read_bytes()

    # one project now fails in a cell, another cannot be read at all
    expert = department / "expert-system.yaml"
    expert.write_text(expert.read_text(encoding="utf-8").replace("name: 专家评审系统升级", "name: 坏项目", 1), encoding="utf-8")
    (department / "typo.yaml").write_text("year: 2024\nproject: {name: [未闭合\n", encoding="utf-8")
    notebook = nbformat.read(ROOT / "notebooks" / "project_self_evaluation.ipynb", as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell(
        "if report.params.project.name == '坏项目':\n    raise RuntimeError('这个项目坏了')"))
    custom = tmp_path / "custom.ipynb"
    nbformat.write(notebook, custom)
    capsys.readouterr()

    code = main(["batch", str(department), "--to", "html", "--out", str(out), "--notebook", str(custom)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "这个项目坏了" in printed and str(expert) in printed
    assert "typo.yaml" in printed and "YAML 格式错误" in printed
    assert good.is_file() and "已生成" in printed
    assert kept.read_bytes() == kept_bytes  # the failed project's previous report is untouched
    assert (kept.parent / "report.failed.ipynb").is_file()
    index = (out / "2024" / "index.html").read_text(encoding="utf-8")
    assert "坏项目" in index and "失败" in index


def test_a_second_batch_on_the_same_outputs_is_refused(year, tmp_path):
    with outputs_lock(tmp_path), pytest.raises(LockedError, match="另一个批处理"):
        run_batch([year], settings(["html"], out_root=tmp_path))


def test_a_linked_project_keeps_its_report_lock_and_index_in_this_workspace(tmp_path):
    other = tmp_path / "other"
    shutil.copytree(PARAMS, other / "params")
    here = tmp_path / "here" / "params" / "2024" / "xiangxi-ggzy"
    here.mkdir(parents=True)
    shutil.copy(PARAMS / "2024" / "xiangxi-ggzy" / "_department.yaml", here)
    shutil.copytree(PARAMS / "2024" / "xiangxi-ggzy" / "attachments", here / "attachments")  # beside the link
    (here / "linked.yaml").symlink_to(other / "params" / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml")
    batch = run_batch([here / "linked.yaml"], settings(["html"], jobs=1))
    outputs = tmp_path / "here" / "outputs"
    assert batch.out_root == outputs and not batch.failed
    assert (outputs / "2024" / "xiangxi-ggzy" / "linked" / "report.html").is_file()
    assert (outputs / "2024" / "index.html").is_file() and (outputs / ".evaltools.lock").exists()
    assert not (other / "outputs").exists()


def test_index_links_are_percent_encoded(tmp_path):
    from evaltools.run.index import _links

    folder = tmp_path / "2024" / "dept" / "平台 #2 100%"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("", encoding="utf-8")
    [link] = _links(folder, tmp_path / "2024")
    assert 'href="dept/%E5%B9%B3%E5%8F%B0%20%232%20100%25/report.html"' in link


def test_two_department_folders_of_the_same_name_each_keep_their_section_and_their_reports_link(tmp_path):
    """Two folders whose department files give the same unit name: the index grouped by name,
    and only one of the two department reports was linked, the other made and never shown."""
    from evaltools.run.index import build_index

    entries = []
    for folder in ("xiangxi-ggzy", "xiangxi-copy"):
        for stem, kind in (("_department", "department"), ("platform", "project")):
            made = tmp_path / "2024" / folder / stem
            made.mkdir(parents=True)
            (made / "report.pdf").write_bytes(b"%PDF")
            entries.append({"kind": kind, "name": f"{stem}-{folder}", "department": "湘西州公共资源交易中心", "year": 2024,
                            "total": 96, "grade": "优", "rate": 100, "errors": 0, "warnings": 0,
                            "shown": {"total": "96", "grade": "优", "rate": "100%"}, "status": "done", "message": "",
                            "folder": made})
    page = build_index("2024", entries, tmp_path / "2024")
    assert 'href="xiangxi-ggzy/_department/report.pdf"' in page and 'href="xiangxi-copy/_department/report.pdf"' in page
    assert "湘西州公共资源交易中心（xiangxi-copy）" in page and "湘西州公共资源交易中心（xiangxi-ggzy）" in page


def test_the_index_names_the_files_the_batch_could_not_read(tmp_path):
    from evaltools.run.index import build_index

    page = build_index("2024", [], tmp_path, unread=[("params/2024/a/broken.yaml", "params/2024/a/broken.yaml:4: YAML 格式错误")])
    assert "无法读取的参数文件（1 个，未生成报告）" in page and "params/2024/a/broken.yaml:4: YAML 格式错误" in page
    assert "无法读取" not in build_index("2024", [], tmp_path)


def test_a_batchs_unreadable_files_are_named_in_the_index_from_the_workspace_root(tmp_path):
    from evaltools.run.batch.model import Result
    from evaltools.run.index import write_indexes

    broken = tmp_path / "ws" / "params" / "2024" / "a" / "broken.yaml"
    made = Result(str(tmp_path / "ws" / "params" / "2024" / "a" / "good.yaml"), "done",
                  {"kind": "project", "name": "好", "department": "某局", "year": 2024, "department_folder": "a",
                   "errors": 0, "warnings": 0, "shown": {}}, folder=str(tmp_path / "out" / "2024" / "a" / "good"))
    failed = Result(str(broken), "failed", message=f"{broken}:4: YAML 格式错误")
    [index] = write_indexes([made, failed], tmp_path / "out")
    page = index.read_text(encoding="utf-8")
    assert "params/2024/a/broken.yaml:4: YAML 格式错误" in page and str(tmp_path) not in page


def test_the_unreadable_files_stay_in_the_index_written_again_until_a_batch_reads_them(tmp_path):
    """The index written again after a reviewer's decision (evaltools serve), or by a batch over
    another department, dropped the files the year's batch could not read: no report, and no
    word of them anywhere."""
    from evaltools.run.batch.model import Result
    from evaltools.run.index import write_indexes, write_year_index

    year = tmp_path / "ws" / "params" / "2024"
    broken = year / "a" / "broken.yaml"
    broken.parent.mkdir(parents=True)
    broken.write_text("project: {name: 坏\n", encoding="utf-8")

    def made(folder: str) -> Result:
        return Result(str(year / folder / "good.yaml"), "done",
                      {"kind": "project", "name": "好", "department": "某局", "year": 2024, "department_folder": folder,
                       "errors": 0, "warnings": 0, "shown": {}}, folder=str(tmp_path / "out" / "2024" / folder / "good"))

    write_indexes([made("a"), Result(str(broken), "failed", message=f"{broken}:1: YAML 格式错误")], tmp_path / "out")
    said = "params/2024/a/broken.yaml:1: YAML 格式错误"
    assert str(tmp_path) not in (tmp_path / "out" / "2024" / "unread.json").read_text(encoding="utf-8")
    assert said in write_year_index(tmp_path / "out" / "2024").read_text(encoding="utf-8")
    [index] = write_indexes([made("b")], tmp_path / "out")  # a batch over another department
    assert said in index.read_text(encoding="utf-8")
    [index] = write_indexes([made("a"), Result(str(broken), "done", {**made("a").summary, "name": "修好"})], tmp_path / "out")
    assert "无法读取" not in index.read_text(encoding="utf-8")
    assert "无法读取" not in write_year_index(tmp_path / "out" / "2024").read_text(encoding="utf-8")
    write_indexes([made("a"), Result(str(broken), "failed", message=f"{broken}:1: YAML 格式错误")], tmp_path / "out")
    broken.unlink()  # gone since: nothing to say of it
    assert "无法读取" not in write_year_index(tmp_path / "out" / "2024").read_text(encoding="utf-8")


def test_the_index_lists_departments_and_projects_with_links(parallel):
    batch, out = parallel
    [index] = batch.indexes
    assert index == out / "2024" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert '<html lang="zh">' in html and "湘西土家族苗族自治州公共资源交易中心（2 个项目）" in html
    assert 'href="xiangxi-ggzy/platform-maintenance/report.html"' in html
    assert 'href="xiangxi-ggzy/expert-system/report.html"' in html
    assert "96" in html and "94" in html and "80%" in html
    assert '部门整体支出绩效自评报告：<a href="xiangxi-ggzy/_department/report.html">' in html
    assert 'id="q"' in html and 'data-type="number"' in html  # filter and sort, inline
    assert 'aria-label="等级分布：优 2 个"' in html and 'style="width: 12.00em"' in html  # the grade bars
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)


def test_cli_batch_prints_plain_lines_and_the_index(year, tmp_path, capsys):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    assert main(["batch", str(seed), "--to", "html", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "[1/1] 已生成" in printed and "96 优" in printed  # as the report shows it
    assert f"评审索引：{tmp_path / '2024' / 'index.html'}" in printed


def test_cli_batch_json_carries_numbers_as_numbers(year, tmp_path, capsys):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    assert main(["batch", str(seed), "--to", "html", "--out", str(tmp_path), "--force", "--json"]) == 0
    [result] = json.loads(capsys.readouterr().out)
    summary = result["summary"]
    assert (summary["total"], summary["rate"], summary["errors"]) == (96.0, 100.0, 0)
    assert summary["shown"] == {"total": "96", "grade": "优", "rate": "100%"}


def test_a_parallel_batch_leaves_no_process_behind(parallel):
    """The pool's workers and multiprocessing's resource tracker are stopped and reaped: none is
    left to become a zombie when the batch's process ends."""
    import os
    import subprocess

    children = subprocess.run(["ps", "--ppid", str(os.getpid()), "-o", "stat=,args="], capture_output=True,
                              text=True).stdout.splitlines()
    assert [line for line in children if line.strip().startswith("Z") or "resource_tracker" in line] == []


def _runaway_notebook(tmp_path: Path, name: str, body: str = "while True:\n        pass") -> Path:
    """The report notebook with a cell that never ends for the project called ``name``."""
    notebook = nbformat.read(ROOT / "notebooks" / "project_self_evaluation.ipynb", as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell(f"if report.params.project.name == {name!r}:\n    {body}"))
    path = tmp_path / "runaway.ipynb"
    nbformat.write(notebook, path)
    return path


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_runaway_cell_in_a_warm_kernel_is_stopped_and_the_kernel_replaced(year, tmp_path, jobs):
    """A cell that never ends is stopped at the timeout, and the next project gets a new kernel
    (with two jobs, the stopped kernel is one the batch started and a worker adopted)."""
    import time

    started = time.monotonic()
    batch = run_batch([year / "xiangxi-ggzy"], settings(["html"], jobs=jobs, out_root=tmp_path, timeout=3, warm=True,
                      notebook=_runaway_notebook(tmp_path, "专家评审系统升级")))
    assert statuses(batch) == {"expert-system": "failed", "platform-maintenance": "done", "_department": "done"}
    [failed] = batch.failed
    assert "超过 3 秒" in failed.message
    assert time.monotonic() - started < 60
    html = (tmp_path / "2024" / "xiangxi-ggzy" / "platform-maintenance" / "report.html").read_text(encoding="utf-8")
    assert "<dd>公共资源交易平台运行维护费</dd>" in html


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_warm_kernel_that_dies_is_reported_with_its_last_words_which_stay_off_the_terminal(year, tmp_path, jobs,
                                                                                            capfd, monkeypatch):
    """What a kernel's process writes itself (its log, ipykernel's noise, a fatal error) is not
    the batch's to print: kept aside, and where the kernel dies, its last line ends the
    report's message (with two jobs, the kernel is one the batch started and a worker adopted:
    the year, its overview too, is more jobs than a batch runs in threads of its own)."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # under it, ipykernel writes as it does not for users
    dying = "import os, sys; sys.__stderr__.write('Fatal: 配额用尽\\n'); os._exit(1)"
    batch = run_batch([year], settings(["html"], jobs=jobs, out_root=tmp_path, warm=True,
                      notebook=_runaway_notebook(tmp_path, "专家评审系统升级", dying)))
    assert statuses(batch) == {"expert-system": "failed", "platform-maintenance": "done", "_department": "done"}
    [failed] = batch.failed
    assert failed.message.endswith("内核意外退出（内存不足，或代码调用了 exit？），它最后输出：Fatal: 配额用尽")
    said = capfd.readouterr()
    assert "配额用尽" not in said.out + said.err


def test_what_a_warm_kernel_said_for_an_earlier_report_is_not_why_it_died(year, tmp_path, monkeypatch):
    """One kernel, in turn: the first report's cell writes to the process's stderr and succeeds,
    the second's kernel dies without a word: its message gives no last line, not the first's."""
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    notebook = nbformat.read(ROOT / "notebooks" / "project_self_evaluation.ipynb", as_version=4)
    notebook.cells.insert(3, nbformat.v4.new_code_cell(
        "import os, sys\n"
        "if report.params.project.name == '专家评审系统升级':\n    sys.__stderr__.write('旧话\\n')\n"
        "else:\n    os._exit(1)"))
    nbformat.write(notebook, tmp_path / "said.ipynb")
    batch = run_batch(_two_projects(year), settings(["html"], jobs=1, out_root=tmp_path / "out", warm=True,
                                                    notebook=tmp_path / "said.ipynb"))
    assert statuses(batch) == {"expert-system": "done", "platform-maintenance": "failed"}
    [failed] = batch.failed
    assert failed.message.endswith("内核意外退出（内存不足，或代码调用了 exit？）") and "旧话" not in failed.message


def _processes_with(marker: str) -> list[str]:
    """Live processes whose environment holds ``marker`` (children inherit it)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or marker.encode() not in (proc / "environ").read_bytes():
                continue
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return found


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("jobs", [1, 2])
def test_kill_9_of_a_batch_leaves_no_worker_or_kernel(year, tmp_path, jobs):
    """Workers (jobs=2) and the kernels, also the batch's own (jobs=1), stop when it is killed."""
    import os
    import signal
    import subprocess
    import time
    import uuid

    marker = f"EVALTOOLS_TEST_{uuid.uuid4().hex}"
    slow = _runaway_notebook(tmp_path, "专家评审系统升级", "__import__('time').sleep(120)")
    command = [str(Path(os.sys.executable).parent / "evaltools"), "batch", str(year), "--to", "html", "--jobs", str(jobs),
               "--out", str(tmp_path / "out"), "--notebook", str(slow), "--force"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, marker: "1", "PYTHONUNBUFFERED": "1"})
    assert "个需要生成" in process.stdout.readline()
    deadline = time.monotonic() + 60
    while sum("ipykernel" in p for p in _processes_with(marker)) < jobs and time.monotonic() < deadline:
        time.sleep(0.5)  # the kernels are up, one of them about to sleep in a cell
    assert sum("ipykernel" in p for p in _processes_with(marker)) >= jobs
    time.sleep(2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 20
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_with(marker) == []


def test_the_dask_executor_runs_on_a_local_cluster(year, tmp_path):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    batch = run_batch([seed], settings(["html"], jobs=1, out_root=tmp_path, executor="dask"))
    assert [r.status for r in batch.results] == ["done"]
    assert (tmp_path / "2024" / "xiangxi-ggzy" / "platform-maintenance" / "report.html").is_file()


@pytest.mark.parametrize(("jobs", "to", "executor"), [(2, "group", "process"), (2, "batch", "process"),
                                                     (1, "group", "process")])
def test_ctrl_c_stops_cleanly(year, tmp_path, jobs, to, executor):
    """SIGINT to the whole process group, as a terminal sends it (whichever process it reaches
    first), or to the batch alone: one line saying what finished and what did not, exit 130,
    no traceback, no kernel or worker left, and the outputs are the old ones or whole new ones."""
    import os
    import signal
    import subprocess
    import time

    out = tmp_path / "outputs"
    run_batch([year], settings(["html"], jobs=2, out_root=out))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.suffix in (".html", ".json")}
    command = [str(Path(os.sys.executable).parent / "evaltools"), "batch", str(year), "--to", "html,pdf,docx", "--out",
               str(out), "--jobs", str(jobs), "--force", "--executor", executor]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    planned = process.stdout.readline()  # "3 个项目，3 个需要生成…": planning is done, workers start
    assert "个需要生成" in planned
    # The interrupt comes when the first report is back and the others are being made (a fixed delay
    # raced the batch: with the Typst PDF a batch of three can finish within it).
    first = process.stdout.readline()
    assert "[1/" in first, first
    if to == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    [said] = [line for line in output.splitlines() if "中断" in line]
    assert said.startswith("已中断：已完成 ") and "未完成" in said
    assert "Traceback" not in output and "Error" not in output, output
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*.tmp"))
    for log in out.rglob("run.json"):  # each report is the old one, or whole and new: all formats and its log
        html = log.parent / "report.html"
        if log.read_bytes() == before[log]:
            assert html.read_bytes() == before[html]
        else:
            assert html.read_text(encoding="utf-8").rstrip().endswith("</html>") and (log.parent / "report.pdf").is_file()

    def alive() -> list[str]:  # live processes of the batch's session (zombies are being reaped)
        listing = subprocess.run(["ps", "-s", str(process.pid), "-o", "stat=,args="], capture_output=True, text=True)
        return [line for line in listing.stdout.splitlines() if line.strip() and not line.strip().startswith("Z")]

    deadline = time.monotonic() + 20
    while alive() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert alive() == []
    # kernels start sessions of their own: none of this batch's may be left either
    assert not [p for p in _processes_with(str(out)) if "ipykernel" in p or "forkserver" in p]


def test_ctrl_c_in_a_cell_of_an_in_process_batch_leaves_no_task_on_the_event_loop(year, tmp_path, caplog):
    """One job runs in the batch's process: interrupted in a cell, nbclient's task for that cell
    is stopped with it, not left on the loop to end in DeadKernelError when the kernel is shut
    down, which asyncio would print under the batch's one line ("Task exception was never
    retrieved", the flake of test_ctrl_c_stops_cleanly)."""
    import asyncio
    import gc
    import signal
    import threading
    import time

    from jupyter_core.utils import ensure_event_loop

    from evaltools.run.batch import Interrupted

    busy = tmp_path / "busy"
    slow = _runaway_notebook(tmp_path, "公共资源交易平台运行维护费",
                             f"open({str(busy)!r}, 'w').close(); __import__('time').sleep(120)")

    def ctrl_c_once_busy() -> None:
        deadline = time.monotonic() + 120
        while not busy.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=ctrl_c_once_busy, daemon=True).start()
    with pytest.raises(Interrupted, match="已中断：已完成 0 个，未完成 1 个"):
        run_batch([year / "xiangxi-ggzy" / "platform-maintenance.yaml"],
                  settings(["html"], out_root=tmp_path / "out", notebook=slow, executor="serial"))
    assert busy.exists()  # interrupted in the cell, not before
    assert [task.get_coro().__qualname__ for task in asyncio.all_tasks(ensure_event_loop())] == []
    gc.collect()  # a task that ended with an exception nobody received is reported when collected
    assert "never retrieved" not in caplog.text and "destroyed but it is pending" not in caplog.text


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_scheduler_is_a_one_line_message(year, tmp_path, capsys):
    import time

    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    started = time.monotonic()
    code = main(["batch", str(seed), "--to", "html", "--out", str(tmp_path), "--executor", "dask",
                 "--scheduler", f"tcp://127.0.0.1:{_free_port()}"])
    err = capsys.readouterr().err
    assert code == 1 and time.monotonic() - started < 15
    assert "无法连接 Dask 调度器" in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_a_dask_cluster_without_the_clients_disk_sends_every_report_back(year, tmp_path, monkeypatch):
    """A real scheduler and a real worker (processes), working in a folder of their own: the
    client names its params and outputs by relative paths that mean nothing there, and still
    gets every report, run log and the index; the worker's folder gets none of it."""
    import os
    import subprocess
    import time

    client_dir, worker_dir = tmp_path / "client", tmp_path / "worker"
    worker_dir.mkdir()
    shutil.copytree(year.parents[1], client_dir, ignore=shutil.ignore_patterns("outputs"))
    dask = str(Path(os.sys.executable).parent / "dask")
    scheduler_file = tmp_path / "scheduler.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": worker_dir}
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(_free_port()),
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)], **quiet)
    worker = None
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker = subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1",
                                   "--no-dashboard", "--local-directory", str(worker_dir)], **quiet)
        monkeypatch.chdir(client_dir)
        batch = run_batch([Path("params/2024")], settings(["html"], out_root=Path("outputs"), executor="dask",
                          scheduler=address))
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.terminate()
                process.wait(timeout=60)
    assert statuses(batch) == {"platform-maintenance": "done", "expert-system": "done", "_department": "done"}
    out = client_dir / "outputs" / "2024" / "xiangxi-ggzy"
    for name in ("platform-maintenance", "expert-system", "_department"):
        assert (out / name / "report.html").is_file() and (out / name / "report.ipynb").is_file()
        assert json.loads((out / name / "run.json").read_text(encoding="utf-8"))["status"] == "done"
    index = (client_dir / "outputs" / "2024" / "index.html").read_text(encoding="utf-8")
    assert 'href="xiangxi-ggzy/expert-system/report.html"' in index and 'href="overview.html"' in index
    assert [o.status for o in batch.overviews] == ["done"] and (client_dir / "outputs" / "2024" / "overview.html").is_file()
    assert not list(worker_dir.rglob("report.*")) and not list(worker_dir.rglob("overview.*"))
    assert not (worker_dir / "outputs").exists()


def _dask_cluster(folder: Path) -> tuple[subprocess.Popen, subprocess.Popen, str]:
    """A real scheduler and one real worker, processes of their own, working in ``folder``."""
    import time

    dask = str(Path(os.sys.executable).parent / "dask")
    scheduler_file = folder / f"scheduler-{time.monotonic_ns()}.json"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "cwd": folder}
    scheduler = subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(_free_port()),
                                  "--no-dashboard", "--scheduler-file", str(scheduler_file)], **quiet)
    deadline = time.monotonic() + 60
    while not scheduler_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    worker = subprocess.Popen([dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                               "--local-directory", str(folder)], **quiet)
    return scheduler, worker, address


def _stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)


def test_a_scheduler_lost_mid_batch_is_one_line_and_a_rerun_makes_only_the_rest(year, tmp_path):
    """The scheduler killed once the first report is back: what finished is written, the batch
    ends in one line naming the scheduler, with no Dask traceback; a rerun makes only the rest."""
    (tmp_path / "cluster").mkdir()
    out = tmp_path / "outputs"
    scheduler, worker, address = _dask_cluster(tmp_path / "cluster")
    command = [str(Path(os.sys.executable).parent / "evaltools"), "batch", str(year), "--to", "html",
               "--out", str(out), "--executor", "dask", "--scheduler", address]
    try:
        batch = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 env={**os.environ, "PYTHONUNBUFFERED": "1"})
        lines = []
        for line in batch.stdout:
            lines.append(line)
            if line.startswith("[1/"):  # the first report is back
                scheduler.kill()
                break
        output = "".join(lines) + batch.communicate(timeout=120)[0]
    finally:
        _stop(worker, scheduler)
    assert batch.returncode == 1, output
    [said] = [line for line in output.splitlines() if "连接已断开" in line]
    assert address in said and "已完成" in said and "重新运行将只生成其余的" in said
    assert "Traceback" not in output and "distributed." not in output and "re-run your work" not in output
    made = {log.parent.name for log in out.rglob("run.json")}
    assert made and len(made) < 3

    scheduler, worker, address = _dask_cluster(tmp_path / "cluster")
    try:
        rerun = run_batch([year], settings(["html"], out_root=out, executor="dask", scheduler=address))
    finally:
        _stop(worker, scheduler)
    assert {Path(r.project_file).stem for r in rerun.results if r.status == "skipped"} == made
    assert {r.status for r in rerun.results} <= {"done", "skipped"} and len(rerun.results) == 3


def test_executors_are_chosen_by_name_from_a_registry(year, tmp_path, capsys):
    from evaltools.errors import RenderError
    from evaltools.run.batch import executors, plan_paths

    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    with pytest.raises(RenderError, match="没有名为 nowhere 的执行器（可选：.*dask.*process.*serial"):
        run_batch([seed], settings(["html"], out_root=tmp_path, executor="nowhere"))
    assert not (tmp_path / "2024").exists()  # refused before any work
    assert main(["batch", str(seed), "--to", "html", "--out", str(tmp_path), "--executor", "nowhere"]) != 0
    assert "没有名为 nowhere 的执行器" in capsys.readouterr().err  # the command takes any registered name
    seen = []

    def recording(jobs, options):
        seen.extend(job.kind for job in jobs)
        yield from executors.serial(jobs, options)

    executors.register("recording", recording)
    jobs, _ = plan_paths([seed], settings(["html"], out_root=tmp_path))
    [result] = run_batch([seed], settings(["html"], out_root=tmp_path, executor="recording")).results
    assert seen == [job.kind for job in jobs] == ["project"] and result.status == "done"


def test_a_worker_with_another_evaltools_refuses_the_job(year, tmp_path):
    """A cluster's worker running other code would make other reports under the same key."""
    from dataclasses import replace

    from evaltools.run.batch import execute_job, plan

    [job], _ = plan(settings(["html"], out_root=tmp_path), [year / "xiangxi-ggzy" / "platform-maintenance.yaml"])
    result = execute_job(replace(job, code="0123456789abcdef"))
    assert result.status == "failed" and "请在各机器安装同一版本" in result.message and not result.payload


def test_outputs_a_worker_sends_outside_the_outputs_are_not_written(tmp_path):
    from evaltools.run.batch import Result, receive

    sent = Result("p.yaml", "done", folder="2024/d/p", payload={"../../escaped.txt": b"x", "2024/d/p/run.json": "{}"})
    result = receive(sent, tmp_path / "out")
    assert result.status == "failed" and "输出目录之外" in result.message
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "out").exists()


def test_each_worker_claims_a_kernel_of_its_own(tmp_path):
    from evaltools.run.batch.worker import take_kernel

    kernels = (str(tmp_path), [{"pid": 1}, {"pid": 2}])
    assert [take_kernel(kernels), take_kernel(kernels), take_kernel(kernels)] == [{"pid": 1}, {"pid": 2}, None]  # then its own


def test_the_worker_that_makes_the_overview_takes_the_kernel_started_for_it(tmp_path):
    from evaltools.run.batch.worker import take_kernel

    kernels = (str(tmp_path), [{"pid": 1, "overview": True}, {"pid": 2, "overview": False}, {"pid": 3}])
    assert take_kernel(kernels) == {"pid": 2, "overview": False}  # a report's worker leaves it
    assert take_kernel(kernels, overview=True) == {"pid": 1, "overview": True}
    assert take_kernel(kernels, overview=True) == {"pid": 3}  # taken: any other


# --- a few jobs: threads of the batch's process ------------------------------------------------------


def _two_projects(year: Path) -> list[Path]:
    department = year / "xiangxi-ggzy"
    return [department / "platform-maintenance.yaml", department / "expert-system.yaml"]


def test_no_more_jobs_than_workers_run_in_turn_in_one_kernel_of_this_process_with_the_same_bytes(year, tmp_path,
                                                                                                  monkeypatch):
    """After one change (that report and the overview) a batch starts no workers: one thread of
    this process runs the jobs' cells in turn in one warm kernel, another exports each meanwhile,
    and the reports are the bytes a batch of one worker makes."""
    import threading

    import evaltools.run.execute as execute_module
    from evaltools.run import kernels
    from evaltools.run.batch import executors

    files = _two_projects(year)
    ran: list[tuple[str, int]] = []
    exported: list[str] = []
    warm_kernel, run_job = execute_module.warm_kernel, executors.run_job

    def noting(kernel_name, cwd, timeout=60):  # which thread and kernel each notebook ran in
        kernel = warm_kernel(kernel_name, cwd, timeout)
        ran.append((threading.current_thread().name, kernel.manager.provisioner.pid))
        return kernel

    def exporting(job, folder):  # which thread each export runs in
        made = run_job(job, folder)
        return made if not callable(made) else lambda: exported.append(threading.current_thread().name) or made()

    kernels_before = set(kernels._every)
    monkeypatch.setattr(execute_module, "warm_kernel", noting)
    monkeypatch.setattr(executors, "run_job", exporting)
    batch = run_batch(files, settings(["html"], jobs=2, out_root=tmp_path / "threads"))
    monkeypatch.undo()
    assert [r.status for r in batch.results] == ["done", "done"]
    assert [name for name, _ in ran] == ["evaltools-jobs"] * 2 and len({pid for _, pid in ran}) == 1
    assert len(exported) == 2 and all(name.startswith("evaltools-export") for name in exported)
    for closing in [t for t in threading.enumerate() if t.name == "evaltools-closing"]:
        closing.join(30)  # the thread stops its kernel while the batch writes its index
    assert set(kernels._every) == kernels_before
    run_batch(files, settings(["html"], jobs=1, out_root=tmp_path / "serial"))
    assert files_of(tmp_path / "serial") == files_of(tmp_path / "threads") != {}


def test_a_kernel_that_cannot_start_fails_each_job_of_a_few_once_and_the_batch_ends(year, tmp_path, monkeypatch):
    """A few jobs share one kernel: where it cannot start, each job fails once, saying why, and
    the batch ends (it never waits for a result that will not come)."""
    from evaltools.run.batch import executors

    def no_kernel(overview=False):
        raise RuntimeError("内核无法启动")

    monkeypatch.setattr(executors, "start_warm_kernel", no_kernel)
    batch = run_batch(_two_projects(year), settings(["html"], jobs=2, out_root=tmp_path / "out"))
    assert [r.status for r in batch.results] == ["failed", "failed"]
    assert all("内核无法启动" in r.message for r in batch.results)
    assert not list((tmp_path / "out").rglob("report.html"))


def test_the_lock_is_handed_over_often_while_any_batch_in_threads_runs_and_as_before_after_the_last():
    """A process may run several batches at once (a notebook, a service): the interval is the
    short one while any runs, however each ends (closed early, an error), and as before after."""
    import sys

    from evaltools.run.batch.executors import SWITCH_INTERVAL, lock_handed_over_often

    def batch():
        with lock_handed_over_often():
            yield sys.getswitchinterval()
            yield sys.getswitchinterval()

    before = sys.getswitchinterval()
    for order in ((0, 1), (1, 0)):
        batches = [batch(), batch()]
        assert [next(b) for b in batches] == [pytest.approx(SWITCH_INTERVAL)] * 2
        batches[order[0]].close()
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)
        with pytest.raises(KeyError):
            batches[order[1]].throw(KeyError("x"))
        assert sys.getswitchinterval() == before
    with pytest.raises(KeyError), lock_handed_over_often():
        raise KeyError("x")
    assert sys.getswitchinterval() == before


def test_a_message_names_the_users_files_not_the_jobs_copy_however_the_copy_is_written(tmp_path):
    """The copy as given, resolved (a temporary folder behind a link), and as the repr of a
    Windows path in an OSError writes it, its backslashes doubled."""
    from types import SimpleNamespace

    from evaltools.run.batch.worker import crash_message

    real = tmp_path / "real"
    real.mkdir()
    try:
        (tmp_path / "link").symlink_to(real)
    except OSError:  # Windows without the right to make links
        pytest.skip("no symbolic links here")
    job = SimpleNamespace(project_file="params/2024/a/b.yaml", root="/home/u/ws")
    said = crash_message(job, OSError(f"{tmp_path / 'link'}/x and {real}/y"), tmp_path / "link")
    assert said == "params/2024/a/b.yaml：OSError: /home/u/ws/x and /home/u/ws/y"
    windows = SimpleNamespace(project_file="b.yaml", root="C:\\Users\\u\\ws")
    said = crash_message(windows, OSError(repr("C:\\Temp\\job-1\\x.yaml")), Path("C:\\Temp\\job-1"))
    assert "Temp" not in said and "Users" in said


def test_an_unexpected_error_in_a_few_jobs_threads_names_the_users_files_not_the_jobs_copy(year, tmp_path, monkeypatch):
    """An export that fails in a way nothing expected is that report's failure, and its message
    names the workspace's files, as a worker's does, never the temporary copy the job ran in."""
    from evaltools.run.batch import executors

    copies: list[Path] = []

    def failing_export(job, folder):
        copies.append(folder)

        def export():
            raise OSError(f"读不到 {folder / 'params' / 'x.yaml'}")
        return export

    monkeypatch.setattr(executors, "run_job", failing_export)
    batch = run_batch(_two_projects(year), settings(["html"], jobs=2, out_root=tmp_path / "out"))
    assert [r.status for r in batch.results] == ["failed", "failed"] and len(copies) == 2
    for result in batch.results:
        assert "OSError: 读不到" in result.message and str(year.parent.parent / "params" / "x.yaml") in result.message
        assert not any(str(copy) in result.message for copy in copies)


def test_while_a_few_jobs_run_in_threads_the_interpreters_lock_changes_hands_often(year, tmp_path, monkeypatch):
    """The thread that talks to the kernel wakes a few times a cell: it waits 0.2 ms at most
    for the lock while another thread exports, not 5 ms; the process's interval is as before after."""
    import sys

    from evaltools.run.batch import executors

    seen: list[float] = []

    def no_kernel(overview=False):
        seen.append(sys.getswitchinterval())
        raise RuntimeError("内核无法启动")

    monkeypatch.setattr(executors, "start_warm_kernel", no_kernel)
    before = sys.getswitchinterval()
    run_batch(_two_projects(year), settings(["html"], jobs=2, out_root=tmp_path / "out"))
    assert seen == [pytest.approx(executors.SWITCH_INTERVAL)] and sys.getswitchinterval() == before > 0.001


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="open files counted in /proc")
def test_batches_made_in_threads_leave_no_open_file_behind(year, tmp_path):
    """A process may run many batches (a notebook, a service): each thread's event loop, its
    sockets and its kernel's are closed with the thread."""
    import threading
    import time

    def settled() -> int:
        for closing in [t for t in threading.enumerate() if t.name == "evaltools-closing"]:
            closing.join(30)
        time.sleep(0.2)
        return len(list(Path("/proc/self/fd").iterdir()))

    files = _two_projects(year)
    run_batch(files, settings(["html"], jobs=2, out_root=tmp_path / "0"))
    before = settled()
    for n in range(1, 4):
        run_batch(files, settings(["html"], jobs=2, out_root=tmp_path / str(n)))
    assert settled() <= before


def test_the_overviews_kernel_starts_while_the_year_is_planned_and_none_outlives_the_batch(year, tmp_path, monkeypatch):
    """After one change the year overview takes longest: its kernel starts before the batch
    plans a year made before (a thousand projects take a third of a second), and the overview's
    job takes it, its PDF's source as kept before laid out while its cells run again; not for a year made
    the first time (many reports, whose workers' start it would slow); a batch with nothing to
    make stops it, and no kernel outlives a batch."""
    import uuid

    from evaltools.run import kernels

    workspace = tmp_path / "workspace"
    shutil.copytree(year.parent.parent, workspace)
    marker = f"EVALTOOLS_TEST_{uuid.uuid4().hex}"
    monkeypatch.setenv(marker, "1")  # the kernels inherit it
    taken: list = []
    real = kernels.take_reserved
    monkeypatch.setattr(kernels, "take_reserved", lambda: taken.append(found := real()) or found)

    year_folder = workspace / "params" / "2024"
    first = run_batch([year_folder], settings(["html", "pdf"], jobs=2))  # a year made the first time: many reports
    assert [r.status for r in first.overviews] == ["done"] and taken == [None]
    with zipfile.ZipFile(workspace / "outputs" / "2024" / "overview.layout.zip") as kept:  # its PDF's source, kept
        assert "各部门项目等级分布" in kept.read("source.typ").decode("utf-8") and len(kept.namelist()) == 4  # and its 3 charts
    project = next(year_folder.glob("*/expert-system.yaml"))
    project.write_text(project.read_text(encoding="utf-8").replace("专家评审系统升级", "专家评审系统改造"), encoding="utf-8")
    taken.clear()
    made = run_batch([year_folder], settings(["html", "pdf"], jobs=2))
    assert [r.status for r in made.overviews] == ["done"] and len(taken) == 1 and taken[0] is not None
    assert taken[0][1]["overview"]
    # …and its PDF's source as kept before is laid out while its cells run again (Typst then redoes what changed)
    from evaltools.writers import pdf_engine

    laid_out: list = []
    monkeypatch.setattr(pdf_engine, "lay_out_ahead", lambda kept, *args: laid_out.append(kept))
    project.write_text(project.read_text(encoding="utf-8").replace("专家评审系统改造", "专家评审系统升级"), encoding="utf-8")
    again = run_batch([year_folder], settings(["html", "pdf"], jobs=2))
    assert [r.status for r in again.overviews] == ["done"]
    assert laid_out == [workspace / "outputs" / "2024" / "overview.layout.zip"]
    # …the source this machine's batch wrote, sealed: not one brought with a copy of the outputs (Typst runs it)
    kept = workspace / "outputs" / "2024" / "overview.layout.zip"
    shutil.copy2(kept, kept.with_name("copy.zip"))
    os.replace(kept.with_name("copy.zip"), kept)
    laid_out.clear()
    project.write_text(project.read_text(encoding="utf-8").replace("专家评审系统升级", "专家评审系统改造"), encoding="utf-8")
    assert [r.status for r in run_batch([year_folder], settings(["html", "pdf"], jobs=2)).overviews] == ["done"]
    assert laid_out == []
    unchanged = run_batch([year_folder], settings(["html", "pdf"], jobs=2))
    assert unchanged.overviews == [] and {r.status for r in unchanged.results} == {"skipped"}
    for closing in [t for t in __import__("threading").enumerate() if t.name == "evaltools-closing"]:
        closing.join(30)
    assert kernels._reserved == [] and kernels._taken == []
    assert not [p for p in _processes_with(marker) if "ipykernel" in p]


def test_a_batch_in_one_process_starts_its_kernel_before_it_loads_papermill_and_nbconvert():
    """A batch of one report (serial) starts its warm kernel first: the kernel's start (0.5 s)
    overlaps loading papermill, nbconvert and Typst, instead of following them. In a fresh
    interpreter, where none of them is loaded yet."""
    script = (
        "import sys\n"
        "from evaltools.run.batch import worker\n"
        "seen = []\n"
        "worker.start_warm_kernel = lambda overview=False: seen.append(\n"
        "    sorted(m for m in ('papermill', 'nbclient', 'nbconvert', 'typst') if m in sys.modules))\n"
        "worker.prepare(True, freeze=False)\n"
        "print(seen)\n"
        "print(sorted(m for m in ('papermill', 'nbconvert', 'typst') if m in sys.modules))\n")
    assert in_fresh_python(script) == ["[[]]", "['nbconvert', 'papermill', 'typst']"]


def _run_in(kernel, code: str) -> tuple[dict, str]:
    """Run ``code`` in a warm kernel: its reply, and what it printed."""
    from jupyter_core.utils import run_sync

    said: list[str] = []
    reply = run_sync(kernel.client.execute_interactive)(
        code, timeout=60, output_hook=lambda m: said.append(m["content"]["text"]) if m["msg_type"] == "stream" else None)
    return reply, "".join(said)


def test_a_warm_kernel_is_ipythons_without_the_debugger_and_its_notebooks_may_still_load_debugpy(tmp_path):
    """ipykernel loads debugpy as it makes its kernel (0.085 s of its start), for a debugger
    nobody attaches to a batch's kernel: a warm kernel of this interpreter is evaltools' class,
    which declines it at that moment only."""
    from evaltools.run import kernels

    kernel = kernels.warm_kernel("python3", tmp_path)
    try:
        reply, said = _run_in(kernel, "import sys; from ipykernel.debugger import _is_debugpy_available as on\n"
                                      "print(type(get_ipython().kernel).__name__, on, 'debugpy' in sys.modules)\n"
                                      "import debugpy; print(debugpy.__name__)")
    finally:
        kernels.close_kernels()
    assert reply["content"]["status"] == "ok"
    assert said.split("\n")[:2] == ["BatchKernel False False", "debugpy"]


def _ended(pid: int, within: float = 5.0) -> bool:
    """Whether the process is gone or a zombie (its parent killed, nobody may reap it here)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes' states in /proc")
def test_a_warm_kernel_stopped_is_killed_with_what_its_cells_started_and_never_interrupted(tmp_path, monkeypatch):
    """An interrupted kernel may print a KeyboardInterrupt, or a traceback from its sockets as
    the kill comes, on the batch's stderr: a warm kernel is killed outright, no signal sent
    before, with the processes its cells started, reaped, and its connection file removed."""
    from jupyter_client.provisioning import LocalProvisioner

    from evaltools.run import kernels

    signalled: list[int] = []
    send = LocalProvisioner.send_signal

    async def sending(self, signum):  # jupyter_client's way to interrupt, or to kill, a kernel
        signalled.append(signum)
        await send(self, signum)

    monkeypatch.setattr(LocalProvisioner, "send_signal", sending)
    kernel = kernels.warm_kernel("python3", tmp_path)
    try:
        reply, said = _run_in(kernel, "import subprocess, sys\n"
                                      "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
                                      "print(child.pid)")
        assert reply["content"]["status"] == "ok"
        process, connection = kernel.manager.provisioner.process, Path(kernel.manager.connection_file)
    finally:
        kernels.close_kernels()
    assert signalled == []
    assert process.poll() is not None and not connection.exists()
    assert _ended(int(said))


@pytest.mark.parametrize("argv, metadata, wanted", [
    (["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], {}, True),
    (["{exe}", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f", "{connection_file}"], {}, True),
    (["/opt/other-env/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], {}, False),
    (["python", "-m", "my_wrapped_kernel", "-f", "{connection_file}"], {}, False),
    (["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],
     {"kernel_provisioner": {"provisioner_name": "docker-provisioner"}}, False),
])
def test_only_ipykernels_of_this_interpreter_started_here_get_evaltools_kernel_class(argv, metadata, wanted):
    """A kernel whose class cannot be imported dies as it starts: another environment's python,
    a module of its own, a kernel started elsewhere keep the class they have."""
    import sys
    from types import SimpleNamespace

    from evaltools.run.kernels import KERNEL_CLASS, _here

    spec = SimpleNamespace(argv=[sys.executable if a == "{exe}" else a for a in argv], metadata=metadata)
    assert _here(SimpleNamespace(kernel_spec=spec)) == ([KERNEL_CLASS] if wanted else [])


def _slow_overview(year: Path, tmp_path: Path) -> Path:
    """A copy of the workspace whose year overview is made after its reports."""
    workspace = tmp_path / "workspace"
    shutil.copytree(year.parent.parent, workspace)
    book = workspace / "notebooks" / "year_overview.ipynb"
    overview = nbformat.read(book, as_version=4)
    overview.cells.insert(2, nbformat.v4.new_code_cell("__import__('time').sleep(4)"))
    nbformat.write(overview, book)
    return workspace


def test_an_index_that_cannot_be_written_early_stops_nothing(year, tmp_path, monkeypatch):
    from evaltools.run.batch import runner

    workspace = _slow_overview(year, tmp_path)
    real, calls = runner.write_indexes, []

    def failing_once(results, out_root, **options):
        calls.append(1)
        if len(calls) == 1:
            raise PermissionError("index.html")
        return real(results, out_root, **options)

    monkeypatch.setattr(runner, "write_indexes", failing_once)
    made = run_batch([workspace / "params" / "2024"], settings(["html"], jobs=2))
    assert [r.status for r in made.overviews] == ["done"] and len(calls) == 2
    assert (workspace / "outputs" / "2024" / "index.html").is_file()


def test_the_index_is_written_once_every_report_is_in_and_again_only_if_its_links_change(year, tmp_path, monkeypatch):
    """Every report in, the year's index is written, while the overview is still being made
    where the overview comes last (a first batch, in workers); it is written again only where
    the overview's files came meanwhile, so that it always links them. After one change the
    overview's cells run first (see executors.threaded): the index is written once."""
    from evaltools.run.batch import runner

    workspace = _slow_overview(year, tmp_path)
    out = workspace / "outputs" / "2024"
    calls: list[tuple[bool, bool]] = []  # (the overview received yet, its page there) at each writing
    real = runner.write_indexes

    def spy(results, out_root, **options):
        calls.append((bool(overviews_seen), (out / "overview.html").is_file()))
        return real(results, out_root, **options)

    overviews_seen: list = []
    real_receive = runner.receive

    def receive(made, base):
        if made.project_file.endswith("2024"):
            overviews_seen.append(made)
        return real_receive(made, base)

    monkeypatch.setattr(runner, "receive", receive)
    monkeypatch.setattr(runner, "write_indexes", spy)

    def batch():
        calls.clear()
        overviews_seen.clear()
        made = run_batch([workspace / "params" / "2024"], settings(["html"], jobs=2))
        assert [r.status for r in made.overviews] == ["done"]
        assert 'href="overview.html"' in (out / "index.html").read_text(encoding="utf-8")

    batch()  # the first: before the overview's page exists, then again to link it
    assert calls == [(False, False), (True, True)]
    project = next((workspace / "params" / "2024").glob("*/expert-system.yaml"))
    project.write_text(project.read_text(encoding="utf-8").replace("专家评审系统升级", "专家评审系统改造"), encoding="utf-8")
    batch()  # one change: once, the overview made
    assert calls == [(True, True)]


def test_a_batch_made_in_this_process_gives_back_what_it_kept_from_the_collector(year, tmp_path):
    """Frozen while it runs (the collector walking every loaded module slowed its exports by a
    tenth), given back at its end: a process running many batches frees each one's objects."""
    import gc

    files = _two_projects(year)
    before = gc.get_freeze_count()
    for jobs, folder in ((2, "threads"), (1, "serial")):
        batch = run_batch(files, settings(["html"], jobs=jobs, out_root=tmp_path / folder))
        assert [r.status for r in batch.results] == ["done", "done"]
        assert gc.get_freeze_count() == before


def test_ctrl_c_in_a_batch_made_in_threads_stops_every_kernel_and_writes_nothing(year, tmp_path):
    import signal
    import threading
    import time

    from evaltools.run.batch import Interrupted
    from evaltools.run import kernels

    busy = tmp_path / "busy"
    slow = _runaway_notebook(tmp_path, "专家评审系统升级", f"open({str(busy)!r}, 'w').close(); __import__('time').sleep(120)")
    seen: list[str] = []

    def ctrl_c_once_busy() -> None:
        deadline = time.monotonic() + 120
        while not busy.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        seen.extend(thread.name for thread in threading.enumerate())
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=ctrl_c_once_busy, daemon=True).start()
    started = time.monotonic()
    with pytest.raises(Interrupted, match="已中断：已完成 [01] 个，未完成 [12] 个"):
        run_batch(_two_projects(year), settings(["html"], jobs=2, out_root=tmp_path / "out", notebook=slow))
    assert busy.exists() and "evaltools-jobs" in seen
    assert time.monotonic() - started < 60
    deadline = time.monotonic() + 20  # the killed kernels' threads end on their own
    while kernels._every and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not kernels._every
    assert not (tmp_path / "out" / "2024" / "xiangxi-ggzy" / "expert-system").exists()


# --- last year travels with the job -----------------------------------------------------------------


def _fill_in(new_file: Path, old_file: Path) -> None:
    """What an analyst types in for the new year: here, last year's actuals and scores."""
    from evaltools.domain.yamlio import read_yaml

    old, new = read_yaml(old_file).data, read_yaml(new_file).data
    new["budget"], new["spending"] = old["budget"], old.get("spending", [])
    new["goals"]["achieved"] = old["goals"]["achieved"]
    for before, after in zip(old["indicators"], new["indicators"], strict=True):
        after.update({key: before[key] for key in ("actual", "actual_value", "score", "deviation") if key in before})
    new_file.write_text(json.dumps(new, ensure_ascii=False, default=str), encoding="utf-8")  # JSON is YAML
    # …and this year's notice, which new-year leaves listed for them to attach
    (new_file.parent / "attachments").mkdir(exist_ok=True)
    shutil.copy2(old_file.parent / "attachments" / "notice.md", new_file.parent / "attachments" / "notice.md")


@pytest.fixture
def rolled_over(tmp_path) -> Path:
    """A workspace whose 2025 was rolled over from the bundled 2024 (which attaches a notice)."""
    from evaltools.newyear import new_year

    root = tmp_path / "workspace"
    shutil.copytree(PARAMS, root / "params")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    new_year(root / "params" / "2024", root / "params" / "2025")
    project = root / "params" / "2025" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    _fill_in(project, root / "params" / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml")
    return project


def test_last_years_file_and_what_it_attaches_travel_with_the_job(rolled_over, tmp_path):
    """The issue's case: last year's file attaches a notice; in a batch (a worker's own copy of
    the inputs) the report still shows last year beside this year, as `evaltools run` does."""
    last_year = rolled_over.parents[2] / "2024" / "xiangxi-ggzy"
    [job], _ = plan(settings(["html"], out_root=tmp_path), [rolled_over])
    assert {"params/2024/xiangxi-ggzy/platform-maintenance.yaml",
            "params/2024/xiangxi-ggzy/attachments/notice.md"} <= set(job.inputs)
    batch = run_batch([rolled_over], settings(["html"], jobs=1, out_root=tmp_path))
    [result] = batch.results
    assert result.status == "done" and result.summary["shown"]["previous"] == "96（优）· 100%"
    html = Path(result.files["html"]).read_text(encoding="utf-8")
    assert "上年（2024年度）" in html and "上年的参数文件无法读取" not in html
    notice = last_year / "attachments" / "notice.md"  # what last year needs is in the key too
    notice.write_text(notice.read_text(encoding="utf-8") + "\n补充。\n", encoding="utf-8")
    [again], _ = plan(settings(["html"], out_root=tmp_path), [rolled_over])
    assert again.key != job.key


def test_last_years_file_that_cannot_be_read_is_said_in_the_report(rolled_over, tmp_path):
    last_year = rolled_over.parents[2] / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = last_year.read_text(encoding="utf-8")
    assert "annual: 106.62," in text
    last_year.write_text(text.replace("annual: 106.62,", "annual: 一百,", 1), encoding="utf-8")
    [result] = run_batch([rolled_over], settings(["html"], jobs=1, out_root=tmp_path)).results
    assert result.status == "done" and "previous" not in result.summary["shown"]
    assert result.summary["warnings"] >= 1
    html = Path(result.files["html"]).read_text(encoding="utf-8")  # the review edition
    assert "上年的参数文件无法读取" in html and "params/2024/xiangxi-ggzy/platform-maintenance.yaml" in html
    assert "上年（2024年度）" not in html


def test_files_outside_a_params_tree_make_the_same_report_in_a_batch_as_by_run(tmp_path):
    """A department folder with no params/ above it, its year's rules one level up: the job
    carries the rules its chain reaches, so the worker's copy scores as `evaltools run` does."""
    from evaltools.run.build import run

    department = tmp_path / "loose" / "2024" / "xiangxi-ggzy"
    shutil.copytree(PARAMS / "2024" / "xiangxi-ggzy", department)
    rules = (PARAMS / "2024" / "_rules.yaml").read_text(encoding="utf-8")
    assert "name: 湘西州" in rules
    (department.parent / "_rules.yaml").write_text(rules.replace("name: 湘西州", "name: 外层规则口径", 1),
                                                    encoding="utf-8")
    seed = department / "platform-maintenance.yaml"
    by_run = run(seed, ["html"], out_root=tmp_path / "run").files["html"].read_bytes()
    assert "外层规则口径".encode() in by_run
    [result] = run_batch([seed], settings(["html"], jobs=1, out_root=tmp_path / "batch")).results
    assert result.status == "done" and Path(result.files["html"]).read_bytes() == by_run


def test_a_job_leaves_nothing_kept_of_its_copys_files(year, tmp_path, monkeypatch):
    """Each job reads a copy of its own: what was kept of it (parsed YAML, attachment lists)
    serves no other job, and a worker keeping it grew slower with every report (each full
    collection walks it)."""
    from evaltools.domain import memo, yamlio
    from evaltools.run.batch import execute_job, plan
    from evaltools.run.kernels import close_kernels
    import evaltools.run.batch.worker as worker

    [job], _ = plan(settings(["html"], out_root=tmp_path), [year / "xiangxi-ggzy" / "platform-maintenance.yaml"])
    read = []
    def kept_then_exported(job, folder):
        exported = run_job(job, folder)
        read.append(yamlio._parse.cache_info().currsize)  # the subject loaded from the copy: kept
        return exported

    run_job = worker.run_job
    monkeypatch.setattr(worker, "run_job", kept_then_exported)
    try:
        assert execute_job(job).status == "done" and read and read[0] > 0
    finally:
        close_kernels()  # the warm kernel this thread started for the job
    assert all(cached.cache_info().currsize == 0 for cached in memo._KEPT)
    # a job that ends with its cells (a batch in threads exports the others apart) forgets too
    import evaltools.run.execute as execute_module

    monkeypatch.setattr(execute_module, "run_cells", lambda *a: (_ for _ in ()).throw(RuntimeError("内核已退出")))
    with worker.unpack(job) as folder:
        failed = run_job(job, Path(folder))
    assert failed.status == "failed" and "内核已退出" in failed.message
    assert all(cached.cache_info().currsize == 0 for cached in memo._KEPT)


def test_a_reports_duration_leaves_out_its_wait_for_another_jobs_export(year, tmp_path):
    """A batch in threads exports each job after its cells, once the export before it is done:
    the run log's duration is the report's cells and export, not that wait (however short)."""
    import time

    from evaltools.run.batch import plan
    from evaltools.run.kernels import close_kernels
    import evaltools.run.batch.worker as worker

    [job], _ = plan(settings(["html"], out_root=tmp_path), [year / "xiangxi-ggzy" / "platform-maintenance.yaml"])
    with worker.unpack(job) as folder:
        try:
            started = time.monotonic()
            export = worker.run_job(job, Path(folder))
            ran = time.monotonic() - started
            time.sleep(0.3)  # another job's export
            result = export()
        finally:
            close_kernels()
    assert result.status == "done" and ran < result.duration < time.monotonic() - started - 0.3


def test_what_is_kept_of_files_read_is_forgotten_together(year):
    from evaltools.domain import memo, yamlio
    from evaltools.domain.workspace import listed_attachments

    project = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    yamlio.read_yaml(project)
    listed_attachments(project)
    assert yamlio._parse.cache_info().currsize > 0 and len(memo._KEPT) >= 4
    memo.forget()
    assert all(cached.cache_info().currsize == 0 for cached in memo._KEPT)
