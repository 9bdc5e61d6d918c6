"""The year as DataFrames: one row per project or per indicator, numeric columns numeric, and
`evaltools table` writing them as CSV, Excel or Parquet."""

import warnings

import openpyxl
import pandas as pd
import pytest
from pandas.api.types import is_float_dtype, is_integer_dtype, is_numeric_dtype, is_string_dtype

from evaltools import read_indicators, read_projects
from evaltools.cli import main
from evaltools.domain.frames import _frame, read_findings

from conftest import SECOND_DEPARTMENT, SECOND_UNIT


def test_one_row_per_project_of_every_department(two_departments):
    projects = read_projects(two_departments)
    assert len(projects) == 3
    assert set(projects["部门"]) == {SECOND_UNIT, "湘西土家族苗族自治州公共资源交易中心"}
    survey = projects.set_index("项目").loc["数字乡村调查专项"]
    assert (survey["全年预算数"], survey["全年执行数"], survey["执行率"]) == (100.0, 80.0, 80.0)
    assert (survey["预算执行率得分"], survey["总分"], survey["等级"]) == (8.0, 94.0, "优")
    assert survey["产出指标得分"] + survey["效益指标得分"] + survey["满意度指标得分"] + survey["预算执行率得分"] == 94.0


def test_project_columns_are_numeric_where_the_data_is(two_departments):
    projects = read_projects(two_departments)
    for column in ("全年预算数", "全年执行数", "执行率", "总分", "预算执行率得分", "产出指标得分", "效益指标得分",
                   "满意度指标得分", "上年总分", "上年执行率"):
        assert is_float_dtype(projects[column]), column
    for column in ("年度", "错误", "提示"):
        assert is_integer_dtype(projects[column]), column
    for column in ("部门", "项目", "资金类型", "等级"):
        assert is_string_dtype(projects[column]), column
    assert projects["全年预算数"].sum() == pytest.approx(313.24)


def test_a_department_folder_or_files_give_just_theirs(two_departments):
    department = two_departments / SECOND_DEPARTMENT
    assert list(read_projects(department)["项目"]) == ["政务数据共享平台运行费", "数字乡村调查专项"]
    assert list(read_projects([department / "data-survey.yaml"])["项目"]) == ["数字乡村调查专项"]


def test_findings_are_counted_by_severity_and_listed_by_code(two_departments):
    path = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("weight: 15\n    score: 15", "weight: 15\n    score: 3", 1),
                    encoding="utf-8")
    projects = read_projects(two_departments).set_index("项目")
    assert projects.loc["数字乡村调查专项", "错误"] >= 1 and projects.loc["政务数据共享平台运行费", "错误"] == 0
    findings = read_findings(two_departments)
    assert set(findings["项目"]) == {"数字乡村调查专项"} and "MET-BUT-DEDUCTED" in set(findings["代码"])
    assert is_integer_dtype(findings["行"])


def test_findings_without_a_line_keep_the_line_column_integer():
    findings = _frame([{"代码": "A", "行": 10}, {"代码": "B", "行": None}], ["代码", "行"])
    assert is_integer_dtype(findings["行"]) and findings["行"].tolist()[0] == 10 and findings["行"].isna().tolist()[1]


def test_an_unreadable_project_is_left_out_with_a_warning(two_departments):
    (two_departments / SECOND_DEPARTMENT / "broken.yaml").write_text("project: [\n", encoding="utf-8")
    with pytest.warns(UserWarning, match="broken.yaml"):
        projects = read_projects(two_departments)
    assert len(projects) == 3


