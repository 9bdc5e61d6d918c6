"""The page images of docs/report.md, from the seed's submission PDFs as `evaltools run` makes them.

    .venv/bin/python scripts/page_images.py          # writes docs/*.png

Each image is pages of the PDF side by side (pdftoppm at 60 dpi, a grey gutter between), chosen
by the text they hold, so that the images follow the report when its pages move.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SEED_DEPARTMENT = ROOT / "params" / "2024" / "xiangxi-ggzy"
DPI, GUTTER = 60, 12


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return ["".join(page.split()) for page in text.split("\f")]


def first_page_with(texts: list[str], words: str, after: int = 0) -> int:
    """The 1-based number of the first page from ``after`` on that holds ``words``."""
    return next(i for i, text in enumerate(texts, 1) if i > after and words in text)


def side_by_side(pdf: Path, pages: list[int], target: Path) -> None:
    with tempfile.TemporaryDirectory() as folder:
        images = []
        for page in pages:
            prefix = Path(folder) / f"p{page}"
            subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-singlefile", "-f", str(page), "-l", str(page),
                            str(pdf), str(prefix)], check=True)
            images.append(Image.open(prefix.with_suffix(".png")).convert("RGB"))
        width = sum(i.width for i in images) + GUTTER * (len(images) - 1)
        sheet = Image.new("RGB", (width, max(i.height for i in images)), (200, 200, 200))
        x = 0
        for image in images:
            sheet.paste(image, (x, 0))
            x += image.width + GUTTER
        sheet.save(target, optimize=True)
    print(f"{target.relative_to(ROOT)}: pages {pages} of {pdf.name}")


def main() -> None:
    from evaltools.run.build import run

    with tempfile.TemporaryDirectory() as out:
        project = run(SEED_DEPARTMENT / "platform-maintenance.yaml", ["pdf"], Path(out)).files["pdf"]
        department = run(SEED_DEPARTMENT / "_department.yaml", ["pdf"], Path(out)).files["pdf"]
        texts = page_texts(project)
        side_by_side(project, [1, 2], ROOT / "docs" / "cover-and-first-page.png")
        signoff = first_page_with(texts, "财政部门归口业务科室意见")
        side_by_side(project, [signoff, first_page_with(texts, "一、项目概况", signoff)], ROOT / "docs" / "sign-off-and-body.png")
        side_by_side(project, [first_page_with(texts, "项目支出绩效自评表（2024年度）")], ROOT / "docs" / "self-evaluation-form.png")
        texts = page_texts(department)
        side_by_side(department, [1, first_page_with(texts, "财政部门归口业务科室意见"),
                                  first_page_with(texts, "整体支出绩效自评表")], ROOT / "docs" / "department-report.png")
        # each attachment's page opens with its label (the list of attachments names them before)
        attachments = [next(i for i, text in enumerate(texts, 1) if text.startswith(f"附件1-{n}")) for n in (1, 2, 3)]
        side_by_side(department, attachments, ROOT / "docs" / "department-attachments.png")


if __name__ == "__main__":
    sys.exit(main())
