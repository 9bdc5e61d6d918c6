"""evaltools: reproducible 预算绩效自评 reports.

The library API works the same from a notebook, a script or the ``evaltools`` command::

    from evaltools import load_project, score, check_project
    project = load_project("params/2024/xiangxi-ggzy/platform-maintenance.yaml")
    card = score(project.params, project.rules)
    findings = check_project(project, card)
"""

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

from evaltools.domain.checks import Finding, check_project, run_checks  # noqa: E402
from evaltools.domain.yamlio import ParamsError  # noqa: E402
from evaltools.domain.reviews import read_reviews  # noqa: E402
from evaltools.domain.rules import Rules, load_rules  # noqa: E402
from evaltools.domain.scoring import ScoreCard, score  # noqa: E402
from evaltools.domain.workspace import LoadedProject, find_project_files, load_project  # noqa: E402
# In a kernel (IPython is loaded first), parts show as HTML beside their JSON: the HTML writer's
# view, registered here at the top so the document model needs no writer; a command line does without.
if "IPython" in sys.modules:
    from evaltools.writers import notebook  # noqa: F401


def __getattr__(name: str):
    # pandas is imported on first use only: every report kernel imports evaltools, few need it.
    if name in ("read_indicators", "read_projects"):
        from evaltools.domain import frames

        return getattr(frames, name)
    raise AttributeError(f"module 'evaltools' has no attribute {name!r}")


__all__ = [
    "Finding", "LoadedProject", "ParamsError", "Rules", "ScoreCard", "__version__", "check_project",
    "find_project_files", "load_project", "load_rules", "read_indicators", "read_projects", "read_reviews", "run_checks",
    "score",
]
