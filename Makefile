# Two commands on a fresh machine:
#   make run    set everything up, then run the main job on the bundled params/
#   make test   set everything up, then run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PARAMS ?= params

.PHONY: setup system-deps run check score lab test clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "evaltools needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@$(PYTHON) -m venv $(VENV) || { echo "No venv module: run  apt-get install python3-venv  (as root)"; exit 1; }

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# The editable install copies the report template where `jupyter nbconvert --template
	@# evaltools_report` looks (build_support/evaltools_build.py); a link instead shows edits at once.
	@mkdir -p $(VENV)/share/jupyter/nbconvert/templates
	rm -rf $(VENV)/share/jupyter/nbconvert/templates/evaltools_report
	ln -s $(CURDIR)/src/evaltools/templates/evaltools_report $(VENV)/share/jupyter/nbconvert/templates/evaltools_report
	@touch $@

setup: $(VENV)/.installed system-deps

system-deps:
	@scripts/system-deps.sh

# The main job: check every project, then render every report in parallel (unchanged ones are
# skipped) and write the reviewers' index outputs/<year>/index.html.
run: setup
	$(BIN)/evaltools check $(PARAMS)
	$(BIN)/evaltools batch $(PARAMS)

check: setup
	$(BIN)/evaltools check $(PARAMS)

score: setup
	$(BIN)/evaltools score $(PARAMS)

# The workspace in JupyterLab, its notebooks run by this .venv's kernel (the one with evaltools).
lab: setup
	$(BIN)/evaltools lab

test: setup
	@scripts/system-deps.sh --test
	$(BIN)/ruff check src tests
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) outputs/*/ .pytest_cache