def test_one_row_per_indicator_named_as_the_form_names_them(two_departments):
    indicators = read_indicators(two_departments)
    assert len(indicators) == 21
    assert {"一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"} <= set(indicators)
    for column in ("分值", "得分", "扣分", "实际完成值（数值）"):
        assert is_float_dtype(indicators[column]), column
    quality = indicators[indicators["三级指标"] == "切实保障公共资源交易平台运行稳定"]
    assert list(quality["扣分"]) == [2.0, 2.0, 2.0]
    assert indicators.groupby("项目")["得分"].sum().to_dict() == {
        "公共资源交易平台运行维护费": 86.0, "政务数据共享平台运行费": 86.0, "数字乡村调查专项": 86.0}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_table_writes_the_format_its_suffix_names(two_departments, tmp_path, suffix, capsys):
    output = tmp_path / f"2024{suffix}"
    assert main(["table", str(two_departments), "-o", str(output)]) == 0
    frame = {".csv": lambda p: pd.read_csv(p, encoding="utf-8-sig"), ".xlsx": pd.read_excel,
             ".parquet": pd.read_parquet}[suffix](output)
    assert len(frame) == 3 and frame["总分"].tolist() == [96.0, 94.0, 96.0]
    assert is_numeric_dtype(frame["执行率"]) and "3 个项目" in capsys.readouterr().out  # Excel: 100 reads back as int


def test_table_of_indicators_and_no_overwrite_without_force(two_departments, tmp_path, capsys):
    output = tmp_path / "indicators.parquet"
    assert main(["table", str(two_departments), "--indicators", "-o", str(output)]) == 0
    written = pd.read_parquet(output)
    assert len(written) == 21 and is_float_dtype(written["得分"])
    assert main(["table", str(two_departments), "-o", str(output)]) == 1
    assert "--force" in capsys.readouterr().err
    assert len(pd.read_parquet(output)) == 21


def test_table_refuses_an_unknown_suffix(two_departments, tmp_path, capsys):
    assert main(["table", str(two_departments), "-o", str(tmp_path / "x.json")]) == 2
    assert ".parquet" in capsys.readouterr().err


def test_xlsx_text_never_becomes_a_formula(two_departments, tmp_path):
    path = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("name: 数字乡村调查专项", 'name: "=HYPERLINK(\\"http://x\\",\\"点\\")"'), encoding="utf-8")
    output = tmp_path / "t.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["table", str(two_departments), "-o", str(output)]) == 0
    sheet = openpyxl.load_workbook(output).active
    cells = [cell for row in sheet.iter_rows() for cell in row if str(cell.value).startswith("=")]
    assert cells and all(cell.data_type == "s" for cell in cells)


def test_table_names_an_unreadable_file_writes_the_others_and_exits_one(two_departments, tmp_path, capsys):
    (two_departments / SECOND_DEPARTMENT / "broken.yaml").write_text("project: [\n", encoding="utf-8")
    output = tmp_path / "t.csv"
    assert main(["table", str(two_departments), "-o", str(output)]) == 1
    assert "broken.yaml" in capsys.readouterr().err
    assert len(pd.read_csv(output, encoding="utf-8-sig")) == 3


def test_a_row_cache_reuses_unchanged_projects_and_loads_the_changed_one(two_departments, tmp_path, monkeypatch):
    """The overview's rows are kept by the contents of each project's files: read again, only
    the project whose file changed is loaded; the tables are the same as read afresh."""
    import evaltools.domain.frames
    from evaltools.domain.frames import RowCache, read_year

    cache = tmp_path / "rows.json"
    first = read_year(two_departments, cache=RowCache(cache))
    loaded = []
    real_load = evaltools.domain.frames.load_project
    monkeypatch.setattr(evaltools.domain.frames, "load_project", lambda path, *a: loaded.append(path.name) or real_load(path, *a))
    again = read_year(two_departments, cache=RowCache(cache))
    assert loaded == []
    for cached, fresh in zip(again, first, strict=True):
        pd.testing.assert_frame_equal(cached, fresh)

    changed = [p for p in two_departments.rglob("*.yaml") if "score: 13" in p.read_text(encoding="utf-8")][0]
    changed.write_text(changed.read_text(encoding="utf-8").replace("score: 13", "score: 12", 1), encoding="utf-8")
    projects = read_year(two_departments, cache=RowCache(cache))[0]
    assert loaded == [changed.name]
    pd.testing.assert_frame_equal(projects, read_year(two_departments)[0])


