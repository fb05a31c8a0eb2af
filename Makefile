# The two commands of the README: `make demo` and `make test`. Each creates or reuses .venv and
# installs what it needs, so they work on a fresh machine with Python 3.11, pip and make.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.mlgate-installed
# the older stack the Evidently and Deepchecks plugins support (tests/compat/requirements.txt)
COMPAT_VENV  ?= .venv-compat
COMPAT_PY    := $(COMPAT_VENV)/bin/python
COMPAT_STAMP := $(COMPAT_VENV)/.mlgate-installed

.PHONY: demo test lint clean install install-compat chromium

install: $(STAMP)

install-compat: $(COMPAT_STAMP)

$(STAMP): pyproject.toml plugins/mlflow/pyproject.toml plugins/github/pyproject.toml \
		plugins/gitlab/pyproject.toml plugins/locust/pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, exactly this version (a CPU build on these machines; any other pulls CUDA):
	# only the model adapters' tests need it, users get it through the `torch` extra
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[mlflow,dev]" -e plugins/mlflow -e plugins/github \
		-e plugins/gitlab -e plugins/locust
	# the published attack library the robustness tests compare with; --no-deps: its own pins
	# would replace torch 2.13.0 with a CUDA build (it runs on the torch/numpy/scipy above)
	$(PY) -m pip install --quiet --no-deps torchattacks==3.5.1
	touch $@

$(COMPAT_STAMP): tests/compat/requirements.txt pyproject.toml plugins/evidently/pyproject.toml \
		plugins/deepchecks/pyproject.toml plugins/github/pyproject.toml plugins/gitlab/pyproject.toml \
		Makefile
	test -x $(COMPAT_PY) || $(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_PY) -m pip install --quiet --upgrade pip
	$(COMPAT_PY) -m pip install --quiet -r tests/compat/requirements.txt \
		-e . -e plugins/evidently -e plugins/deepchecks -e plugins/github -e plugins/gitlab
	touch $@

demo: $(STAMP)
	cd examples/quickstart && ../../$(PY) run_demo.py

# headless Chromium for the HTML report's browser test (tests/report/test_browser.py): Debian's
# package, installed only when missing (test tools' own browser downloads do not work here)
chromium:
	@test -x /usr/bin/chromium || { \
		SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# ruff; the core and the MLflow plugin on today's stack in .venv (without tests/compat: it needs
# Evidently and Deepchecks); then on the older stack in .venv-compat the Evidently and Deepchecks
# plugins (tests/compat) and every core test but MLflow's and the demo's.
test: $(STAMP) $(COMPAT_STAMP) chromium
	$(PY) -m ruff check src plugins tests examples
	$(PY) -m pytest -n 2 --dist loadfile --ignore=tests/compat
	$(COMPAT_PY) -m pytest -n 2 --dist loadfile --ignore=tests/mlflow --ignore=tests/test_demo.py

clean:
	rm -rf $(VENV) $(COMPAT_VENV) reports/*.json reports/*.xml reports/*.html examples/quickstart/.mlgate examples/quickstart/reports
