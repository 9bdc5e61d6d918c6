"""Scoring by the official rules: every branch of the formulas."""

from decimal import Decimal as D

import pytest

from evaltools.domain.model import BudgetRow, Indicator, ProjectParams
from evaltools.domain.rules import load_rules
from evaltools.domain.scoring import execution_score, indicator_score, quantitative_score, score
from evaltools.domain.targets import parse_target


def q(target: str, actual: str, weight: str = "10"):
    raw, met = quantitative_score(parse_target(target), D(actual), D(weight))
    return raw.quantize(D("0.01")), met


class TestQuantitative:
    def test_at_least_met_gives_full_marks(self):
        assert q("≥95%", "100") == (D("10.00"), True)
        assert q("≥95%", "95") == (D("10.00"), True)

    def test_at_least_missed_is_proportional(self):
        assert q("≥95%", "76") == (D("8.00"), False)

    def test_greater_than_needs_strictly_more(self):
        assert q(">95%", "95")[1] is False
        assert q(">95%", "96") == (D("10.00"), True)

    def test_at_most_met_gives_full_marks(self):
        assert q("≤106.62万元", "100") == (D("10.00"), True)

    def test_at_most_missed_loses_in_proportion_to_the_excess(self):
        assert q("≤100万元", "120") == (D("8.00"), False)

    def test_at_most_reaches_zero_at_twice_the_target_and_stays_there(self):
        assert q("≤100万元", "200") == (D("0.00"), False)
        assert q("≤100万元", "350") == (D("0.00"), False)

    def test_less_than_needs_strictly_less(self):
        assert q("<3天", "3")[1] is False
        assert q("<3天", "2") == (D("10.00"), True)

    def test_equal_is_scored_as_at_least(self):
        assert q("=100%", "100") == (D("10.00"), True)
        assert q("=100%", "120") == (D("10.00"), True)
        assert q("=100%", "90") == (D("9.00"), False)

    def test_equal_to_zero_is_met_only_at_zero_or_below(self):
        assert q("=0个", "0") == (D("10.00"), True)
        assert q("=0个", "1") == (D("0.00"), False)

    def test_at_least_zero_is_always_met(self):
        assert q("≥0个", "0") == (D("10.00"), True)

    def test_negative_actuals_count_as_zero(self):
        assert q("≥95%", "-5") == (D("0.00"), False)
        assert q("≤10天", "-3") == (D("10.00"), True)

    def test_never_above_the_weight(self):
        assert q("≥50%", "500")[0] == D("10.00")


class TestExecution:
    def test_rate_and_score(self, national):
        result = execution_score(BudgetRow(annual=D("200"), executed=D("150")), national)
        assert result.rate == D("0.75") and result.score == D("7.50")

    def test_score_is_rounded_half_up_to_two_decimals(self, national):
        result = execution_score(BudgetRow(annual=D("3"), executed=D("2")), national)
        assert result.score == D("6.67")

    def test_over_budget_is_capped_at_the_weight_and_flagged(self, national):
        result = execution_score(BudgetRow(annual=D("100"), executed=D("120")), national)
        assert result.score == D("10.00") and result.over_budget

    def test_zero_budget_has_no_rate(self, national):
        result = execution_score(BudgetRow(annual=D("0"), executed=D("0")), national)
        assert result.rate is None and result.score == 0 and not result.over_budget

    def test_zero_budget_with_spending_is_over_budget(self, national):
        assert execution_score(BudgetRow(annual=None, executed=D("5")), national).over_budget


def indicator(**fields) -> Indicator:
    base = dict(level2="数量指标", name="x", target="≥95%", weight=D(10))
    return Indicator(**{**base, **fields})


