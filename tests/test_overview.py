"""The year overview: its figures from the year's parameter files, and the notebook rendered
to HTML and PDF with them."""

import gc
import re
import shutil
import subprocess
from decimal import Decimal

import docx
import pandas as pd
import pytest
from pandas.api.types import is_float_dtype, is_integer_dtype

from evaltools.run.build import run_overview
from evaltools.domain.checks import CHECKS
from evaltools.newyear import new_year
from evaltools.document.charts import (
    department_spending_figure,
    execution_figure,
    grades_by_department_figure,
    projects_figure,
)
from evaltools.document import overview
from evaltools.document.overview import YearOverview, read_ahead
from evaltools.domain.frames import RowCache, read_year
from evaltools.document.parts import Table, plain_text
from evaltools.domain.rollup import ProjectLine
from evaltools.domain.workspace import find_project_files
from evaltools.writers.html_parts import html

from conftest import ROOT, SECOND_DEPARTMENT, SECOND_UNIT
from test_newyear import fill_in

SEED_UNIT = "湘西土家族苗族自治州公共资源交易中心"


@pytest.fixture
def year(two_departments) -> YearOverview:
    return YearOverview.load(two_departments)


def test_the_files_that_cannot_be_read_are_named_not_silently_left_out(two_departments):
    """A broken project file beside good ones, and a department folder whose department file is
    broken: the overview counted what it read and said nothing of the rest."""
    (two_departments / "xiangxi-ggzy" / "broken.yaml").write_text("project: {name: 坏\n", encoding="utf-8")
    broken = two_departments / "dept-broken"
    broken.mkdir()
    (broken / "_department.yaml").write_text("defaults: [\nunit: {name: 破损部门\n", encoding="utf-8")
    shutil.copy(two_departments / "xiangxi-ggzy" / "platform-maintenance.yaml", broken / "platform.yaml")
    with pytest.warns(UserWarning, match="无法读取"):  # the notebook's reading says so too
        year = YearOverview.load(two_departments)
    assert year.unreadable == ["params/2024/dept-broken/_department.yaml", "params/2024/dept-broken/platform.yaml",
                               "params/2024/xiangxi-ggzy/broken.yaml"]
    said = plain_text(year.title().children[-1].content)
    assert "另有3个参数文件无法读取" in said and "params/2024/xiangxi-ggzy/broken.yaml" in said


def test_two_department_folders_of_one_name_are_counted_apart_and_named_by_their_folders(two_departments):
    """A department folder copied under another name, its unit's name unchanged: the overview
    counted the two as one department of two projects in every table and chart."""
    shutil.copytree(two_departments / "xiangxi-ggzy", two_departments / "xiangxi-copy")
    year = YearOverview.load(two_departments)
    apart = {f"{SEED_UNIT}（xiangxi-ggzy）", f"{SEED_UNIT}（xiangxi-copy）"}
    grades = year.grades().set_index("部门")
    assert apart <= set(grades.index) and SEED_UNIT not in grades.index
    assert all(grades.loc[name, "项目数"] == 1 for name in apart) and grades.loc["合计", "项目数"] == 4
    assert set(year.departments["部门"]) == apart | {SECOND_UNIT} and "文件" not in year.departments.columns
    assert set(year.lost_points(10)["部门"]) <= apart | {SECOND_UNIT}
    assert set(year.decisions()["部门"]) == apart | {SECOND_UNIT, "合计"}
    # the copy's department file names its unit otherwise: its projects still give the shared name
    copy = two_departments / "xiangxi-copy" / "_department.yaml"
    copy.write_text(copy.read_text(encoding="utf-8").replace(SEED_UNIT, "另一个中心", 1), encoding="utf-8")
    year = YearOverview.load(two_departments)
    assert set(year.indicators["部门"]) <= set(year.projects["部门"]) and SEED_UNIT not in set(year.projects["部门"])


def test_grades_by_department_in_the_rules_order_with_totals(year):
    grades = year.grades().set_index("部门")
    assert list(grades.columns) == ["优", "项目数"]
    assert grades.loc[SECOND_UNIT, "优"] == 2 and grades.loc[SEED_UNIT, "项目数"] == 1 and grades.loc["合计", "项目数"] == 3
    assert all(is_integer_dtype(grades[c]) for c in grades.columns)


