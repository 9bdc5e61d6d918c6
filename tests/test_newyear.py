"""`evaltools new-year`: the next year carried forward from this one, cleared where it must be
filled anew, never written over; and last year beside this year once it is filled."""

import shutil

import pytest

from evaltools.run.batch import BatchSettings, plan
from evaltools.run.kinds import summary as _summary
from evaltools.run.build import run
from evaltools.domain.checks import check_department, check_project
from evaltools.document.department_report import DepartmentReport
from evaltools.cli import main
from evaltools.domain.frames import read_projects
from evaltools.run.index import build_index
from evaltools.newyear import new_year
from evaltools.document.project_report import ProjectReport
from evaltools.domain.rollup import load_department
from evaltools.domain.workspace import find_project_files, load_project
from evaltools.domain.yamlio import ParamsError, dump_yaml, read_yaml

from conftest import SECOND_DEPARTMENT


def write_yaml(path, data) -> None:
    path.write_text(dump_yaml(data), encoding="utf-8")


def fill_in(new_file, old_file) -> None:
    """What an analyst types in for the new year: here, last year's actuals, scores, texts and attachments."""
    old, new = read_yaml(old_file).data, read_yaml(new_file).data
    new["budget"] = old["budget"]
    new["spending"] = old.get("spending", [])
    new["goals"]["achieved"] = old["goals"]["achieved"]
    for key in ("summary", "narrative"):
        if key in old:
            new[key] = old[key]
    if (old_file.parent / "attachments").is_dir() and not (new_file.parent / "attachments").exists():
        shutil.copytree(old_file.parent / "attachments", new_file.parent / "attachments")
    for before, after in zip(old["indicators"], new["indicators"], strict=True):
        for key in ("actual", "actual_value", "score", "deviation"):
            if key in before:
                after[key] = before[key]
    write_yaml(new_file, new)


@pytest.fixture
def next_year(two_departments):
    result = new_year(two_departments, two_departments.parent / "2025")
    return result


def test_the_next_year_is_carried_and_cleared(next_year):
    target = next_year.target
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*.yaml")) == [
        "_rules.yaml", f"{SECOND_DEPARTMENT}/_department.yaml", f"{SECOND_DEPARTMENT}/_rules.yaml",
        f"{SECOND_DEPARTMENT}/data-platform.yaml", f"{SECOND_DEPARTMENT}/data-survey.yaml",
        "xiangxi-ggzy/_department.yaml", "xiangxi-ggzy/platform-maintenance.yaml"]
    project = load_project(target / "xiangxi-ggzy" / "platform-maintenance.yaml")
    params = project.params
    assert params.year == 2025 and params.project.name == "公共资源交易平台运行维护费"
    assert (str(params.project.period.start), str(params.project.period.end)) == ("2025年1月", "2025年12月")
    assert [i.target for i in params.indicators] == ["≥95%", "定性", "2025年度", "106.62万元", "定性", "定性", "≥95%"]
    assert all(i.actual == "" and i.actual_value is None and i.score is None for i in params.indicators)
    assert params.budget.computed_total.annual is None and params.spending == [] and params.narrative.conclusion == "……"
    assert params.evaluation.signoff.team_leader.date is None and params.evaluation.report_date is None
    assert params.evaluation.team and params.project.department == "湘西土家族苗族自治州公共资源交易中心"
    [report] = [f for f in next_year.files if f.target.name == "platform-maintenance.yaml"]
    assert "7 个绩效指标（名称、指标值、分值）" in report.carried and "支出明细" in report.cleared


def test_what_is_to_fill_is_what_check_reports(next_year):
    project = load_project(next_year.target / SECOND_DEPARTMENT / "data-survey.yaml")
    codes = {f.code for f in check_project(project)}
    assert {"BLANK-CELL", "SCORE-MISSING", "TEMPLATE-TEXT"} <= codes  # actuals, scores, 实际完成情况


def test_round_trip_checks_clean_once_the_actuals_are_filled(two_departments, next_year):
    for new_file in find_project_files([next_year.target]):
        fill_in(new_file, two_departments / new_file.relative_to(next_year.target))
    for new_file in find_project_files([next_year.target]):
        assert [f for f in check_project(load_project(new_file)) if f.severity == "error"] == [], new_file
    for folder in ("xiangxi-ggzy", SECOND_DEPARTMENT):
        department = load_department(next_year.target / folder / "_department.yaml")
        assert department.year == 2025
        assert [f for f in check_department(department) if f.severity == "error"] == []


