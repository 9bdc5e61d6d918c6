"""The reviewer's heuristics: what gives a defect away, and the near misses that must pass."""

from decimal import Decimal as D

import pytest

from evaltools.domain import reviewer
from evaltools.domain.model import Budget, BudgetRow, Declared, Indicator, ProjectParams
from evaltools.domain.targets import parse_quantity, parse_target


class TestFiguresAsWritten:
    @pytest.mark.parametrize(("stated", "exact", "agrees"), [
        ("86", "86.20", True), ("86.2", "86.20", True), ("86.20", "86.2", True), ("86", "86.9", True),
        ("87", "86.20", False), ("86.3", "86.20", False), ("100", "99.996", True),
        ("100.00", "99.99", False),
    ])
    def test_a_figure_agrees_when_rounded_or_cut_at_its_written_places(self, stated, exact, agrees):
        assert reviewer.agrees_as_written(D(stated), D(exact)) is agrees

    def test_a_stated_rate_keeps_its_written_precision(self):
        assert Declared(execution_rate="86%").execution_rate == D("86")
        assert Declared(execution_rate="86.20 %").execution_rate.as_tuple().exponent == -2
        assert Declared(execution_rate=86).execution_rate == D(86)
        assert Declared(execution_rate="", execution_score="/", total_score="—").model_dump(exclude_none=True) == {}

    def test_a_rate_that_is_not_a_number_is_a_clear_error(self):
        with pytest.raises(ValueError, match="应为百分比"):
            Declared(execution_rate="八成")


class TestBlankCells:
    def test_cells_left_empty_or_marked_slash_are_blank(self):
        row = Indicator(level2="数量指标", name="x", target=None, actual=None, weight="", score="/")
        assert (row.target, row.actual, row.weight, row.score) == ("", "", None, None)

    @pytest.mark.parametrize(("fields", "applicable"), [
        ({"name": "/"}, False), ({"name": "x", "target": "/", "actual": "/"}, False),
        ({"name": "x", "target": "/", "actual": "/", "weight": 5}, True), ({"name": "x", "target": "", "actual": ""}, True),
    ])
    def test_a_row_marked_slash_is_not_applicable(self, fields, applicable):
        assert Indicator(level2="数量指标", **fields).not_applicable is not applicable

    def test_budget_rows_a_province_adds_count_in_the_total(self):
        budget = Budget(appropriation=BudgetRow(annual=D(60)), special_account=BudgetRow(annual=D(15)),
                        unit_funds=BudgetRow(annual=D(5), reason="单位自有资金"))
        assert budget.computed_total.annual == D(80) and budget.reasons == ["单位自有资金"]
        assert [label for label, _ in budget.lines()] == ["其中：当年财政拨款", "上年结转资金", "财政专户管理资金", "单位资金", "其他资金"]

    def test_a_form_without_report_body_is_form_only(self, seed_data):
        seed_data["summary"], seed_data["narrative"] = {}, {}
        assert ProjectParams.model_validate(seed_data).form_only
        del seed_data["evaluation"]["method"], seed_data["goals"]
        assert ProjectParams.model_validate(seed_data).evaluation.method == ""


class TestReasons:
    @pytest.mark.parametrize("text", ["0", "无", "/", "无。", " 暂无 ", "——", "无偏差"])
    def test_non_reasons(self, text):
        assert reviewer.is_non_reason(text) and not reviewer.gives_reason(text)

    @pytest.mark.parametrize("text", ["无人机采购延期", "因材料涨价，0.5万元未支付", "原因：验收推迟"])
    def test_reasons(self, text):
        assert not reviewer.is_non_reason(text) and reviewer.gives_reason(text)


class TestTargetInName:
    @pytest.mark.parametrize(("name", "target"), [
        ("全流程电子化率达95%以上", "达95%以上"), ("群众满意度≥90%", "≥90%"), ("培训人次不少于200人次", "不少于200人次"),
        ("2024年底前完成改造", "2024年底前"), ("运维费用控制在80万元以内", "控制在80万元以内"),
    ])
    def test_targets_are_found(self, name, target):
        assert reviewer.target_in_name(name) == target

    @pytest.mark.parametrize("name", ["维修养护供水工程数量", "2024年年初预算", "受益群众满意度", "5G基站覆盖"])
    def test_plain_names_carry_none(self, name):
        assert reviewer.target_in_name(name) is None


class TestUnits:
    def problems(self, name: str, target: str, actual: str | None) -> list[tuple[str, bool]]:
        parsed = parse_target(target)
        measured = parse_quantity(actual, parsed.quantity.unit) if actual else None
        return list(reviewer.unit_problems(name, parsed, measured.to(parsed.quantity.unit) if measured else None))

    def test_a_satisfaction_over_100_percent_is_certain(self):
        [(message, certain)] = self.problems("受益群众满意度", "≥90%", "930%")
        assert certain and "930%" in message

    def test_a_ceiling_over_100_percent_is_no_problem(self):
        assert self.problems("成本超支率", "≤120%", "100%") == []

    def test_money_ten_thousand_times_off(self):
        [(message, certain)] = self.problems("单处工程维修成本", "≤2.5万元", "25000")
        assert certain and "元与万元" in message

    def test_a_count_in_percent_is_doubtful(self):
        [(_, certain)] = self.problems("管水员培训人次", "≥100百分比", "100%")
        assert not certain
        assert self.problems("培训人次覆盖率", "≥100百分比", "100%") == []


