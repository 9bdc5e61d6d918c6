"""evaltools.cli.head_start: a year overview's kernel started before the command's modules load."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaltools.cli import head_start as ahead
from evaltools.run import kernels
from evaltools.run.batch import BatchSettings, run_batch
from evaltools.run.kinds import OVERVIEW_KIND

from conftest import copy_example


def made_before(workspace: Path, outputs: Path | None = None) -> Path:
    """A workspace whose year 2024 has an overview's run log (in ``outputs``, else its own)."""
    copy_example(workspace, notebooks=True)
    log = (outputs or workspace / "outputs") / "2024" / OVERVIEW_KIND.log
    log.parent.mkdir(parents=True)
    log.write_text("{}", encoding="utf-8")
    return workspace


def test_the_head_start_looks_for_the_run_log_the_batch_looks_for():
    assert OVERVIEW_KIND.log == ahead.OVERVIEW_LOG


@pytest.mark.parametrize(("argv", "wanted"), [
    (["batch", "{ws}/params/2024"], True),
    (["batch", "{ws}/params"], True),
    (["--debug", "batch", "--jobs", "2", "{ws}/params/2024", "--to", "pdf"], True),
    (["batch", "{ws}/params/2024/xiangxi-ggzy/platform-maintenance.yaml"], False),  # a project: no overview
    (["batch", "{ws}/params/2024", "--force"], False),  # all made again: many reports
    (["batch", "{ws}/params/2024", "--no-warm-kernels"], False),
    (["batch", "{ws}/params/2024", "--executor", "dask"], False),
    (["batch", "{ws}/params/2024", "--out", "{ws}/elsewhere"], False),  # never made there
    (["run", "{ws}/params/2024"], False),
    (["batch", "{ws}/params/2025"], False),
    (["batch"], False),
    ([], False),
])
def test_a_kernel_is_started_ahead_only_for_a_batch_over_a_year_made_before(tmp_path, argv, wanted):
    workspace = made_before(tmp_path)
    made = ahead._made_before([a.format(ws=workspace) for a in argv])
    # the kernel reads the year as it starts, with the rows its overview kept
    assert made == ((workspace / "params" / "2024", workspace / "outputs" / "2024" / "overview.rows.json") if wanted else None)


def test_a_year_made_into_another_outputs_folder_is_looked_for_there(tmp_path):
    workspace = made_before(tmp_path / "ws", outputs=tmp_path / "elsewhere")
    assert ahead._made_before(["batch", str(workspace / "params" / "2024"), "--out", str(tmp_path / "elsewhere")])
    assert ahead._made_before(["batch", str(workspace / "params" / "2024")]) is None


def test_a_kernel_started_ahead_that_no_batch_takes_is_stopped(tmp_path):
    workspace = made_before(tmp_path)
    assert ahead.start(["batch", str(workspace / "params" / "2024")])
    [(manager, _)] = kernels._reserved
    ahead.stop()  # the command failed before its batch began
    assert kernels._reserved == [] and manager.provisioner.process.poll() is not None


def test_a_kernel_started_ahead_of_a_batch_that_wants_none_is_stopped_before_it_plans(tmp_path, monkeypatch):
    """The guess is the command line's; the batch's own rule decides (here ``--force``)."""
    from evaltools.run.batch import runner

    workspace = made_before(tmp_path)
    assert ahead.start(["batch", str(workspace / "params" / "2024")])
    [(manager, _)] = kernels._reserved
    seen: list = []
    real = runner.plan
    monkeypatch.setattr(runner, "plan", lambda *a: seen.append(manager.provisioner.process.poll()) or real(*a))
    batch = run_batch([workspace / "params" / "2024"], BatchSettings(formats=("html",), force=True, jobs=1))
    assert seen and seen[0] is not None  # stopped before the plan
    assert [r.status for r in batch.results] == ["done", "done"] and kernels._reserved == []
