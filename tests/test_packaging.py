"""environment.yml (conda) stays in step with pyproject.toml (pip)."""

import re
import tomllib

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
