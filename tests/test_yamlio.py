"""Reading parameter files: exact numbers, the department merge, and errors that say where."""

import os
import time
from decimal import Decimal
from pathlib import Path

import pytest

from evaltools.domain.yamlio import ParamsError, deep_merge, read_yaml
from evaltools.domain.workspace import find_project_files, load_project

from conftest import SEED, problem_after_edit


class TestDeepMerge:
    def test_mappings_merge_recursively_and_the_override_wins(self):
        base = {"project": {"department": "甲", "phone": "1"}, "year": 2024}
        assert deep_merge(base, {"project": {"phone": "2"}}) == {
            "project": {"department": "甲", "phone": "2"}, "year": 2024}

    def test_lists_and_scalars_are_replaced_whole(self):
        base = {"team": [{"name": "甲"}, {"name": "乙"}], "x": {"a": 1}}
        assert deep_merge(base, {"team": [{"name": "丙"}], "x": 5}) == {"team": [{"name": "丙"}], "x": 5}

    def test_inputs_are_not_modified(self):
        base, override = {"a": {"b": 1}}, {"a": {"c": 2}}
        deep_merge(base, override)
        assert base == {"a": {"b": 1}} and override == {"a": {"c": 2}}

    def test_null_in_the_project_removes_the_department_value(self, workspace):
        project_file = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
        with project_file.open("a", encoding="utf-8") as f:
            f.write("\nevaluation:\n  report_date: null\n")
        loaded = load_project(project_file)
        assert loaded.params.evaluation.report_date is None
        assert loaded.params.evaluation.method == "州公共资源交易中心绩效自评"  # the rest still merged


class TestReading:
    def test_numbers_are_exact_decimals(self, tmp_path):
        data = read_yaml(write_text(tmp_path / "a.yaml", "x: 106.62\ny: 0.1\nz: 1066200.00\n")).data
        assert data == {"x": Decimal("106.62"), "y": Decimal("0.1"), "z": Decimal("1066200.00")}

    def test_the_seed_spending_adds_up_exactly(self, seed):
        assert sum(item.amount for item in seed.params.spending) == Decimal("1066200.00")

    def test_python_tags_are_refused(self, tmp_path):
        path = write_text(tmp_path / "evil.yaml", "x: !!python/object/apply:os.system ['echo hi']\n")
        with pytest.raises(ParamsError, match=r"evil\.yaml:1: x: YAML 格式错误：不支持的类型标签"):
            read_yaml(path)

    def test_syntax_errors_name_the_line(self, tmp_path):
        path = write_text(tmp_path / "bad.yaml", "a: 1\nb: [1, 2\nc: 3\n")
        with pytest.raises(ParamsError, match=r"bad\.yaml:\d: YAML 格式错误"):
            read_yaml(path)

    def test_a_key_written_twice_is_an_error_naming_both_lines(self, tmp_path):
        path = write_text(tmp_path / "dup.yaml", "year: 2024\nproject: {}\nyear: 2025\n")
        with pytest.raises(ParamsError) as info:
            read_yaml(path)
        assert "dup.yaml:3" in str(info.value) and "第 1 行" in str(info.value)

    def test_a_list_at_the_top_is_refused(self, tmp_path):
        with pytest.raises(ParamsError, match="顶层应为键值映射"):
            read_yaml(write_text(tmp_path / "list.yaml", "- a\n- b\n"))

    def test_a_missing_file_is_named(self, tmp_path):
        with pytest.raises(ParamsError, match="nope.yaml: 文件不存在"):
            read_yaml(tmp_path / "nope.yaml")


def break_seed(workspace: Path, old: str, new: str) -> Path:
    path = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def only_problem(path: Path):
    with pytest.raises(ParamsError) as info:
        load_project(path)
    [problem] = info.value.problems
    return problem


