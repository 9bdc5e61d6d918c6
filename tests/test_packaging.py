"""environment.yml (conda) stays in step with pyproject.toml (pip)."""

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import yaml

from conftest import ROOT


def _requirements(specs):
    """name → spec, extras dropped: pip's dask[distributed] is conda-forge's dask."""
    specs = [re.sub(r"\[.*?\]", "", spec).replace(" ", "").lower() for spec in specs]
    return {re.split(r"[<>=!~]", spec, maxsplit=1)[0]: spec for spec in specs}


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    pip_side = _requirements(project["dependencies"] + extras["test"] + extras["dask"])
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda_specs = [d for d in environment["dependencies"] if isinstance(d, str)]
    conda_side = {k: v for k, v in _requirements(conda_specs).items() if k not in ("python", "pip")}
    assert conda_side == pip_side


def test_environment_yml_installs_the_project_itself():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    [pip_section] = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert "-e ." in pip_section


def test_python_versions_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert f"python{project['requires-python']}" in environment["dependencies"]


def test_an_editable_install_without_make_finds_the_report_template(tmp_path):
    """`pip install -e .` alone (what `conda env create -f environment.yml` does) puts the
    template where `jupyter nbconvert --template evaltools_report` looks, as `pip install .` does."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    # The fresh environment borrows this one's dependencies (nothing to download but the build backend's).
    site = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], capture_output=True,
                          text=True, check=True).stdout.strip()
    Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    templates = Path(sys.prefix) / "share" / "jupyter" / "nbconvert" / "templates"  # nbconvert's own, as its install puts them
    for own in templates.iterdir():
        if own.name != "evaltools_report":
            shutil.copytree(own, venv / "share" / "jupyter" / "nbconvert" / "templates" / own.name)
    installed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", "-e", str(ROOT)],
                               capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    template = venv / "share" / "jupyter" / "nbconvert" / "templates" / "evaltools_report"
    assert {p.name for p in template.iterdir()} == {"conf.json", "index.html.j2", "report.css"}
    notebook = tmp_path / "note.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# 标题"}],
                                    "metadata": {}, "nbformat": 4, "nbformat_minor": 5}), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    converted = subprocess.run([str(python), "-m", "nbconvert", "--to", "html", "--template", "evaltools_report",
                                str(notebook), "--output-dir", str(tmp_path)], capture_output=True, text=True,
                               check=False, env=env, cwd=tmp_path)
    assert converted.returncode == 0, converted.stderr
    page = (tmp_path / "note.html").read_text(encoding="utf-8")
    assert '<main class="report">' in page and "<h1" in page and "标题" in page
