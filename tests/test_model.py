"""The parameter models: what a field accepts, and what it says when it does not."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from evaltools.domain.model import BudgetRow, SpendingItem
from evaltools.domain.yamlio import describe

from conftest import problem_after_edit


def problem(model, **values) -> str:
    with pytest.raises(ValidationError) as info:
        model(**values)
    [error] = info.value.errors()
    return describe(error)


class TestMoney:
    @pytest.mark.parametrize(("value", "says"), [
        ("-10", "不能为负数"),
        ("1e309", "金额过大"),
        (Decimal("1E+12"), "金额过大"),
        (float("inf"), "有限"),
        ("NaN", "有限"),
        (Decimal("106.6200001"), "最多 6 位小数"),
        ("319,788.00", "千位分隔符"),
    ])
    def test_an_amount_in_wan_yuan_is_checked_at_its_field(self, value, says):
        assert says in problem(BudgetRow, executed=value)

    def test_yuan_are_kept_to_the_fen(self):
        assert "最多 2 位小数" in problem(SpendingItem, item="劳务费", amount=Decimal("460507.001"))
        assert SpendingItem(item="劳务费", amount=Decimal("460507.00")).amount == Decimal("460507.00")

    @pytest.mark.parametrize("value", ["0", "106.62", "0.000001", "106.620000000", "999999999999.99"])
    def test_plain_amounts_pass_as_they_are(self, value):
        assert BudgetRow(annual=value).annual == Decimal(value)

    def test_the_file_and_field_are_named(self, workspace):
        found = problem_after_edit(workspace, "executed: 106.62}", "executed: -10}")
        assert (found.file.name, found.field) == ("platform-maintenance.yaml", "budget.appropriation.executed")
        assert found.line
        assert "不能为负数" in found.message


def test_text_is_kept_without_what_excel_or_word_cannot_hold():
    from evaltools.domain.model import Goals

    # Word's line break kept in a paragraph and its page break are line breaks; a cell's end
    # mark, an escape sequence's ESC and the C1 controls are dropped; tabs and new lines stay
    goals = Goals(expected="保障\x07运行\x0b稳定\x0c安全\x1b[0m\x85", achieved="一\t二\n三")
    assert goals.expected == "保障运行\n稳定\n安全[0m\n" and goals.achieved == "一\t二\n三"


def test_direction_overrides_are_left_out_and_the_separators_are_line_breaks():
    """U+202E shows what follows in reverse (金额12345元 read as 元54321额金), U+2066-2069 and the
    marks likewise reorder; U+2028 spreads the line before it to the full width."""
    from evaltools.domain.control_chars import control_findings
    from evaltools.domain.model import Goals

    goals = Goals(expected="金额\u202e12345元\u202c，\u2066甲\u2069\u200f乙\u2028丙\u2029丁")
    assert goals.expected == "金额12345元，甲乙\n丙\n丁"
    assert "U+202E" in dict(control_findings({"expected": "金额\u202e1"}))[("expected",)]


def test_control_characters_are_left_out_before_a_value_is_read_as_a_number_and_inside_mappings():
    from evaltools.domain.model import Narrative, SpendingItem

    assert SpendingItem(item="劳务费", amount="460507.00\x07").amount == Decimal("460507.00")  # a cell's end mark
    assert Narrative(sentences={"conclusion": "综上\x07，\v等级为优。"}).sentences["conclusion"] == "综上，\n等级为优。"


@pytest.mark.parametrize("value", ["1e309", "1e999999999", "-1e999999999", "NaN"])
def test_scores_and_stated_figures_are_finite_and_bounded(value):
    from evaltools.domain.model import Declared, Indicator

    assert "有限" in problem(Declared, total_score=value)
    indicator = {"level2": "数量指标", "name": "x", "target": "≥1", "weight": 10}
    assert "有限" in problem(Indicator, **indicator, score=value)
    # a measured value that is no usable number stays text, for the NOT-A-NUMBER check to name
    assert Indicator(**indicator, actual_value=value).actual_value == value


@pytest.mark.parametrize("entry, field, message", [
    ("    - title: [1, 2]\n      file: attachments/notice.md", "narrative.attachments[0].title", "应为文字"),
    ("    - [1, 2]", "narrative.attachments[0]", "应为键值映射，或应为文字"),
])
def test_a_wrong_attachment_is_one_problem_naming_the_field_as_the_file_writes_it(workspace, entry, field, message):
    """An attachment is a title and a file, or a file's name: one problem, not one per form of it,
    and no model's name in the field's path."""
    seed = "    - title: 湘西州公共资源交易中心关于开展2024年度部门整体（项目）支出绩效自评工作的通知\n      file: attachments/notice.md"
    problem = problem_after_edit(workspace, seed, entry)
    assert (problem.field, problem.message) == (field, message)