class TestValidationErrors:
    def test_a_wrong_type_names_file_line_and_field(self, workspace):
        path = break_seed(workspace, "    weight: 15\n    score: 13", "    weight: 十五\n    score: 13")
        problem = only_problem(path)
        assert (problem.file, problem.field) == (path, "indicators[1].weight")
        assert path.read_text(encoding="utf-8").splitlines()[problem.line - 1].strip() == "weight: 十五"
        assert "应为数字" in problem.message and "十五" in problem.message

    def test_a_missing_field_is_named(self, workspace):
        path = break_seed(workspace, "  name: 公共资源交易平台运行维护费\n", "")
        problem = only_problem(path)
        assert problem.field == "project.name" and problem.message == "缺少必填项"
        assert problem.line is not None  # at the project: mapping that lacks it

    def test_a_field_no_file_gives_is_the_project_files_to_give_not_its_departments(self, workspace):
        """An empty project file: its missing project.name was blamed on _department.yaml, whose
        defaults set the project: mapping around it."""

        empty = workspace / "2024" / "xiangxi-ggzy" / "empty.yaml"
        empty.write_text("year: 2024\n", encoding="utf-8")
        with pytest.raises(ParamsError) as raised:
            load_project(empty)
        assert {(problem.file, problem.field) for problem in raised.value.problems} >= {(empty, "project.name")}
        assert all(problem.file == empty for problem in raised.value.problems)

    def test_a_misspelt_field_is_refused(self, workspace):
        path = break_seed(workspace, "  fund_type:", "  fund_typ:")
        problem = only_problem(path)
        assert problem.field == "project.fund_typ" and "不认识的字段" in problem.message

    def test_an_unknown_fund_type_lists_the_allowed_ones(self, workspace):
        problem = only_problem(break_seed(workspace, "fund_type: 一般公共预算", "fund_type: 专项资金"))
        assert problem.field == "project.fund_type" and "政府性基金预算" in problem.message

    def test_an_error_in_the_department_file_is_reported_there(self, workspace):
        department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
        department.write_text(department.read_text(encoding="utf-8").replace(
            "report_date: 2025-04", "report_date: 2025年13月"), encoding="utf-8")
        problem = only_problem(department.parent / "platform-maintenance.yaml")
        assert (problem.file, problem.field) == (department, "evaluation.report_date")
        assert "2025年13月" in department.read_text(encoding="utf-8").splitlines()[problem.line - 1]

    def test_every_problem_is_reported_not_just_the_first(self, workspace):
        break_seed(workspace, "fund_type: 一般公共预算", "fund_type: 专项资金")
        path = break_seed(workspace, "    weight: 15\n    score: 13", "    weight: 十五\n    score: 13")
        with pytest.raises(ParamsError) as info:
            load_project(path)
        assert [p.field for p in info.value.problems] == ["project.fund_type", "indicators[1].weight"]
        assert all(p.file == path and p.line for p in info.value.problems)

    def test_text_in_a_money_field_is_refused(self, workspace):
        problem = only_problem(break_seed(workspace, "annual: 106.62", "annual: 约106万"))
        assert problem.field == "budget.appropriation.annual" and "应为数字" in problem.message