def test_last_year_shows_beside_this_year(two_departments, next_year):
    for new_file in find_project_files([next_year.target]):
        fill_in(new_file, two_departments / new_file.relative_to(next_year.target))
    projects = read_projects(next_year.target).set_index("项目")
    survey = projects.loc["数字乡村调查专项"]
    assert (survey["上年总分"], survey["上年等级"], survey["上年执行率"]) == (94.0, "优", 80.0)
    assert projects["上年总分"].notna().all()
    assert read_projects(two_departments)["上年总分"].isna().all()  # 2023 has no files


def test_a_target_changed_silently_is_flagged_and_an_explained_one_is_not(two_departments, next_year):
    path = next_year.target / "xiangxi-ggzy" / "platform-maintenance.yaml"
    fill_in(path, two_departments / "xiangxi-ggzy" / "platform-maintenance.yaml")
    data = read_yaml(path).data
    data["indicators"][0]["target"] = "≥98%"
    write_yaml(path, data)
    [finding] = [f for f in check_project(load_project(path)) if f.code == "TARGET-CHANGED"]
    assert finding.severity == "warning" and finding.field == "indicators[0].target" and finding.line
    assert "“≥95%”改为“≥98%”" in finding.message
    data["indicators"][0]["deviation"] = "上年指标值≥95%已连续达成，今年提高到≥98%"
    write_yaml(path, data)
    assert "TARGET-CHANGED" not in {f.code for f in check_project(load_project(path))}


def test_an_existing_year_is_never_written_into(two_departments, next_year):
    before = {p: p.read_bytes() for p in next_year.target.rglob("*") if p.is_file()}
    with pytest.raises(ParamsError, match="不覆盖"):
        new_year(two_departments, next_year.target)
    assert {p: p.read_bytes() for p in next_year.target.rglob("*") if p.is_file()} == before


def test_the_command_reports_what_it_carried_and_cleared(two_departments, capsys):
    target = two_departments.parent / "2025"
    assert main(["new-year", str(two_departments), str(target)]) == 0
    out = capsys.readouterr().out
    assert "结转：" in out and "已清空、待填写" in out and "evaltools check" in out
    assert main(["new-year", str(two_departments), str(target)]) == 1
    assert "不覆盖" in capsys.readouterr().err


def test_a_folder_that_is_no_year_is_refused(two_departments, tmp_path):
    with pytest.raises(ParamsError, match="年度文件夹"):
        new_year(two_departments, tmp_path / "next")


def test_the_index_shows_last_year_beside_this_year(two_departments, next_year, tmp_path):
    path = next_year.target / "xiangxi-ggzy" / "platform-maintenance.yaml"
    fill_in(path, two_departments / "xiangxi-ggzy" / "platform-maintenance.yaml")
    summary = _summary(load_project(path))
    assert (summary["previous_total"], summary["previous_grade"], summary["previous_rate"]) == (96.0, "优", 100.0)
    assert summary["shown"]["previous"] == "96（优）· 100%"  # as the reports show last year
    entry = {**summary, "status": "done", "message": "", "folder": tmp_path}
    assert "96（优）· 100%" in build_index("2025", [entry], tmp_path)  # as the reports show it
    assert "previous_total" not in _summary(load_project(two_departments / "xiangxi-ggzy" / "platform-maintenance.yaml"))


def test_the_next_years_report_shows_last_year_beside_this_year(two_departments, next_year, tmp_path):
    path = next_year.target / SECOND_DEPARTMENT / "data-survey.yaml"
    fill_in(path, two_departments / SECOND_DEPARTMENT / "data-survey.yaml")
    conclusion = str(ProjectReport.load(path).conclusion())
    assert "与上年相比：2024年度总分94分、等级优，本年度94分、等级优。" in conclusion
    assert "上年（2024年度）" in conclusion and "80%" in conclusion
    assert "与上年相比" not in str(ProjectReport.load(two_departments / SECOND_DEPARTMENT / "data-survey.yaml").conclusion())
    html = run(path, ["html"], out_root=tmp_path).files["html"].read_text(encoding="utf-8")
    assert "上年（2024年度）" in html and "与上年相比" in html


