# The two commands of the README: `make demo` and `make test`. Each creates or reuses .venv and
# installs what it needs, so they work on a fresh machine with Python 3.11, pip and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mlgate-installed

.PHONY: demo test lint clean install

install: $(STAMP)

$(STAMP): pyproject.toml plugins/mlflow/pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[mlflow,dev]" -e plugins/mlflow
	touch $@

demo: $(STAMP)
	cd examples/quickstart && ../../$(PY) run_demo.py

test: $(STAMP)
	$(PY) -m ruff check src plugins tests examples
	$(PY) -m pytest -n 2 --dist loadfile

clean:
	rm -rf $(VENV) reports/*.json reports/*.xml reports/*.html examples/quickstart/.mlgate examples/quickstart/reports
