"""Which file a report notebook reports on: ``params_file``, the only thing `evaltools run`
injects; never a guess from injected values, never the example project mixed with another's
data. And the workspace: where things are, and where a report goes, answered in one place."""

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
from evaltools.domain.workspace import EXAMPLE_PROJECT, Workspace, notebook_source

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


def test_values_without_params_file_are_refused_with_what_to_do(two_departments, in_folder):
    """papermill -f gives a file's content, not its path: which department's defaults and rules
    apply cannot be known, so the notebook says what to write instead of guessing."""
    in_folder(two_departments.parent.parent)
    with pytest.raises(ParamsError) as caught:
        notebook_source(None, injected(two_departments / SECOND_DEPARTMENT / "data-survey.yaml"))
    message = str(caught.value)
    assert "params_file" in message and "-p params_file params/<年度>/<部门>/<项目>.yaml" in message
    assert "papermill -f" in message


def _report_outputs(notebook: nbformat.NotebookNode) -> str:
    """The report as HTML: every code cell's output (parameters cells have none)."""
    return to_html(nbformat.from_dict({**notebook, "metadata": {}}))


def _papermill(notebook: Path, out: Path, workspace: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "papermill"), str(notebook), str(out), *arguments,
                           "--cwd", str(workspace), "--no-progress-bar", "--log-level", "ERROR"],
                          capture_output=True, text=True, cwd=out.parent, env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_plain_papermill_with_params_file_makes_the_same_report_as_evaltools_run(two_departments, tmp_path):
    """A project of a second department given to papermill by its path, run from another folder
    with --cwd: its own department's defaults and rules, not the example's, as `evaltools run`."""
    workspace = two_departments.parent.parent
    project = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    made = run(project, formats=["html"], out_root=tmp_path / "outputs")
    out = tmp_path / "plain.ipynb"
    _papermill(NOTEBOOK, out, workspace, "-p", "params_file", str(project)).check_returncode()
    html = _report_outputs(nbformat.read(out, as_version=4))
    assert html == _report_outputs(nbformat.read(made.notebook, as_version=4))
    assert SECOND_UNIT in html and "数字乡村调查专项" in html
    assert "公共资源交易平台运行维护费" not in html and "湘西土家族苗族自治州公共资源交易中心" not in html
    assert f"params/2024/{SECOND_DEPARTMENT}/data-survey.yaml" in html  # the provenance names its file


def test_plain_papermill_with_f_of_a_project_file_says_what_to_write(two_departments, tmp_path):
    workspace = two_departments.parent.parent
    project = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    done = _papermill(NOTEBOOK, tmp_path / "plain.ipynb", workspace, "-f", str(project))
    assert done.returncode != 0
    assert "没有给出 params_file" in done.stderr and "-p params_file params/<年度>/<部门>/<项目>.yaml" in done.stderr


def test_a_department_file_injected_with_f_is_refused_too(two_departments, in_folder):
    in_folder(two_departments.parent.parent)
    data = read_yaml_file(str(two_departments / SECOND_DEPARTMENT / "_department.yaml"))
    with pytest.raises(ParamsError, match="_department.yaml"):
        notebook_source(None, {key: data.get(key) for key in ("defaults", "year", "unit")}, department=True)


def test_the_workspace_answers_where_each_report_goes(two_departments, tmp_path):
    workspace = Workspace.of(two_departments)
    assert workspace.root == two_departments.parent.parent and workspace.outputs == workspace.root / "outputs"
    project = two_departments / SECOND_DEPARTMENT / "data-survey.yaml"
    assert workspace.report_folder(project) == workspace.outputs / "2024" / SECOND_DEPARTMENT / "data-survey"
    assert workspace.report_folder(project.parent / "_department.yaml") == \
        workspace.outputs / "2024" / SECOND_DEPARTMENT / "_department"
    assert workspace.year_folder(two_departments) == workspace.outputs / "2024"
    loose = tmp_path / "loose" / "dept" / "p.yaml"  # outside a year folder: the file's own year
    loose.parent.mkdir(parents=True)
    loose.write_text("year: 2023\n", encoding="utf-8")
    assert Workspace.of(loose, tmp_path / "out").report_folder(loose) == tmp_path / "out" / "2023" / "dept" / "p"
    assert workspace.name_of(project) == f"params/2024/{SECOND_DEPARTMENT}/data-survey.yaml"
    assert workspace.name_of(tmp_path.parent / "elsewhere.yaml") is None
    assert workspace.rules_for(project) == [two_departments / "_rules.yaml", project.parent / "_rules.yaml"]


@pytest.mark.parametrize("name", ["project_self_evaluation.ipynb", "department_overall.ipynb", "year_overview.ipynb"])
def test_papermill_help_shows_every_parameter_with_its_type(name):
    shown = subprocess.run([str(Path(sys.executable).parent / "papermill"), "--help-notebook",
                            str(ROOT / "notebooks" / name)], capture_output=True, text=True, check=True).stdout
    assert "Unknown type" not in shown and "(default" in shown
    assert ("year_folder: str" if name == "year_overview.ipynb" else "params_file: Optional[str]") in shown


def test_the_parameters_a_notebook_declares_are_read_from_its_parameters_cell(tmp_path):
    """papermill warns of a parameter the notebook does not declare: a workspace's notebook may
    be older than evaltools, and is given only what it declares (the overview's chart cache)."""
    from evaltools.domain.workspace import Workspace, declared_parameters
    from evaltools.run.kinds import OVERVIEW_KIND

    notebook = nbformat.read(ROOT / "notebooks" / "year_overview.ipynb", as_version=4)
    assert declared_parameters(ROOT / "notebooks" / "year_overview.ipynb") == {"year_folder", "rows_cache", "charts_cache"}
    [cell] = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    cell.source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("charts_cache"))
    older = tmp_path / "notebooks" / "year_overview.ipynb"
    older.parent.mkdir()
    nbformat.write(notebook, older)
    year = tmp_path / "params" / "2024"
    year.mkdir(parents=True)
    given = OVERVIEW_KIND.parameters(year, Workspace(tmp_path, tmp_path / "outputs"), [], older, caches=True)
    assert given == {"year_folder": "params/2024", "rows_cache": ".evaltools/overview-rows.json"}
