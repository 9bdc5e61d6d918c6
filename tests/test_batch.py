"""Batches: parallel equals serial, failures stay local, unchanged projects are skipped.

Real notebooks in real kernels; HTML only where the PDF adds nothing to what is tested.
"""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from evaltools.batch import LockedError, outputs_lock, run_batch
from evaltools.cli import main

from conftest import PARAMS, ROOT, add_project


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
    return run_batch([year], ["html"], jobs=2, out_root=out), out


def statuses(batch) -> dict[str, str]:
    return {Path(r.project_file).stem: r.status for r in batch.results}


def test_every_project_and_the_department_report_are_rendered(parallel):
    batch, out = parallel
    assert statuses(batch) == {"platform-maintenance": "done", "expert-system": "done", "_department": "done"}
    assert (out / "2024" / "xiangxi-ggzy" / "expert-system" / "report.html").is_file()
    assert (out / "2024" / "xiangxi-ggzy" / "_department" / "report.html").is_file()
    assert {r.summary["total"] for r in batch.results} == {"96.00", "94.00", "—"}


def test_parallel_equals_serial_byte_for_byte(parallel, year, tmp_path):
    batch, out = parallel
    run_batch([year], ["html"], jobs=1, out_root=tmp_path)
    serial, parallel_files = files_of(tmp_path), files_of(out)
    assert serial.keys() == parallel_files.keys() and len(serial) == 6
    assert serial == parallel_files


def test_warm_kernels_give_the_same_bytes_as_fresh_ones(parallel, year, tmp_path):
    """One kernel reused (and reset) for both projects: outputs equal the fresh-kernel ones."""
    _, out = parallel
    batch = run_batch([year], ["html"], jobs=1, out_root=tmp_path, warm=True)
    assert set(statuses(batch).values()) == {"done"}
    assert files_of(tmp_path) == files_of(out)


def test_a_rerun_with_no_change_executes_nothing(parallel, year):
    batch, out = parallel
    before = {p: p.stat().st_mtime_ns for p in out.rglob("report.*")}
    again = run_batch([year], ["html"], jobs=2, out_root=out)
    assert set(statuses(again).values()) == {"skipped"} and len(again.results) == 3
    assert {p: p.stat().st_mtime_ns for p in out.rglob("report.*")} == before


def test_force_renders_again(year, tmp_path):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    run_batch([seed], ["html"], out_root=tmp_path)
    assert [r.status for r in run_batch([seed], ["html"], out_root=tmp_path, force=True).results] == ["done"]


def test_changing_one_project_reruns_only_that_one(year, tmp_path):
    run_batch([year], ["html"], jobs=2, out_root=tmp_path)
    second = year / "xiangxi-ggzy" / "expert-system.yaml"
    original = second.read_text(encoding="utf-8")
    try:
        second.write_text(original.replace("    score: 13\n", "    score: 12\n", 1), encoding="utf-8")
        after = statuses(run_batch([year], ["html"], out_root=tmp_path))
    finally:
        second.write_text(original, encoding="utf-8")
    # the department report shows the projects' scores, so it is made again too
    assert after == {"expert-system": "done", "platform-maintenance": "skipped", "_department": "done"}


def test_asking_for_another_format_renders_again(year, tmp_path):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    run_batch([seed], ["html"], out_root=tmp_path)
    result = run_batch([seed], ["html", "pdf"], out_root=tmp_path).results[0]
    assert result.status == "done" and Path(result.files["pdf"]).is_file()


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
        run_batch([year], ["html"], out_root=tmp_path)