@pytest.mark.parametrize("edited", ["department", "rules", "last_year"])
def test_a_row_cache_loads_again_each_project_whose_shared_or_last_years_files_changed(two_departments, tmp_path, edited,
                                                                                       monkeypatch):
    """What a department's projects share (its file, the rules) and a project's last year are
    among what its rows are kept by, though each is read once for all the projects."""
    import shutil

    import evaltools.domain.frames
    from evaltools.domain.frames import RowCache, read_year

    project = sorted(two_departments.rglob("*.yaml"))
    project = next(p for p in project if p.name not in ("_department.yaml", "_rules.yaml"))
    last = two_departments.parent / "2023" / project.parent.name / project.name
    last.parent.mkdir(parents=True)
    shutil.copy(project, last)
    shutil.copy(project.parent / "_department.yaml", last.parent / "_department.yaml")
    cache = tmp_path / "rows.json"
    read_year(two_departments, cache=RowCache(cache))
    loaded = []
    real_load = evaltools.domain.frames.load_project
    monkeypatch.setattr(evaltools.domain.frames, "load_project", lambda path, *a: loaded.append(path) or real_load(path, *a))
    target = {"department": project.parent / "_department.yaml", "rules": two_departments / "_rules.yaml",
              "last_year": last}[edited]
    target.write_text(target.read_text(encoding="utf-8") if target.is_file() else "", encoding="utf-8")
    read_year(two_departments, cache=RowCache(cache))
    assert loaded == []  # the same contents: nothing loaded again
    target.write_text((target.read_text(encoding="utf-8") if target.is_file() else "") + "\n# edited\n", encoding="utf-8")
    read_year(two_departments, cache=RowCache(cache))
    expected = {"department": set(project.parent.glob("[!_]*.yaml")), "rules": set(two_departments.rglob("[!_]*.yaml")),
                "last_year": {project}}[edited]
    assert set(loaded) == expected


def test_a_row_cache_of_other_contents_or_another_evaltools_is_not_used(two_departments, tmp_path):
    from evaltools.domain.frames import RowCache

    cache = tmp_path / "rows.json"
    cache.write_text('{"code": "another evaltools", "projects": {"params/2024/x.yaml": {"key": "k", "rows": {}}}}',
                     encoding="utf-8")
    assert RowCache(cache).kept == {}
    cache.write_text("not json", encoding="utf-8")
    assert RowCache(cache).kept == {}


def test_a_years_state_is_that_of_its_contents_wherever_the_folder_lies(two_departments, tmp_path):
    """A copy of the workspace (a batch job's) is in the same state; an edit to a project, a
    department's file or the year's rules, or a project added, is another state."""
    import shutil

    from evaltools.domain.fingerprints import Known
    from evaltools.domain.frames import year_state

    workspace = two_departments.parents[1]
    copy = tmp_path / "job"
    shutil.copytree(workspace, copy)
    year = copy / two_departments.relative_to(workspace)
    state, files = year_state(two_departments, Known())
    assert year_state(year, Known())[0] == state and len(files) == len(state[1]) > 1
    project = next(p for p in sorted(year.rglob("*.yaml")) if not p.name.startswith("_"))
    for edited in (project, project.parent / "_department.yaml", year / "_rules.yaml"):
        before = edited.read_text(encoding="utf-8") if edited.is_file() else None
        edited.write_text((before or "") + "\n# edited\n", encoding="utf-8")
        assert year_state(year, Known())[0] != state, edited.name
        edited.write_text(before, encoding="utf-8") if before is not None else edited.unlink()
    assert year_state(year, Known())[0] == state
    shutil.copy(project, project.with_name("added.yaml"))
    assert year_state(year, Known())[0] != state


def test_a_reading_of_a_year_fingerprints_each_project_once(two_departments, monkeypatch):
    """The state of the year and its rows ask for each project's fingerprint: one reading (one
    Known) computes it once; another reading computes it again, from the files as they are."""
    from evaltools.domain import fingerprints
    from evaltools.domain.fingerprints import Known, sources_fingerprint
    from evaltools.domain.frames import year_state

    computed: list = []
    project_sources = fingerprints.project_sources
    monkeypatch.setattr(fingerprints, "project_sources", lambda *args: computed.append(args[0]) or project_sources(*args))
    known = Known()
    _, files = year_state(two_departments, known)
    assert [sources_fingerprint(file, (), known) for file in files] == [sources_fingerprint(file) for file in files]
    assert len(computed) == 2 * len(files) and len(set(computed)) == len(files)
