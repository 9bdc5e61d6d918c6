"""evaltools: reproducible 预算绩效自评 reports.

The library API works the same from a notebook, a script or the ``evaltools`` command::

    from evaltools import load_project, score, check_project
    project = load_project("params/2024/xiangxi-ggzy/platform-maintenance.yaml")
    card = score(project.params, project.rules)
    findings = check_project(project, card)
"""

import importlib
import sys
from importlib.metadata import PackageNotFoundError, version

# jsonschema, which nbformat imports, loads rfc3987_syntax where it is installed (jupyterlab's
# dependencies install it), and that compiles some 35 Earley grammars at import: 1.7 s in every
# process that reads a notebook (python-jsonschema/jsonschema#1428). No notebook schema uses the
# `iri` formats it checks; without it, jsonschema leaves those formats unchecked.
if "jsonschema" not in sys.modules:
    sys.modules.setdefault("rfc3987_syntax", None)

try:
    __version__ = version("evaltools")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# In a kernel (IPython is loaded first), parts show as HTML beside their JSON: the HTML writer's
# view, registered here at the top so the document model needs no writer; a command line does without.
if "IPython" in sys.modules:
    from evaltools.writers import notebook  # noqa: F401

# The API by the module it lives in, imported at its first use: the ``evaltools`` command starts
# a year overview's kernel before it loads anything heavy (evaltools.cli.head_start), and every
# report kernel imports evaltools, few of them pandas.
_API = {
    "Finding": "checks", "check_project": "checks", "run_checks": "checks", "ParamsError": "yamlio",
    "read_reviews": "reviews", "Rules": "rules", "load_rules": "rules", "ScoreCard": "scoring", "score": "scoring",
    "LoadedProject": "workspace", "find_project_files": "workspace", "load_project": "workspace",
    "read_indicators": "frames", "read_projects": "frames",
}


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(f"evaltools.domain.{_API[name]}"), name)
    raise AttributeError(f"module 'evaltools' has no attribute {name!r}")


__all__ = [
    "Finding", "LoadedProject", "ParamsError", "Rules", "ScoreCard", "__version__", "check_project",
    "find_project_files", "load_project", "load_rules", "read_indicators", "read_projects", "read_reviews", "run_checks",
    "score",
]
