"""The suite's outcome does not depend on the user's own files under params/: with another
department, another year and a broken file of theirs, the tests that read the bundled example
pass as they do on a clean checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from evaltools.newyear import new_year

from conftest import ROOT, add_department

# The test files that read the bundled example most (quick ones: this runs them again).
SPOT_CHECK = ("test_cli.py", "test_checks.py", "test_rules.py", "test_seed.py", "test_workspace.py", "test_forms.py")


def test_the_suite_passes_with_a_users_own_department_year_and_files_under_params(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "params", checkout / "params")
    shutil.copytree(ROOT / "notebooks", checkout / "notebooks")
    shutil.copytree(ROOT / "tests", checkout / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", checkout / "pyproject.toml")
    shutil.copy2(ROOT / "README.md", checkout / "README.md")  # a test reads its table of checks
    year = checkout / "params" / "2024"
    add_department(year)
    new_year(year, checkout / "params" / "2025")
    (year / "xiangxi-ggzy" / "draft-copy.yaml").write_text("year: 2024\nproject: [unclosed\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                             *(f"tests/{name}" for name in SPOT_CHECK)],
                            cwd=checkout, capture_output=True, text=True, check=False, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1] and "failed" not in result.stdout.splitlines()[-1]
    assert not Path(checkout / "outputs").exists() or not any((checkout / "outputs").rglob("report.*"))