def test_execution_bands_and_the_projects_under_90_percent(year):
    bands = year.execution().set_index("执行率")["项目数"]
    assert (bands["100%"], bands["80%—90%"], bands.sum()) == (2, 1, 3)
    under = year.under(90)
    assert list(under["项目"]) == ["数字乡村调查专项"] and under["执行率"].tolist() == [80.0]


def test_the_indicators_that_lost_most_points(year):
    lost = year.lost_points(10)
    assert len(lost) == 6 and set(lost["扣分"]) == {2.0}
    by_category = year.lost_by_category().set_index("二级指标")
    assert by_category.loc["质量指标", "扣分"] == 6.0 and by_category.loc["质量指标", "涉及项目"] == 3


def test_findings_by_check_code(two_departments):
    path = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("weight: 15\n    score: 15", "weight: 15\n    score: 3", 1),
                    encoding="utf-8")
    findings = YearOverview.load(two_departments).findings_by_code().set_index("代码")
    assert findings.loc["MET-BUT-DEDUCTED", "个数"] == 1 and findings.loc["MET-BUT-DEDUCTED", "级别"] == "错误"
    [spec] = [c for c in CHECKS if c.code == "MET-BUT-DEDUCTED"]
    assert findings.loc["MET-BUT-DEDUCTED", "检查内容"] == spec.description


def test_lowest_scores_first(year):
    assert year.lowest(2)["项目"].tolist() == ["数字乡村调查专项", "公共资源交易平台运行维护费"]


def test_each_department_against_its_project_spending(year):
    departments = year.departments.set_index("部门")
    assert departments.loc[SECOND_UNIT, "项目支出"] == 210.0
    assert departments.loc[SECOND_UNIT, "已自评项目全年预算数"] == pytest.approx(206.62)
    assert departments.loc[SEED_UNIT, "差额"] == pytest.approx(65.10)
    assert is_float_dtype(departments["覆盖率"])


def test_the_projects_a_department_lists_without_a_self_evaluation_are_counted(two_departments):
    department = two_departments / "xiangxi-ggzy" / "_department.yaml"
    department.write_text(department.read_text(encoding="utf-8")
                          + "other_projects:\n  - {name: 专家库运维, annual: 40.10, executed: 38}\n", encoding="utf-8")
    seed = YearOverview.load(two_departments).departments.set_index("部门").loc[SEED_UNIT]
    assert (seed["其他项目全年预算数"], seed["差额"]) == (pytest.approx(40.10), pytest.approx(25.00))


class TestAReviewersDocument:
    def test_each_table_caption_keeps_with_its_table(self, year):
        part = year.table(year.under(90), "执行率低于 90% 的项目")
        caption, grid = part.children
        assert plain_text(caption) == "执行率低于 90% 的项目" and isinstance(grid, Table)
        assert set(caption.style.split()) == {"table-caption", "keep-next"}  # a page never ends on it
        assert 'class="table-caption keep-next"' in html(part)

    def test_the_stylesheet_keeps_captions_with_what_they_caption(self):
        css = (ROOT / "src" / "evaltools" / "templates" / "evaltools_report" / "report.css").read_text(encoding="utf-8")
        assert re.search(r"p\.keep-next\s*\{[^}]*break-after:\s*avoid", css)
        assert re.search(r"figure\.chart\s*\{[^}]*break-inside:\s*avoid", css)  # a chart with its caption below

    @pytest.mark.parametrize("figure", ["grades", "execution", "departments", "projects"])
    def test_no_chart_label_is_cut(self, year, figure):
        long_name = "湘西土家族苗族自治州公共资源交易中心政府采购分中心"
        if figure == "grades":
            drawn, _ = grades_by_department_figure({long_name: {"优": 2}, "短名": {"良": 1}})
        elif figure == "execution":
            drawn, _ = execution_figure({long_name: (80.0, "80%"), "短名": (100.0, "100%")})
        elif figure == "departments":
            drawn, _ = department_spending_figure({long_name: (210.0, 206.62, "210.00", "206.62")})
        else:
            line = ProjectLine(ROOT, long_name, total=Decimal("95"), grade="优")
            drawn, _ = projects_figure([line], year.rules)
        labels = [label.get_text() for label in drawn.axes[0].get_yticklabels()]
        assert long_name in [label.replace("\n", "") for label in labels]  # whole, in lines
        assert all(len(line) <= 12 for label in labels for line in label.split("\n"))

    def test_the_rendered_overview_speaks_a_reviewers_language(self, two_departments, tmp_path):
        shutil.copytree(ROOT / "notebooks", two_departments.parent.parent / "notebooks")
        html = run_overview(two_departments, tmp_path, ["html"]).files["html"].read_text(encoding="utf-8")
        body = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html.split("<body", 1)[1], flags=re.S)
        shown = re.sub(r"<[^>]+>", "", body)  # what the page shows (an image's alt text included below)
        shown += " ".join(re.findall(r'alt="([^"]*)"', body))
        for words in ("evaltools", "_department", ".yaml", "参数文件", "文件夹"):
            assert words not in shown, words
        assert "各部门项目支出与其项目的全年预算数" in shown and "一致性检查" in shown


