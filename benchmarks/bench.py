"""Benchmark: evaltools batch against the plain command-line way, on N synthetic projects.

    .venv/bin/python benchmarks/bench.py -n 12            # the figures in benchmarks/README.md
    .venv/bin/python benchmarks/bench.py -n 1000 --skip-plain --skip-fresh --to html   # a year

Measures, in one run on one machine, and prints each as a ratio:
  1. the plain way, per project: the papermill CLI, then `jupyter nbconvert --to html`, then
     WeasyPrint's own command line for the PDF (`pip install weasyprint` and
     `scripts/system-deps.sh --bench`: evaltools itself no longer needs it);
  2. `evaltools batch` cold (empty outputs/): warm kernels (the default), and again with
     --no-warm-kernels; the time per phase (kernel, cells, HTML, PDF) from the run logs, the
     PDF size, and the peak memory of the batch's processes together; then cold batches of
     2N projects, for the marginal cost of a project, (T(2N) − T(N)) / N; each cold figure the
     median of --repeat runs;
  3. the floor: loading and scoring, the HTML export and one Typst PDF per project, in one
     warm process, divided by the jobs;
  4. `--to docx` afterwards (the Word phase; the executed notebooks are reused);
  5. `evaltools batch` again with no change, after changing one project, and a batch of that
     one project alone (the medians of --changes runs, the score changed back and forth).
The projects are the seed project varied: other names, budgets and execution rates, 7 to 9
indicators, narratives of one to three times the seed's length.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
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
    from evaltools.domain.yamlio import read_yaml

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
        shutil.copytree(SEED_DEPARTMENT / "attachments", folder / "attachments")  # what the seed attaches
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


class PeakMemory:
    """The largest total resident memory of a batch's processes (the CLI, the server its workers
    are forked from, the workers and their kernels: every process whose environment holds a
    marker), sampled every 0.2 s; and the CPU time of each (user + system): the workers are
    the fork server's children, not the CLI's, so the CLI's own accounting misses them."""

    def __init__(self) -> None:
        self.marker = f"EVALTOOLS_BENCH_{uuid.uuid4().hex}"
        self.peak = 0
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _total(self) -> int:
        total = 0
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and self.marker.encode() in (proc / "environ").read_bytes():
                    total += int((proc / "statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                    fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
                    seconds = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                    self.cpu[int(proc.name)] = max(self.cpu.get(int(proc.name), 0.0), seconds)
            except (OSError, ValueError, IndexError):
                continue
        return total

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._total())

    @property
    def cpu_seconds(self) -> float:
        return sum(self.cpu.values())

    def __enter__(self) -> PeakMemory:
        if Path("/proc/self/environ").exists():
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()


def cpu_seconds() -> float:
    """CPU time (user + system) of this process's finished children and theirs: what a step
    costs whatever else the machine is doing."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


CPU: dict[str, float] = {}


def timed(label: str, command: list[str]) -> tuple[float, str, int]:
    """Run a command; its wall time, its output and the peak memory of its processes (its CPU
    time goes into ``CPU``)."""
    with PeakMemory() as memory:
        started, cpu = time.perf_counter(), cpu_seconds()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, memory.marker: "1"})
        elapsed = time.perf_counter() - started
    # The processes' own CPU time as sampled (all of them), else what the CLI and the children
    # it waited for used.
    CPU[label] = memory.cpu_seconds or cpu_seconds() - cpu
    if done.returncode != 0:
        sys.exit(f"{label} failed:\n{done.stdout}\n{done.stderr}")
    print(f"  {label}: {elapsed:.1f} s (CPU {CPU[label]:.1f} s), peak memory {memory.peak / 2**20:.0f} MiB", flush=True)
    return elapsed, done.stdout, memory.peak


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


def phases(out: Path) -> dict[str, float]:
    """Mean seconds per phase over the projects' run logs."""
    seen: dict[str, list[float]] = {}
    for log_file in out.glob("2024/*/project-*/run.json"):
        for name, seconds in json.loads(log_file.read_text(encoding="utf-8")).get("phases", {}).items():
            seen.setdefault(name, []).append(seconds)
    return {name: statistics.mean(values) for name, values in seen.items()}


def index_seconds(output: str) -> float:
    match = re.search(r"索引 ([0-9.]+) 秒", output)
    return float(match.group(1)) if match else float("nan")


def floor(out: Path, files: list[Path], sample: int = 4) -> dict[str, float]:
    """What no batch can avoid per project, measured in this (warm) process: loading and scoring
    the parameters, the HTML export, one Typst PDF."""
    import nbformat

    from evaltools.run.kinds import summary as _summary
    from evaltools.run.execute import load
    from evaltools.run.export import to_html, to_pdf, warm_up

    warm_up()
    costs: dict[str, list[float]] = {"load": [], "html": [], "pdf": []}
    for file in files[:sample]:
        started = time.perf_counter()
        _summary(load(file))
        costs["load"].append(time.perf_counter() - started)
        executed = nbformat.read(out / "2024" / file.parent.name / file.stem / "report.ipynb", as_version=4)
        started = time.perf_counter()
        to_html(executed)
        costs["html"].append(time.perf_counter() - started)
        started = time.perf_counter()
        to_pdf(executed)
        costs["pdf"].append(time.perf_counter() - started)
    return {name: statistics.mean(values) for name, values in costs.items()}


def cold_batches(label: str, command: list[str], out: Path, repeat: int) -> tuple[tuple, list[tuple], float]:
    """``repeat`` batches, each into an emptied ``out`` (the machine's speed drifts: the median is the
    figure): the median run (wall, output, peak memory), every run, and the median CPU time."""
    runs, cpus = [], []
    for attempt in range(max(1, repeat)):
        shutil.rmtree(out, ignore_errors=True)
        name = f"{label}, run {attempt + 1}"
        runs.append(timed(name, command))
        cpus.append(CPU.pop(name))
    return sorted(runs, key=lambda run: run[0])[len(runs) // 2], runs, statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=12, help="number of projects (default 12)")
    parser.add_argument("--departments", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--to", default="html,pdf", help="formats of the batch (default html,pdf)")
    parser.add_argument("--keep", type=Path, help="build the workspace here and keep it")
    parser.add_argument("--skip-plain", action="store_true", help="do not time the plain way")
    parser.add_argument("--skip-fresh", action="store_true", help="do not time --no-warm-kernels")
    parser.add_argument("--skip-docx", action="store_true", help="do not time --to docx")
    parser.add_argument("--skip-marginal", action="store_true", help="do not time a cold batch of 2N projects")
    parser.add_argument("--repeat", type=int, default=3,
                        help="cold batches into an emptied outputs/ (default 3): the median is the figure")
    parser.add_argument("--changes", type=int, default=3,
                        help="one-change batches, each beside a batch of that project alone (default 3): the medians")
    args = parser.parse_args()
    if not args.skip_plain and not (BIN / "weasyprint").exists():
        sys.exit("the plain way needs WeasyPrint's command line: .venv/bin/pip install weasyprint && "
                 "scripts/system-deps.sh --bench (or --skip-plain)")

    # Each process imports evaltools from its bytecode, as an installed copy does, even where
    # PYTHONDONTWRITEBYTECODE keeps an editable install's from being written.
    compileall.compile_dir(ROOT / "src" / "evaltools", quiet=1)
    root = args.keep or Path(tempfile.mkdtemp(prefix="evaltools-bench-"))
    if root.exists() and any(root.iterdir()):
        sys.exit(f"{root} is not empty")
    files = make_workspace(root, args.n, args.departments)
    n = len(files)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{n} projects in {args.departments} departments, {args.jobs} jobs, {os.cpu_count()} cores, "
          f"load average {load:.2f}: {root}", flush=True)
    out = root / "outputs"
    batch = [str(BIN / "evaltools"), "batch", str(root / "params" / "2024"), "--jobs", str(args.jobs),
             "--to", args.to, "--out", str(out)]

    results: dict[str, float] = {}
    if not args.skip_plain:
        print("1. the plain way (papermill CLI + jupyter nbconvert + weasyprint CLI, per project)", flush=True)
        cpu = cpu_seconds()
        results["plain"] = plain_way(root, files)
        CPU["plain"] = cpu_seconds() - cpu
        print(f"  plain: {results['plain']:.1f} s (CPU {CPU['plain']:.1f} s)", flush=True)
    print("2. evaltools batch", flush=True)
    (results["cold"], cold_output, peak), colds, CPU["cold (warm kernels, the default)"] = cold_batches(
        "cold (warm kernels, the default)", batch, out, args.repeat)
    measured = phases(out)
    overview_log = out / "2024" / "overview.run.json"
    if overview_log.is_file():
        measured["overview (per batch)"] = json.loads(overview_log.read_text(encoding="utf-8"))["duration"]
    pdfs = [p.stat().st_size for p in out.glob("2024/*/project-*/report.pdf")]
    if not args.skip_fresh:
        results["fresh"], _, _ = timed("cold again, --force --no-warm-kernels", [*batch, "--force", "--no-warm-kernels"])
    if not args.skip_marginal:
        double = root / "double"
        make_workspace(double, 2 * n, args.departments)
        (results["double"], _, _), doubles, _ = cold_batches(
            f"cold, {2 * n} projects", [str(BIN / "evaltools"), "batch", str(double / "params" / "2024"), "--jobs",
                                        str(args.jobs), "--to", args.to, "--out", str(double / "outputs")],
            double / "outputs", args.repeat)
    print("3. the floor (in this process)", flush=True)
    least = floor(out, files) if "pdf" in args.to else {}
    if not args.skip_docx:
        print("4. Word", flush=True)
        results["docx"], _, _ = timed("--to docx (executed notebooks reused)",
                                      [*batch[:-4], "--to", "docx", "--out", str(out)])
        measured["docx"] = phases(out).get("docx", float("nan"))
    print("5. incremental", flush=True)
    results["nochange"], _, _ = timed("no change", batch)
    changed = files[len(files) // 2]
    changes, singles = [], []
    for attempt in range(max(1, args.changes)):  # one score changed, then changed back, and so on
        before, after = ("score: 13", "score: 12") if attempt % 2 == 0 else ("score: 12", "score: 13")
        changed.write_text(changed.read_text(encoding="utf-8").replace(before, after, 1), encoding="utf-8")
        changes.append(timed(f"one project changed, run {attempt + 1}", batch)[0])
        shutil.rmtree(root / "single", ignore_errors=True)
        singles.append(timed(f"a batch of that one project alone, run {attempt + 1}",
                             [*batch[:2], str(changed), *batch[3:-1], str(root / "single")])[0])
    results["onechange"], results["single"] = statistics.median(changes), statistics.median(singles)

    per = results["cold"] / n
    print(f"\nresults ({n} projects, {args.jobs} jobs, --to {args.to})")
    if "plain" in results:
        print(f"  plain way          {results['plain']:8.1f} s   {results['plain'] / n:6.2f} s/project")
    print(f"  batch, cold        {results['cold']:8.1f} s   {per:6.2f} s/project   (median of "
          f"{', '.join(f'{run[0]:.1f}' for run in colds)} s)")
    print(f"  batch, cold        {results['cold']:8.1f} s   {per:6.2f} s/project"
          + (f"   {results['plain'] / results['cold']:5.1f}× faster than plain (target ≥ 20×)" if "plain" in results else ""))
    cold_cpu = CPU["cold (warm kernels, the default)"]
    if "plain" in results:
        print(f"  CPU time           plain {CPU['plain'] / n:.2f} s/project, batch {cold_cpu / n:.2f} s/project: "
              f"{CPU['plain'] / cold_cpu:.1f}× less CPU, {CPU['plain'] / cold_cpu * args.jobs:.1f}× faster on "
              f"{args.jobs} idle cores if the batch kept them busy")
    if "double" in results:
        marginal = (results["double"] - results["cold"]) / n
        print(f"  marginal project   {marginal:8.3f} s   (T{2 * n} {results['double']:.1f} s − T{n} {results['cold']:.1f} s) / {n}, "
              f"T{2 * n} the median of {', '.join(f'{run[0]:.1f}' for run in doubles)} s"
              + (f"; 1/{results['plain'] / n / marginal:.0f} of the plain way's {results['plain'] / n:.2f} s "
                 "(target ≤ 1/40)" if "plain" in results else ""))
    if "fresh" in results:
        print(f"  cold, fresh kernels{results['fresh']:8.1f} s   {results['fresh'] / n:6.2f} s/project"
              + (f"   {results['plain'] / results['fresh']:5.1f}× faster than plain" if "plain" in results else ""))
    if least:
        bottom = sum(least.values()) / args.jobs
        print(f"  floor              {bottom * n:8.1f} s   {bottom:6.2f} s/project   (load+score {least['load']:.3f} s, "
              f"HTML {least['html']:.3f} s, PDF {least['pdf']:.3f} s, over {args.jobs} jobs); "
              f"cold is {per / bottom:.2f}× the floor")
    print("  per project, in a worker: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in sorted(measured.items()))
          + f"; index {index_seconds(cold_output):.2f} s per batch")
    if pdfs:
        print(f"  PDF size           {statistics.mean(pdfs) / 1024:8.0f} KiB on average")
    print(f"  peak memory, cold  {peak / 2**20:8.0f} MiB (the CLI, its workers and their kernels)")
    if "docx" in results:
        print(f"  --to docx          {results['docx']:8.1f} s   {results['docx'] / n:6.2f} s/project")
    print(f"  no change          {results['nochange']:8.2f} s   {results['nochange'] / results['cold']:6.1%} of cold")
    print(f"  one change         {results['onechange']:8.2f} s   {results['onechange'] / per:5.2f}× one project's share of "
          f"the cold batch, {results['onechange'] / results['single']:5.2f}× a batch of that project alone "
          f"({results['single']:.2f} s) (target ≤ 1.3× at 12 projects, ≤ 1.5× at 1,000); medians of "
          f"{', '.join(f'{t:.2f}' for t in changes)} s and {', '.join(f'{t:.2f}' for t in singles)} s")
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
