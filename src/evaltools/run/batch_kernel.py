"""The kernel a batch starts: IPython's, without its debugger.

ipykernel imports debugpy as it makes its kernel, for a debugger that nobody attaches to a
batch's kernel: 0.085 s of the 0.45 s a kernel takes before it runs anything, on the path of
every batch (after one change, the year overview's kernel is what the batch waits for). The
warm kernels (:mod:`evaltools.run.kernels`) are this class, named on their command line: its
module, loaded before the kernel is made, loads ipykernel's debugger module with debugpy
declined (:mod:`evaltools.run.declined`), and the kernel then starts as where debugpy is not
installed. A notebook's own ``import debugpy`` still works.
"""

from __future__ import annotations

from evaltools.run.declined import import_without

import_without("ipykernel.debugger", "debugpy")

from ipykernel.ipkernel import IPythonKernel  # noqa: E402  (after the debugger's module: see above)


class BatchKernel(IPythonKernel):
    """IPython's kernel, its debugger off (debugpy was not importable when ipykernel looked)."""
