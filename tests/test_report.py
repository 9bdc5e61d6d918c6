"""The project report's parts: every figure from the data, text escaped, the 自评表 in its layout."""

import re

import pytest

from evaltools.domain.markup import Html, escape, markdown, tag
from evaltools.document.parts import plain_text
from evaltools.document.project_report import ProjectReport
from evaltools.writers.html_parts import html

from conftest import SEED


@pytest.fixture(scope="module")
def report() -> ProjectReport:
    return ProjectReport.load(SEED)


def all_parts(report: ProjectReport) -> str:
    return "".join(html(part) for part in [report.cover(), report.review(), report.first_page(), report.overview(), report.funds(),
                    report.organisation(), report.performance(), report.conclusion(), report.lessons(),
                    report.closing(), report.form(), report.provenance()])


def words(part) -> str:
    return plain_text(part)


class TestMarkup:
    def test_text_is_escaped_and_html_is_kept(self):
        assert escape("<b>") == "&lt;b&gt;"
        assert tag("td", "<i>", Html("<b>x</b>"), class_="num") == '<td class="num">&lt;i&gt;<b>x</b></td>'

    def test_markdown_shows_raw_html_as_text(self):
        assert "<script>" not in markdown("正文<script>alert(1)</script>")
        assert "&lt;script&gt;" in markdown("正文<script>alert(1)</script>")

    def test_markdown_refuses_script_links(self):
        assert 'href="javascript' not in markdown("[点我](javascript:alert(1))")

    @pytest.mark.parametrize("text", ["![图](http://example.invalid/x.png?d=1)", "![图](//example.invalid/x.png)",
                                      "![图][r]\n\n[r]: https://example.invalid/x.png", "![图](../../secret.png)"])
    def test_an_image_that_is_not_inline_data_is_shown_as_text(self, text):
        html = markdown(text)
        assert "<img" not in html and "[图片：图 " in html

    def test_an_inline_image_stays_a_picture(self):
        assert '<img src="data:image/png;base64,AAAA"' in markdown("![图](data:image/png;base64,AAAA)")


def test_no_placeholder_is_left_unfilled(report):
    assert "{{" not in all_parts(report)


def test_narrative_figures_come_from_the_budget(report):
    funds = report.overview()
    assert "年度预算批准资金总额106.62万元" in funds and "实际到位资金106.62万元" in funds


def test_generated_sentences_state_the_computed_figures(report):
    assert words(report.spending_sentence()) == (
        "项目资金实际支出1066200.00元，其中：维修（护）费319788.00元，劳务费460507.00元，"
        "其他商品和服务支出8875.00元，办公设备购置277030.00元。")
    assert "预算执行率为100%" in report.performance()
    assert "本单位项目绩效自评得分为96分，评价等级为：优" in report.conclusion()


def test_conclusion_and_grade_note_follow_the_rules(report):
    page = report.first_page()
    assert "评分：96" in page and "等级：优" in page
    assert "60（含）—80分为较差" in page  # the 湘西 override


def test_completion_sentence_is_the_seeds_unless_the_unit_chooses_deductions(report, workspace):
    """The seed says "指标均全部完成"; naming each deduction is the unit's choice (options.deductions)."""
    assert words(report.completion_sentence()) == "如上所示，指标均全部完成。"
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    project.write_text(project.read_text(encoding="utf-8") + "\noptions: {deductions: true}\n", encoding="utf-8")
    sentence = words(ProjectReport.load(project).completion_sentence())
    assert "“切实保障公共资源交易平台运行稳定”（扣2分）" in sentence
    assert "“推动全州公共资源交易事业高质量发展”（扣2分）" in sentence


def test_a_section_the_unit_left_unwritten_says_so_under_its_heading(workspace):
    """Never a bare heading: a section made only of the unit's text, left unwritten (or blank), says
    so in the reader's words, and TEXT-MISSING names it; 其他需要说明的问题 unwritten is 无."""
    import yaml

    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    data = yaml.safe_load(project.read_text(encoding="utf-8"))
    for key in ("suggestions", "other"):
        data["narrative"].pop(key)
    data["narrative"]["economic"] = "  \n"
    project.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    made = ProjectReport.load(project)
    body = plain_text(made.closing()) + plain_text(made.performance())
    assert "七、有关建议\n有关建议未填写。" in body and "九、其他需要说明的问题\n无" in body
    assert "1、经济效益\n经济效益未填写。\n2、社会效益" in body
    [missing] = [f for f in made.findings if f.code == "TEXT-MISSING"]
    assert "经济效益" in missing.message and "有关建议" in missing.message and "其他需要说明的问题" not in missing.message


def test_a_clean_project_says_so_in_the_review_box(report):
    assert "一致性检查未发现问题" in report.review()


def test_findings_are_shown_to_reviewers(workspace):
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    project.write_text(project.read_text(encoding="utf-8").replace("grade: 优", "grade: 良"), encoding="utf-8")
    box = ProjectReport.load(project).review()
    assert "1 个错误" in box and "[GRADE]" in box and "declared.grade" in box


