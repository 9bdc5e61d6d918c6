"""The department-wide report: the seed's department, computed totals, gaps shown as "—"."""

import re
from decimal import Decimal

import pytest
import yaml

from evaltools.domain.checks import check_department
from evaltools.domain.department import ExpenditureRow, IncomeRow, ThreePublic, Unit, change_rate
from evaltools.domain.rollup import load_department
from evaltools.domain.yamlio import ParamsError
from evaltools.document.department_report import DepartmentReport
from evaltools.document.parts import REVIEW, AttachedPdf, Paragraph, Table, plain_text, walk
from evaltools.writers.html_parts import html

from conftest import SEED_DEPARTMENT, add_project
from printed import page_count, page_text

D = Decimal


def everything(report: DepartmentReport) -> str:
    return "".join(html(part) for part in [report.cover(), report.review(), report.basic(), report.finances(), report.performance_summary(),
                    report.team(), report.outline(), report.basic_data(), report.self_evaluation_form(),
                    report.provenance()])


@pytest.fixture(scope="module")
def seed_report() -> DepartmentReport:
    return DepartmentReport.load(SEED_DEPARTMENT / "_department.yaml")


class TestFigures:
    def test_control_rate_is_actual_over_staffing(self):
        assert Unit(name="x", staffing=45, actual_staff=43).control_rate.quantize(D("0.0001")) == D("0.9556")
        assert Unit(name="x", staffing=0, actual_staff=3).control_rate is None

    def test_basic_spending_is_personnel_plus_public_when_split(self):
        assert ExpenditureRow(institution="a", personnel=D(10), public=D(5), project=D(2)).total == D(17)
        assert ExpenditureRow(institution="a", basic=D("1333.32"), project=D("171.72")).total == D("1505.04")
        assert ExpenditureRow(institution="a").total is None  # unknown, not 0

    def test_income_and_three_public_totals(self):
        assert IncomeRow(institution="a", general_budget=D(100), other=D("0.5")).total == D("100.5")
        costs = ThreePublic(vehicle_purchase=D(20), vehicle_operation=D(3), reception=D(1))
        assert (costs.vehicles, costs.total) == (D(23), D(24))

    def test_change_rate(self):
        assert change_rate(D(10), D(8)) == D("-0.2")
        assert change_rate(None, D(8)) is None and change_rate(D(0), D(8)) is None


class TestSeedDepartment:
    def test_the_seeds_numbers(self, seed_report):
        html = everything(seed_report)
        assert "1505.04" in html and "1333.32" in html and "171.72" in html
        assert "编制人数45人，年末实有人数43人，控制率95.56%" in html
        assert '<td class="num">45</td>' in html and '<td class="num">43</td>' in html

    def test_spending_total_is_computed(self, seed_report):
        assert plain_text(seed_report.spending_sentence()).startswith("2024年度部门整体支出1505.04万元，其中一般公共预算支出1505.04万元")

    def test_what_the_seed_is_silent_on_shows_a_dash(self, seed_report):
        assert seed_report.params.income == [] and seed_report.params.three_public is None
        finances = html(seed_report.finances())
        assert finances.count("<td class=\"num\">—</td>") >= 10
        assert "评分：—" in seed_report.performance_summary()
        assert "<dd>—</dd>" in html(seed_report.cover())  # 预算编码

    def test_gaps_are_warnings_not_errors(self, seed_report):
        codes = {(f.code, f.severity) for f in seed_report.findings}
        assert ("DEPT-MISSING", "warning") in codes
        assert not [f for f in seed_report.findings if f.severity == "error"]

    def test_the_projects_table_matches_the_projects_own_scores(self, seed_report):
        [line] = seed_report.department.projects
        assert (line.name, line.annual, line.total, line.grade) == ("公共资源交易平台运行维护费", D("106.62"), D("96.00"), "优")
        table = html(seed_report.projects())
        assert "<td>公共资源交易平台运行维护费</td><td class=\"num\">106.62</td>" in table and "96.00" in table

    def test_the_project_total_mismatch_is_found(self, seed_report):
        [finding] = [f for f in seed_report.findings if f.code == "DEPT-PROJECTS-TOTAL"]
        assert "171.72" in finding.message and "106.62" in finding.message and "65.1" in finding.message

    def test_projects_over_the_departments_project_spending_are_said_so_not_a_negative_remainder(self, workspace):
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        department.write_text(department.read_text(encoding="utf-8").replace("project: 171.72", "project: 50"), encoding="utf-8")
        [finding] = [f for f in check_department(load_department(department)) if f.code == "DEPT-PROJECTS-TOTAL"]
        assert "超出 56.62 万元" in finding.message and "-" not in finding.message


def write_department(folder, data: dict):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "_department.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def codes(path) -> list[str]:
    return [f.code for f in check_department(load_department(path))]