class TestCategories:
    @pytest.mark.parametrize(("name", "level1", "level2", "target", "should_be"), [
        ("工程运行维护费用", "效益指标", "经济效益指标", "≤80万元", "成本指标"),
        ("维修工程完成率", "满意度指标", "服务对象满意度指标", "≥95%", "产出或效益指标"),
        ("维修工程完成率", "效益指标", "服务对象满意度指标", "≥95%", "产出或效益指标"),
        ("受益群众满意度", "产出指标", "质量指标", "≥90%", "满意度指标"),
    ])
    def test_misplaced_indicators_say_why(self, name, level1, level2, target, should_be):
        found = reviewer.misplaced(name, level1, level2, parse_target(target))
        assert found is not None and found.should_be == should_be and found.why

    @pytest.mark.parametrize(("name", "level1", "level2", "target"), [
        ("降低交易成本", "效益指标", "经济效益指标", "定性"), ("减少群众购水支出", "效益指标", "经济效益指标", "≥50万元"),
        ("投诉处理及时率", "满意度指标", "服务对象满意度指标", "100%"),
        ("单处工程维修养护成本", "产出指标", "成本指标", "≤2.5万元"),
        ("受益群众满意度", "效益指标", "服务对象满意度指标", "≥90%"),  # the older layout: 满意度 under 效益
    ])
    def test_indicators_where_they_belong_pass(self, name, level1, level2, target):
        assert reviewer.misplaced(name, level1, level2, parse_target(target)) is None


class TestGoalsAndText:
    @pytest.mark.parametrize("text", ["农村饮水安全工程维修养护", "农村饮水安全工程维修养护项目已完成", "100%", "80万元",
                                      "保障农村饮水安全工程维修养护", "完成饮水安全工程维修养护"])
    def test_bare_goals(self, text):
        assert reviewer.bare_goal(text, "农村饮水安全工程维修养护")

    @pytest.mark.parametrize("text", ["完成农村饮水安全工程维修养护32处，保障4.2万人饮水安全", "全年无断水事件", "已完成"])
    def test_a_goal_that_says_something_passes(self, text):
        assert reviewer.bare_goal(text, "农村饮水安全工程维修养护") is None

    def test_unspent_shares_and_amounts_are_read_from_text(self):
        assert list(reviewer.unspent_shares("剩余10%工程量将于明年完成")) == []
        [share] = reviewer.unspent_shares("剩余3%尾款待验收后支付")
        assert share.value == 3 and not reviewer.cited_agrees(share, D("13.8"))
        [amount] = reviewer.unspent_amounts("结余资金110400元为质保金")
        assert amount.value == D("11.04") and reviewer.cited_agrees(amount, D("11.04"))
        [cost] = reviewer.total_costs("项目总成本为80万元")
        assert not reviewer.cited_agrees(cost, D(72))


def test_points_may_be_printed_with_their_unit():
    row = Indicator(level2="数量指标", name="x", weight="10分", score="9.5分")
    assert (row.weight, row.score) == (D(10), D("9.5"))


def test_a_completion_rate_may_pass_100_percent():
    parsed = parse_target("≥100%")
    assert list(reviewer.unit_problems("年度任务完成率", parsed, parse_quantity("105%", "%"))) == []


class TestRestatedBudget:
    @pytest.mark.parametrize(("name", "target", "amounts"), [
        ("投入资金", "158,400元", ["15.84"]), ("投入资金", "≥15.8万元", ["15.84"]), ("完成任务量", "26.5", ["26.5"]),
        ("维修资金", "800000", ["80"]), ("完成投资", "68.96万元", ["80", "68.96"]), ("项目资金", "0.001584亿元", ["15.84"]),
    ])
    def test_the_budget_restated_in_any_unit_or_rounded(self, name, target, amounts):
        assert reviewer.restated_amount(name, parse_target(target), [D(a) for a in amounts]) is not None

    @pytest.mark.parametrize(("name", "target", "amounts"), [
        ("发放补助资金", "≥12万元", ["80"]), ("培训场次", "26", ["26"]), ("维修工程数量", "≥80处", ["80"]),
        ("投入资金", "15.9万元", ["15.84"]),  # at one decimal 15.84 is 15.8, not 15.9
    ])
    def test_other_money_counts_and_whole_numbers_are_not(self, name, target, amounts):
        assert reviewer.restated_amount(name, parse_target(target), [D(a) for a in amounts]) is None


