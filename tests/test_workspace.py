"""Which file a report notebook reports on: ``params_file``, or the file ``papermill -f`` named,
found in ``params/`` by its content; never the example project mixed with another's data."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from papermill.iorw import read_yaml_file

from evaltools.run.build import run
from evaltools.run.export import to_html
from evaltools.domain.yamlio import ParamsError
from evaltools.domain.workspace import EXAMPLE_PROJECT, find_injected_file, notebook_source

from conftest import ROOT, SECOND_DEPARTMENT, SECOND_UNIT

NOTEBOOK = ROOT / "notebooks" / "project_self_evaluation.ipynb"
PROJECT_KEYS = ("year", "project", "evaluation", "investment", "budget", "spending", "goals", "indicators",
                "summary", "narrative", "declared")


def injected(path: Path) -> dict:
    """What ``papermill -f path`` gives the notebook: each known key, None where the file has none."""
    data = read_yaml_file(str(path))
    return {key: data.get(key) for key in PROJECT_KEYS}


@pytest.fixture
def in_folder(monkeypatch):
    def chdir(folder: Path) -> None:
        monkeypatch.chdir(folder)
    return chdir


def test_params_file_given_wins_and_the_rest_is_merged_over_it(example_workspace, in_folder):
    in_folder(example_workspace / "notebooks")
    path, overrides = notebook_source("params/2024/xiangxi-ggzy/platform-maintenance.yaml",
                                      {"narrative": {"other": "无"}, "budget": None})
    assert path.resolve() == (example_workspace / EXAMPLE_PROJECT).resolve()
    assert overrides == {"narrative": {"other": "无"}}


def test_nothing_injected_is_the_example_project(example_workspace, in_folder):
    in_folder(example_workspace / "notebooks")  # as JupyterLab runs it
    path, overrides = notebook_source(None, dict.fromkeys(PROJECT_KEYS))
    assert path.resolve() == (example_workspace / EXAMPLE_PROJECT).resolve() and overrides == {}


def test_a_file_injected_with_f_is_found_by_its_content(two_departments, in_folder):
    in_folder(two_departments.parent.parent)
    project = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    path, overrides = notebook_source(None, injected(project))
    assert path == project and overrides == {}  # read from its file: its department's defaults apply


def test_values_of_no_file_are_refused_with_what_to_do(two_departments, in_folder):
    in_folder(two_departments.parent.parent)
    values = injected(two_departments / SECOND_DEPARTMENT / "data-survey.yaml")
    values["project"]["name"] = "改过的名称"
    assert find_injected_file(values) == []
    with pytest.raises(ParamsError) as caught:
        notebook_source(None, values)
    message = str(caught.value)
    assert "params_file" in message and "-p params_file params/<年度>/<部门>/<项目>.yaml" in message


def test_without_params_folder_the_refusal_names_cwd(tmp_path, in_folder):
    in_folder(tmp_path)
    with pytest.raises(ParamsError, match="--cwd"):
        notebook_source(None, {"narrative": {"other": "无"}})


def _report_outputs(notebook: nbformat.NotebookNode) -> str:
    """The report as HTML: every code cell's output (parameters cells have none)."""
    return to_html(nbformat.from_dict({**notebook, "metadata": {}}))


def test_plain_papermill_with_f_makes_the_same_report_as_evaltools_run(two_departments, tmp_path):
    """The issue's case: a project of a second department, given to papermill with -f, run from
    another folder with --cwd: its own department's defaults and rules, not the example's."""
    workspace = two_departments.parent.parent
    project = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    made = run(project, formats=["html"], out_root=tmp_path / "outputs")
    out = tmp_path / "plain.ipynb"
    subprocess.run([str(Path(sys.executable).parent / "papermill"), str(NOTEBOOK), str(out), "-f", str(project),
                    "--cwd", str(workspace), "--no-progress-bar", "--log-level", "ERROR"],
                   check=True, cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    plain = nbformat.read(out, as_version=4)
    html = _report_outputs(plain)
    assert html == _report_outputs(nbformat.read(made.notebook, as_version=4))
    assert SECOND_UNIT in html and "数字乡村调查专项" in html
    assert "公共资源交易平台运行维护费" not in html and "湘西土家族苗族自治州公共资源交易中心" not in html
    assert f"params/2024/{SECOND_DEPARTMENT}/data-survey.yaml" in html  # the provenance names its file


def test_a_department_file_injected_with_f_is_found_too(two_departments, in_folder):
    in_folder(two_departments.parent.parent)
    department = two_departments / SECOND_DEPARTMENT / "_department.yaml"
    data = read_yaml_file(str(department))
    keys = ("defaults", "year", "unit", "funds", "income", "expenditure", "three_public", "public_funds",
            "procurement", "fixed_assets", "goals", "overall_goals", "indicators", "evaluation", "narrative")
    path, overrides = notebook_source(None, {key: data.get(key) for key in keys}, department=True)
    assert path == department and overrides == {}


@pytest.mark.parametrize("name", ["project_self_evaluation.ipynb", "department_overall.ipynb", "year_overview.ipynb"])
def test_papermill_help_shows_every_parameter_with_its_type(name):
    shown = subprocess.run([str(Path(sys.executable).parent / "papermill"), "--help-notebook",
                            str(ROOT / "notebooks" / name)], capture_output=True, text=True, check=True).stdout
    assert "Unknown type" not in shown and "(default" in shown
    assert ("year_folder: str" if name == "year_overview.ipynb" else "params_file: Optional[str]") in shown
