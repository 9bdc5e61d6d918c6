"""What a process keeps of the files it has read (parsed YAML, the files a project attaches,
last year's scores, workspace roots), by path and content, and forgetting it all at once.

Kept, a year's thousand projects are read with their department's file parsed once. But a
batch's worker and its kernel read each job from a folder of the job's own: nothing kept by path
serves the next job, and every full collection walks what is kept (a warm kernel's reset runs
one before every notebook): a worker's reports took half as long again after a hundred jobs.
They forget after each job (:func:`forget`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_KEPT: list[Any] = []


def kept(maxsize: int) -> Callable[[Callable], Callable]:
    """``functools.lru_cache(maxsize)`` of what is computed from files read, forgotten by :func:`forget`."""
    def keep(function: Callable) -> Callable:
        cached = functools.lru_cache(maxsize=maxsize)(function)
        _KEPT.append(cached)
        return cached
    return keep


def forget() -> None:
    """Forget everything kept of the files read."""
    for cached in _KEPT:
        cached.cache_clear()
