"""The reviewers' decisions: a plain file per year, tied to the report's fingerprint, saved
under a lock so that nobody's decision is lost."""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import yaml

import evaltools
from evaltools.cli import main
from evaltools.domain.files import write_atomic
from evaltools.domain.reviews import (
    CHANGED,
    UNREVIEWED,
    ParamsError,
    ReviewError,
    counts,
    current,
    new_decision,
    read_decisions,
    record,
    report_fingerprint,
    reviews_file,
)
from evaltools.run.index import build_index, write_year_index

REPORT = "xiangxi-ggzy/platform-maintenance"
NOON = dt.datetime(2025, 5, 6, 12, 0, tzinfo=dt.UTC)


def _report(root: Path, report: str = REPORT, text: str = "报告", name: str = "公共资源交易平台运行维护费") -> str:
    """A report as the batch leaves it (its HTML and its run log's summary); its fingerprint."""
    folder = root / "outputs" / "2024" / report
    summary = {"kind": "project", "name": name, "year": 2024, "department": "湘西州公共资源交易中心",
               "department_folder": report.split("/")[0], "total": 96.0, "grade": "优", "rate": 100.0,
               "errors": 0, "warnings": 0, "shown": {"total": "96", "grade": "优", "rate": "100%"}}
    write_atomic(folder / "run.json", json.dumps({"key": "k", "summary": summary}, ensure_ascii=False))
    write_atomic(folder / "report.html", f"<html><body>{text}</body></html>")
    return report_fingerprint(folder)


def test_a_decision_is_a_plain_yaml_entry_with_the_fingerprint_it_was_made_on(tmp_path):
    path = reviews_file(tmp_path, 2024)
    record(path, new_decision(REPORT, "退回修改", "执行率请核对", "王审核", "k1", now=NOON))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# 评审决定")  # says what it is to whoever opens it in git
    assert yaml.safe_load(text) == {"year": 2024, "reports": {REPORT: [
        {"decision": "退回修改", "comment": "执行率请核对", "reviewer": "王审核", "time": "2025-05-06T12:00:00Z",
         "fingerprint": "k1"}]}}


def test_later_decisions_are_appended_and_the_last_one_holds(tmp_path):
    path = reviews_file(tmp_path, 2024)
    record(path, new_decision(REPORT, "退回修改", "请改", "王审核", "k1"))
    record(path, new_decision(REPORT, "通过", "", "李审核", "k2"))
    decisions = read_decisions(path)
    assert [d.decision for d in decisions[REPORT]] == ["退回修改", "通过"]
    assert current(decisions)[REPORT].reviewer == "李审核"


def test_a_report_changed_since_its_decision_reads_changed_awaiting_review():
    decision = new_decision(REPORT, "通过", fingerprint="k1")
    assert decision.status("k1") == "通过"
    assert decision.status("k2") == CHANGED
    assert counts([decision], {REPORT: "k2"}) == {"通过": 0, "退回修改": 0, "待审": 0, CHANGED: 1}


def _record_many(args: tuple[str, int]) -> None:
    path, who = args
    for n in range(15):
        record(Path(path), new_decision(f"dept/report-{n % 3}", "待审", f"{who}-{n}", f"审核人{who}", "k"))


def test_two_reviewers_saving_at_once_lose_nothing(tmp_path):
    path = reviews_file(tmp_path, 2024)
    with ProcessPoolExecutor(max_workers=2) as pool:
        list(pool.map(_record_many, [(str(path), 1), (str(path), 2)]))
    comments = sorted(d.comment for entries in read_decisions(path).values() for d in entries)
    assert comments == sorted(f"{who}-{n}" for who in (1, 2) for n in range(15))


@pytest.mark.parametrize(("given", "said"), [
    ({"decision": "同意"}, "决定应为"),
    ({"report": "../../etc/passwd"}, "部门文件夹/报告文件夹"),
    ({"report": "dept/.hidden"}, "部门文件夹/报告文件夹"),
    ({"comment": "很" * 4001}, "意见 太长"),
    ({"reviewer": ["王"]}, "审核人 应为文字"),
])
def test_a_decision_of_no_kind_or_on_no_report_is_refused_saying_what_was_expected(given, said):
    with pytest.raises(ReviewError, match=said):
        new_decision(**{"report": REPORT, "decision": "通过", **given})


def test_a_comment_keeps_its_lines_and_loses_control_characters():
    decision = new_decision(REPORT, "退回修改", "第一段\r\n第二段\x07\x1b[31m", "王")
    assert decision.comment == "第一段\n第二段[31m"


def test_a_reviews_file_edited_into_nonsense_is_an_error_naming_file_line_and_field(tmp_path):
    path = reviews_file(tmp_path, 2024)
    path.parent.mkdir()
    path.write_text("year: 2024\nreports:\n  dept/report:\n    - decision: 同意\n", encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        read_decisions(path)
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.field) == (path, 3, "reports.dept/report")
    assert "decision 应为" in problem.message


