"""The editable Word report: opens in python-docx, holds the 自评表 with merged cells."""

import os
import shutil
import subprocess

import pytest
from docx import Document

from evaltools.document import write_docx
from evaltools.report import ProjectReport

from conftest import SEED


@pytest.fixture(scope="module")
def docx_path(tmp_path_factory):
    return write_docx(ProjectReport.load(SEED), tmp_path_factory.mktemp("word") / "report.docx")


def test_the_document_opens_and_holds_the_report(docx_path):
    document = Document(docx_path)
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2024年度部门项目支出绩效自评报告" in text and "一、项目概况" in text
    assert "项目资金实际支出1066200.00元" in text and "评价等级为：优" in text
    assert len(document.inline_shapes) == 2  # the spending and score charts


def test_the_self_evaluation_form_has_its_rows_and_merged_cells(docx_path):
    form = Document(docx_path).tables[-1]
    assert len(form.rows) == 10 + 7 + 1  # name, units, 5 funds rows, 2 goal rows, headings; 7 indicators; 总分
    first = 10  # the first indicator row
    assert form.cell(first, 1)._tc is form.cell(first + 3, 1)._tc  # 产出指标 over four rows
    assert form.cell(first + 4, 1)._tc is form.cell(first + 5, 1)._tc  # 效益指标 over two
    assert form.cell(first, 2)._tc is not form.cell(first + 1, 2)._tc  # distinct 二级 stay apart
    assert form.cell(first, 1).text == "产出指标" and form.cell(len(form.rows) - 1, 7).text == "96.00"
    assert form.cell(2, 0)._tc is form.cell(6, 0)._tc and form.cell(2, 0).text == "项目资金（万元）"


def test_page_setup_fonts_and_numbers(docx_path):
    document = Document(docx_path)
    section = document.sections[0]
    assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
    assert round(section.top_margin.cm, 1) == 3.7 and round(section.left_margin.cm, 1) == 2.8
    assert "PAGE" in section.footer._element.xml
    fonts = document.styles["Normal"].element.xml
    assert 'w:eastAsia="宋体"' in fonts
    assert 'w:eastAsia="黑体"' in document.styles["Heading 1"].element.xml


# CI installs LibreOffice (scripts/system-deps.sh --test): there a missing soffice fails rather than skips.
@pytest.mark.skipif(shutil.which("soffice") is None and not os.environ.get("CI"),
                    reason="LibreOffice (soffice) is not installed here")
def test_an_office_suite_converts_it_to_pdf(docx_path, tmp_path):
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx_path)],
                   check=True, capture_output=True, timeout=180)
    text = subprocess.run(["pdftotext", str(tmp_path / "report.pdf"), "-"], capture_output=True, text=True).stdout
    assert "公共资源交易平台运行维护费" in text.replace("\n", "")
