"""The 草稿 (draft) state of a report, as data in its executed notebook for any writer to read.

A report made from files with check errors is not a submission: ``evaltools run``/``batch``
record it in the notebook's metadata (``metadata.evaltools.draft``: how many errors, and their
codes), and each writer marks every page and the title with :data:`MARK` (HTML and PDF: the
report template and report.css; Word: each section's header). A notebook without the entry is
a finished report.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

MARK = "草稿"
TITLE_PREFIX = f"【{MARK}】"
NOTE = "本报告的参数文件有检查错误，仅供核对，不能作为正式报告提交（evaltools check 列出错误）"


def draft_of(nb: Any) -> dict | None:
    """The draft entry of an executed notebook, or None for a finished report."""
    entry = (nb.get("metadata") or {}).get("evaltools", {}).get("draft")
    return entry if isinstance(entry, dict) and entry.get("errors") else None


def mark_draft(nb: Any, codes: Iterable[str]) -> None:
    """Record in ``nb`` whether it is a draft: ``codes`` are its files' check errors (none: not a draft)."""
    codes = list(codes)
    meta = nb.setdefault("metadata", {}).setdefault("evaltools", {})
    if codes:
        meta["draft"] = {"errors": len(codes), "codes": sorted(set(codes))}
    else:
        meta.pop("draft", None)
        if not meta:
            nb["metadata"].pop("evaltools")


def draft_title(title: str | None, nb: Any) -> str | None:
    """The report's title, marked when it is a draft (once)."""
    if title is None or draft_of(nb) is None or title.startswith(TITLE_PREFIX):
        return title
    return TITLE_PREFIX + title
