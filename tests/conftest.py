"""Shared fixtures: the real seed project is the end-to-end fixture; small mutations of it
make the failing cases, so each test states only what it changes.

The suite never reads the live ``params/``: the bundled example (the files of
:data:`EXAMPLE_FILES`, nothing else) is copied into a temporary workspace once per session,
and every test reads that copy (or a copy of it), so that a user's own departments, years
and files under ``params/`` never change a test's outcome.
"""

from __future__ import annotations

import atexit
import copy
import html
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from decimal import Decimal
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from evaltools.domain.checks import run_checks
from evaltools.domain.model import ProjectParams
from evaltools.domain.yamlio import _drop_nulls
from evaltools.domain.rules import Rules, load_rules
from evaltools.domain.workspace import LoadedProject, load_project

ROOT = Path(__file__).resolve().parents[1]

# A suite started in the background (`make test &`, nohup, a runner without a terminal) starts
# with Ctrl-C ignored, and so would every batch it runs: an ignored signal stays ignored in a
# child. The Ctrl-C tests need what a terminal gives, Python's own handler here and in children.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# The bundled example, as shipped: what the suite tests against, whatever else params/ holds.
EXAMPLE_FILES = ("2024/_rules.yaml", "2024/xiangxi-ggzy/_department.yaml", "2024/xiangxi-ggzy/platform-maintenance.yaml",
                 "2024/xiangxi-ggzy/attachments/notice.md", "2024/xiangxi-ggzy/attachments/leading-group.md")


def copy_example(workspace: Path, notebooks: bool = False) -> Path:
    """The bundled example's files into ``workspace/params`` (and the shipped notebooks into
    ``workspace/notebooks``); returns the params folder."""
    for name in EXAMPLE_FILES:
        (workspace / "params" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "params" / name, workspace / "params" / name)
    if notebooks:
        (workspace / "notebooks").mkdir(parents=True, exist_ok=True)
        for notebook in (ROOT / "notebooks").glob("*.ipynb"):
            shutil.copy2(notebook, workspace / "notebooks" / notebook.name)
    return workspace / "params"


_EXAMPLE_WORKSPACE = Path(tempfile.mkdtemp(prefix="evaltools-example-"))
atexit.register(shutil.rmtree, _EXAMPLE_WORKSPACE, ignore_errors=True)
PARAMS = copy_example(_EXAMPLE_WORKSPACE)
SEED_DEPARTMENT = PARAMS / "2024" / "xiangxi-ggzy"
SEED = SEED_DEPARTMENT / "platform-maintenance.yaml"


@pytest.fixture(scope="session")
def seed() -> LoadedProject:
    return load_project(SEED)


@pytest.fixture(scope="session")
def national() -> Rules:
    return load_rules()


@pytest.fixture
def seed_data(seed: LoadedProject) -> dict:
    """The seed's merged parameters as plain data, free to mutate."""
    return copy.deepcopy(seed.data)


@pytest.fixture
def codes_after(seed: LoadedProject) -> Callable[[Callable[[dict], None]], list[str]]:
    """Apply a mutation to the seed's data; return the codes of the findings."""

    def run(mutate: Callable[[dict], None]) -> list[str]:
        data = copy.deepcopy(seed.data)
        mutate(data)
        params = ProjectParams.model_validate(_drop_nulls(data))
        return [f.code for f in run_checks(params, seed.rules, path=seed.path, data=data)]

    return run


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the bundled example's params/ tree to break at will."""
    return copy_example(tmp_path)


@pytest.fixture
def example_workspace(tmp_path: Path) -> Path:
    """A whole workspace: the bundled example's params/ and the shipped notebooks/."""
    copy_example(tmp_path / "workspace", notebooks=True)
    return tmp_path / "workspace"


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def problem_after_edit(workspace: Path, old: str, new: str):
    """Edit the seed project's text in a workspace copy; the one problem loading it then raises."""
    from evaltools.domain.yamlio import ParamsError

    project_file = workspace / "2024" / "xiangxi-ggzy" / "platform-maintenance.yaml"
    text = project_file.read_text(encoding="utf-8")
    assert old in text
    project_file.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_project(project_file)
    [problem] = info.value.problems
    return problem


