"""The PDF engine: Typst, in-process (the ``typst`` wheel, no system libraries), loaded once.

One compiler and one font book per process, reused for every report (a worker of a batch
gets them from the server it is forked from, see :mod:`evaltools.run.preload`). The fonts are
the system's (fontconfig's folders, Windows' and macOS's font folders) as Typst finds them;
each role's stack (:mod:`evaltools.document.typography`) is cut to the families installed, the
unit's configured fonts first, and a configured font that is missing is a one-line warning
naming it and the face used instead.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import io
import re
import threading
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import typst

from evaltools.document import typography
from evaltools.domain.files import scratch
from evaltools.errors import RenderError
from evaltools.writers.formats import check_pdf_standard

CJK_FONT_MISSING = ("系统中没有中文字体，PDF 中的中文会显示为方框：请安装 fonts-noto-cjk"
                    "（apt-get install fonts-noto-cjk，或运行 scripts/system-deps.sh）")
# The page numbers' face: GB/T 9704 asks for 宋体 digits; Noto Serif CJK is Debian's stand-in.
NUMBER_FONTS = ("宋体", "SimSun", "Noto Serif CJK SC")
# Typst's own fonts (embedded in the wheel) end every stack: Latin text never falls to nothing.
LAST_RESORT = ("Libertinus Serif",)
# A fixed creation date: the same report gives the same bytes.
_TIMESTAMP = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
# Typst marks its tagged PDF ``/MarkInfo <</Marked true /Suspects false>>``; poppler (22.x) takes a
# false /Suspects for the wrong type and prints "Syntax Error" on every open (pdftoppm, pdfinfo).
# False is the default: the entry is blanked in place, so every offset of the xref table holds.
_SUSPECTS = re.compile(rb"(/MarkInfo\s*<<\s*/Marked\s+true)(\s*/Suspects\s+false)")


class FontWarning(UserWarning):
    """A font the rules name is not installed: the report uses another face."""


@functools.cache
def font_book() -> typst.Fonts:
    """The system's fonts and Typst's own, read once per process."""
    return typst.Fonts(include_system_fonts=True, include_embedded_fonts=True)


@functools.cache
def families() -> frozenset[str]:
    return frozenset(font_book().families())


@functools.cache
def family(name: str) -> str | None:
    """The installed family Typst knows ``name`` by, or None: fontconfig's "AR PL UKai CN" is
    Typst's "AR PL UKai" (a name less its region)."""
    known = {f.casefold(): f for f in families()}
    words = name.split()
    while words:
        found = known.get(" ".join(words).casefold())
        if found or len(words) <= 2 or not _DROPPED.fullmatch(words[-1]):
            return found
        words = words[:-1]
    return None


# What may end a font's name beyond its family: a region's code (CN, SC, TW…) and a weight ("Noto
# Serif CJK SC Bold", as Word names a face); not any last word ("DejaVu Sans Imaginary" is not
# DejaVu Sans, and its role's warning is due).
_DROPPED = re.compile(r"[A-Z]{2,3}|(?i:(?:extra|ultra|semi|demi)?(?:light|bold)|thin|regular|medium|heavy|black|book|normal)")


@functools.cache
def compiler() -> typst.Compiler:
    """One compiler per process: Typst keeps what it has laid out and reuses it for the next report."""
    return typst.Compiler(font_paths=font_book())


def cjk_fonts_installed() -> bool:
    """Whether Typst finds a Chinese face of a role's stack."""
    return any(family(f) for _, stack in typography.ROLES.values() for f in stack)


def stacks(configured: Mapping[str, Sequence[str]] | None = None) -> tuple[dict[str, list[str]], list[str]]:
    """Each role's installed fonts, the configured ones first, and the warnings for configured
    fonts that are missing (one line each: the font, its role and the face used instead)."""
    configured = configured or {}
    found: dict[str, list[str]] = {}
    missing: list[str] = []
    for role, stack in typography.stacks(configured).items():
        found[role] = list(dict.fromkeys(f for f in map(family, stack) if f)) + list(LAST_RESORT)
        for font in configured.get(role) or ():
            if family(font) is None:
                convention = typography.ROLES[role][0] if role in typography.ROLES else role
                missing.append(f"规则指定的字体“{font}”（{convention}）未安装，PDF 改用“{found[role][0]}”")
    found["number"] = [f for f in map(family, NUMBER_FONTS) if f] + list(LAST_RESORT)
    return found, missing


