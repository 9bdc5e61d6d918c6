"""Errors a user can cause while making a report; the message says which file and why."""


class RenderError(Exception):
    """A report could not be made; the message says which project and why."""
