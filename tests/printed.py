"""Reading a document the way a unit sees it on paper: printed through LibreOffice to PDF, then
measured page by page (page count, the size every glyph is printed at)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from pypdf import PdfReader

# CI installs LibreOffice (scripts/system-deps.sh --test): there a missing soffice fails rather than skips.
needs_office = pytest.mark.skipif((shutil.which("soffice") is None or shutil.which("pdftotext") is None)
                                  and not os.environ.get("CI"), reason="LibreOffice or poppler is not installed here")


def print_to_pdf(document: Path, folder: Path) -> Path:
    """``document`` (xlsx, docx…) printed by LibreOffice as a PDF in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    _require_arial_metrics()
    # a profile of its own: a LibreOffice another test (or the user) has open does not block this one
    profile = (folder / ".lo-profile").resolve().as_uri()
    subprocess.run(["soffice", f"-env:UserInstallation={profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(folder), str(document)], check=True, capture_output=True, timeout=180)
    return folder / f"{document.stem}.pdf"


def _require_arial_metrics() -> None:
    """The workbook's widths are in Arial's units; set in another face, a page's worth prints on two."""
    if shutil.which("fc-match") is None:
        return
    face = subprocess.run(["fc-match", "-f", "%{family}", "Arial"], capture_output=True, text=True).stdout
    if "Arial" not in face and "Liberation Sans" not in face:
        pytest.fail(f"LibreOffice would print Arial as {face or '?'}: apt-get install fonts-liberation2 "
                    "(scripts/system-deps.sh --test)")


def page_count(pdf: Path) -> int:
    return len(PdfReader(pdf).pages)


def page_text(pdf: Path, page: int) -> str:
    """The text of a page (1-based) as pdftotext lays it out."""
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def glyph_sizes(pdf: Path, page: int) -> Counter:
    """How many characters a page (1-based) prints at each size, in points at print size: the font
    size scaled by the text and graphics matrices (a sheet printed at 90 % shows 10 pt as 9)."""
    found: Counter = Counter()

    def visit(text, cm, tm, font, size):
        shown = re.sub(r"\s", "", text)
        if not shown:
            return
        # the vertical scale of the text space in device space: tm × cm applied to (0, 1)
        c = tm[2] * cm[0] + tm[3] * cm[2]
        d = tm[2] * cm[1] + tm[3] * cm[3]
        found[round(size * (c * c + d * d) ** 0.5, 1)] += len(shown)

    PdfReader(pdf).pages[page - 1].extract_text(visitor_text=visit)
    return found
