"""The PDF exporter (``evaltools_pdf``): the HTML report printed on A4 by WeasyPrint, in-process."""

from __future__ import annotations

import functools
import io
import shutil
import subprocess
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pypdf import PdfReader, PdfWriter
from traitlets import default

from evaltools.writers.html import SUBMISSION, REMOVE_TAG, HtmlReportExporter, report_parts
from evaltools.document.parts import AttachedPdf, walk

CJK_FONT_MISSING = ("系统中没有中文字体，PDF 中的中文会显示为方框：请安装 fonts-noto-cjk"
                    "（apt-get install fonts-noto-cjk，或运行 scripts/system-deps.sh）")


@functools.cache
def cjk_fonts_installed() -> bool:
    """Whether fontconfig (which WeasyPrint uses) knows a Chinese font."""
    if shutil.which("fc-list") is None:
        return False
    listing = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False)
    return bool(listing.stdout.strip())


@functools.cache
def _weasyprint():
    """WeasyPrint (and its Pango/HarfBuzz bindings), loaded only when a PDF is made, once
    (see :mod:`evaltools.writers.pdf_engine`)."""
    from evaltools.writers.pdf_engine import weasyprint

    return weasyprint


@functools.cache
def _font_config():
    """One font configuration for every document of a process: fontconfig's set-up and Pango's
    font map are made once, not per report."""
    return _weasyprint().text.fonts.FontConfiguration()


_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def _offline(url: str) -> None:
    """Raise unless ``url`` is the report's own: inline data, or a file of evaltools' templates.
    The PDF renderer asks this for every image and stylesheet, so a report never reaches the
    network (a narrative's ``![](http://…)``) nor reads another file of the machine."""
    if url.startswith("data:"):
        return
    if url.startswith("file:") and Path(unquote(urlsplit(url).path)).resolve().is_relative_to(_TEMPLATES):
        return
    raise ValueError(f"报告离线生成，不读取 {url[:200]}")


@functools.cache
def _url_fetcher() -> Any:
    from weasyprint import urls

    if not hasattr(urls, "URLFetcher"):  # older WeasyPrint takes a function
        return lambda url: (_offline(url), urls.default_url_fetcher(url))[1]

    class OfflineFetcher(urls.URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            _offline(url)
            return super().fetch(url, headers)

    return OfflineFetcher()


def html_to_pdf(html: str, attached: Sequence[bytes] = ()) -> bytes:
    """An HTML page as an A4 PDF with embedded CJK fonts, offline (see :func:`_offline`), and
    PDFs attached after its pages."""
    if not cjk_fonts_installed():
        warnings.warn(CJK_FONT_MISSING, stacklevel=2)
    pdf = _weasyprint().HTML(string=html, base_url=None, url_fetcher=_url_fetcher()).write_pdf(
        font_config=_font_config())
    return append_pdfs(pdf, attached) if attached else pdf


def append_pdfs(pdf: bytes, attached: Sequence[bytes]) -> bytes:
    """``pdf`` followed by every page of each attached PDF, as they are."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    for data in attached:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def attached_pdfs(nb: Any) -> list[bytes]:
    """The PDFs the report attaches (its ``AttachedPdf`` parts), in order; removed cells left out."""
    return [node.pdf for cell in nb.cells if REMOVE_TAG not in cell.get("metadata", {}).get("tags", [])
            for _, part in report_parts(cell) for node in walk(part) if isinstance(node, AttachedPdf)]


class PdfReportExporter(HtmlReportExporter):
    """``evaltools_pdf``: the same page as :class:`HtmlReportExporter`, as an A4 PDF: by default
    the submission edition (``--PdfReportExporter.edition=review`` keeps the reviewers' material),
    with the attached PDFs after its pages."""

    export_from_notebook = "evaltools report (PDF)"
    output_mimetype = "application/pdf"

    @default("edition")
    def _edition_default(self) -> str:
        return SUBMISSION

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    @default("template_extension")
    def _template_extension_default(self) -> str:
        return ".html.j2"  # the HTML page is what gets printed

    def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[bytes, dict]:
        html, resources = super().from_notebook_node(nb, resources, **kw)
        resources["output_extension"] = ".pdf"
        return html_to_pdf(html, attached_pdfs(nb)), resources
