"""Writing files: completely or not at all.

Every output of evaltools (reports, run logs, indexes, workbooks, imported parameter files) is
written to a temporary file beside its destination and moved into place only when complete, so
a failed or interrupted run never leaves a half-written file where a good one stood.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

RUN_LOG = "run.json"  # beside each report: what made it, for the incremental batch and the index
MAX_NAME_BYTES = 150  # well under the 255 bytes of most file systems, with room for a suffix
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]|\s')  # not allowed, or awkward, in a file name on Windows
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_filename(name: str, suffix: str = "") -> str:
    """A file name made of ``name``, valid on Linux, macOS and Windows, and not too long."""
    stem = _UNSAFE.sub("_", name).rstrip(". ")  # Windows drops trailing dots and spaces
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    if stem.split(".")[0].upper() in _WINDOWS_DEVICES:
        stem += "_"
    return (stem or "project") + suffix


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` completely or not at all.

    A failure (a read-only or full disk, a name too long) is an ``OSError`` naming ``path``
    itself, not the temporary file.
    """
    try:
        _write_atomic(path, data)
    except OSError as exc:
        if exc.filename is None or exc.filename == str(path):
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def _write_atomic(path: Path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temporary name must fit where ``path``'s own name just fits.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp makes 0600; reports are meant to be shared
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# Where Linux keeps a file system in memory: a job's thousand inputs are written there in a
# tenth of the time a disk's journal takes (0.03 s against 0.3 s for a year's 1,000 projects).
MEMORY_FOLDER = Path("/dev/shm")


def scratch(prefix: str, size: int = 0) -> tempfile.TemporaryDirectory:
    """A temporary folder for a job's private copy of its inputs, in memory where the system
    offers room for ``size`` bytes four times over (Linux's ``/dev/shm``, unless ``TMPDIR``
    names a place of the user's own); else the system's temporary folder."""
    folder = None
    if sys.platform == "linux" and "TMPDIR" not in os.environ:
        try:
            room = os.statvfs(MEMORY_FOLDER)
            if room.f_bavail * room.f_frsize >= 4 * size + (64 << 20) and os.access(MEMORY_FOLDER, os.W_OK | os.X_OK):
                folder = MEMORY_FOLDER
        except OSError:  # none there
            pass
    return tempfile.TemporaryDirectory(prefix=prefix, dir=folder, ignore_cleanup_errors=True)


def write_tree(root: Path, files: Mapping[str, bytes]) -> None:
    """Write ``files`` (by their names below ``root``, which are checked by their maker) into a
    new folder ``root``: each folder made once."""
    made: set[Path] = set()
    for name, data in files.items():
        path = root / name
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(data)


# A file's seal: where and when this machine wrote it (see seal).
SEAL = ".seal"


def _signature(status: os.stat_result) -> dict[str, int]:
    return {"inode": status.st_ino, "changed": status.st_ctime_ns, "modified": status.st_mtime_ns, "size": status.st_size}


def seal(path: Path) -> None:
    """Record beside ``path`` (``<name>.seal``) the file as this machine wrote it: its inode, its
    change time, its size. :func:`sealed` then tells that very file from one brought from
    elsewhere: a copy, even of both files, lands with another inode (file ID on Windows) and, on
    Linux and macOS, another change time, which no program sets. Not a signature: whoever may
    write the folder may write a seal. For a file evaltools runs as well as reads (the overview's
    kept Typst source, which Typst lays out: one brought with a copy could spin for minutes)."""
    write_atomic(path.with_name(path.name + SEAL), json.dumps(_signature(path.stat())))


def sealed(path: Path) -> bool:
    """Whether ``path`` is the file :func:`seal` recorded, untouched since: both regular files
    (a pipe under either name would block the reading), the seal a small JSON object."""
    seal_file = path.with_name(path.name + SEAL)
    try:
        status = os.stat(path)
        if not (stat.S_ISREG(os.stat(seal_file).st_mode) and stat.S_ISREG(status.st_mode)):
            return False
        with open(seal_file, "rb") as handle:
            return json.loads(handle.read(4096).decode("utf-8")) == _signature(status)
    except Exception:  # noqa: BLE001  (a seal that cannot be read seals nothing)
        return False


def read_run_log(folder: Path, name: str = RUN_LOG) -> dict | None:
    try:
        return json.loads((folder / name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


_OS_ERRORS = {
    errno.ENAMETOOLONG: "名称过长，文件系统存不下：请缩短文件或文件夹的名称",
    errno.EROFS: "所在的文件系统只读：请换一个可写的位置（--out 或 -o）",
    errno.EACCES: "没有写入或读取的权限：请检查权限，或换一个位置（--out 或 -o）",
    errno.EPERM: "没有写入或读取的权限：请检查权限，或换一个位置（--out 或 -o）",
    errno.ENOSPC: "磁盘已满：请腾出空间后再运行（原有的文件未动）",
    errno.ENOENT: "文件或文件夹不存在：请检查路径",
    errno.EEXIST: "已有同名的文件：这里应为文件夹，请换一个位置",
    errno.ENOTDIR: "路径中有一段是文件而不是文件夹：请换一个位置",
    errno.EISDIR: "是一个文件夹，这里应为文件",
    errno.ELOOP: "符号链接绕成了环：请检查链接",
}


def os_error_message(exc: OSError) -> str:
    """A file-system error in the user's words: which path, what happened, what to do."""
    where = exc.filename if exc.filename is not None else ""
    what = _OS_ERRORS.get(exc.errno or 0) or f"无法读写（{exc.strerror or exc}）"
    return f"{where}：{what}" if where else what
