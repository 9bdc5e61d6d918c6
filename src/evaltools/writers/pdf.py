"""The PDF exporter (``evaltools_pdf``): the report's parts typeset on A4 by Typst, in-process.

The notebook's cells are read in order as the HTML reads them: Markdown cells as Markdown, each
code cell's output from its part (:mod:`evaltools.document.parts`), a plain image or text
output as it is; cells tagged ``remove_cell`` and, in the submission edition, the reviewers'
material are left out. The parts become one Typst source (:mod:`evaltools.writers.typst`),
compiled by the process's one compiler (:mod:`evaltools.writers.pdf_engine`); the attached PDFs
follow its pages as they are.
"""

from __future__ import annotations

import base64
import io
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from nbconvert.exporters import Exporter
from traitlets import Unicode, default

from evaltools.document.parts import REVIEW, AttachedPdf, Figure, Markdown, Typography, part_of, walk
from evaltools.writers import pdf_engine, typst
from evaltools.writers.draft import MARK, draft_of, draft_title
from evaltools.writers.formats import SUBMISSION, check_edition
from evaltools.writers.html import REMOVE_TAG, report_parts, report_title

CJK_FONT_MISSING = pdf_engine.CJK_FONT_MISSING


def cjk_fonts_installed() -> bool:
    return pdf_engine.cjk_fonts_installed()


def _kept(cell: Any) -> bool:
    return REMOVE_TAG not in cell.get("metadata", {}).get("tags", [])


def notebook_parts(nb: Any, edition: str = SUBMISSION) -> Iterator[Any]:
    """The report's parts in the notebook's order (what the PDF shows)."""
    for cell in nb.cells:
        if not _kept(cell):
            continue
        if cell.get("cell_type") == "markdown":
            yield Markdown(cell.get("source", ""))
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if (part := part_of(data)) is not None:
                if not (edition == SUBMISSION and getattr(part, "audience", None) == REVIEW):
                    yield part
            elif "image/png" in data:
                yield Figure(base64.b64decode(data["image/png"]), "", "")
            elif "image/svg+xml" in data:
                yield Figure(str(data["image/svg+xml"]).encode("utf-8"), "", "")
            elif "text/plain" in data:
                yield Markdown(f"```\n{data['text/plain']}\n```")


def attached_pdfs(nb: Any) -> list[bytes]:
    """The PDFs the report attaches (its ``AttachedPdf`` parts), in order; removed cells left out."""
    return [node.pdf for cell in nb.cells if _kept(cell)
            for _, part in report_parts(cell) for node in walk(part) if isinstance(node, AttachedPdf)]


def append_pdfs(pdf: bytes, attached: Sequence[bytes]) -> bytes:
    """``pdf`` followed by every page of each attached PDF, as they are."""
    # pypdf takes a tenth of a second to import, on the way of every batch's start: only where a
    # report attaches a PDF.
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    for data in attached:
        writer.append(PdfReader(io.BytesIO(data)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def typst_source(nb: Any, edition: str = SUBMISSION) -> tuple[typst.Source, list[str]]:
    """The notebook's report as a Typst source, with the warnings of its fonts."""
    parts = list(notebook_parts(nb, edition))
    configured = next((node.fonts for part in parts for node in walk(part) if isinstance(node, Typography)), {})
    fonts, missing = pdf_engine.stacks(configured)
    title = draft_title(nb.metadata.get("title") or report_title(nb) or "绩效自评报告", nb)
    draft = MARK if draft_of(nb) is not None else None  # a draft is not a submission, in either edition
    return typst.document(parts, fonts, title, edition, draft), missing


@dataclass(frozen=True)
class Typeset:
    """A report set in Typst, ready to compile: its source, and the PDFs attached after its pages."""

    source: typst.Source
    attached: list[bytes]


def typeset(nb: Any, edition: str = SUBMISSION) -> Typeset:
    """The report of an executed notebook set in Typst (the warnings of its fonts are warned
    here); :func:`compile_typeset` makes the PDF, without the interpreter's lock."""
    check_edition(edition)
    if not cjk_fonts_installed():
        warnings.warn(CJK_FONT_MISSING, stacklevel=3)
    source, missing = typst_source(nb, edition)
    pdf_engine.warn_missing(missing)
    return Typeset(source, attached_pdfs(nb))


def compile_typeset(made: Typeset, pdf_standard: str | None = None) -> bytes:
    """The PDF of a report set in Typst (PDF/A-2b when asked), its attached PDFs after its pages."""
    pdf = pdf_engine.compile_pdf(made.source.markup, pdf_standard, made.source.files)
    return append_pdfs(pdf, made.attached) if made.attached else pdf


def notebook_to_pdf(nb: Any, edition: str = SUBMISSION, pdf_standard: str | None = None) -> bytes:
    """The report of an executed notebook as an A4 PDF with embedded CJK fonts (PDF/A-2b when
    asked), its attached PDFs after its pages."""
    return compile_typeset(typeset(nb, edition), pdf_standard)


class PdfReportExporter(Exporter):
    """``evaltools_pdf``: the report as an A4 PDF typeset by Typst: by default the submission
    edition (``--PdfReportExporter.edition=review`` keeps the reviewers' material), with the
    attached PDFs after its pages; ``--PdfReportExporter.pdf_standard=a-2b`` writes PDF/A-2b."""

    export_from_notebook = "evaltools report (PDF)"
    output_mimetype = "application/pdf"
    edition = Unicode(SUBMISSION, help="review (with the 审核提示 and the provenance) or submission").tag(config=True)
    pdf_standard = Unicode(None, allow_none=True, help="a-2b: PDF/A-2b for archives; default: plain PDF"
                           ).tag(config=True)

    @default("file_extension")
    def _file_extension_default(self) -> str:
        return ".pdf"

    def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[bytes, dict]:
        resources = self._init_resources(resources)  # no preprocessors: the notebook is read, never copied
        resources["output_extension"] = ".pdf"
        return notebook_to_pdf(nb, self.edition, self.pdf_standard or None), resources
