"""What JupyterLab may change in a workspace opened by ``evaltools lab``.

The report notebooks shipped in ``notebooks/`` make every project's report (``evaltools run``
and ``batch`` execute them), so an analyst's experiment saved into one of them (a scratch cell,
its outputs) would break or change the reports for everyone. There they open read-only:
JupyterLab runs and edits them in memory, and "Save As" (or File › Duplicate) makes the
analyst's own copy, e.g. ``notebooks/我的分析.ipynb``, which ``evaltools run --notebook`` can
use. Everything else in the workspace is as JupyterLab always has it.
"""

from __future__ import annotations

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web

from evaltools.domain.workspace import DEPARTMENT_NOTEBOOK, NOTEBOOK, OVERVIEW_NOTEBOOK

SHIPPED = frozenset(f"notebooks/{name}" for name in (NOTEBOOK, DEPARTMENT_NOTEBOOK, OVERVIEW_NOTEBOOK))
REFUSAL = ("{path} 是生成报告用的笔记本（evaltools run/batch 执行它），改动会影响所有报告，这里只读："
           "请用“另存为”（File › Save Notebook As…）存一个自己的副本，如 notebooks/我的分析.ipynb")


def is_shipped(path: str) -> bool:
    return path.strip("/") in SHIPPED


class WorkspaceContents(AsyncLargeFileManager):
    """JupyterLab's own contents manager, the shipped report notebooks read-only."""

    def is_writable(self, path: str) -> bool:
        return not is_shipped(path) and super().is_writable(path)

    async def save(self, model, path=""):
        if is_shipped(path):
            raise web.HTTPError(403, REFUSAL.format(path=path.strip("/")))
        return await super().save(model, path)

    async def rename_file(self, old_path, new_path):
        if is_shipped(old_path) or is_shipped(new_path):
            raise web.HTTPError(403, REFUSAL.format(path=(old_path if is_shipped(old_path) else new_path).strip("/")))
        return await super().rename_file(old_path, new_path)

    async def delete_file(self, path):
        if is_shipped(path):
            raise web.HTTPError(403, REFUSAL.format(path=path.strip("/")))
        return await super().delete_file(path)