def test_a_change_of_last_years_figures_makes_the_report_again(two_departments, next_year):
    path = next_year.target / "xiangxi-ggzy" / "platform-maintenance.yaml"
    old = two_departments / "xiangxi-ggzy" / "platform-maintenance.yaml"
    fill_in(path, old)
    def key() -> str:
        jobs, _ = plan(BatchSettings(formats=("html",), force=True), [path])
        return jobs[0].key

    before = key()
    old.write_text(old.read_text(encoding="utf-8").replace("    score: 13\n", "    score: 12\n", 1), encoding="utf-8")
    assert key() != before


def test_the_next_years_department_report_lists_last_years_scores(two_departments, next_year):
    for new_file in find_project_files([next_year.target / SECOND_DEPARTMENT]):
        fill_in(new_file, two_departments / new_file.relative_to(next_year.target))
    projects = str(DepartmentReport.load(next_year.target / SECOND_DEPARTMENT / "_department.yaml").projects())
    assert "上年总分（等级）" in projects and "94（优）" in projects and "96（优）" in projects
    assert "上年总分" not in str(DepartmentReport.load(two_departments / SECOND_DEPARTMENT / "_department.yaml").projects())


def _has_key(data, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def test_comments_key_order_and_the_way_values_are_written_are_kept(two_departments, next_year):
    """The bundled file's header of corrections, its inline comments, anchors and flow maps survive."""
    old = (two_departments / "xiangxi-ggzy" / "platform-maintenance.yaml").read_text(encoding="utf-8")
    new = (next_year.target / "xiangxi-ggzy" / "platform-maintenance.yaml").read_text(encoding="utf-8")
    header = old[:old.index("\nproject:")]
    assert header.strip() and header.strip() in new  # every comment line of the header, in order
    assert "budget:  # 万元" in new and "period: {start: 2025-01, end: 2025-12}" in new
    department = (next_year.target / "xiangxi-ggzy" / "_department.yaml").read_text(encoding="utf-8")
    assert "    team: &team  # 附件1-1: 预算绩效自评工作领导小组\n" in department
    old_keys = list(read_yaml(two_departments / "xiangxi-ggzy" / "_department.yaml").data)
    new_keys = list(read_yaml(next_year.target / "xiangxi-ggzy" / "_department.yaml").data)
    assert new_keys == [key for key in old_keys if key in new_keys]  # what stays keeps its order


def test_what_is_cleared_is_named_by_key_paths_that_exist(next_year):
    named = [entry for file in next_year.files for entry in file.cleared if entry.isascii() and "." in entry]
    assert "defaults.evaluation.signoff.team_leader.date" in named
    assert "defaults.evaluation.team_leader.date" not in named
    for file in next_year.files:
        data = read_yaml(file.target).data
        for entry in file.cleared:
            if entry.isascii() and "." in entry and not entry.startswith("unit."):  # unit.* are removed
                assert _has_key(data, entry), (file.target, entry)


def test_check_on_a_fresh_year_lists_every_field_to_fill_in_one_finding_per_file(next_year, capsys):
    main(["check", str(next_year.target)])
    out = capsys.readouterr().out
    project = next_year.target / "xiangxi-ggzy" / "platform-maintenance.yaml"
    [finding] = [f for f in check_project(load_project(project)) if f.code == "TO-FILL"]
    assert finding.severity == "error" and finding.file == project and finding.line
    for group, field in (("预算", "budget.appropriation.annual"), ("日期", "evaluation.signoff.team_leader.date"),
                         ("实际完成值", "indicators[6].actual"), ("文字", "narrative.conclusion")):
        assert group in finding.message and field in finding.message
    assert "evaluation.report_date" in finding.message and "goals.achieved" in finding.message
    assert out.count("[TO-FILL]") == len(find_project_files([next_year.target]))


def test_control_characters_pasted_from_word_are_carried_as_written_and_still_named(two_departments):
    project = two_departments / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = project.read_text(encoding="utf-8")
    assert "  leader: 董佳瑛" in text
    project.write_text(text.replace("  leader: 董佳瑛", "  leader: 董佳瑛\x0b", 1), encoding="utf-8")
    result = new_year(two_departments, two_departments.parent / "2025")
    carried = result.target / "xiangxi-ggzy" / "platform-maintenance.yaml"
    assert "  leader: 董佳瑛\x0b\n" in carried.read_text(encoding="utf-8")  # the analyst's file, as it was
    found = [f for f in check_project(load_project(carried)) if f.code == "CONTROL-CHAR"]
    assert [f.field for f in found] == ["project.leader"] and found[0].line
