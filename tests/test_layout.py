"""The package's layout keeps its promises: no import cycles, a light kernel, wording in templates."""

import ast
import subprocess
import sys

from conftest import ROOT

PACKAGE = ROOT / "src" / "evaltools"


def _imports() -> dict[str, set[str]]:
    """Module → the evaltools modules it imports (at module level or inside functions)."""
    modules = {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): p
               for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            graph[module] |= {n for n in names if n in modules and n not in (module, "evaltools")}
    return graph


def test_there_is_no_import_cycle():
    graph, state, cycles = _imports(), {}, []

    def visit(module: str, stack: list[str]) -> None:
        state[module] = "open"
        stack.append(module)
        for target in graph[module]:
            if state.get(target) == "open":
                cycles.append(" → ".join(stack[stack.index(target):] + [target]))
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[module] = "done"

    for module in graph:
        if module not in state:
            visit(module, [])
    assert cycles == []


def test_the_notebooks_kernel_loads_no_exporter():
    """What the notebooks import builds parts; nbconvert, Typst and python-docx stay in the exporting process."""
    code = ("import sys, evaltools.document.project_report, evaltools.document.department_report; "
            "print(sorted(m for m in ('nbconvert', 'typst', 'weasyprint', 'docx', 'openpyxl') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_report_sentences_live_in_the_wording_templates_only():
    sentences = ["经自评，本项目绩效自评得分为", "如上所示，", "项目资金实际支出{{ total }}元", "本报告由程序根据参数生成",
                 "经自评，本部门整体支出绩效自评综合得分为", "个项目开展了绩效自评"]
    templates = "".join(p.read_text(encoding="utf-8") for p in (PACKAGE / "templates" / "wording").glob("*.j2"))
    code = "".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    for sentence in sentences:
        assert sentence in templates and sentence not in code, sentence


# Each folder is a part of the architecture and imports only the parts below it.
LAYERS = ["domain", "document", "writers", "run"]


def _layer(module: str) -> int:
    """domain 0, document 1, writers 2, run 3; the package's top (cli, newyear, the API) 4."""
    part = module.split(".")[1] if module.count(".") else ""
    return LAYERS.index(part) if part in LAYERS else len(LAYERS)


def test_each_part_imports_only_the_parts_below_it():
    upward = [f"{module} → {target}" for module, targets in _imports().items() for target in targets
              if target != "evaltools.errors" and module != "evaltools.errors" and _layer(target) > _layer(module)]
    assert upward == []


def test_the_tree_names_the_parts():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert set(LAYERS) <= folders
    document = {p.stem for p in (PACKAGE / "document").glob("*.py")}
    assert {"project_report", "department_report", "overview", "parts", "wording"} <= document
    assert {"html", "pdf", "docx", "xlsx"} <= {p.stem for p in (PACKAGE / "writers").glob("*.py")}
    assert {"execute", "export", "batch"} <= {p.stem for p in (PACKAGE / "run").glob("*.py")} | {
        p.name for p in (PACKAGE / "run").iterdir() if p.is_dir()}
    assert not {"report", "overall", "figures", "render", "params", "exporters"} & {p.stem for p in PACKAGE.glob("*.py")}
