"""How reports are made: the options every maker shares, in one object.

Light (no papermill, no nbconvert): a batch holds them while it plans.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evaltools.writers.formats import DEFAULT_FORMATS, SUBMISSION, check_edition, check_formats, check_pdf_standard


@dataclass(frozen=True)
class Options:
    """How reports are made, whatever makes them (``evaltools run``, a batch's worker): one
    object rather than the same six parameters through every call."""

    formats: tuple[str, ...] = DEFAULT_FORMATS
    edition: str = SUBMISSION
    timeout: int = 600  # seconds a cell may take
    warm: bool = False  # this process's warm kernel, reset before each notebook
    notebook: Path | None = None  # another report notebook than the workspace's
    rules_files: tuple[Path, ...] = ()  # applied last
    pdf_standard: str | None = None  # "a-2b": the PDF as PDF/A-2b, for archives

    def __post_init__(self) -> None:
        object.__setattr__(self, "formats", tuple(check_formats(self.formats)))  # a typo in --to: before any work
        check_edition(self.edition)
        check_pdf_standard(self.pdf_standard)
        object.__setattr__(self, "rules_files", tuple(Path(f) for f in self.rules_files))
