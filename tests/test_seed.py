"""End to end on the real seed report (湘西州公共资源交易中心, 2024): the numbers it states,
and the errors of the original that the corrected parameters fixed."""

from decimal import Decimal

from evaltools.domain.checks import check_project
from evaltools.domain.placeholders import figures
from evaltools.domain.scoring import percent, score
from evaltools.domain.workspace import load_project


def test_scores_as_the_seed_states_them(seed):
    card = score(seed.params, seed.rules)
    assert percent(card.execution.rate, seed.rules) == "100%"
    assert card.execution.score == Decimal("10.00")
    assert [row.score for row in card.indicators] == [Decimal(s) for s in (15, 13, 10, 10, 15, 13, 10)]
    assert card.total == Decimal("96.00") and card.grade == "优"
    assert [level.score for level in card.levels] == [Decimal(48), Decimal(28), Decimal(10)]


def test_quantitative_rows_are_computed_and_qualitative_ones_given(seed):
    methods = [row.method for row in score(seed.params, seed.rules).indicators]
    assert methods == ["rule", "evaluator", "evaluator", "rule", "evaluator", "evaluator", "rule"]


def test_the_figures_for_the_text_come_from_the_data(seed):
    values = figures(seed.params, score(seed.params, seed.rules), seed.rules)
    assert values["全年预算数"] == "106.62" and values["实际支出元"] == "1066200.00"
    assert values["资金到位率"] == "100%" and values["预算执行率"] == "100%"


def test_the_corrected_seed_has_no_finding(seed):
    assert check_project(seed) == []


def test_the_originals_errors_are_found(workspace):
    """Put back what the seed really said; each error is reported where it stands."""
    department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
    text = department.read_text(encoding="utf-8")
    text = text.replace("team_leader: {name: 董佳瑛, date: 2025-04-23}", "team_leader: {name: 董桂玲, date: 2015-04-23}")
    text = text.replace("unit_head: {name: 董佳瑛, date: 2025-04-23}", "unit_head: {name: 董桂玲, date: 2015-04-23}")
    department.write_text(text, encoding="utf-8")
    project_file = department.parent / "platform-maintenance.yaml"
    original = project_file.read_text(encoding="utf-8")
    original = original.replace("州财资字〔2024〕0009号，财政拨款{{当年财政拨款}}万元，资金到位率{{资金到位率}}。",
                                "州财资字(2024)0009, 财政拨款106.62.00万元, 已全部到位。")
    original = original.replace("减少企业资金占压9.70亿元。电子担保费率由去年8‰降至5‰，为企业",
                                "减少企业资金占压9.70亿元。电子担保汇率由去年8%降至5%，为企业")
    project_file.write_text(original, encoding="utf-8")

    findings = check_project(load_project(project_file))
    by_code = {f.code: f for f in findings}
    assert {"DATE-RANGE", "SIGNER", "MALFORMED-NUMBER", "UNIT-CONFLICT"} <= set(by_code)
    dates = [f for f in findings if f.code == "DATE-RANGE"]
    assert {f.field for f in dates} == {"evaluation.signoff.team_leader.date", "evaluation.signoff.unit_head.date"}
    assert all(f.file == department and "2015年4月23日" in f.message for f in dates)
    assert by_code["MALFORMED-NUMBER"].field == "summary.funds_input"
    assert by_code["UNIT-CONFLICT"].field == "summary.economic"
    assert by_code["SIGNER"].severity == "warning"
