"""``evaltools serve``: the year in a browser (see :mod:`evaltools.run.serve.server`)."""
