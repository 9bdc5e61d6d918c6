"""Each consistency check fires on a small break of the seed project and not on the seed."""

from collections.abc import Callable

import shutil

import pytest

from evaltools.checks import CHECKS, check_project
from evaltools.workspace import load_project


def ind(data: dict, name_part: str) -> dict:
    return next(i for i in data["indicators"] if name_part in i["level2"])


def set_in(data: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


# code → mutations that must raise it (several where a check has several branches)
FAILING: dict[str, list[Callable[[dict], None]]] = {
    "EXEC-RATE": [lambda d: set_in(d, "budget.appropriation.executed", 120)],
    "EXEC-SCORE": [lambda d: set_in(d, "declared.execution_score", 9),
                   lambda d: set_in(d, "declared.execution_rate", 99)],
    "BUDGET-TOTAL": [lambda d: set_in(d, "budget.total", {"initial": 0, "annual": 106.62, "executed": 100})],
    "INVESTMENT-TOTAL": [lambda d: set_in(d, "investment.planned.total", 110)],
    "FUNDING-RATE": [lambda d: set_in(d, "investment.received.other", 5)],
    "SPENDING-SUM": [lambda d: d["spending"].append({"item": "差旅费", "amount": 100})],
    "CATEGORY": [lambda d: set_in(ind(d, "数量"), "level2", "规模指标"),
                 lambda d: set_in(ind(d, "数量"), "level1", "效益指标")],
    "WEIGHTS": [lambda d: set_in(ind(d, "数量"), "weight", 20)],
    "NOT-A-NUMBER": [lambda d: set_in(ind(d, "数量"), "actual_value", "基本完成"),
                     lambda d: set_in(ind(d, "数量"), "actual_value", None),
                     lambda d: set_in(ind(d, "数量"), "actual_value", "3个")],
    "SCORE-MISSING": [lambda d: set_in(ind(d, "质量"), "score", None)],
    "SCORE-OVER-WEIGHT": [lambda d: set_in(ind(d, "质量"), "score", 16)],
    "MET-BUT-DEDUCTED": [lambda d: set_in(ind(d, "数量"), "score", 14)],
    "SCORE-MISMATCH": [lambda d: (set_in(ind(d, "数量"), "actual_value", "76%"),
                                  set_in(ind(d, "数量"), "deviation", "原因"))],
    "TIER": [lambda d: set_in(ind(d, "质量"), "tier", "部分达成")],
    "DEVIATION-MISSING": [lambda d: set_in(ind(d, "质量"), "deviation", None),
                          lambda d: set_in(ind(d, "数量"), "actual_value", "90%")],
    "OVERACHIEVEMENT": [lambda d: set_in(ind(d, "数量"), "target", "≥60%")],
    "TOTAL-SCORE": [lambda d: set_in(d, "declared.total_score", 95)],
    "GRADE": [lambda d: set_in(d, "declared.grade", "良")],
    "TEMPLATE-TEXT": [lambda d: set_in(d, "narrative.other", "……"),
                      lambda d: set_in(ind(d, "质量"), "name", "指标2"),
                      lambda d: set_in(d, "summary.background", "（100字以内）")],
    "FIGURE-NAME": [lambda d: set_in(d, "narrative.other", "共{{支出总额}}万元")],
    "MALFORMED-NUMBER": [lambda d: set_in(d, "summary.funds_input", "财政拨款106.62.00万元，已全部到位。")],
    # a unit's own sentence naming a score, deduction or rate the tables do not have
    "SENTENCE-FIGURE": [lambda d: set_in(d, "narrative.sentences", {"conclusion": "经自评，得分为95分。"}),
                        lambda d: set_in(d, "narrative.sentences", {"completion": "如上所示，“质量”扣3分。"})],
    "ATTACHMENT-NOT-ATTACHED": [lambda d: d["narrative"]["attachments"].append("某某通知（未附文件）")],
    "UNIT-CONFLICT": [lambda d: set_in(d, "summary.economic", "电子担保费率由去年8%降至5%。")],
    "DATE-RANGE": [lambda d: set_in(d, "evaluation.signoff.team_leader.date", "2015-04-23"),
                   lambda d: set_in(d, "evaluation.report_date", "2027-01")],
    "DATE-ORDER": [lambda d: set_in(d, "project.period", {"start": "2024-12", "end": "2024-01"}),
                   lambda d: set_in(d, "project.period", {"start": "2024-01", "end": "2025-06"})],
    "PERIOD-YEAR": [lambda d: set_in(d, "project.period", {"start": "2022-01", "end": "2023-12"})],
    "SIGNER": [lambda d: set_in(d, "evaluation.signoff.team_leader.name", "董桂玲")],
    "YEAR-FOLDER": [],  # needs a file in a folder: see test_year_folder_must_match_the_year
}

# Variants close to a failing case that must pass, so that the check is not merely noisy.
PASSING: dict[str, list[Callable[[dict], None]]] = {
    "EXEC-RATE": [lambda d: set_in(d, "budget.appropriation.executed", 100)],
    "EXEC-SCORE": [lambda d: set_in(d, "declared.execution_rate", "100.004")],
    "BUDGET-TOTAL": [lambda d: set_in(d, "budget.total", {"initial": 0, "annual": 106.62, "executed": 106.62})],
    "INVESTMENT-TOTAL": [lambda d: set_in(d, "investment.planned.total", 106.62)],
    "SPENDING-SUM": [lambda d: d["spending"].__setitem__(0, {"item": "维修（护）费", "amount": "319788"})],
    "CATEGORY": [lambda d: set_in(ind(d, "经济"), "level2", "经济效益")],
    "WEIGHTS": [lambda d: (d["indicators"].pop(), set_in(ind(d, "数量"), "weight", 25))],
    "NOT-A-NUMBER": [lambda d: set_in(ind(d, "成本"), "actual_value", "1066200元")],
    "SCORE-OVER-WEIGHT": [lambda d: set_in(ind(d, "质量"), "score", 15)],
    "TIER": [lambda d: set_in(ind(d, "质量"), "tier", "达成")],
    "DEVIATION-MISSING": [lambda d: set_in(ind(d, "质量"), "score", 15) or set_in(ind(d, "质量"), "deviation", None)],
    "OVERACHIEVEMENT": [lambda d: (set_in(ind(d, "数量"), "target", "≥60%"), set_in(ind(d, "数量"), "deviation", "目标偏低"))],
    "GRADE": [lambda d: set_in(d, "declared.grade", " 优 ")],
    "TEMPLATE-TEXT": [lambda d: set_in(d, "narrative.other", "绩效指标2项均已完成")],
    "UNIT-CONFLICT": [lambda d: set_in(d, "summary.economic", "电子担保费率由去年8‰降至5‰。")],
    "DATE-RANGE": [lambda d: set_in(d, "evaluation.report_date", "2025-12")],
    "SIGNER": [lambda d: set_in(d, "evaluation.signoff.team_leader.name", "董 佳瑛")],
}


def test_every_check_has_a_failing_fixture():
    assert {spec.code for spec in CHECKS} == set(FAILING)


def test_the_seed_project_is_clean(seed):
    assert check_project(seed) == []


@pytest.mark.parametrize(
    ("code", "mutate"),
    [(code, m) for code, mutations in FAILING.items() for m in mutations],
    ids=[f"{code}-{i}" for code, mutations in FAILING.items() for i in range(len(mutations))],
)
def test_check_fires(codes_after, code, mutate):
    assert code in codes_after(mutate)


@pytest.mark.parametrize(
    ("code", "mutate"),
    [(code, m) for code, mutations in PASSING.items() for m in mutations],
    ids=[f"{code}-{i}" for code, mutations in PASSING.items() for i in range(len(mutations))],
)
def test_check_stays_quiet_on_a_close_but_valid_variant(codes_after, code, mutate):
    assert code not in codes_after(mutate)


def test_a_met_target_with_points_deducted_is_reported_once(codes_after):
    codes = codes_after(lambda d: set_in(ind(d, "数量"), "score", 14))
    assert codes.count("MET-BUT-DEDUCTED") == 1 and "SCORE-MISMATCH" not in codes


def test_findings_are_located_in_the_file_that_sets_the_field(workspace):
    department = workspace / "2024" / "xiangxi-ggzy" / "_department.yaml"
    text = department.read_text(encoding="utf-8").replace(
        "team_leader: {name: 董佳瑛, date: 2025-04-23}", "team_leader: {name: 董佳瑛, date: 2015-04-23}")
    department.write_text(text, encoding="utf-8")
    project = load_project(department.parent / "platform-maintenance.yaml")
    [finding] = check_project(project)
    assert (finding.code, finding.file, finding.field) == (
        "DATE-RANGE", department, "evaluation.signoff.team_leader.date")
    assert text.splitlines()[finding.line - 1].strip().startswith("team_leader:")
    assert "2015年4月23日" in finding.message


def test_year_folder_must_match_the_year(workspace):
    project_file = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    moved = workspace / "2023" / "xiangxi-ggzy"
    moved.mkdir(parents=True)
    shutil.copytree(project_file.parent, moved, dirs_exist_ok=True)
    codes = [f.code for f in check_project(load_project(moved / project_file.name))]
    assert "YEAR-FOLDER" in codes
    assert "YEAR-FOLDER" not in [f.code for f in check_project(load_project(project_file))]
