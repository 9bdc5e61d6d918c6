"""The rules are data: the national default, and overrides by a smaller YAML file."""

from decimal import Decimal

import pytest

from evaltools.domain.yamlio import ParamsError
from evaltools.domain.rules import load_rules

from conftest import PARAMS, write_yaml


def test_national_default_weights_add_up_to_one_hundred(national):
    assert national.execution.weight == 10
    assert {name: level.weight for name, level in national.levels.items()} == {
        "产出指标": 50, "效益指标": 30, "满意度指标": 10}


def test_second_level_categories_belong_to_their_first_level(national):
    assert national.level_of("时效指标") == "产出指标"
    assert national.level_of("可持续影响") == "效益指标"
    assert national.level_of("服务对象满意度指标") == "满意度指标"
    assert national.level_of("规模指标") is None


def test_the_grade_note_reads_like_the_form(national):
    assert national.grade_note() == "90（含）—100分为优；80（含）—90分为良；60（含）—80分为中；60分以下为差。"


def test_an_override_replaces_the_grade_bands(national):
    xiangxi = load_rules(PARAMS / "2024" / "_rules.yaml")
    assert xiangxi.grade(Decimal("75")) == "较差" and national.grade(Decimal("75")) == "中"
    assert xiangxi.levels == national.levels  # untouched parts stay
    assert xiangxi.fingerprint != national.fingerprint


def test_an_override_may_change_weights_consistently(tmp_path):
    path = write_yaml(tmp_path / "r.yaml", {"levels": {"产出指标": {"weight": 40}, "效益指标": {"weight": 40}}})
    assert load_rules(path).levels["效益指标"].weight == 40


def test_an_override_whose_weights_do_not_add_up_is_refused(tmp_path):
    path = write_yaml(tmp_path / "r.yaml", {"levels": {"产出指标": {"weight": 60}}})
    with pytest.raises(ParamsError, match="应为 100"):
        load_rules(path)


def test_an_override_with_a_bad_value_names_file_and_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: 某省\ngrades:\n  - {min: 九十, label: 优}\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_rules(path)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.field) == (path, 3, "grades[0].min")


def test_labels_as_provinces_print_them(national):
    assert national.canonical_level("产出指标(50分)") == national.canonical_level("产出指标（50分）") == "产出指标"
    assert national.level_of("经济成本指标") == "产出指标" and national.level_of("满意度指标") == "满意度指标"
    assert national.canonical_category("数量指标（20分）") == "数量指标"
    assert national.execution.explain_below == 1 and national.indicators_weight == 90


def test_a_level_of_its_own_takes_its_categories_from_another_levels_extras(tmp_path):
    rules = load_rules(write_yaml(tmp_path / "_rules.yaml", {
        "name": "成本单列", "levels": {"产出指标": {"weight": 40, "categories": ["数量指标", "质量指标", "时效指标"]},
                                       "成本指标": {"weight": 10, "categories": ["经济成本指标", "社会成本指标"]}}}))
    assert rules.level_of("经济成本指标") == "成本指标" and rules.level_of("数量指标") == "产出指标"


@pytest.mark.parametrize(("override", "message"), [
    ({"levels": {"产出指标": {"weight": None}}}, "indicator_total"),
    ({"indicator_total": 80}, "应为 100"),
    ({"indicator_total": 90, "levels": {"产出指标": {"weight": None}, "效益指标": {"weight": 90}}}, "超过"),
])
def test_a_free_split_needs_a_consistent_total(tmp_path, override, message):
    with pytest.raises(ParamsError, match=message):
        load_rules(write_yaml(tmp_path / "_rules.yaml", {"name": "x", **override}))