def compile_pdf(source: str, pdf_standard: str | None = None, files: Mapping[str, bytes] | None = None) -> bytes:
    """A Typst source as PDF bytes (PDF/A-2b when asked), with the ``files`` it reads (by their
    names from ``/``). Typst's own warnings are not the user's: the source is ours."""
    check_pdf_standard(pdf_standard)
    try:
        with _COMPILING, warnings.catch_warnings(), _written(files or {}) as root:
            warnings.simplefilter("ignore", typst.TypstWarning)
            pdf = compiler().compile(source.encode("utf-8"), format="pdf", timestamp=_TIMESTAMP, root=root,
                                     pdf_standards=[pdf_standard] if pdf_standard else [])
    except typst.TypstError as exc:
        raise RenderError(f"PDF 排版失败：{exc.message}") from None
    return _SUSPECTS.sub(lambda m: m[1] + b" " * len(m[2]), pdf, count=1)


# A source kept for the next run to lay out ahead (the year overview's: see lay_out_ahead): its
# markup, then its files by name, in one zip archive; read back only within these bounds.
_MARKUP = "source.typ"
_KEPT_MOST = 64 << 20
_KEPT_FILES = 1000  # a report's images: a few dozen
_FILE_NAME = re.compile(r"[0-9a-f]{32}\.[a-z]{3,4}")  # as the writer names an image: its content's hash


def kept_source(markup: str, files: Mapping[str, bytes]) -> bytes:
    """A Typst source and the files it reads as one file, for :func:`lay_out_ahead`."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(_MARKUP, markup.encode("utf-8"))
        for name, data in files.items():
            archive.writestr(name.lstrip("/"), data)
    return out.getvalue()


def _read_kept(path: Path) -> tuple[str, dict[str, bytes]] | None:
    """The source :func:`kept_source` wrote to ``path``; None where it is not one (or too big)."""
    if path.stat().st_size > _KEPT_MOST:
        return None
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        images = [e for e in entries if e.filename != _MARKUP]
        if len(entries) > _KEPT_FILES or sum(e.file_size for e in entries) > _KEPT_MOST or len(images) == len(entries) \
                or not all(_FILE_NAME.fullmatch(e.filename) for e in images):  # no markup, or a name not the writer's
            return None
        return archive.read(_MARKUP).decode("utf-8"), {f"/{e.filename}": archive.read(e) for e in images}


def lay_out_ahead(kept: Path, pdf_standard: str | None, due: threading.Event) -> None:
    """Lay out the source of a PDF made before (``kept``: :func:`kept_source`'s file) by this
    process's compiler, while the report's cells run again: Typst keeps what it laid out, and
    the new PDF's layout then redoes only what changed (the year overview of a thousand projects
    after one change: 0.1 s instead of 0.4 s). Where a core is free only.

    A head start, never an input: Typst lays a source out the same whatever it laid out before,
    and nothing made here is kept; a file that cannot be read or set is passed over. Not begun
    once ``due`` is set (the new PDF is due)."""
    if due.is_set():
        return
    with suppress(Exception):  # (a head start only: the new PDF says what fails)
        source = _read_kept(kept)
        if source is not None and not due.is_set():
            compile_pdf(source[0], pdf_standard, source[1])


def shows_image(data: bytes, kind: str) -> bool:
    """Whether Typst can set the image (of extension ``kind``), tried alone on a small page: an
    SVG linking to another file, with an entity or a malformed tree, of no size, or a raster
    that does not decode fails the whole PDF it is in. Known by the image's digest (a chart
    made again is the same bytes), the image not kept: a long-lived process holds none for it."""
    digest = hashlib.sha256(data).hexdigest() + kind
    if digest not in _SHOWN:
        name = f"/image.{kind}"
        try:
            compile_pdf(f'#set page(width: 4cm, height: 4cm, margin: 0pt)\n#image("{name}", width: 100%)', files={name: data})
            shown = True
        except RenderError:
            shown = False
        if len(_SHOWN) > 4096:
            _SHOWN.clear()
        _SHOWN[digest] = shown
    return _SHOWN[digest]


_SHOWN: dict[str, bool] = {}


# One compile at a time: the compiler is one per process.
_COMPILING = threading.Lock()


@contextmanager
def _written(files: Mapping[str, bytes]) -> Iterator[Path]:
    """A folder of this compile's own holding the ``files`` while Typst reads them: the only
    folder Typst may read from, removed after (a worker process never runs exit handlers, and a
    long-lived one may outlive a folder of its own that a cleaner removed)."""
    with scratch("evaltools-typst-", sum(map(len, files.values()))) as folder:
        root = Path(folder)
        for name, data in files.items():
            path = root / name.lstrip("/")
            if path.parent != root:  # names are content hashes the writer made; nothing else is written
                raise ValueError(f"not a name of the Typst writer's: {name!r}")
            path.write_bytes(data)
        yield root


def warn_missing(messages: Sequence[str]) -> None:
    for message in messages:
        warnings.warn(message, FontWarning, stacklevel=3)