class TestChecks:
    def test_a_department_with_almost_nothing_renders_and_warns(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "empty", {"year": 2024, "unit": {"name": "某局"}})
        report = DepartmentReport.load(path)
        html = everything(report)
        assert "某局" in html and "本年度无单独开展绩效自评的项目" in html and "—" in html
        assert "DEPT-MISSING" in codes(path) and "DEPT-PROJECTS-TOTAL" not in codes(path)

    def test_totals_rows_are_computed_per_column(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "two", {"year": 2024, "unit": {"name": "某局"}, "income": [
            {"institution": "局机关", "general_budget": 100, "other": 1},
            {"institution": "二级机构", "general_budget": 50.5, "carryover": 2}]})
        finances = html(DepartmentReport.load(path).finances())
        summary = finances.split("局机关及二级机构汇总")[1].split("</tr>")[0]
        assert ">153.50<" in summary and ">150.50<" in summary and ">2.00<" in summary and ">1.00<" in summary

    def test_basic_spending_that_contradicts_its_split_is_an_error(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"}, "expenditure": [
            {"institution": "局机关", "personnel": 10, "public": 5, "basic": 16}]})
        assert "DEPT-BASIC-SPLIT" in codes(path)

    def test_funds_by_income_and_by_spending_must_balance(self, tmp_path):
        funds = {"general_budget": {"annual": 100}, "basic": {"annual": 70}, "project": {"annual": 20}}
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"}, "funds": funds})
        assert "DEPT-FUNDS-BALANCE" in codes(path)
        funds["project"]["annual"] = 30
        write_department(path.parent, {"year": 2024, "unit": {"name": "某局"}, "funds": funds})
        assert "DEPT-FUNDS-BALANCE" not in codes(path)

    def test_more_staff_than_posts_is_a_warning(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d",
                                {"year": 2024, "unit": {"name": "某局", "staffing": 40, "actual_staff": 43}})
        assert "DEPT-STAFF" in codes(path)
        write_department(path.parent, {"year": 2024, "unit": {"name": "某局", "staffing": 43, "actual_staff": 43}})
        assert "DEPT-STAFF" not in codes(path)

    @pytest.mark.parametrize("data, field, named", [
        ({"three_public": {"final": {"reception": "0.004"}}}, "three_public.final.reception", "三公经费·本年决算数·公务接待费"),
        ({"income": [{"institution": "局机关", "general_budget": 100, "other": "0.002"}]}, "income[0].other",
         "年度收入情况·局机关·其他收入"),
        ({"funds": {"project": {"executed": "0.001"}}}, "funds.project.executed", "年度预算申请·项目支出·全年执行数"),
        ({"buildings": [{"name": "办公楼", "actual_investment": "0.0049"}]}, "buildings[0].actual_investment", "办公楼"),
    ])
    def test_an_amount_that_shows_as_zero_is_named_wherever_it_sits(self, tmp_path, data, field, named):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"}, **data})
        found = [f for f in check_department(load_department(path)) if f.code == "DEPT-SHOWN-AS-ZERO"]
        assert [f.field for f in found] == [field] and named in found[0].message and "0.00" in found[0].message

    def test_amounts_that_show_as_what_they_are_raise_nothing(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"},
                                                                     "three_public": {"final": {"reception": "0.005", "overseas": 0}}})
        assert "DEPT-SHOWN-AS-ZERO" not in codes(path)

    def test_an_image_from_the_network_in_the_narrative_is_an_error(self, tmp_path):
        narrative = {"basic": "见下图 ![](https://example.invalid/chart.png)"}
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"},
                                                                     "narrative": narrative})
        assert "DEPT-LINKED-IMAGE" in codes(path)
        narrative["basic"] = "见下图（略）"
        write_department(path.parent, {"year": 2024, "unit": {"name": "某局"}, "narrative": narrative})
        assert "DEPT-LINKED-IMAGE" not in codes(path)

    def test_figures_named_in_the_narrative_and_goals_are_filled_as_the_tables_show_them(self, tmp_path):
        data = {"year": 2024, "unit": {"name": "某局", "staffing": 40, "actual_staff": 38},
                "expenditure": [{"institution": "局机关", "personnel": "100.5", "public": 20, "project": "30.125"},
                                {"institution": "二级机构", "fund_type": "政府性基金预算", "project": 12}],
                "three_public": {"final": {"reception": "1.2", "overseas": 0}},
                "overall_goals": {"expected": "{{年度}}年保障{{实有人数}}人履职", "achieved": "支出{{年度支出}}万元"},
                "narrative": {"basic": "{{部门名称}}编制{{人员编制}}人；一般公共预算支出{{一般公共预算支出}}万元，"
                                       "其中基本支出{{基本支出}}万元、项目支出{{项目支出}}万元；"
                                       "政府性基金预算支出{{政府性基金预算支出}}万元；三公经费{{三公经费}}万元；"
                                       "得分{{总分}}。"}}
        path = write_department(tmp_path / "params" / "2024" / "d", data)
        report = DepartmentReport.load(path)
        text = everything(report)
        assert ("某局编制40人；一般公共预算支出150.63万元，其中基本支出120.50万元、项目支出30.13万元；"
                "政府性基金预算支出12.00万元；三公经费1.20万元；得分—。") in text
        assert "2024年保障38人履职" in text and "支出162.63万元" in html(report.self_evaluation_form())
        assert "{{" not in text
        assert not {"DEPT-FIGURE-NAME", "DEPT-PLACEHOLDER"} & set(codes(path))

    def test_a_name_the_department_report_does_not_know_is_an_error_naming_the_names_it_does(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"},
                                                                     "narrative": {"basic": "{{项目名称}}得分{{总分}}"}})
        [finding] = [f for f in check_department(load_department(path)) if f.code == "DEPT-FIGURE-NAME"]
        assert finding.severity == "error" and finding.loc == ("narrative", "basic")
        assert "{{项目名称}}" in finding.message and "部门名称" in finding.message and "{{总分}}" not in finding.message
        assert "{{项目名称}}" in everything(DepartmentReport.load(path))  # left visible, never dropped

    def test_a_name_in_a_text_the_report_does_not_fill_is_said_to_print_as_written(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d",
                                {"year": 2024, "unit": {"name": "某局", "functions": "负责{{年度}}年的{{等级}}评定"}})
        [finding] = [f for f in check_department(load_department(path)) if f.code == "DEPT-PLACEHOLDER"]
        assert "{{年度}}、{{等级}}" in finding.message and finding.loc == ("unit", "functions")

    @pytest.mark.parametrize("code, data, field", [
        ("DEPT-MALFORMED-NUMBER", {"narrative": {"basic": "整体支出1505.04.00万元。"}}, "narrative.basic"),
        ("DEPT-TEMPLATE-TEXT", {"unit": {"name": "某局", "functions": "负责××工作（此处填写职能）"}}, "unit.functions"),
        ("DEPT-TEMPLATE-TEXT", {"goals": [{"expected": "完成＿＿处", "achieved": "已完成"}]}, "goals[0].expected"),
        ("DEPT-UNIT-CONFLICT", {"narrative": {"basic": "费率由8‰降至5‰。", "performance": "费率由8%降至5%。"}},
         "narrative.performance"),
    ])
    def test_a_department_files_text_is_checked_as_a_projects_is(self, tmp_path, code, data, field):
        """The seed's own slips (106.62.00万元, 8% beside 8‰, template residue) in a department
        file: its report printed them and the checker said nothing."""
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"}, **data})
        assert [f.field for f in check_department(load_department(path)) if f.code == code] == [field]

    def test_a_department_files_good_text_raises_none_of_the_text_checks(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"}, "narrative": {
            "basic": "整体支出1505.04万元，费率由8‰降至5‰，**重点**工作均已完成。", "performance": "费率由8‰降至5‰。"}})
        assert not {"DEPT-MALFORMED-NUMBER", "DEPT-TEMPLATE-TEXT", "DEPT-UNIT-CONFLICT"} & set(codes(path))

    @pytest.mark.parametrize("evaluation, field", [
        ({"team_leader": {"name": "张三", "date": "2015-05-01"}}, "evaluation.team_leader.date"),  # the seed's slip
        ({"notice_date": "2024-03"}, "evaluation.notice_date"),
        ({"report_date": "2027-01"}, "evaluation.report_date"),
        ({"finance_office": {"date": "2023-12-31"}}, "evaluation.finance_office.date"),
    ])
    def test_a_date_outside_the_years_after_the_evaluated_one_is_an_error(self, tmp_path, evaluation, field):
        path = write_department(tmp_path / "params" / "2024" / "d",
                                {"year": 2024, "unit": {"name": "某局"}, "evaluation": evaluation})
        assert [(f.field, f.severity) for f in check_department(load_department(path)) if f.code == "DEPT-DATE-RANGE"] == [
            (field, "error")]

    def test_dates_in_the_year_after_raise_nothing(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"}, "evaluation": {
            "report_date": "2025-04", "notice_date": "2025-03-01", "team_leader": {"name": "张三", "date": "2025-04-20"}}})
        assert "DEPT-DATE-RANGE" not in codes(path)

    def test_a_team_leader_signing_who_is_not_the_teams_leader_is_a_warning(self, tmp_path):
        evaluation = {"team": [{"name": "张三", "role": "组长"}, {"name": "王五", "role": "成员"}],
                      "team_leader": {"name": "王五"}}
        path = write_department(tmp_path / "params" / "2024" / "d",
                                {"year": 2024, "unit": {"name": "某局"}, "evaluation": evaluation})
        [found] = [f for f in check_department(load_department(path)) if f.code == "DEPT-SIGNER"]
        assert found.field == "evaluation.team_leader.name" and "张三" in found.message
        evaluation["team_leader"]["name"] = "张 三"
        write_department(path.parent, {"year": 2024, "unit": {"name": "某局"}, "evaluation": evaluation})
        assert "DEPT-SIGNER" not in codes(path)

    def test_a_department_file_in_another_years_folder_is_an_error(self, tmp_path):
        path = write_department(tmp_path / "params" / "2023" / "d", {"year": 2024, "unit": {"name": "某局"}})
        assert "DEPT-YEAR-FOLDER" in codes(path)
        write_department(path.parent, {"year": 2023, "unit": {"name": "某局"}})
        assert "DEPT-YEAR-FOLDER" not in codes(path)

    def test_what_a_department_inherits_from_its_projects_defaults_is_checked_once_where_it_is_written(self, tmp_path):
        """评价方式, 评价机构, 报告时间 under defaults.evaluation are the department's too: a slip
        there is each project's finding, at its line, not the department's again at its own block."""
        path = write_department(tmp_path / "params" / "2024" / "d", {
            "year": 2024, "unit": {"name": "某局"},
            "defaults": {"evaluation": {"evaluator": "××评价小组", "report_date": "2015-04"}}})
        found = {f.code for f in check_department(load_department(path))}
        assert not {"DEPT-TEMPLATE-TEXT", "DEPT-DATE-RANGE"} & found
        write_department(path.parent, {"year": 2024, "unit": {"name": "某局"},
                                       "defaults": {"evaluation": {"evaluator": "某评价小组"}},
                                       "evaluation": {"evaluator": "××评价小组", "report_date": "2015-04"}})
        found = [(f.code, f.field) for f in check_department(load_department(path))]
        assert ("DEPT-TEMPLATE-TEXT", "evaluation.evaluator") in found and ("DEPT-DATE-RANGE", "evaluation.report_date") in found

    def test_a_year_given_as_text_in_the_defaults_is_the_departments_year(self, tmp_path):
        path = write_department(tmp_path / "params" / "2023" / "d", {"unit": {"name": "某局"}, "defaults": {"year": "2024"}})
        assert load_department(path).params.evaluated_year == 2024
        assert "DEPT-YEAR-FOLDER" in codes(path)  # checked, not a crash

    def test_without_a_budget_to_measure_against_the_execution_figures_are_dashes_as_on_the_form(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {
            "year": 2024, "unit": {"name": "某局"}, "expenditure": [{"institution": "局机关", "basic": 100, "project": 50}],
            "narrative": {"basic": "执行率{{预算执行率}}，得分{{执行率得分}}。"}})
        assert "执行率—，得分—。" in everything(DepartmentReport.load(path))

    def test_control_characters_pasted_from_word_are_a_warning_naming_the_field(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"},
                                                                     "narrative": {"basic": "职能\x0b如下\x07"}})
        found = [f for f in check_department(load_department(path)) if f.code == "DEPT-CONTROL-CHAR"]
        assert [(f.field, f.severity) for f in found] == [("narrative.basic", "warning")]
        assert "U+000B、U+0007" in found[0].message and load_department(path).params.narrative.basic == "职能\n如下"
        write_department(path.parent, {"year": 2024, "unit": {"name": "某局"}, "narrative": {"basic": "职能\n如下"}})
        assert "DEPT-CONTROL-CHAR" not in codes(path)

    def test_basic_spending_equal_to_its_split_is_fine(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"}, "expenditure": [
            {"institution": "局机关", "personnel": 10, "public": 5, "basic": 15}]})
        assert "DEPT-BASIC-SPLIT" not in codes(path)

    def test_a_department_file_still_being_filled_in_gets_one_grouped_warning(self, tmp_path, workspace):
        path = write_department(tmp_path / "params" / "2024" / "new", {"year": 2024, "unit": {"name": "某局"},
                                                                       "narrative": {"basic": "……"}})
        [finding] = [f for f in check_department(load_department(path)) if f.code == "DEPT-TO-FILL"]
        assert finding.severity == "warning"
        assert all(field in finding.message for field in ("income", "evaluation.report_date", "narrative.basic"))
        assert "DEPT-TO-FILL" not in codes(workspace / "2024" / "xiangxi-ggzy" / "_department.yaml")

    def test_a_missing_attached_file_is_an_error_that_refuses_the_report_not_the_reading(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "unit": {"name": "某局"},
                                                                     "attachments": [{"title": "领导小组通知", "file": "gone.md"}]})
        department = load_department(path)  # reading, scoring and checking go on
        [finding] = [f for f in check_department(department) if f.code == "DEPT-ATTACHMENT-MISSING"]
        assert finding.severity == "error" and finding.field == "attachments[0].file" and "gone.md" in finding.message
        with pytest.raises(ParamsError) as refused:
            DepartmentReport.load(path).attachments("text")
        assert "attachments[0].file" in str(refused.value) and "gone.md" in str(refused.value)
        (path.parent / "gone.md").write_text("# 通知\n", encoding="utf-8")
        assert "DEPT-ATTACHMENT-MISSING" not in codes(path)

    def test_control_characters_in_its_rules_file_are_a_warning_at_that_files_line(self, workspace):
        rules = workspace / "2024" / "_rules.yaml"
        rules.write_text(rules.read_text(encoding="utf-8").replace("label: 良}", "label: 良\x0c}", 1), encoding="utf-8")
        line = next(i for i, row in enumerate(rules.read_text(encoding="utf-8").splitlines(), 1) if "label: 良" in row)
        found = [f for f in check_department(load_department(workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"))
                 if f.code == "DEPT-RULES-CONTROL-CHAR"]
        assert [(f.file, f.line, f.field) for f in found] == [(rules, line, "grades[1].label")] and "按换行排版" in found[0].message

    def test_every_department_check_is_exercised_here(self):
        import inspect

        from evaltools.domain.checks import DEPARTMENT_CHECKS

        source = inspect.getsource(inspect.getmodule(TestChecks))
        assert all(spec.code in source for spec in DEPARTMENT_CHECKS)

    def test_the_mismatch_finding_is_quiet_when_the_projects_cover_the_total(self, workspace):
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        department.write_text(department.read_text(encoding="utf-8").replace("project: 171.72", "project: 106.62"),
                              encoding="utf-8")
        assert "DEPT-PROJECTS-TOTAL" not in codes(department)

    def test_an_unreadable_project_is_an_error_of_the_department(self, workspace):
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        assert "DEPT-PROJECT-INVALID" not in codes(department)
        (workspace / "2024" / "xiangxi-ggzy" / "broken.yaml").write_text("year: [\n", encoding="utf-8")
        assert "DEPT-PROJECT-INVALID" in codes(department)

    def test_overall_indicators_are_scored_and_checked_by_the_project_rules(self, workspace):
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        data = yaml.safe_load(department.read_text(encoding="utf-8"))
        data["funds"] = {"general_budget": {"annual": 1505.04, "executed": 1430.00},
                         "basic": {"annual": 1333.32}, "project": {"annual": 171.72}}
        data["indicators"] = [
            {"level2": "数量指标", "name": "完成交易项目", "target": "≥1000项", "actual_value": "1445项", "weight": 50},
            {"level2": "社会效益指标", "name": "营商环境", "target": "定性", "weight": 30, "score": 27, "deviation": "持续优化"},
            {"level2": "服务对象满意度指标", "name": "满意度", "target": "≥95%", "actual_value": "90%", "weight": 5},
        ]
        department.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        report = DepartmentReport.load(department)
        card = report.department.card
        assert card.execution.score == D("9.50")  # 1430 / 1505.04 of 10 points
        assert card.total == D("9.50") + 50 + 27 + D("4.74") and card.grade == "优"
        found = {f.code for f in report.findings}
        assert {"WEIGHTS", "DEVIATION-MISSING", "OVERACHIEVEMENT"} <= found  # 满意度 5 of 10; 90% < 95%; 1445 ≥ 1.3 × 1000
        assert f"评分：{card.total}" in report.performance_summary()
        assert "<strong>91.24</strong>" in html(report.self_evaluation_form())


def test_a_second_project_appears_with_its_own_score(workspace):
    add_project(workspace / "2024" / "xiangxi-ggzy", "expert-system", "专家评审系统升级", "50.00", "40.00")
    report = DepartmentReport.load(workspace / "2024" / "xiangxi-ggzy" / "_department.yaml")
    lines = {line.name: (line.total, line.grade) for line in report.department.projects}
    assert lines == {"公共资源交易平台运行维护费": (D("96.00"), "优"), "专家评审系统升级": (D("94.00"), "优")}
    assert "专家评审系统升级" in report.basic_data()  # one 项目支出 row per project in 附件1-2


def test_a_bad_value_in_the_department_data_names_file_line_and_field(workspace):
    from evaltools.domain.yamlio import ParamsError

    department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
    text = department.read_text(encoding="utf-8").replace("staffing: 45", "staffing: 四十五")
    department.write_text(text, encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_department(department)
    [problem] = info.value.problems
    assert (problem.file, problem.field) == (department, "unit.staffing")
    assert "四十五" in text.splitlines()[problem.line - 1] and "应为整数" in problem.message


def cells_of(part) -> list[list[str]]:
    """Each table row of a part as its cells' texts."""
    return [[c.text for c in row.cells] for table in walk(part) if isinstance(table, Table)
            for row in table.head + table.rows]


def row_of(part, label: str) -> list[str]:
    return next(row for row in cells_of(part) if label in row)


class TestEveryFieldTheDataHolds:
    def test_the_self_evaluation_forms_funds_come_from_the_spending_table(self, seed_report):
        form = seed_report.self_evaluation_form()
        # 年初预算数, 全年预算数, 全年执行数, 分值, 执行率, 得分 after the label: the seed's data says the
        # amounts were allotted (全年预算数) and spent (全年执行数), so the rate and its score show
        assert row_of(form, "年度资金总额")[-6:] == ["", "1505.04", "1505.04", "10", "100%", "10"]
        assert row_of(form, "一般公共预算")[-6:-3] == ["", "1505.04", "1505.04"]
        assert row_of(form, "基本支出")[-6:-3] == ["", "1333.32", "1333.32"]
        assert row_of(form, "项目支出")[-6:-3] == ["", "171.72", "171.72"]

    @pytest.mark.parametrize(("columns", "cells"), [
        (None, ["", "", "1505.04", "10", "—", "—"]),  # spent only (the default): nothing to measure against
        (["全年预算数"], ["", "1505.04", "", "10", "0%", "0"]),  # allotted, nothing spent
        (["全年执行数", "全年预算数"], ["", "1505.04", "1505.04", "10", "100%", "10"]),
    ])
    def test_the_data_says_which_column_the_spending_table_fills(self, tmp_path, columns, cells):
        data = {"year": 2024, "unit": {"name": "某局"},
                "expenditure": [{"institution": "局机关", "basic": "1333.32", "project": "171.72"}]}
        if columns:
            data["expenditure_as"] = columns
        report = DepartmentReport.load(write_department(tmp_path / "params" / "2024" / "d", data))
        assert row_of(report.self_evaluation_form(), "年度资金总额")[-6:] == cells

    def test_a_column_the_form_has_not_is_an_error_naming_file_and_field(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {
            "year": 2024, "unit": {"name": "某局"}, "expenditure_as": ["决算数"]})
        with pytest.raises(ParamsError) as raised:
            load_department(path)
        [problem] = raised.value.problems
        assert (problem.file, problem.field) == (path, "expenditure_as[0]")
        assert "决算数" in path.read_text(encoding="utf-8").splitlines()[problem.line - 1]
        assert "全年预算数" in problem.message and "全年执行数" in problem.message

    def test_stated_funds_keep_their_figures_and_only_blanks_are_computed(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {
            "year": 2024, "unit": {"name": "某局"}, "funds": {"general_budget": {"annual": 120, "executed": 99}},
            "expenditure": [{"institution": "局机关", "basic": 80, "project": 20}]})
        funds = load_department(path).params.overall_funds
        assert (funds.general_budget.annual, funds.general_budget.executed) == (D(120), D(99))
        assert (funds.basic.executed, funds.project.executed, funds.total.executed) == (D(80), D(20), D(99))

    def test_the_cover_takes_the_evaluation_its_projects_share(self, seed_report):
        fields = dict(seed_report.cover().children[2].rows)
        assert fields["评价方式"] == "州公共资源交易中心绩效自评"
        assert fields["评价机构"] == "州公共资源交易中心评价小组"
        assert fields["报告时间"] == "2025年4月"

    def test_the_departments_own_evaluation_comes_first_and_none_is_a_dash(self, tmp_path):
        folder = tmp_path / "params" / "2024" / "d"
        path = write_department(folder, {"year": 2024, "unit": {"name": "某局"},
                                         "defaults": {"evaluation": {"method": "项目自评", "report_date": "2025-04"}},
                                         "evaluation": {"method": "部门自评", "report_date": "2025-05-06"}})
        fields = dict(DepartmentReport.load(path).cover().children[2].rows)
        assert (fields["评价方式"], fields["报告时间"], fields["评价机构"]) == ("部门自评", "2025年5月6日", "—")
        assert "部门（单位）绩效自评" not in str(DepartmentReport.load(path).cover())  # never the template's words

    def test_a_malformed_defaults_is_a_message_not_a_traceback(self, tmp_path):
        path = write_department(tmp_path / "params" / "2024" / "d", {"year": 2024, "defaults": "oops",
                                                                     "unit": {"name": "某局"}})
        with pytest.raises(ParamsError) as raised:
            load_department(path)
        assert raised.value.problems[0].field == "defaults"

    def test_basic_data_has_the_buildings_and_austerity_rows(self, seed_report, tmp_path):
        rows = cells_of(seed_report.basic_data())
        assert any(r[0].startswith("楼堂馆所控制情况（2023年完工项目）") for r in rows)
        assert row_of(seed_report.basic_data(), "厉行节约保障措施") == ["厉行节约保障措施", "—"]
        path = write_department(tmp_path / "params" / "2024" / "d", {
            "year": 2024, "unit": {"name": "某局"}, "austerity": "严格执行中央八项规定。",
            "buildings": [{"name": "业务用房", "approved_area": 1000, "actual_area": 950, "budget_investment": 500,
                           "actual_investment": 510}]})
        data = DepartmentReport.load(path).basic_data()
        assert row_of(data, "业务用房") == ["业务用房", "1000", "950", "95%", "500.00", "510.00", "102%"]
        assert "严格执行中央八项规定。" in data

    def test_the_indicator_block_has_the_forms_rows_without_indicators(self, seed_report):
        form = seed_report.self_evaluation_form()
        texts = [cell for row in cells_of(form) for cell in row]
        for label in ("产出指标（50分）", "效益指标（30分）", "满意度指标（10分）", "数量指标", "质量指标", "时效指标",
                      "成本指标", "经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标", "服务对象满意度指标"):
            assert label in texts

    def test_the_quantitative_goals_table_shows_the_forms_rows_without_indicators(self, seed_report):
        rows = cells_of(seed_report.performance_summary())
        assert ["产出指标", "数量指标、质量指标、时效指标、成本指标", "", "", ""] in rows
        assert ["满意度指标", "服务对象满意度指标", "", "", ""] in rows

    def test_a_page_of_the_form_breaks_only_between_levels_never_before_the_total(self, seed_report):
        [indicators] = [t for t in walk(seed_report.self_evaluation_form()) if isinstance(t, Table) and t.head]
        keeps = ["keep-next" in (row.style or "").split() for row in indicators.rows]
        assert keeps[-2] and not keeps[-1]  # the last indicator row keeps with 总分
        first_rows = [i for i, row in enumerate(indicators.rows) if any(c.text.endswith("分）") for c in row.cells)]
        assert [keeps[i - 1] for i in first_rows[1:]] == [False, False]  # a break may fall before 效益, 满意度

    def test_indicators_sit_in_their_rows_and_the_rest_stay_blank(self, tmp_path):
        indicator = {"level2": "数量指标", "name": "办件量", "target": "≥100件", "actual": "120件", "weight": 20}
        path = write_department(tmp_path / "params" / "2024" / "d",
                                {"year": 2024, "unit": {"name": "某局"}, "indicators": [indicator]})
        rows = cells_of(DepartmentReport.load(path).self_evaluation_form())
        [line] = [r for r in rows if "办件量" in r]
        assert line[:4] == ["", "产出指标（20分）", "数量指标", "办件量"]  # the weight its indicators carry
        assert ["质量指标", "", "", "", "", ""] in rows
        assert any(cell.startswith("满意度指标（") for r in rows for cell in r)  # its points moved, its row kept


class TestAttachments:
    def test_every_attachment_is_labelled_and_starts_a_page(self, seed_report):
        notice, = seed_report.attachments("text").children
        assert plain_text(notice.children[0]) == "附件1-1"
        assert "关于成立预算绩效自评工作领导小组的通知" in plain_text(notice.children[1])
        assert "组　长：董佳瑛" in plain_text(notice) and "办公室设在财务科" in plain_text(notice)
        for part, label in ((notice, "附件1-1"), (seed_report.basic_data(), "附件1-2"),
                            (seed_report.self_evaluation_form(), "附件1-3")):
            assert plain_text(part.children[0]) == label and part.children[0].style == "attachment-label"
            assert "attachment" in part.style.split()
        # the forms are forms: the form page, on one page where they fit (as the project's 自评表)
        assert "form-page" in seed_report.basic_data().style.split()
        assert "form-page" in seed_report.self_evaluation_form().style.split()

    def test_further_documents_follow_the_forms_and_pdfs_are_appended(self, workspace):
        folder = workspace / "2024" / "xiangxi-ggzy"
        (folder / "attachments" / "plan.md").write_text("# 工作方案\n\n正文。", encoding="utf-8")
        (folder / "attachments" / "scan.pdf").write_bytes(b"%PDF-1.4 scanned")
        department = folder / "_department.yaml"
        department.write_text(department.read_text(encoding="utf-8").replace("    file: attachments/leading-group.md\n", (
            "    file: attachments/leading-group.md\n"
            "  - {title: 自评工作方案, file: attachments/plan.md}\n"
            "  - {title: 领导批示（扫描件）, file: attachments/scan.pdf}\n")), encoding="utf-8")
        report = DepartmentReport.load(department)
        texts = report.attachments("text").children
        assert [plain_text(part.children[0]) for part in texts] == ["附件1-1", "附件1-4"]
        [scan] = report.attachments("pdf").children
        attached = next(part for part in walk(scan) if isinstance(part, AttachedPdf))
        assert plain_text(scan.children[0]) == "附件1-5" and attached.pdf == b"%PDF-1.4 scanned"
        assert "scan.pdf" in attached.note
        before = DepartmentReport.load(SEED_DEPARTMENT / "_department.yaml").department.fingerprint
        assert report.department.fingerprint != before  # what it attaches is part of what the report is made of

    @pytest.mark.parametrize(("file", "words"), [("attachments/missing.md", "不存在"), ("../../../../outside.md", "不在工作区")])
    def test_an_attachment_that_cannot_be_read_names_file_line_and_field(self, workspace, file, words):
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        (workspace.parent.parent / "outside.md").write_text("外部文件", encoding="utf-8")  # beside the workspace
        text = department.read_text(encoding="utf-8").replace("file: attachments/leading-group.md", f"file: {file}")
        department.write_text(text, encoding="utf-8")
        loaded = load_department(department)  # the reading goes on; the report is refused, naming the field
        [problem] = loaded.attachment_problems()
        assert (problem.file, problem.field) == (department, "attachments[0].file") and words in problem.message
        assert file in text.splitlines()[problem.line - 1]


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """The seed department's submission edition, as PDF and Word."""
    from evaltools.run.build import run

    return run(SEED_DEPARTMENT / "_department.yaml", ["pdf", "docx"], out_root=tmp_path_factory.mktemp("out")).files


def test_in_the_pdf_each_attachment_opens_its_page_under_its_label_and_each_form_keeps_to_one(printed):
    pages = [page_text(printed["pdf"], n) for n in range(1, page_count(printed["pdf"]) + 1)]
    starts = {label: next(i for i, text in enumerate(pages) if text.lstrip().startswith(label))
              for label in ("附件1-1", "附件1-2", "附件1-3")}
    assert starts["附件1-1"] < starts["附件1-2"] < starts["附件1-3"]
    notice = re.sub(r"\s", "", pages[starts["附件1-1"]])  # pdftotext lays out a full-width space as it likes
    assert "领导小组的通知" in notice and "长：董佳瑛" in notice and "2025年4月10日" in notice
    basic, form = pages[starts["附件1-2"]], pages[starts["附件1-3"]]
    # the whole form, down to its 说明 and signature line, on the page of its label
    assert "三公经费" in basic and "厉行节约保障措施" in basic and "说明：" in basic and "单位负责人签字" in basic
    assert "年度资金总额" in form and "数量指标" in form and "总分" in form and "单位负责人签字" in form
    assert "100%" in form  # 1505.04 allotted and spent: its 执行率


def test_the_word_edition_labels_its_attachments_too(printed):
    import docx

    texts = [paragraph.text.strip() for paragraph in docx.Document(str(printed["docx"])).paragraphs]
    for label in ("附件1-1", "附件1-2", "附件1-3"):
        assert label in texts, label


class TestOtherProjects:
    def listed(self, workspace, entries: str):
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        department.write_text(department.read_text(encoding="utf-8") + "other_projects:\n" + entries, encoding="utf-8")
        return DepartmentReport.load(department)

    def test_projects_without_a_file_are_listed_in_the_basic_data_and_the_projects_table(self, workspace):
        report = self.listed(workspace, "  - {name: 专家库运维, annual: 40.10, executed: 38.00}\n"
                                        "  - {name: 见证系统升级, annual: 25.00, executed: 25.00}\n")
        basic = report.basic_data()
        assert row_of(basic, "公共资源交易平台运行维护费")[:4] == ["公共资源交易平台运行维护费", "—", "106.62", "106.62"]
        assert row_of(basic, "专家库运维")[:4] == ["专家库运维", "—", "40.10", "38.00"]
        assert row_of(basic, "见证系统升级")[:4] == ["见证系统升级", "—", "25.00", "25.00"]
        projects = report.projects()
        assert row_of(projects, "专家库运维") == ["专家库运维", "40.10", "38.00", "94.76%", "—", "—"]
        assert "本部门对1个项目开展了绩效自评，另有2个项目未单独自评" in plain_text(projects)
        # 106.62 + 40.10 + 25.00 = 171.72: the department's 项目支出 is accounted for
        assert "DEPT-PROJECTS-TOTAL" not in {f.code for f in report.findings}

    def test_a_long_list_runs_on_under_its_repeated_heading(self, workspace):
        report = self.listed(workspace, "".join(f"  - {{name: 专项{i}, annual: 1}}\n" for i in range(40)))
        costs = next(t for t in walk(report.basic_data()) if isinstance(t, Table) and "专项39" in str(t))
        [heading] = costs.head  # a header row: repeated on each page the table runs over
        assert [c.text for c in heading.cells][1:4] == ["2023年决算数（万元）", "2024年预算数（万元）", "2024年决算数（万元）"]

    def test_a_gap_the_list_leaves_is_still_found(self, workspace):
        report = self.listed(workspace, "  - {name: 专家库运维, annual: 40.10}\n")
        [finding] = [f for f in report.findings if f.code == "DEPT-PROJECTS-TOTAL"]
        assert "其他项目" in finding.message and "25" in finding.message

    def test_a_listed_project_without_a_name_names_file_and_field(self, workspace):
        with pytest.raises(ParamsError) as raised:
            self.listed(workspace, "  - {annual: 40.10}\n")
        [problem] = raised.value.problems
        assert problem.field == "other_projects[0].name" and problem.file.name == "_department.yaml"


class TestSubmissionWording:
    def test_the_body_does_not_speak_the_tools_language(self, seed_report):
        body = plain_text(seed_report.outline())
        for words in ("参数文件", "审核提示", "检查", "未能计算"):
            assert words not in body
        assert "2024年度部门项目支出171.72万元。本部门对1个项目开展了绩效自评" in body

    def test_a_section_the_unit_left_unwritten_says_so_under_its_heading(self, seed_report, workspace):
        """Never a bare heading: the seed's department file writes none of 六、八、九、十 nor its
        年度整体支出绩效目标, and each says so in the reader's words (DEPT-MISSING names the fields);
        其他需要说明的问题 left unwritten is 无, as in a project's report. Written, they say what they say."""
        body = plain_text(seed_report.outline())
        assert re.findall(r"\n([^\n]*)\n([^\n。]*未填写)。", body) == [
            ("（二）部门（单位）年度整体支出绩效目标", "部门（单位）年度整体支出绩效目标未填写"),
            ("六、部门整体支出绩效情况", "部门整体支出绩效情况未填写"),
            ("八、主要经验做法、存在的问题及原因分析", "主要经验做法、存在的问题及原因分析未填写"),
            ("九、有关建议", "有关建议未填写"), ("十、绩效自评结果拟应用和公开情况", "绩效自评结果拟应用和公开情况未填写")]
        assert body.endswith("十一、其他需要说明的问题\n无")
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        written = {"performance": "绩效良好。", "experience": "经验甲。", "suggestions": "建议乙。", "application": "拟公开。",
                   "other": "另有说明。"}
        department.write_text(department.read_text(encoding="utf-8") + "narrative:\n" + "".join(
            f"  {key}: {text}\n" for key, text in written.items()) + "overall_goals:\n  expected: 目标丙。\n", encoding="utf-8")
        body = plain_text(DepartmentReport.load(department).outline())
        assert "未填写" not in body and all(text in body for text in [*written.values(), "目标丙。"])

    def test_no_paragraph_is_a_lone_dash(self, seed_report):
        lone = [part for part in walk(seed_report.outline()) if isinstance(part, Paragraph) and plain_text(part) == "—"]
        assert lone == []

    def test_reviewers_material_is_marked_for_the_review_edition(self, seed_report):
        review = seed_report.review()
        assert review.audience == REVIEW and seed_report.provenance().audience == REVIEW
        assert "1个项目参数文件" in plain_text(review) and ["公共资源交易平台运行维护费", "0/0"] in cells_of(review)

    def test_the_sign_off_has_the_departments_and_the_finance_offices_blocks(self, seed_report):
        signoff = seed_report.signoff()
        labels = [b.label for part in signoff.children for b in part.blocks]
        assert labels == ["评价组组长签署意见", "评价组组长（签字）", "部门（单位）意见", "部门（单位）负责人（签字）",
                          "部门（单位）（盖章）", "财政部门归口业务科室意见", "财政部门归口业务科室负责人（签字）",
                          "财政部门归口业务科室（盖章）"]
        assert signoff.style == "signoff-page"  # kept together on one page
        dates = [b.date for part in signoff.children for b in part.blocks if b.date]
        assert len(dates) == 3  # one date per block, under its seal


def test_next_year_keeps_the_other_projects_names_and_drops_this_years_attachments():
    from evaltools.newyear import carry_department

    data = {"year": 2024, "attachments": [{"title": "通知", "file": "attachments/leading-group.md"}],
            "other_projects": [{"name": "专家库运维", "annual": 40.1, "executed": 38}], "expenditure_as": ["全年预算数"]}
    carried, report = carry_department(data, 2024, 2025)
    assert "attachments" not in carried and carried["other_projects"] == [{"name": "专家库运维"}]
    assert carried["expenditure_as"] == ["全年预算数"] and "附件（本年度的通知等）" in report.cleared
