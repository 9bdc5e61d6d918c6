"""Submission grade: the seed project's PDF as a unit hands it in, checked as a finance officer would.

The submission PDF (report.pdf) has the official sign-off blocks and no reviewers' material, the
自评表 on one A4 page, 公文 fonts and sizes, no name broken before its last character, and the
seed's score display; the review edition (report.review.pdf) keeps the 审核提示 and provenance.
Read back with pdftotext (per page, and with -bbox-layout for positions) and pdffonts.
"""

import re
import shutil
import subprocess
from collections import Counter
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
import typst

from evaltools.run.build import run
from evaltools.run.export import render_file
from evaltools.document.project_report import ProjectReport
from evaltools.domain.checks import check_project
from evaltools.domain.scoring import score
from evaltools.domain.workspace import load_project
from evaltools.domain.yamlio import ParamsError

from conftest import SEED

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
BODY_LINE = 156 / 25.4 * 72  # the 版心's width in points
NOTO_LINE_HEIGHT = 1.0  # a line box, per point of font size, as pdftotext measures it in a Typst PDF


@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    out = tmp_path_factory.mktemp("submission")
    outputs = run(SEED, ["pdf"], out)
    review = render_file(outputs.notebook, ["pdf"], edition="review")["pdf"]
    return outputs.files["pdf"], review