def test_the_index_shows_each_decision_escaped_and_changed_ones_as_such(tmp_path):
    decided_on = _report(tmp_path, text="第一稿")
    record(reviews_file(tmp_path, 2024), new_decision(REPORT, "通过", "<script>alert(1)</script>", "王", decided_on))
    _report(tmp_path, text="第二稿")
    other = _report(tmp_path, "xiangxi-ggzy/other", name="另一个项目")
    record(reviews_file(tmp_path, 2024), new_decision("xiangxi-ggzy/other", "退回修改", "", "李", other))
    html = write_year_index(tmp_path / "outputs" / "2024").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert '<span class="decision-changed">已修改，待复审</span>' in html  # decided on 第一稿, the report is 第二稿 now
    assert '<span class="decision-退回修改">退回修改</span>' in html


def test_an_index_without_decisions_says_unreviewed(tmp_path):
    entry = {"kind": "project", "name": "项目", "department": "部门", "status": "done", "message": "",
             "folder": tmp_path / "2024" / "dept" / "p", "shown": {}, "key": "k"}
    assert f'<td class="decision" data-value="{UNREVIEWED}">{UNREVIEWED}</td>' in build_index("2024", [entry], tmp_path)


def test_read_reviews_gives_a_dataframe_of_the_decisions_in_force(tmp_path):
    fingerprint = _report(tmp_path)
    record(reviews_file(tmp_path, 2024), new_decision(REPORT, "退回修改", "请改", "王", "k1", now=NOON))
    record(reviews_file(tmp_path, 2024), new_decision(REPORT, "通过", "", "王", fingerprint, now=NOON))
    frame = evaltools.read_reviews(tmp_path)
    assert list(frame[["报告", "名称", "状态", "决定"]].itertuples(index=False, name=None)) == [
        (REPORT, "公共资源交易平台运行维护费", "通过", "通过")]
    assert str(frame["年度"].dtype) == "Int64" and str(frame["意见"].dtype) == "string"
    assert frame["时间"].iloc[0] == dt.datetime(2025, 5, 6, 12, 0, tzinfo=dt.UTC)
    (tmp_path / "params" / "2024" / "xiangxi-ggzy").mkdir(parents=True)
    assert len(evaltools.read_reviews(tmp_path / "params" / "2024" / "xiangxi-ggzy")) == 1  # a department's
    assert evaltools.read_reviews(tmp_path / "params" / "2024" / "xiangxi-ggzy").equals(frame)


def test_the_reviews_command_prints_them_and_json(tmp_path, capsys):
    now = _report(tmp_path)
    record(reviews_file(tmp_path, 2024), new_decision(REPORT, "退回修改", "请核对执行率", "王审核", "k1", now=NOON))
    assert main(["reviews", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "已修改，待复审" in printed and "请核对执行率" in printed and "王审核" in printed
    assert main(["reviews", str(tmp_path), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row == {"year": 2024, "report": REPORT, "name": "公共资源交易平台运行维护费", "status": CHANGED,
                   "decision": "退回修改", "comment": "请核对执行率", "reviewer": "王审核",
                   "time": "2025-05-06T12:00:00Z", "fingerprint": "k1", "current_fingerprint": now}


def test_the_reviews_command_names_a_broken_file(tmp_path, capsys):
    path = reviews_file(tmp_path, 2024)
    path.parent.mkdir()
    path.write_text("year: 2024\nreports: [\n", encoding="utf-8")
    assert main(["reviews", str(tmp_path)]) == 1
    assert "2024.yaml" in capsys.readouterr().err


def test_the_year_overview_counts_the_decisions_per_department(workspace):
    from evaltools.document.overview import YearOverview

    record(reviews_file(workspace.parent, 2024), new_decision(REPORT, "退回修改", "请改", "王", "k1"))
    counted = YearOverview.load(workspace / "2024").decisions()
    assert counted.to_dict("records") == [
        {"部门": "湘西土家族苗族自治州公共资源交易中心", "项目数": 1, "通过": 0, "退回修改": 1, "待审": 0, "未审": 0},
        {"部门": "合计", "项目数": 1, "通过": 0, "退回修改": 1, "待审": 0, "未审": 0}]


def test_a_report_made_again_the_same_keeps_its_decision(tmp_path):
    """The fingerprint is the report's content: made again byte for byte (by a new evaltools, say), it stands."""
    decided_on = _report(tmp_path, text="同一份报告")
    record(reviews_file(tmp_path, 2024), new_decision(REPORT, "通过", "", "王", decided_on))
    _report(tmp_path, text="同一份报告")
    [row] = evaltools.read_reviews(tmp_path).to_dict("records")
    assert row["状态"] == "通过"


def test_the_overview_is_planned_again_when_a_decision_is_recorded(example_workspace, tmp_path):
    """The overview counts the decisions: ``reviews/<year>.yaml`` is among its job's inputs, and in its key."""
    from evaltools.run.batch import BatchSettings, plan

    year = example_workspace / "params" / "2024"
    settings = BatchSettings(formats=("html",), out_root=tmp_path / "out")
    [undecided], _ = plan(settings, [], [year])
    assert "reviews/2024.yaml" not in undecided.inputs
    record(reviews_file(example_workspace, 2024), new_decision(REPORT, "通过", "", "王", "k1"))
    [decided], _ = plan(settings, [], [year])
    assert decided.kind == "overview" and "reviews/2024.yaml" in decided.inputs
    assert decided.key != undecided.key
