"""What of a document's flow the Typst writer reads before it sets it: which figures stand
right before a new page (see the template's ``figure-of``, its ``floats``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from evaltools.document.parts import REVIEW, Figure, Markdown, PageBreak, Section, Typography

# The sections the writer sets on a page of their own (evaltools.writers.typst, its Section):
# a new page before them, and after them.
PAGE_BEFORE = frozenset({"form-page", "attachment"})
PAGE_AFTER = frozenset({"form-page", "cover", "first-page"})


def figures_before_a_page(parts: Iterable[Any], edition: str) -> frozenset[int]:
    """The figures that nothing but other figures parts from a new page (an attachment, the
    form, a page break) or from the document's end, by id. Floated to the next page, such a
    figure would leave a hole nothing fills, and the heading before it, kept with nothing on
    its page, would follow it there: it moves whole with its heading instead (the template's
    ``floats``). What starts a page is what the writer sets so; the sections the edition
    leaves out set nothing."""
    found: set[int] = set()
    run: list[int] = []

    def page() -> None:
        found.update(run)
        run.clear()

    def walk(items: Iterable[Any]) -> None:
        for part in items:
            if isinstance(part, Section):
                if edition == "submission" and part.audience == REVIEW:
                    continue
                styles = set((part.style or "").split())
                if styles & PAGE_BEFORE:
                    page()
                walk(part.children)
                if styles & PAGE_AFTER:
                    page()
            elif isinstance(part, PageBreak):
                page()
            elif isinstance(part, Figure):
                run.append(id(part))
            elif not (part in (None, "") or isinstance(part, Typography) or isinstance(part, Markdown) and not part.text.strip()):
                run.clear()  # something set after the figures: floated, they leave it room

    walk(parts)
    page()
    return frozenset(found)