class TestSelfEvaluationForm:
    def test_first_and_second_level_cells_are_merged(self, report):
        form = html(report.form())
        assert re.search(r'<td class="label" rowspan="4">产出指标（50分）</td>', form)
        assert re.search(r'<td class="label" rowspan="2">效益指标（30分）</td>', form)
        assert '<td class="label" rowspan="5">项目资金（万元）</td>' in form

    def test_every_indicator_row_with_its_score_and_the_total(self, report):
        form = html(report.form())
        assert form.count('class="indicator') == 7
        assert "<strong>96</strong>" in form and "等级：优" in form
        assert ">100%<" in form and "持续推进信息化平台建设，为交易主体提供优质服务" in form

    def test_the_column_headings_repeat_on_each_page(self, report):
        assert re.search(r"<thead><tr><th class=\"label\"><span class=\"line\">绩效</span><span class=\"line\">指标</span>"
                         r"</th><th><span class=\"line\">一级</span><span class=\"line\">指标</span></th>", html(report.form()))

    @pytest.mark.parametrize(("fund_type", "title"), [
        ("一般公共预算", "项目支出绩效自评表"), ("政府性基金预算", "政府性基金预算支出绩效自评表"),
        ("国有资本经营预算", "国有资本经营预算支出绩效自评表"), ("社会保险基金预算", "社会保险基金预算支出绩效自评表"),
    ])
    def test_the_title_follows_the_fund_type(self, workspace, fund_type, title):
        project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
        project.write_text(project.read_text(encoding="utf-8").replace("fund_type: 一般公共预算", f"fund_type: {fund_type}"),
                           encoding="utf-8")
        assert f"湘西土家族苗族自治州公共资源交易中心{title}" in ProjectReport.load(project).form()


class TestFundTypeForms:
    """附件1-5 and 1-7 have the 偏差原因 column; 1-4 and 1-6 have it only when there is one to show."""

    def load(self, workspace, fund_type: str, keep_deviations: bool) -> str:
        project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
        text = project.read_text(encoding="utf-8").replace("fund_type: 一般公共预算", f"fund_type: {fund_type}")
        if not keep_deviations:  # full marks everywhere, so no deviation is needed
            text = text.replace("    score: 13\n    deviation:", "    score: 15\n    deviation_:")
            text = "\n".join(line for line in text.splitlines() if "deviation_:" not in line) + "\n"
            text = text.replace("total_score: 96", "total_score: 100")
        project.write_text(text, encoding="utf-8")
        return html(ProjectReport.load(project).form())

    @pytest.mark.parametrize(("fund_type", "column"), [
        ("一般公共预算", False), ("政府性基金预算", True), ("国有资本经营预算", False), ("社会保险基金预算", True)])
    def test_the_deviation_column_follows_the_form(self, workspace, fund_type, column):
        form = self.load(workspace, fund_type, keep_deviations=False)
        assert ("改进措施" in form) is column
        assert "<strong>100</strong>" in form

    def test_a_deviation_to_show_brings_the_column_on_any_form(self, workspace):
        assert "改进措施" in self.load(workspace, "国有资本经营预算", keep_deviations=True)


def test_hostile_text_is_escaped_everywhere(workspace):
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = project.read_text(encoding="utf-8").replace("  other: 无", '  other: "<script>alert(1)</script><img src=x onerror=alert(2)>"')
    text = text.replace("name: 公共资源交易平台运行维护费", 'name: "平台<b>运维</b>"', 1)
    project.write_text(text, encoding="utf-8")
    html = all_parts(ProjectReport.load(project))
    assert "<script" not in html and "<img src=x" not in html and "<b>运维" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "平台&lt;b&gt;运维&lt;/b&gt;" in html


def test_provenance_names_data_rules_and_version(report):
    line = report.provenance()
    assert "params/2024/xiangxi-ggzy/platform-maintenance.yaml" in line and report.project.fingerprint in line
    assert report.rules.fingerprint in line and "evaltools" in line and "notebooks/project_self_evaluation.ipynb" in line
    assert "/work" not in line and "/tmp" not in line  # relative: the same report on any machine


def test_markdown_nested_past_the_parsers_limit_keeps_every_line_as_text():
    """markdown-it drops the rest of a text nested deeper than it reads: the lines are kept."""
    deep = "".join("  " * i + f"- 层{i}\n" for i in range(30)) + "\n之后的段落\n"
    page = markdown(deep)
    assert all(f"层{i}" in page for i in range(30)) and "之后的段落" in page
    assert markdown("- 一\n  - 二\n\n**粗**") == "<ul>\n<li>一\n<ul>\n<li>二</li>\n</ul>\n</li>\n</ul>\n<p><strong>粗</strong></p>\n"


def test_markdown_the_parser_reads_in_its_own_way_is_still_markdown():
    """A link defined twice, an entity in an address, a row with a cell too many: markdown-it
    keeps one, decodes it, drops the cell; the text is not nested past its limit, and stays
    Markdown (its heading, its bold) rather than plain lines."""
    text = ("## 一、项目概况\n\n资金**全部到位**，见[通知][1]。\n\n[1]: http://a.gov.cn/x?a=1&amp;b=2\n"
            "[1]: http://b.gov.cn\n\n| 等级 | 分 |\n|---|---|\n| 优|良|中 | 9 |")
    page = markdown(text)
    assert "<h2>一、项目概况</h2>" in page and "<strong>全部到位</strong>" in page and "<table>" in page