def test_shown_as_the_reports_show_numbers(year):
    assert (year.show("全年预算数", 106.62), year.show("执行率", 80.0), year.show("总分", 95.3333333)) == (
        "106.62", "80%", "95.33")
    assert year.show("上年总分", float("nan")) == "—"
    assert 'class="grid"' in html(year.table(year.under(90))) and "数字乡村调查专项" in year.table(year.under(90))


def test_the_next_year_overview_shows_last_year_beside_this_year(two_departments, tmp_path):
    """Rendered as batch renders it (papermill, then HTML and PDF), on the next year."""
    shutil.copytree(ROOT / "notebooks", two_departments.parent.parent / "notebooks")
    target = new_year(two_departments, two_departments.parent / "2025").target
    for new_file in find_project_files([target]):
        fill_in(new_file, two_departments / new_file.relative_to(target))
    changes = YearOverview.load(target).year_over_year()
    assert len(changes) == 3 and changes["总分变化"].tolist() == [0.0, 0.0, 0.0]
    outputs = run_overview(target, tmp_path, ["html", "pdf", "docx"])
    document = docx.Document(str(outputs.files["docx"]))
    assert "2025年度预算绩效自评总览" in [paragraph.text for paragraph in document.paragraphs]
    assert any("数字乡村调查专项" in cell.text for t in document.tables for row in t.rows for cell in row.cells)
    html = outputs.files["html"].read_text(encoding="utf-8")
    assert "2025年度预算绩效自评总览" in html and "与上年对比" in html and "上年总分" in html
    assert "<title>2025年度预算绩效自评总览</title>" in html
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(outputs.files["pdf"]), "-"], capture_output=True, text=True,
                              check=True).stdout
        text = re.sub(r"\s+", "", text)  # table cells wrap inside words
        assert "2025年度预算绩效自评总览" in text and "数字乡村调查专项" in text and "与上年对比" in text


def test_a_large_year_charts_its_lowest_execution_rates_not_every_project(year):
    """A bar per project of a thousand-project year is unreadable and an image of 50,000 pixels:
    past 30 projects the chart shows the lowest 30 (the table lists every project under 90 %)."""
    import dataclasses

    import pandas as pd

    many = pd.DataFrame({"项目": [f"项目{i:02d}" for i in range(45)], "部门": ["甲"] * 45,
                         "执行率": [50.0 + i for i in range(45)]})
    chart = dataclasses.replace(year, projects=many).execution_chart(90)
    assert chart.caption == "执行率最低的30个项目（共45个；红色：低于90%）"
    assert "项目29" in chart.alt and "项目30" not in chart.alt
    assert year.execution_chart(90).caption == "各项目预算执行率（红色：低于90%）"  # a small year: every project