def pages(pdf: Path) -> list[str]:
    """Each page's text, block by block (a table cell is one block, so a cell wrapped beside
    another still reads whole)."""
    layout = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    return ["\n".join("".join(unescape(w) for w in re.findall(r"<word[^>]*>(.*?)</word>", block))
                      for block in re.findall(r"<block[^>]*>(.*?)</block>", page, re.S))
            for page in layout.split("<page ")[1:]]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def lines(pdf: Path) -> list[tuple[int, float, float, str]]:
    """Every text line: (page, width, height, text), from pdftotext -bbox-layout. pdftotext cuts a
    line where CJK punctuation is set half-width (、 between 》 and 《): pieces on one baseline that
    touch are one line again."""
    layout = subprocess.run(["pdftotext", "-bbox-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    out: list[list] = []
    for number, page in enumerate(layout.split("<page ")[1:], 1):
        pieces = []
        for x0, y0, x1, y1, body in re.findall(
                r'<line xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</line>', page, re.S):
            text = "".join(unescape(w) for w in re.findall(r"<word[^>]*>(.*?)</word>", body))
            pieces.append((float(y0), float(x0), float(x1), float(y1), text))
        for y0, x0, x1, y1, text in sorted(pieces, key=lambda piece: (round(piece[0]), piece[1])):
            last = out[-1] if out else None
            height = y1 - y0
            if (last and last[0] == number and abs(last[4] - y0) < 0.5 and abs(last[2] - height) < 0.5
                    and -0.6 * height < x0 - last[5] < 2):  # touching, or overlapping by a narrowed punctuation mark
                last[1], last[3], last[5] = max(last[5], x1) - last[6], last[3] + text, max(last[5], x1)
            else:
                out.append([number, x1 - x0, height, text, y0, x1, x0])
    return [(line[0], line[1], line[2], line[3]) for line in out]


def test_the_submission_pdf_has_the_official_sign_off_and_no_reviewers_material(editions):
    text = squeeze("".join(pages(editions[0])))
    for label in ("评价组组长（签字）：", "项目实施单位名称（盖章）：", "主管部门（盖章）：", "财政部门归口业务科室意见：",
                  "财政部门归口业务科室负责人（签字）：", "财政部门归口业务科室（盖章）："):
        assert label in text
    assert "审核提示" not in text and "本报告由程序根据参数生成" not in text


def test_the_first_page_table_merges_the_execution_label_as_the_form_does(seed):
    table = ProjectReport.of(seed).first_page().children[2]
    merged = [c for row in table.rows for c in row.cells if c.text == "项目执行情况"]
    assert len(merged) == 1 and merged[0].rowspan == 8


def test_the_review_edition_keeps_the_box_and_the_provenance(editions):
    text = squeeze("".join(pages(editions[1])))
    assert editions[1].name == "report.review.pdf"
    assert "审核提示" in text and "本报告由程序根据参数生成" in text and "字体仿宋：" in text


def test_the_self_evaluation_form_is_on_one_a4_page(editions):
    texts = [squeeze(t) for t in pages(editions[0])]
    first = next(i for i, t in enumerate(texts) if "项目支出绩效自评表（2024年度）" in t)
    raw = squeeze(subprocess.run(["pdftotext", "-raw", "-f", str(first + 1), "-l", str(first + 1), str(editions[0]), "-"],
                                 capture_output=True, text=True).stdout)  # each cell's text in the order it is set
    assert "填报日期" in raw and "等级：优" in raw and "社会公众或服务对象满意度" in raw
    size = subprocess.run(["pdfinfo", "-f", str(first + 1), "-l", str(first + 1), str(editions[0])],
                          capture_output=True, text=True).stdout
    assert re.search(r"size:\s+595\.\d* x 841\.\d*", size)  # A4 portrait


def test_the_seed_scores_are_shown_as_the_form_shows_them(editions):
    text = squeeze("".join(pages(editions[0])))
    assert "评分：96" in text and "得分为96分" in text and "资金到位率100%" in text
    assert "96.00" not in text and "100.00%" not in text
    layout = subprocess.run(["pdftotext", "-bbox-layout", str(editions[0]), "-"], capture_output=True, text=True).stdout
    page = [p for p in layout.split("<page ") if "项目支出绩效自评表" in p][-1]
    cells = [unescape(w) for w in re.findall(r"<word[^>]*>(.*?)</word>", page)]
    assert cells.count("15") >= 3 and cells.count("13") == 2 and "96" in cells  # 分值/得分 15 15, 15 13 …


def test_gongwen_fonts_and_sizes(editions):
    fonts = subprocess.run(["pdffonts", str(editions[0])], capture_output=True, text=True).stdout.replace("-", "")
    for face in ("NotoSerifCJKsc", "NotoSansCJKsc", "UKaiCN"):  # 仿宋/小标宋, 黑体, 楷体 stand-ins (PostScript names)
        assert face.lower() in fonts.lower()
    found = lines(editions[0])
    body = [(w, h, t) for _, w, h, t in found if abs(h / NOTO_LINE_HEIGHT - 16) < 0.5]
    full = [t for w, _, t in body if w > BODY_LINE - 8 and not re.search(r"[\x00-\x7f]", t)]  # Chinese only
    assert len(full) > 60  # the body is 三号 (16 pt) …
    assert sum(len(t) == 28 for t in full) > 0.8 * len(full)  # … at 28 characters a full line
    per_page = Counter(page for page, _, h, _ in found if abs(h / NOTO_LINE_HEIGHT - 16) < 0.5)
    assert max(per_page.values()) == 22  # … at 22 lines a page
    title = [t for _, _, h, t in found if abs(h / NOTO_LINE_HEIGHT - 22) < 0.6]
    assert any("项目支出绩效自评报告" in t for t in title)  # the title is 二号 (22 pt)
    assert any(t.startswith("一、项目概况") for _, _, h, t in found if abs(h / NOTO_LINE_HEIGHT - 16) < 0.5)


def test_no_line_ends_a_name_but_for_its_last_character(editions, seed):
    p = seed.params.project
    names = {p.name, p.implementer, p.department, "项目支出绩效自评报告"}
    found = [t for _, _, _, t in lines(editions[0])]
    for before, after in zip(found, found[1:], strict=False):
        for name in names:
            assert not (before.endswith(name[:-1]) and after.startswith(name[-1]) and len(after) <= 2), (before, after)


def test_a_unit_keeps_its_own_sentence(workspace):
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = (project.read_text(encoding="utf-8") + "\noptions: {deductions: true, spending_table: true}\n").replace(
        "  other: 无\n", "  other: 无\n  sentences:\n    completion: 如上所示，各项指标均已完成，总分{{总分}}分。\n")
    project.write_text(text, encoding="utf-8")
    report = ProjectReport.load(project)
    assert "如上所示，各项指标均已完成，总分96分。" in report.completion_sentence()
    assert "扣2分" not in report.performance() and "占比" in report.funds()
    assert report.findings == []  # its figures agree with the tables


def test_attachments_are_listed_only_when_attached_and_pdfs_are_appended(workspace, tmp_path):
    department = workspace / "2024" / "xiangxi-ggzy"
    project = department / "platform-maintenance.yaml"
    (department / "attachments" / "scan.pdf").write_bytes(typst.compile(
        '#set text(font: "Noto Serif CJK SC")\n附件原件第一页\n#pagebreak()\n第二页'.encode()))
    text = project.read_text(encoding="utf-8").replace(
        "      file: attachments/notice.md\n",
        "      file: attachments/notice.md\n    - {title: 项目验收报告, file: attachments/scan.pdf}\n")
    project.write_text(text, encoding="utf-8")
    report = ProjectReport.load(project)
    listed = str(report.closing())
    assert "附件1：湘西州公共资源交易中心" in listed and "附件2：“公共资源交易平台运行维护费”项目支出绩效自评表" in listed
    assert "附件3：项目验收报告" in listed
    outputs = run(project, ["pdf"], tmp_path)
    texts = [squeeze(t) for t in pages(outputs.files["pdf"])]
    assert texts[-2:] == ["附件原件第一页", "第二页"]


@pytest.mark.parametrize(("file", "message"), [("attachments/missing.md", "不存在"), ("../../../../outside.md", "不在工作区")])
def test_an_attachment_that_cannot_be_used_is_a_check_error_and_refuses_only_the_report(workspace, tmp_path, file,
                                                                                          message):
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    (workspace.parent / "outside.md").write_text("外面的文件", encoding="utf-8")
    project.write_text(project.read_text(encoding="utf-8").replace("file: attachments/notice.md", f"file: {file}"),
                       encoding="utf-8")
    loaded = load_project(project)  # the file is readable: scoring does not need the attachment
    assert score(loaded.params, loaded.rules).total == Decimal("96.00")
    [finding] = [f for f in check_project(loaded) if f.code == "ATTACHMENT-MISSING"]
    assert finding.severity == "error" and finding.field == "narrative.attachments[0].file"
    assert file in finding.message and message in finding.message and finding.file == project and finding.line
    with pytest.raises(ParamsError, match=r"narrative\.attachments\[0\]\.file.*" + message):
        run(project, ["html"], tmp_path / "outputs")
    assert not (tmp_path / "outputs").exists()  # refused before anything was made


def test_a_form_too_long_for_one_page_breaks_between_first_level_indicators(workspace, tmp_path):
    """Each 一级指标 with all its rows on one page, the header row repeated on the next."""
    project = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = project.read_text(encoding="utf-8")
    text = re.sub(r"(\n    actual: )([^\n]+)", lambda m: m.group(1) + m.group(2) * 2, text)
    project.write_text(text, encoding="utf-8")
    outputs = run(project, ["pdf"], tmp_path)
    pdf = str(outputs.files["pdf"])
    count = int(re.search(r"Pages:\s+(\d+)", subprocess.run(["pdfinfo", pdf], capture_output=True, text=True).stdout)[1])
    raw = [squeeze(subprocess.run(["pdftotext", "-raw", "-f", str(i), "-l", str(i), pdf, "-"], capture_output=True,
                                  text=True).stdout) for i in range(1, count + 1)]
    start = raw.index(next(t for t in raw if "项目支出绩效自评表（2024年度）" in t))
    form = [t[t.index("三级指标"):] for t in raw[start:] if "三级指标" in t]  # the indicator rows of each page
    assert len(form) >= 2  # it runs over, each page with the header row
    report = ProjectReport.load(project)
    for level in ("产出指标", "效益指标", "满意度指标"):
        rows = [r.indicator.name for r in report.card.indicators if r.level1 == level]
        pages_of = {i for i, page in enumerate(form) for name in rows if squeeze(name) in page}
        assert len(pages_of) == 1, (level, pages_of)  # never split
