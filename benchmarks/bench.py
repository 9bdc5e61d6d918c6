"""Benchmark: evaltools batch against the plain command-line way, on N synthetic projects.

    .venv/bin/python benchmarks/bench.py            # N = 40, several departments
    .venv/bin/python benchmarks/bench.py -n 8 --keep /tmp/bench

Measures, in one run on one machine:
  1. the plain way, per project: the papermill CLI, then `jupyter nbconvert --to html`, then
     WeasyPrint's own command line for the PDF;
  2. `evaltools batch` cold (empty outputs/), with fresh kernels and again with --warm-kernels;
  3. `evaltools batch` again with no change;
  4. `evaltools batch` after changing one project.
and prints each time with its ratio. The projects are the seed project varied: other names,
budgets and execution rates, 7 to 9 indicators, narratives of one to three times the seed's length.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SEED_DEPARTMENT = ROOT / "params" / "2024" / "xiangxi-ggzy"


def _plain(data):
    return json.loads(json.dumps(data, default=str, ensure_ascii=False))


def make_workspace(root: Path, n: int, departments: int, seed: int = 2024) -> list[Path]:
    """A workspace with ``n`` synthetic projects spread over ``departments`` folders."""
    from evaltools.yamlio import read_yaml

    rng = random.Random(seed)
    (root / "params" / "2024").mkdir(parents=True)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copy(ROOT / "params" / "2024" / "_rules.yaml", root / "params" / "2024" / "_rules.yaml")
    base = _plain(read_yaml(SEED_DEPARTMENT / "platform-maintenance.yaml").data)
    files = []
    # Only the shared defaults: the plain way makes project reports, so the batch must not
    # also make department reports here.
    defaults = {"defaults": _plain(read_yaml(SEED_DEPARTMENT / "_department.yaml").data["defaults"])}
    for d in range(departments):
        folder = root / "params" / "2024" / f"dept-{d:02d}"
        folder.mkdir()
        (folder / "_department.yaml").write_text(yaml.safe_dump(defaults, allow_unicode=True), encoding="utf-8")
    for i in range(n):
        data = json.loads(json.dumps(base))
        data.pop("declared")
        data["project"]["name"] = f"合成项目{i:03d}：{base['project']['name']}"
        annual = Decimal(rng.randrange(2000, 50000)) / 100
        executed = (annual * Decimal(rng.uniform(0.85, 1.0))).quantize(Decimal("0.01"))
        data["budget"]["appropriation"] = {"initial": "0.00", "annual": str(annual), "executed": str(executed)}
        data["investment"] = {"planned": {"prefecture": str(annual)}, "received": {"prefecture": str(annual)}}
        data["spending"] = [{"item": "维修（护）费", "amount": str(executed * 6000)},
                            {"item": "劳务费", "amount": str(executed * 4000)}]
        cost = next(ind for ind in data["indicators"] if ind["level2"] == "成本指标")
        cost["target"], cost["actual"], cost["actual_value"] = f"{annual}万元", f"{executed}万元", f"{executed}万元"
        for extra in range(i % 3):  # 7 to 9 indicators: split the quantity indicator's weight
            first = data["indicators"][0]
            share = Decimal(first["weight"]) / 2
            first["weight"] = str(share)
            data["indicators"].insert(1, {**first, "name": f"{first['name']}（分项{extra + 1}）", "weight": str(share)})
        for row in data["indicators"]:
            row.pop("score", None) if row.get("actual_value") else None
        repeat = 1 + i % 3
        for section, text in list(data["narrative"].items()):
            if isinstance(text, str) and len(text) > 200:
                data["narrative"][section] = "\n\n".join([text] * repeat)
        path = root / "params" / "2024" / f"dept-{i % departments:02d}" / f"project-{i:03d}.yaml"
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        files.append(path)
    return files


def timed(label: str, command: list[str], **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.1f} s", flush=True)
    return elapsed


def plain_way(root: Path, files: list[Path]) -> float:
    """What a user does by hand: three command-line tools per project."""
    out = root / "plain"
    out.mkdir()
    notebook = root / "notebooks" / "project_self_evaluation.ipynb"
    started = time.perf_counter()
    for i, file in enumerate(files):
        executed = out / f"{file.stem}.ipynb"
        subprocess.run([BIN / "papermill", notebook, executed, "-p", "params_file", str(file), "--cwd",
                        str(notebook.parent)], check=True, capture_output=True)
        subprocess.run([BIN / "jupyter", "nbconvert", "--to", "html", "--no-input", executed], check=True,
                       capture_output=True)
        subprocess.run([BIN / "weasyprint", executed.with_suffix(".html"), executed.with_suffix(".pdf")],
                       check=True, capture_output=True)
        if i == 0:
            print(f"  (first project by hand: {time.perf_counter() - started:.1f} s)", flush=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=40, help="number of projects (default 40)")
    parser.add_argument("--departments", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    parser.add_argument("--skip-plain", action="store_true", help="do not time the plain way")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="evaltools-bench-"))
    if root.exists() and any(root.iterdir()):
        sys.exit(f"{root} is not empty")
    files = make_workspace(root, args.n, args.departments)
    print(f"{args.n} projects in {args.departments} departments, {args.jobs} jobs, {os.cpu_count()} cores: {root}")
    batch = [str(BIN / "evaltools"), "batch", str(root / "params" / "2024"), "--jobs", str(args.jobs)]

    results = {}
    if not args.skip_plain:
        print("1. the plain way (papermill CLI + jupyter nbconvert + weasyprint CLI, per project)", flush=True)
        results["plain"] = plain_way(root, files)
        print(f"  plain: {results['plain']:.1f} s", flush=True)
    print("2-4. evaltools batch", flush=True)
    results["cold"] = timed("cold", batch)
    results["warm"] = timed("cold again, --force --warm-kernels", [*batch, "--force", "--warm-kernels"])
    results["nochange"] = timed("no change", batch)
    changed = files[len(files) // 2]
    changed.write_text(changed.read_text(encoding="utf-8").replace("score: 13", "score: 12", 1), encoding="utf-8")
    results["onechange"] = timed("one project changed", batch)

    print("\nresults")
    if "plain" in results:
        print(f"  plain way          {results['plain']:8.1f} s")
        print(f"  batch, cold        {results['cold']:8.1f} s   {results['plain'] / results['cold']:5.1f}× faster than plain")
        print(f"  batch, cold, warm  {results['warm']:8.1f} s   {results['plain'] / results['warm']:5.1f}× faster than plain"
              "   (--warm-kernels)")
    else:
        print(f"  batch, cold        {results['cold']:8.1f} s")
        print(f"  batch, cold, warm  {results['warm']:8.1f} s   (--warm-kernels)")
    print(f"  batch, no change   {results['nochange']:8.1f} s   {results['nochange'] / results['cold']:6.1%} of cold")
    print(f"  batch, one change  {results['onechange']:8.1f} s   {results['onechange'] / results['cold']:6.1%} of cold")
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