class TestIndicators:
    def test_quantitative_rows_are_computed_from_the_actual_value(self, national):
        row = indicator_score(0, indicator(actual_value="90%"), national)
        assert (row.method, row.score, row.met) == ("rule", D("9.47"), False)

    def test_actual_values_in_another_unit_are_converted(self, national):
        row = indicator_score(0, indicator(level2="成本指标", target="106.62万元", actual_value="1066200元"), national)
        assert (row.method, row.score, row.met) == ("rule", D("10.00"), True)

    def test_cost_targets_without_operator_read_as_at_most(self, national):
        row = indicator_score(0, indicator(level2="成本指标", target="100万元", actual_value="90"), national)
        assert row.target.operator == "≤" and row.met

    def test_quantitative_without_a_number_scores_nothing(self, national):
        row = indicator_score(0, indicator(actual_value="基本完成"), national)
        assert (row.method, row.score) == ("missing", 0)

    def test_a_row_the_rule_cannot_score_keeps_the_stated_score(self, national):
        """The checks report the blank cell; the totals are not thrown off by it as well."""
        row = indicator_score(0, indicator(actual="", score=D(9)), national)
        assert (row.method, row.score) == ("missing", D("9.00"))

    def test_a_lone_value_in_the_actual_cell_is_the_measured_value(self, national):
        row = indicator_score(0, indicator(actual="98%"), national)
        assert (row.method, row.actual.value, row.met) == ("rule", D(98), True)

    def test_a_strict_target_missed_at_its_boundary_is_not_met_and_not_full_marks(self, national):
        """">95%" with 95: not met, so one step (0.01) below full marks, and a reason is due."""
        row = indicator_score(0, indicator(target=">95%", actual_value="95%"), national)
        assert (row.met, row.score) == (False, D("9.99"))
        assert indicator_score(0, indicator(target="<3天", actual_value="3"), national).score == D("9.99")

    def test_a_miss_that_would_round_to_full_marks_stays_below_them(self, national):
        row = indicator_score(0, indicator(target="≥95%", actual_value="94.9999%"), national)
        assert (row.met, row.score) == (False, D("9.99"))

    @pytest.mark.parametrize(("target", "actual", "met", "score"), [
        ("≥95%", "95%", True, "10.00"), ("＞95%", "95.01%", True, "10.00"), ("≤10天", "10天", True, "10.00"),
        ("95%以上", "95%", True, "10.00"), ("不超过106.62万元", "106.62万元", True, "10.00"),
        ("=100%", "100%", True, "10.00"), ("≥32处", "30处", False, "9.38"), ("大于0个", "0个", False, "0.00"),
    ])
    def test_plain_literal_values(self, national, target, actual, met, score):
        row = indicator_score(0, indicator(target=target, actual=actual), national)
        assert (row.met, row.score) == (met, D(score))

    def test_money_about_ten_thousand_times_off_is_not_scored_by_the_rule(self, national):
        row = indicator_score(0, indicator(level2="成本指标", target="≤2.5万元", actual="25000", score=D(10)), national)
        assert row.unit_suspect and (row.method, row.score) == ("missing", D("10.00"))

    def test_a_row_without_weight_is_not_scored_by_the_rule(self, national):
        row = indicator_score(0, indicator(weight=None, actual="98%", score=D(5)), national)
        assert (row.weight, row.method, row.score) == (0, "missing", D("5.00"))

    def test_incompatible_units_are_not_scored(self, national):
        row = indicator_score(0, indicator(actual_value="3个"), national)
        assert row.unit_mismatch and row.method == "missing"

    def test_qualitative_rows_take_the_evaluators_score(self, national):
        row = indicator_score(0, indicator(target="定性", score=D(13)), national)
        assert (row.method, row.score) == ("evaluator", D("13.00"))

    def test_deadlines_take_the_evaluators_score(self, national):
        row = indicator_score(0, indicator(level2="时效指标", target="2024年度", score=D(8)), national)
        assert (row.target.kind, row.method, row.score) == ("deadline", "evaluator", D("8.00"))

    def test_qualitative_without_score_is_missing(self, national):
        assert indicator_score(0, indicator(target="定性"), national).method == "missing"

    def test_overachievement_of_thirty_percent_is_noticed(self, national):
        assert indicator_score(0, indicator(target="≥50%", actual_value="65%"), national).overachieved
        assert not indicator_score(0, indicator(target="≥50%", actual_value="64%"), national).overachieved
        assert indicator_score(0, indicator(target="≤100万元", actual_value="70"), national).overachieved

    def test_second_level_names_with_or_without_the_suffix_are_the_same(self, national):
        row = indicator_score(0, indicator(level2="经济效益", target="定性", score=D(5)), national)
        assert (row.level1, row.level2) == ("效益指标", "经济效益指标")


class TestGrades:
    @pytest.mark.parametrize(
        ("total", "grade"),
        [("100", "优"), ("90", "优"), ("89.995", "优"), ("89.99", "良"), ("80", "良"),
         ("79.994", "中"), ("60", "中"), ("59.99", "差"), ("0", "差")],
    )
    def test_bands_have_inclusive_lower_bounds_at_two_decimals(self, national, total, grade):
        assert national.grade(D(total)) == grade

    def test_tiers_of_qualitative_scores(self, national):
        assert national.tier(D(12), D(15)) == "达成"  # exactly 80 %
        assert national.tier(D("11.99"), D(15)) == "部分达成"
        assert national.tier(D(9), D(15)) == "部分达成"  # exactly 60 %
        assert national.tier(D("8.9"), D(15)) == "未达成"


class TestScoreCard:
    def test_rows_marked_slash_are_not_scored(self, seed_data, national):
        seed_data["indicators"].append({"level2": "生态效益指标", "name": "/", "target": "/", "actual": "/", "weight": "/"})
        card = score(ProjectParams.model_validate(seed_data), national)
        assert len(card.indicators) == len(seed_data["indicators"]) - 1 and card.total == D("96.00")

    def test_a_province_fixing_only_the_indicator_total(self, seed, tmp_path):
        rules_file = tmp_path / "_rules.yaml"
        rules_file.write_text("name: 某省\nindicator_total: 90\nlevels:\n  产出指标: {weight: null}\n"
                              "  效益指标: {weight: null}\n  满意度指标: {weight: null}\n", encoding="utf-8")
        rules = load_rules(rules_file)
        card = score(seed.params, rules)
        assert rules.indicators_weight == 90 and all(level.expected_weight is None for level in card.levels)

    def test_without_satisfaction_its_points_move_to_output_and_benefit(self, seed_data, national):
        seed_data["indicators"] = [i for i in seed_data["indicators"] if i["level1"] != "满意度指标"]
        seed_data["indicators"][0]["weight"] = 25
        card = score(ProjectParams.model_validate(seed_data), national)
        satisfaction = next(level for level in card.levels if level.name == "满意度指标")
        assert satisfaction.expected_weight == 0 and satisfaction.weight == 0

    def test_total_is_execution_plus_indicators(self, seed, national):
        card = score(seed.params, national)
        assert card.total == card.execution.score + sum(r.score for r in card.indicators)


class TestRealWording:
    def test_nothing_happened_meets_a_zero_target(self, national):
        row = indicator_score(0, indicator(level2="质量指标", target="0起", actual="无"), national)
        assert (row.method, row.met) == ("rule", True)

    def test_ten_thousands_of_the_same_thing_convert(self, national):
        row = indicator_score(0, indicator(level2="社会效益指标", target="≥4.2万人", actual="42000人"), national)
        assert (row.met, row.score) == (True, D("10.00"))
