"""A corpus of small 自评表 written the way real forms from several provinces go right and wrong.

Each file in tests/forms/ is one case: ``form`` (deep-merged over ``_base.yaml``, a correct
form-only file), optional ``rules`` (a province's ``_rules.yaml``) and ``expect``: the findings
it must raise and those it must not, or ``clean: true`` for a correct form that must raise
nothing at all. ``also`` lists further findings the defect brings with it (a wrong 得分 also
makes the 总分 wrong); any finding not named is a failure, so a case is also a guard against
false alarms.
"""

from decimal import Decimal
from pathlib import Path

import pytest

from evaltools.domain.checks import CHECKS, Finding, check_project
from evaltools.writers.docx import WordWriter
from evaltools.document.project_report import ProjectReport
from evaltools.domain.rules import load_rules
from evaltools.domain.workspace import load_project
from evaltools.domain.yamlio import deep_merge, dump_yaml, read_yaml


FORMS = Path(__file__).parent / "forms"
CASES = sorted(p for p in FORMS.glob("*.yaml") if not p.name.startswith("_"))
KNOWN = {spec.code for spec in CHECKS}


def findings_of(case: Path, tmp_path: Path) -> tuple[dict, list[Finding]]:
    """The case written out as a project file in a year folder (with its rules) and checked."""
    data = read_yaml(case).data
    folder = tmp_path / "params" / "2024" / "dept"
    folder.mkdir(parents=True)
    if data.get("rules"):
        (folder / "_rules.yaml").write_text(dump_yaml({"name": f"规则（{case.stem}）", **data["rules"]}), encoding="utf-8")
    form = deep_merge(read_yaml(FORMS / "_base.yaml").data, data.get("form") or {})
    project = folder / case.name
    project.write_text(dump_yaml(form), encoding="utf-8")
    return data, check_project(load_project(project))


def test_the_corpus_is_large_enough_and_names_real_checks():
    assert len(CASES) >= 25
    clean = 0
    for case in CASES:
        expect = read_yaml(case).data["expect"]
        named = {*expect.get("raises", []), *expect.get("not", []), *read_yaml(case).data.get("also", [])}
        assert named <= KNOWN, f"{case.name}: {named - KNOWN}"
        assert expect.get("clean") or (expect["raises"] and expect["not"]), case.name
        clean += bool(expect.get("clean"))
    assert clean >= 10


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_case(case, tmp_path):
    data, findings = findings_of(case, tmp_path)
    expect = data["expect"]
    codes = {f.code for f in findings}
    shown = "\n".join(str(f) for f in findings)
    if expect.get("clean"):
        assert findings == [], shown
        return
    assert set(expect["raises"]) <= codes, shown
    assert not codes & set(expect["not"]), shown
    assert codes <= {*expect["raises"], *data.get("also", [])}, shown


def test_findings_speak_of_the_form_not_the_schema(tmp_path):
    """Messages name cells as the form prints them (实际完成值为空), never a field name."""
    for case in CASES:
        target = tmp_path / case.stem
        _, findings = findings_of(case, target)
        for finding in findings:
            assert not any(word in finding.message for word in ("actual_value", "target", "weight", "deviation")), finding


def test_a_blank_cell_is_located_at_its_line(tmp_path):
    _, findings = findings_of(FORMS / "blank-actual.yaml", tmp_path)
    [blank] = [f for f in findings if f.code == "BLANK-CELL"]
    assert blank.field == "indicators[0].actual" and blank.line is not None
    assert blank.message == "“维修养护供水工程数量”的实际完成值为空"


def test_province_rules_apply_from_the_rules_file(tmp_path):
    _, findings = findings_of(FORMS / "exec-below-province-threshold.yaml", tmp_path)
    [finding] = [f for f in findings if f.code == "EXEC-UNEXPLAINED"]
    assert "低于 90%" in finding.message and "万元未执行" in finding.message
    assert load_rules(tmp_path / "params" / "2024" / "dept" / "_rules.yaml").execution.explain_below == Decimal("0.9")