class TestUnitsThatAreNotUnits:
    @pytest.mark.parametrize(("name", "level2", "target", "written", "implied"), [
        ("合格率", "质量指标", "≥98百分率", "百分率", "%"), ("验收合格率", "质量指标", "100分比", "分比", "%"),
        ("合格率", "质量指标", "≥95个百分点", "个百分点", "%"), ("单处维修成本", "成本指标", "≤30万", "万", "万元"),
    ])
    def test_the_written_unit_and_the_implied_one_are_named(self, name, level2, target, written, implied):
        assert reviewer.unit_word(name, level2, parse_target(target)) == (written, implied)

    def test_a_deadline_given_as_a_count_names_a_time(self):
        written, implied = reviewer.unit_word("维修按时完成", "时效指标", parse_target("≥1次"))
        assert written == "次" and implied.startswith("时间")

    @pytest.mark.parametrize(("name", "level2", "target"), [
        ("合格率", "质量指标", "≥95%"), ("合格率", "质量指标", "≥95百分比"), ("普及率提高", "社会效益指标", "≥2个百分点"),
        ("受益人口", "社会效益指标", "≥4.2万人"), ("办结时限", "时效指标", "≤30个工作日"), ("维修及时率", "时效指标", "≥95%"),
        ("覆盖人口", "社会效益指标", "≥30万"),  # a bare 万 is money only for a money name
    ])
    def test_real_units_pass(self, name, level2, target):
        assert reviewer.unit_word(name, level2, parse_target(target)) is None


class TestActualsThatAreNotActuals:
    @pytest.mark.parametrize(("target", "actual"), [
        ("≥90%", "≥90%"), ("≤2.5万元", "2.5万元以内"), ("≥32处", "不少于32处"), ("建立管护机制", "建立管护机制"),
        ("定性", "已完成"), ("定性", "全部完成"),
    ])
    def test_not_measured(self, target, actual):
        assert reviewer.not_measured(parse_target(target), actual)

    @pytest.mark.parametrize(("target", "actual"), [
        ("≥90%", "93%"), ("32处", "32处"), ("≥95%", "公共资源交易市场各方主体满意度达95%以上"), ("定性", "建立管护制度，运行良好"),
    ])
    def test_measured(self, target, actual):
        assert reviewer.not_measured(parse_target(target), actual) is None

    def test_a_goal_copied_or_only_done(self):
        assert "照抄" in reviewer.copied_goal("保障4.2万人饮水安全。", "保障4.2万人饮水安全")
        assert "已完成" in reviewer.copied_goal("保障4.2万人饮水安全。", "已完成")
        assert reviewer.copied_goal("保障4.2万人饮水安全。", "4.2万人饮水得到保障，全年无断水") is None


class TestTemplateResidue:
    @pytest.mark.parametrize("text", ["≥**人", "（≥**元/人·月）", "××村", "完成＿＿处", "≥XX%", "（此处填写实际完成情况）",
                                      "某某单位", "___"])
    def test_residue_in_every_shape(self, text):
        assert reviewer.template_residue(text)

    @pytest.mark.parametrize("text", ["GB 5749-2022", "2×3米盖板", "1*3", "XXL", "某县水利局"])
    def test_text_that_only_looks_like_it(self, text):
        assert reviewer.template_residue(text) is None

    @pytest.mark.parametrize("text", ["**单位**", "本年**重点**工作", "**一、项目概况**\n\n正文"])
    def test_bold_in_a_narrative_is_markdown_not_a_number_left_blank(self, text):
        assert reviewer.template_residue(text, markdown=True) is None
        assert reviewer.template_residue("服务对象≥**人", markdown=True) == "≥**人"


class TestMisfiled:
    @pytest.mark.parametrize(("name", "level2", "target", "should"), [
        ("污水处理运行资金", "生态效益指标", "≤20万元", "成本指标"), ("受益群众满意程度", "社会效益指标", "≥90%", "满意度指标"),
        ("完成维修养护工程数量", "社会效益指标", "≥32处", "产出指标（数量指标）"),
        ("开展培训人次", "社会效益指标", "≥500人次", "产出指标（数量指标）"),
        ("人均补助标准", "社会效益指标", "≤3000元", "成本指标"), ("每公里管网造价", "经济效益指标", "≤12万元", "成本指标"),
    ])
    def test_misfiled_with_its_reason(self, name, level2, target, should):
        found = reviewer.misplaced(name, "效益指标", level2, parse_target(target))
        assert found is not None and found.should_be == should and found.why

    @pytest.mark.parametrize(("name", "level2", "target"), [
        ("受益人口数量", "社会效益指标", "≥4.2万人"), ("撬动社会资金投入", "经济效益指标", "≥20万元"),
        ("减少污水直排量", "生态效益指标", "≥1.2万吨"), ("带动就业人数", "经济效益指标", "≥50人"),
        ("补助标准提高", "社会效益指标", "≥10%"), ("节约运行费用", "经济效益指标", "≥5万元"),
    ])
    def test_benefits_stay_put(self, name, level2, target):
        assert reviewer.misplaced(name, "效益指标", level2, parse_target(target)) is None