class TestFinding:
    def test_folders_are_searched_and_underscore_files_skipped(self):
        assert find_project_files([SEED.parents[1]]) == [SEED]

    def test_a_path_that_does_not_exist_is_named(self, tmp_path):
        with pytest.raises(ParamsError, match="不存在"):
            find_project_files([tmp_path / "params" / "2031"])


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class TestHostileFiles:
    """Files from strangers: refused quickly, clearly, at the line, never a hang or a traceback."""

    def test_an_alias_bomb_is_refused_at_once(self, tmp_path):
        lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
        lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]  # 9^10 values
        path = tmp_path / "laughs.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        started = time.monotonic()
        with pytest.raises(ParamsError, match="别名.*展开后超过"):
            read_yaml(path)
        assert time.monotonic() - started < 1

    def test_a_few_aliases_are_still_fine(self, tmp_path):
        path = tmp_path / "shared.yaml"
        path.write_text("a: &unit {name: 某局}\nb: *unit\nc: [*unit, *unit]\n", encoding="utf-8")
        assert read_yaml(path).data["c"] == [{"name": "某局"}] * 2

    def test_an_alias_inside_itself_is_refused(self, tmp_path):
        path = tmp_path / "loop.yaml"
        path.write_text("a: &a [1, *a]\n", encoding="utf-8")
        with pytest.raises(ParamsError, match="循环引用"):
            read_yaml(path)

    @pytest.mark.parametrize(("second_line", "says"), [
        ("report_date: 2025-02-30", ["不存在的日期 2025-02-30"]),  # an impossible date
    ])
    def test_what_yaml_itself_refuses_is_located(self, tmp_path, second_line, says):
        path = tmp_path / "bad.yaml"
        path.write_text(f"year: 2024\n{second_line}\n", encoding="utf-8")
        with pytest.raises(ParamsError) as info:
            read_yaml(path)
        [problem] = info.value.problems
        assert problem.line == 2 and all(text in problem.message for text in says)

    def test_an_impossible_date_names_its_field_and_line(self, workspace):
        problem = problem_after_edit(workspace, "period: {start: 2024-01, end: 2024-12}",
                                     "period: {start: 2024-01, end: 2024-12}\n  date: 2025-02-30")
        assert problem.field == "project.date" and "不存在的日期 2025-02-30" in problem.message and problem.line
        assert "YAML 格式错误" not in problem.message  # the text is fine: a value is wrong

    def test_an_impossible_date_in_a_flow_mapping_names_its_field(self, tmp_path):
        path = tmp_path / "bad.yaml"
        path.write_text("year: 2024\nevaluation:\n  signoff:\n    team_leader: {name: 某人, date: 2025-02-30}\n",
                        encoding="utf-8")
        with pytest.raises(ParamsError) as info:
            read_yaml(path)
        [problem] = info.value.problems
        assert (problem.field, problem.line) == ("evaluation.signoff.team_leader.date", 4)

    def test_control_characters_pasted_from_word_are_read_as_written(self, tmp_path):
        # YAML's reader refuses them; a finance officer's file has them (the model and CONTROL-CHAR
        # then take care of them), and every other value and line stays where it was
        path = tmp_path / "pasted.yaml"
        path.write_text("year: 2024\nname: 某局\x0b信息中心\x07\nnote: |\n  第一段\x0c\n  第二段\x1b[0m\nlast: 1\n",
                        encoding="utf-8")
        read = read_yaml(path)
        assert read.data == {"year": 2024, "name": "某局\x0b信息中心\x07", "note": "第一段\x0c\n第二段\x1b[0m\n", "last": 1}
        assert read.line_of(("last",)) == 6

    @pytest.mark.parametrize(("text", "line", "field", "code"), [
        # a file holding the stand-ins themselves is refused as before, at its line
        ("year: 2024\nname: 某局\x0b\U0010fd0b\n", 2, "", "U+000B"),
        # a field's name is not text a report shows
        ("year: 2024\nproject:\n  name: 某项目\n  leader\x07: 董佳瑛\n", 4, "project.leader", "U+0007"),
    ])
    def test_a_control_character_where_it_cannot_be_read_is_an_error_at_its_line(self, tmp_path, text, line, field, code):
        path = tmp_path / "odd.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ParamsError) as info:
            read_yaml(path)
        [problem] = info.value.problems
        assert (problem.line, problem.field) == (line, field) and code in problem.message

    def test_an_escaped_control_character_loads_and_is_named_at_its_field(self, workspace):
        from evaltools.domain.checks import check_project

        project_file = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
        text = project_file.read_text(encoding="utf-8").replace("leader: 董佳瑛", 'leader: "董佳瑛\\v"')
        project_file.write_text(text, encoding="utf-8")
        project = load_project(project_file)
        assert project.params.project.leader == "董佳瑛\n"
        [finding] = [f for f in check_project(project) if f.code == "CONTROL-CHAR"]
        assert finding.field == "project.leader" and "U+000B" in finding.message and "换行" in finding.message
        assert text.splitlines()[finding.line - 1].strip().startswith("leader:")

    def test_a_thousands_separator_in_a_flow_mapping_is_an_error_not_a_smaller_number(self, workspace):
        problem = problem_after_edit(workspace, "amount: 319788.00}", "amount: 319,788.00}")
        assert "amount" in problem.message and "千位分隔符" in problem.message
        assert problem.file.read_text(encoding="utf-8").splitlines()[problem.line - 1].strip().startswith(
            "- {item: 维修（护）费")

    def test_a_thousands_separator_on_its_own_line_names_the_field(self, workspace):
        problem = problem_after_edit(workspace, "- {item: 维修（护）费, amount: 319788.00}",
                                     "- item: 维修（护）费\n    amount: 319,788.00")
        assert problem.field == "spending[0].amount" and "319788.00" in problem.message

    def test_an_edit_that_keeps_size_and_modification_time_is_seen(self, tmp_path):
        path = tmp_path / "same.yaml"
        path.write_text("total: 106.62\n", encoding="utf-8")
        stat = path.stat()
        assert read_yaml(path).data["total"] == Decimal("106.62")
        path.write_text("total: 601.62\n", encoding="utf-8")  # as `cp -p` or `rsync -t` leave it
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns
        assert read_yaml(path).data["total"] == Decimal("601.62")