class TestReadAhead:
    """The year read as the overview's kernel starts (before the batch sends its job), taken by
    the notebook's load only where the job's copy of the year is in the same state."""

    @pytest.fixture(autouse=True)
    def nothing_read_ahead(self, monkeypatch):
        monkeypatch.setattr(overview, "_ahead", {})

    @pytest.fixture
    def job(self, two_departments, tmp_path):
        """A batch job's copy of the workspace, with the rows cache the batch sends."""
        workspace = two_departments.parents[1]
        rows = tmp_path / "outputs-rows.json"
        read_year(two_departments, cache=RowCache(rows))
        copy = tmp_path / "job"
        shutil.copytree(workspace, copy)
        (copy / ".evaltools").mkdir()
        shutil.copy(rows, copy / ".evaltools" / "overview-rows.json")
        return two_departments, rows, copy / two_departments.relative_to(workspace), copy / ".evaltools" / "overview-rows.json"

    def test_the_copy_of_a_year_read_ahead_is_not_read_again_and_reads_the_same(self, job, monkeypatch):
        year, rows, copy, copied_rows = job
        changed = next(p for p in sorted(copy.rglob("*.yaml")) if "score: 13" in p.read_text(encoding="utf-8"))
        for folder in (year / changed.relative_to(copy), changed):  # one change, made before the batch
            folder.write_text(folder.read_text(encoding="utf-8").replace("score: 13", "score: 12", 1), encoding="utf-8")
        read_ahead(year, rows)
        assert rows.read_bytes() == copied_rows.read_bytes()  # nothing written where it read
        monkeypatch.setattr(overview, "_read", lambda *a, **k: pytest.fail("the year was read again"))
        taken = YearOverview.load(copy, copied_rows)
        monkeypatch.undo()
        afresh_rows = copied_rows.with_name("afresh.json")
        shutil.copy(rows, afresh_rows)
        afresh = YearOverview.load(copy, afresh_rows)
        for table in ("projects", "indicators", "findings", "departments"):
            pd.testing.assert_frame_equal(getattr(taken, table), getattr(afresh, table))
        assert copied_rows.read_bytes() == afresh_rows.read_bytes()  # the changed project's rows kept for next time
        assert overview._ahead == {}  # taken once

    def test_a_year_changed_after_it_was_read_ahead_is_read_again(self, job):
        year, rows, copy, copied_rows = job
        read_ahead(year, rows)
        changed = next(p for p in sorted(copy.rglob("*.yaml")) if "score: 13" in p.read_text(encoding="utf-8"))
        changed.write_text(changed.read_text(encoding="utf-8").replace("score: 13", "score: 12", 1), encoding="utf-8")
        taken = YearOverview.load(copy, copied_rows)
        assert taken.projects["总分"].tolist() == YearOverview.load(copy).projects["总分"].tolist()
        assert taken.projects["总分"].tolist() != YearOverview.load(year).projects["总分"].tolist()

    def test_a_year_that_says_anything_as_it_is_read_is_not_kept_ahead(self, job):
        """The notebook's own reading says it, in the report (a project that cannot be read)."""
        year, rows, copy, copied_rows = job
        broken = year / next(p for p in sorted(year.rglob("*.yaml")) if not p.name.startswith("_")).relative_to(year)
        broken.write_text("project: [", encoding="utf-8")
        read_ahead(year, rows)
        assert overview._ahead == {}

    def test_a_year_with_many_projects_to_compute_is_not_read_ahead(self, job, monkeypatch):
        year, _, _, _ = job
        monkeypatch.setattr(overview, "AHEAD_MOST", 1)
        read_ahead(year, None)  # no rows kept: every project to compute
        assert overview._ahead == {}

    def test_the_kernel_started_before_the_batch_plans_reads_the_year(self, job):
        from evaltools.run.kernels import warm_arguments

        year, rows, _, _ = job
        lines = [a.split("=", 1)[1] for a in warm_arguments(overview=True, ahead=(year, rows)) if "exec_lines" in a]
        try:
            exec(lines[-1], {})  # as the kernel runs it, as it starts (and freezes what it read)
        finally:
            gc.unfreeze()  # this process is the tests', not a kernel
        assert list(overview._ahead) == [year.name]
        assert not any("read_ahead" in a for a in warm_arguments(overview=True))
