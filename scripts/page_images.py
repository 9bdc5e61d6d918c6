"""Every page image of docs/report.md, from the seed's reports as `evaltools run` makes them.

    .venv/bin/python scripts/page_images.py          # writes docs/*.png

Each image is pages side by side (pdftoppm, a grey gutter between), chosen by the text they hold,
so that the images follow the report when its pages move: the submission PDFs' pages, and the
Word report and the Excel 自评表 printed through LibreOffice (``soffice --convert-to pdf``, as
tests/printed.py prints them) under the PDF's pages, each row under a caption. (docs/serve.png,
README's, is a browser's screenshot of ``evaltools serve``, not a page: it is not made here.)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[1]
SEED_DEPARTMENT = ROOT / "params" / "2024" / "xiangxi-ggzy"
DOCS = ROOT / "docs"
DPI, GUTTER, GREY = 60, 12, (200, 200, 200)
CAPTION_SIZE = 16


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return ["".join(page.split()) for page in text.split("\f")]


def first_page_with(texts: list[str], words: str, after: int = 0) -> int:
    """The 1-based number of the first page from ``after`` on that holds ``words``."""
    return next(i for i, text in enumerate(texts, 1) if i > after and words in text)


def page_opening(texts: list[str], words: str) -> int:
    """The first page whose text begins with ``words`` (an attachment's label; a list of
    attachments names it before)."""
    return next(i for i, text in enumerate(texts, 1) if text.startswith(words))


def pages(pdf: Path, numbers: list[int], dpi: int = DPI) -> Image.Image:
    """Pages of a PDF side by side."""
    with tempfile.TemporaryDirectory() as folder:
        images = []
        for page in numbers:
            prefix = Path(folder) / f"p{page}"
            subprocess.run(["pdftoppm", "-r", str(dpi), "-png", "-singlefile", "-f", str(page), "-l", str(page),
                            str(pdf), str(prefix)], check=True, capture_output=True)
            images.append(Image.open(prefix.with_suffix(".png")).convert("RGB"))
    width = sum(i.width for i in images) + GUTTER * (len(images) - 1)
    sheet = Image.new("RGB", (width, max(i.height for i in images)), GREY)
    x = 0
    for image in images:
        sheet.paste(image, (x, 0))
        x += image.width + GUTTER
    return sheet


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    found = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC"], capture_output=True, text=True).stdout
    return ImageFont.truetype(found, CAPTION_SIZE) if found else ImageFont.load_default()


def captioned(rows: list[tuple[str, Image.Image]]) -> Image.Image:
    """Rows of pages, one under the other, each under its caption."""
    font, band = _font(), CAPTION_SIZE + 14
    width = max(image.width for _, image in rows) + 2 * GUTTER
    sheet = Image.new("RGB", (width, sum(band + image.height + GUTTER for _, image in rows)), GREY)
    draw, y = ImageDraw.Draw(sheet), 0
    for caption, image in rows:
        draw.text((GUTTER, y + 5), caption, fill=(0, 0, 0), font=font)
        sheet.paste(image, (GUTTER, y + band))
        y += band + image.height + GUTTER
    return sheet


def save(image: Image.Image, name: str, what: str) -> None:
    # pages are black on white with a few greys: a palette of 64 keeps them sharp and a third the size
    image.quantize(colors=64).save(DOCS / name, optimize=True)
    print(f"docs/{name}: {what}")


def printed(document: Path, folder: Path) -> Path:
    """``document`` (docx, xlsx) printed by LibreOffice as a PDF (a profile of its own)."""
    profile = (folder / ".lo-profile").resolve().as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), str(document)], check=True, capture_output=True, timeout=300)
    return folder / f"{document.stem}.pdf"


def pdf_images(project: Path, department: Path) -> None:
    texts = page_texts(project)
    signoff = first_page_with(texts, "财政部门归口业务科室意见")
    form = first_page_with(texts, "项目支出绩效自评表（2024年度）")
    save(pages(project, [1, 2]), "cover-and-first-page.png", "pages 1, 2 of the project's PDF")
    body = first_page_with(texts, "一、项目概况", signoff)
    save(pages(project, [signoff, body]), "sign-off-and-body.png", f"pages {signoff}, {body} of the project's PDF")
    save(pages(project, [form]), "self-evaluation-form.png", f"page {form} of the project's PDF")
    texts = page_texts(department)
    chosen = [1, first_page_with(texts, "财政部门归口业务科室意见"), first_page_with(texts, "整体支出绩效自评表")]
    save(pages(department, chosen), "department-report.png", f"pages {chosen} of the department's PDF")
    chosen = [page_opening(texts, f"附件1-{n}") for n in (1, 2, 3)]
    save(pages(department, chosen), "department-attachments.png", f"pages {chosen} of the department's PDF")


def printed_images(project: dict[str, Path], department: dict[str, Path], workbook: Path, folder: Path) -> None:
    heading = "二、项目资金使用及管理情况"
    pdf, word = project["pdf"], printed(project["docx"], folder / "project")
    pdf_texts, word_texts = page_texts(pdf), page_texts(word)
    form = "项目支出绩效自评表（2024年度）"
    save(captioned([("PDF：封面、正文、附件2 自评表",
                     pages(pdf, [1, first_page_with(pdf_texts, heading), first_page_with(pdf_texts, form)], 50)),
                    ("Word，LibreOffice 打印：封面、正文（22 行 × 28 字；双页页码居左，单页居右）、附件2 自评表（五号，一页）",
                     pages(word, [1, first_page_with(word_texts, heading), first_page_with(word_texts, form)], 50))]),
         "word-beside-pdf.png", "the project's PDF above its Word report printed")
    pdf, word = department["pdf"], printed(department["docx"], folder / "department")
    pdf_texts, word_texts = page_texts(pdf), page_texts(word)
    save(captioned([("PDF：附件1-2、附件1-3", pages(pdf, [page_opening(pdf_texts, f"附件1-{n}") for n in (2, 3)], 50)),
                    ("Word，LibreOffice 打印：附件1-2、附件1-3（各占一页，五号）",
                     pages(word, [page_opening(word_texts, f"附件1-{n}") for n in (2, 3)], 50))]),
         "word-department-forms.png", "the department's forms in the PDF above the Word's printed")
    save(pages(printed(workbook, folder / "workbook"), [1], 80), "excel-form.png", "the Excel 自评表 printed")


def main() -> None:
    from evaltools.cli import main as evaltools
    from evaltools.run.build import run

    with tempfile.TemporaryDirectory() as out:
        folder = Path(out)
        project = run(SEED_DEPARTMENT / "platform-maintenance.yaml", ["pdf", "docx"], folder).files
        department = run(SEED_DEPARTMENT / "_department.yaml", ["pdf", "docx"], folder).files
        pdf_images(project["pdf"], department["pdf"])
        workbook = folder / "自评表.xlsx"
        if evaltools(["export-xlsx", str(SEED_DEPARTMENT / "platform-maintenance.yaml"), "-o", str(workbook)]) != 0:
            sys.exit("export-xlsx failed")
        printed_images(project, department, workbook, folder)


if __name__ == "__main__":
    sys.exit(main())
