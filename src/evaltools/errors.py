"""Errors a user can cause while making a report; the message says which file and why."""


class RenderError(Exception):
    """A report could not be made; the message says which project and why.

    ``failed_notebook`` is the executed notebook up to the failing cell, when there is one,
    for the caller to keep beside the report (``report.failed.ipynb``).
    """

    def __init__(self, message: str, failed_notebook: bytes | None = None):
        super().__init__(message)
        self.failed_notebook = failed_notebook