@pytest.mark.parametrize("case", [FORMS / n for n in ("clean-blank-and-slash-cells.yaml", "clean-provincial-labels.yaml",
                                                        "clean-extra-budget-rows.yaml", "form-only-empty-department.yaml",
                                                        "score-without-weight.yaml", "target-in-name.yaml")],
                         ids=lambda p: p.stem)
def test_reports_hold_what_real_forms_leave_blank(case, tmp_path):
    """Blank and "/" cells, rows without 分值, extra budget rows: the report and its Word twin are made."""
    findings_of(case, tmp_path)
    report = ProjectReport.load(tmp_path / "params" / "2024" / "dept" / case.name)
    parts = [report.cover(), report.review(), report.first_page(), report.overview(), report.funds(),
             report.organisation(), report.performance(), report.conclusion(), report.lessons(),
             report.closing(), report.form(), report.provenance()]
    html = "".join(str(part) for part in parts)
    assert report.params.project.name in html
    assert "某水绩评〔2025〕3号" in str(report.cover()) and "财务负责人：李芳" in str(report.form())  # 报告编号, 财务负责人
    if case.stem == "clean-extra-budget-rows":
        assert "财政专户管理资金" in str(report.form()) and "单位资金" in str(report.form())
    word = WordWriter()
    for part in parts:
        word.block(word.document, part)
    assert word.to_bytes(report.params.project.name)


def test_a_wrong_total_names_the_stated_total_the_stated_rows_and_the_computed(tmp_path):
    _, findings = findings_of(FORMS / "total-names-three-figures.yaml", tmp_path)
    [total] = [f for f in findings if f.code == "TOTAL-SCORE"]
    assert "表中总分为 95" in total.message and "表中各项得分相加为 100" in total.message and "按规则计算为 100" in total.message


def test_a_weight_split_off_the_rules_names_every_level_that_is_off(tmp_path):
    _, findings = findings_of(FORMS / "weights-every-level.yaml", tmp_path)
    [weights] = [f for f in findings if f.code == "WEIGHTS" and f.field == "indicators"]
    assert "产出指标 45（应为 50）" in weights.message and "效益指标 35（应为 30）" in weights.message


@pytest.mark.parametrize(("case", "says"), [
    ("restated-budget-yuan", ["158,400元", "15.84 万元"]),
    ("text-share-deposit-contradicts", ["剩余5%", "21.00%"]),
    ("deviation-gap-contradicts", ["少完成2处", "相差 4处"]),
    ("unit-word-rate", ["百分率", "“%”"]),
    ("target-unreadable", ["≥九成五", "未按规则核对"]),
    ("actual-repeats-target", ["≥90%", "实测值"]),
    ("output-count-under-benefit", ["产出指标", "处"]),
], ids=lambda v: v if isinstance(v, str) else "")
def test_a_finding_says_what_a_reviewer_would_write_back(case, says, tmp_path):
    """The figures and words that gave it away, and what to write instead."""
    data, findings = findings_of(FORMS / f"{case}.yaml", tmp_path)
    [finding] = [f for f in findings if f.code in data["expect"]["raises"]]
    assert finding.line is not None and finding.field.startswith(("indicators[", "budget"))
    for words in says:
        assert words in finding.message, finding.message


def test_no_correct_form_raises_an_error_and_judgements_stay_warnings(tmp_path):
    """0 false errors: a correct form raises nothing; the defect cases of the judgement checks raise
    them as warnings (a reviewer may dismiss them)."""
    for case in CASES:
        data, findings = findings_of(case, tmp_path / case.stem)
        if data["expect"].get("clean"):
            assert not [f for f in findings if f.severity == "error"], case.name
    judgements = {spec.code for spec in CHECKS if spec.severity == "warning"}
    assert {"WRONG-CATEGORY", "RESTATED-BUDGET", "TEXT-FIGURES", "UNIT-WORD", "ACTUAL-NOT-MEASURED"} <= judgements