def add_project(department: Path, stem: str, name: str, annual: str = "106.62", executed: str = "106.62",
                source: Path | None = None) -> Path:
    """A second project beside the seed: the seed's text with another name and budget."""
    text = ((source or department) / "platform-maintenance.yaml").read_text(encoding="utf-8")
    text = text.replace("name: 公共资源交易平台运行维护费", f"name: {name}", 1)
    text = text.replace("appropriation: {initial: 0.00, annual: 106.62, executed: 106.62}",
                        f"appropriation: {{initial: 0.00, annual: {annual}, executed: {executed}}}")
    if Decimal(executed) != Decimal("106.62"):  # one spending line that sums to the new amount (money is never negative)
        text = re.sub(r"(spending:  # 元\n)(  - .*\n)+", lambda m: f"{m.group(1)}  - {{item: 维修（护）费, amount: "
                      f"{Decimal(executed) * 10000:.2f}}}\n", text)
    text = text.replace("declared:\n  execution_rate: 100.00\n  execution_score: 10\n  total_score: 96\n  grade: 优\n", "")
    path = department / f"{stem}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


SECOND_DEPARTMENT = "xiangxi-data"
SECOND_UNIT = "湘西土家族苗族自治州数据局"


def add_department(year_folder: Path) -> Path:
    """A second department beside the seed's: its own defaults (unit, team, sign-off), its own
    rules (another name for the third band) and two projects, one under 90 % executed."""
    folder = year_folder / SECOND_DEPARTMENT
    folder.mkdir()
    shutil.copytree(SEED_DEPARTMENT / "attachments", folder / "attachments")  # the seed's narrative attaches them
    year = int(year_folder.name)
    seed_department = yaml.safe_load((SEED_DEPARTMENT / "_department.yaml").read_text(encoding="utf-8"))
    defaults = copy.deepcopy(seed_department["defaults"])
    defaults["year"] = year
    defaults["project"].update(department=SECOND_UNIT, implementer=SECOND_UNIT, phone="0743-8220000")
    defaults["evaluation"].update(method="州数据局绩效自评", evaluator="州数据局评价小组")
    defaults["evaluation"]["team"] = [{"name": "向明", "role": "组长", "unit": "州数据局"},
                                      {"name": "彭丽", "role": "组员", "unit": "州数据局"}]
    defaults["evaluation"]["signoff"] = {"team_leader": {"name": "向明", "date": f"{year + 1}-04-20"}}
    defaults["evaluation"]["form"] = {"unit_head": "向明", "filled_by": "彭丽", "date": f"{year + 1}-04-20"}
    defaults["evaluation"]["report_date"] = f"{year + 1}-04"
    write_yaml(folder / "_department.yaml", {
        "defaults": defaults, "year": year,
        "unit": {"name": SECOND_UNIT, "head": "向明"},
        "expenditure": [{"institution": SECOND_UNIT, "fund_type": "一般公共预算", "basic": 800, "project": 210}],
    })
    write_yaml(folder / "_rules.yaml", {"name": "州数据局口径", "grades": [
        {"min": 90, "label": "优"}, {"min": 80, "label": "良"}, {"min": 60, "label": "中"}, {"min": 0, "label": "差"}]})
    for path in (add_project(folder, "data-platform", "政务数据共享平台运行费", source=SEED_DEPARTMENT),
                 add_project(folder, "data-survey", "数字乡村调查专项", annual="100.00", executed="80.00",
                             source=SEED_DEPARTMENT)):
        text = path.read_text(encoding="utf-8")  # the seed's narrative, without the seed's names
        for old, new in (("公共资源交易平台运行维护费", "数据平台运行费"), ("公共资源交易中心", "数据局")):
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def two_departments(workspace: Path) -> Path:
    """The bundled year with a second department: params/2024 of a workspace copy."""
    add_department(workspace / "2024")
    return workspace / "2024"


def in_fresh_python(script: str) -> list[str]:
    """The lines a Python script prints, run in an interpreter of its own (nothing loaded yet)."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def word_boxes(pdf: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """The words of a PDF page with their boxes (pdftotext -bbox): text, x0, y0, x1, y1 in points."""
    out = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                         capture_output=True, text=True, check=True).stdout
    return [(html.unescape(m[4]), *map(float, m[:4])) for m in _WORD.findall(out)]


def overlapping_words(pdf: Path, page: int) -> list[tuple[str, str]]:
    """Pairs of words printed over each other (a row too short for its wrapped text)."""
    boxes = word_boxes(pdf, page)
    found = []
    for i, (a, ax0, ay0, ax1, ay1) in enumerate(boxes):
        for b, bx0, by0, bx1, by1 in boxes[i + 1:]:
            width, height = min(ax1, bx1) - max(ax0, bx0), min(ay1, by1) - max(ay0, by0)
            if width > 1 and height > 0.3 * min(ay1 - ay0, by1 - by0):
                found.append((a, b))
    return found
