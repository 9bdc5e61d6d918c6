"""The formats a report is made in, and the check of a list of them asked for.

Apart from ``export`` (which loads nbconvert and the exporters) so that a batch refuses a
typo in ``--to`` before any work, without loading them to plan.
"""

from __future__ import annotations

from collections.abc import Iterable

from evaltools.errors import RenderError

FORMATS = ("html", "pdf", "docx")
DEFAULT_FORMATS = ("html", "pdf")


def check_formats(formats: Iterable[str]) -> list[str]:
    formats = list(formats)
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise RenderError(f"不支持的格式：{', '.join(unknown)}（可选：{', '.join(FORMATS)}）")
    return formats
