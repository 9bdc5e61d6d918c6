from evaltools.cli import entry

entry()
