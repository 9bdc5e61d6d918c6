"""Targets and measured values as people write them."""

from decimal import Decimal

import pytest

from evaltools.domain.targets import Operator, Quantity, find_quantity, parse_quantity, parse_target


@pytest.mark.parametrize(
    ("text", "operator", "value", "unit"),
    [
        ("≥95%", Operator.GE, "95", "%"),
        (">=95%", Operator.GE, "95", "%"),
        ("不低于95%", Operator.GE, "95", "%"),
        ("95%以上", Operator.GE, "95", "%"),
        ("$\\geq 95\\%$", Operator.GE, "95", "%"),
        ("＞90%", Operator.GT, "90", "%"),
        ("≤106.62万元", Operator.LE, "106.62", "万元"),
        ("不超过5‰", Operator.LE, "5", "‰"),
        ("<3天", Operator.LT, "3", "天"),
        ("低于3天", Operator.LT, "3", "天"),
        ("≥1,000人次", Operator.GE, "1000", "人次"),
        ("≥12个", Operator.GE, "12", "个"),
        ("=4项", Operator.EQ, "4", "项"),
        ("100%", Operator.EQ, "100", "%"),
        ("8‰", Operator.EQ, "8", "‰"),
        ("1066200元", Operator.EQ, "1066200", "元"),
    ],
)
def test_quantitative_targets_give_operator_number_and_unit(text, operator, value, unit):
    target = parse_target(text)
    assert target.kind == "quantitative"
    assert (target.operator, target.quantity) == (operator, Quantity(Decimal(value), unit))


def test_a_target_without_operator_takes_the_default_given():
    assert parse_target("106.62万元", default_operator=Operator.LE).operator is Operator.LE


@pytest.mark.parametrize("text", ["定性", "定性指标", "好", "明显提升", "", None])
def test_text_without_a_number_is_qualitative(text):
    assert parse_target(text).kind == "qualitative"


@pytest.mark.parametrize("text", ["2024年度", "2024年12月底前", "2024年底", "2025年6月"])
def test_a_year_or_date_is_a_deadline(text):
    assert parse_target(text).kind == "deadline"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100%", Quantity(Decimal(100), "%")),
        ("95%以上", Quantity(Decimal(95), "%")),
        ("≥95%", Quantity(Decimal(95), "%")),
        ("1,066,200元", Quantity(Decimal(1066200), "元")),
        (Decimal("99.5"), Quantity(Decimal("99.5"), "%")),
        (100, Quantity(Decimal(100), "%")),
        # an area, a volume after its multiple and per what: three characters of 万平方米 left 米
        # over, and the value was taken for a sentence (NOT-A-NUMBER, the report a draft)
        ("1.3万平方米", Quantity(Decimal("1.3"), "万平方米")),
        ("1.2万平方米/年", Quantity(Decimal("1.2"), "万平方米/年")),
        ("3万立方米", Quantity(Decimal(3), "万立方米")),
        ("5个项目", Quantity(Decimal(5), "个项目")),
    ],
)
def test_measured_values_are_read_with_their_unit(value, expected):
    assert parse_quantity(value, default_unit="%") == expected


@pytest.mark.parametrize("value", ["基本完成", "约一百", "100%，完成率高", None, True])
def test_a_sentence_is_not_a_measured_value(value):
    assert parse_quantity(value, "%") is None


def test_money_and_ratios_convert_within_their_kind():
    assert Quantity(Decimal("1066200"), "元").to("万元") == Quantity(Decimal("106.62"), "万元")
    assert Quantity(Decimal("1.5"), "亿元").to("万元") == Quantity(Decimal("15000"), "万元")
    assert Quantity(Decimal(8), "‰").to("%") == Quantity(Decimal("0.8"), "%")
    assert Quantity(Decimal(3), "个").to("万元") is None
    assert Quantity(Decimal(3), "%").to("元") is None


@pytest.mark.parametrize("text", ["12月底前", "11月30日前", "年底前", "年内"])
def test_a_month_or_the_year_end_without_a_year_is_a_deadline(text):
    assert parse_target(text).kind == "deadline"


@pytest.mark.parametrize(("text", "operator", "value", "unit"), [
    ("10个工作日内", Operator.LE, "10", "个工作日"), ("3天内", Operator.LE, "3", "天"),
    ("≥100百分比", Operator.GE, "100", "%"),
])
def test_durations_within_and_percent_written_out(text, operator, value, unit):
    target = parse_target(text)
    assert (target.operator, target.quantity) == (operator, Quantity(Decimal(value), unit))


@pytest.mark.parametrize(("text", "unit", "expected"), [
    ("入场项目全流程电子化率达100%", "%", Quantity(Decimal(100), "%")),
    ("完成32处供水工程维修", "处", Quantity(Decimal(32), "处")),
    ("全年支出1066200元", "万元", Quantity(Decimal("106.62"), "万元")),
    ("电子化率由90%提高到100%", "%", None),  # two values: which one is meant is for the writer to say
    ("基本完成", "%", None),
    ("完成32处供水工程维修", "%", None),
])
def test_the_one_value_of_a_sentence_in_the_targets_unit(text, unit, expected):
    assert find_quantity(text, unit) == expected


@pytest.mark.parametrize(("text", "operator", "value", "unit"), [
    ("≧95%", Operator.GE, "95", "%"), ("≦2.5万元", Operator.LE, "2.5", "万元"), ("═100%", Operator.EQ, "100", "%"),
    ("＞＝９５％", Operator.GE, "95", "%"), ("＜＝30天", Operator.LE, "30", "天"), ("≥=90%", Operator.GE, "90", "%"),
    (">=4.2万人", Operator.GE, "4.2", "万人"), ("<=3个工作日", Operator.LE, "3", "个工作日"),
    ("不少于32处", Operator.GE, "32", "处"), ("不高于2.5万元", Operator.LE, "2.5", "万元"), ("达到95%", Operator.GE, "95", "%"),
    ("＞90%", Operator.GT, "90", "%"), ("＜5天", Operator.LT, "5", "天"), ("＝100%", Operator.EQ, "100", "%"),
    ("≥百分之95", Operator.GE, "95", "%"), ("≥98百分率", Operator.GE, "98", "%"), ("100分比", Operator.EQ, "100", "%"),
])
def test_operators_as_real_forms_print_them(text, operator, value, unit):
    target = parse_target(text)
    assert target.is_quantitative and not target.unreadable
    assert (target.operator, target.quantity) == (operator, Quantity(Decimal(value), unit))


@pytest.mark.parametrize(("text", "operator", "value", "unit"), [
    ("合格率≥95%", Operator.GE, "95", "%"), ("电子化率达95%以上", Operator.GE, "95", "%"),
    ("满意度不低于90%", Operator.GE, "90", "%"),
])
def test_a_label_repeated_before_the_target_is_read_past(text, operator, value, unit):
    target = parse_target(text)
    assert (target.operator, target.quantity) == (operator, Quantity(Decimal(value), unit))


@pytest.mark.parametrize("text", ["≥九成五", "完成3个村的改造", "≥九十%"])
def test_a_target_that_looks_numeric_but_cannot_be_read_says_so(text):
    target = parse_target(text)
    assert target.kind == "qualitative" and target.unreadable


@pytest.mark.parametrize("text", ["定性", "达到预期", "建立管护制度", "≥上年水平", "≥**人", "2024年12月底前"])
def test_qualitative_targets_and_residue_are_not_unreadable_numbers(text):
    assert not parse_target(text).unreadable
