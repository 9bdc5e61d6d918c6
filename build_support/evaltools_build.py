"""The build backend: setuptools', with the report template in editable installs too.

``[tool.setuptools.data-files]`` puts the nbconvert template ``evaltools_report`` where
``jupyter nbconvert --template evaltools_report`` looks (``<prefix>/share/jupyter/nbconvert/
templates``), but setuptools leaves data files out of an editable wheel (``pip install -e .``,
and so ``conda env create -f environment.yml``). This backend adds them to the editable wheel
as a regular wheel has them, listed in its RECORD.
"""

from __future__ import annotations

import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path

from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403 - every hook not overridden here is setuptools'

ROOT = Path(__file__).resolve().parents[1]


def _data_files() -> dict[str, list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return config["tool"]["setuptools"]["data-files"]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _add_data_files(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        entries = {info.filename: archive.read(info) for info in archive.infolist()}
    [record] = [name for name in entries if name.endswith(".dist-info/RECORD")]
    data_dir = record.split("/")[0].removesuffix(".dist-info") + ".data/data"
    lines = entries[record].decode("utf-8").splitlines()
    for target, sources in _data_files().items():
        for source in sources:
            name = f"{data_dir}/{target}/{Path(source).name}"
            entries[name] = (ROOT / source).read_bytes()
            lines.insert(-1, _record_line(name, entries[name]))
    entries[record] = ("\n".join(lines) + "\n").encode("utf-8")
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    name = _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
    _add_data_files(Path(wheel_directory) / name)
    return name