def test_a_linked_project_keeps_its_report_lock_and_index_in_this_workspace(tmp_path):
    other = tmp_path / "other"
    shutil.copytree(PARAMS, other / "params")
    here = tmp_path / "here" / "params" / "2024" / "xiangxi-ggzy"
    here.mkdir(parents=True)
    shutil.copy(PARAMS / "2024" / "xiangxi-ggzy" / "_department.yaml", here)
    (here / "linked.yaml").symlink_to(other / "params" / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml")
    batch = run_batch([here / "linked.yaml"], ["html"], jobs=1)
    outputs = tmp_path / "here" / "outputs"
    assert batch.out_root == outputs and not batch.failed
    assert (outputs / "2024" / "xiangxi-ggzy" / "linked" / "report.html").is_file()
    assert (outputs / "2024" / "index.html").is_file() and (outputs / ".evaltools.lock").exists()
    assert not (other / "outputs").exists()


def test_index_links_are_percent_encoded(tmp_path):
    from evaltools.index import _links

    folder = tmp_path / "2024" / "dept" / "平台 #2 100%"
    folder.mkdir(parents=True)
    (folder / "report.html").write_text("", encoding="utf-8")
    [link] = _links(folder, tmp_path / "2024")
    assert 'href="dept/%E5%B9%B3%E5%8F%B0%20%232%20100%25/report.html"' in link


def test_the_index_lists_departments_and_projects_with_links(parallel):
    batch, out = parallel
    [index] = batch.indexes
    assert index == out / "2024" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert '<html lang="zh">' in html and "湘西土家族苗族自治州公共资源交易中心（2 个项目）" in html
    assert 'href="xiangxi-ggzy/platform-maintenance/report.html"' in html
    assert 'href="xiangxi-ggzy/expert-system/report.html"' in html
    assert "96.00" in html and "94.00" in html and "80.00%" in html
    assert '部门整体支出绩效自评报告：<a href="xiangxi-ggzy/_department/report.html">' in html
    assert 'id="q"' in html and 'data-type="number"' in html  # filter and sort, inline
    assert "data:image/png;base64," in html  # the grade chart
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?(?:https?:)?//", html)


def test_cli_batch_prints_plain_lines_and_the_index(year, tmp_path, capsys):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    assert main(["batch", str(seed), "--to", "html", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "[1/1] 已生成" in printed and "96.00 优" in printed
    assert f"评审索引：{tmp_path / '2024' / 'index.html'}" in printed


def test_the_dask_executor_runs_on_a_local_cluster(year, tmp_path):
    seed = year / "xiangxi-ggzy" / "platform-maintenance.yaml"
    batch = run_batch([seed], ["html"], jobs=1, out_root=tmp_path, executor="dask")
    assert [r.status for r in batch.results] == ["done"]
    assert (tmp_path / "2024" / "xiangxi-ggzy" / "platform-maintenance" / "report.html").is_file()


def test_ctrl_c_stops_cleanly(year, tmp_path):
    """SIGINT to the whole process group, as a terminal sends it: exit 130, no partial files,
    no kernel or worker left, and whatever finished is complete."""
    import os
    import signal
    import subprocess
    import time

    out = tmp_path / "outputs"
    command = [str(Path(os.sys.executable).parent / "evaltools"), "batch", str(year), "--to", "html,pdf", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    planned = process.stdout.readline()  # "3 个项目，3 个需要生成…": planning is done, workers start
    assert "个需要生成" in planned
    time.sleep(1.5)  # kernels executing (a project takes several seconds with its PDF)
    os.killpg(process.pid, signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    assert "已中断" in output
    assert not list(out.rglob("*.tmp")) and not list(out.rglob(".*.tmp"))
    for html in out.rglob("report.html"):  # finished projects are whole: all formats and the run log
        assert html.read_text(encoding="utf-8").rstrip().endswith("</html>")
        assert (html.parent / "report.pdf").is_file() and (html.parent / "run.json").is_file()

    def alive() -> list[str]:  # live processes of the batch's session (zombies are being reaped)
        listing = subprocess.run(["ps", "-s", str(process.pid), "-o", "stat=,args="], capture_output=True, text=True)
        return [line for line in listing.stdout.splitlines() if line.strip() and not line.strip().startswith("Z")]

    deadline = time.monotonic() + 20
    while alive() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert alive() == []
