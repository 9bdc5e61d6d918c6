"""The formats and editions a report is made in, the files they are written to, and the checks
of what is asked for.

Apart from ``export`` (which loads nbconvert and the exporters) so that a batch refuses a
typo in ``--to`` before any work, without loading them to plan.
"""

from __future__ import annotations

from collections.abc import Iterable

from evaltools.errors import RenderError

FORMATS = ("html", "pdf", "docx")
DEFAULT_FORMATS = ("html", "pdf")
# The review edition keeps the 审核提示 and the provenance; the submission edition (what a unit
# hands in) leaves them out.
REVIEW_EDITION, SUBMISSION = "review", "submission"
EDITIONS = (REVIEW_EDITION, SUBMISSION)
# A year's overview: outputs/<year>/overview.{ipynb,html,pdf,docx}, beside its run log, the
# projects' rows it was made from and the charts it drew (reused for the next run's unchanged
# projects and charts; in the workspace a batch's worker copies, they are in .evaltools/).
OVERVIEW = "overview"
OVERVIEW_ROWS = f"{OVERVIEW}.rows.json"
ROWS_CACHE = ".evaltools/overview-rows.json"
OVERVIEW_CHARTS = f"{OVERVIEW}.charts.json"
CHARTS_CACHE = ".evaltools/overview-charts.json"
# What the overview keeps between runs: in the outputs → in a worker's copy of the workspace.
OVERVIEW_CACHES = {OVERVIEW_ROWS: ROWS_CACHE, OVERVIEW_CHARTS: CHARTS_CACHE}
# …and its PDF's Typst source, which the next batch lays out while the overview's cells run again.
OVERVIEW_LAYOUT = f"{OVERVIEW}.layout.zip"


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(f"不支持的格式：{', '.join(unknown)}（可选：{', '.join(FORMATS)}）")
    return formats


def check_edition(edition: str) -> str:
    if edition not in EDITIONS:
        raise RenderError(f"不支持的版本：{edition}（可选：{'、'.join(EDITIONS)}）")
    return edition


def file_names(formats: Iterable[str], edition: str = SUBMISSION, name: str = "report") -> dict[str, str]:
    """Where each format is written: report.html (always the review edition, for reviewers),
    report.pdf and report.docx (the submission edition), or report.review.pdf and
    report.review.docx when the review edition of those is asked for."""
    infix = ".review" if edition == REVIEW_EDITION else ""
    return {kind: f"{name}{'' if kind == 'html' else infix}.{kind}" for kind in formats}

# The PDF standards a report may be written to (``--pdf-standard``): PDF/A-2b, which 档案 systems ask for.
PDF_STANDARDS = ("a-2b",)


def check_pdf_standard(pdf_standard: str | None) -> str | None:
    """``pdf_standard`` if it is one the PDF writer knows (or None: a plain PDF), else a RenderError."""
    if pdf_standard is not None and pdf_standard not in PDF_STANDARDS:
        raise RenderError(f"不支持的 PDF 标准：{pdf_standard}（可选：{'、'.join(PDF_STANDARDS)}）")
    return pdf_standard
