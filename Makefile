# Two commands set everything up on a machine with python3 (3.11+) and make:
#   make all   - create .venv from the lock file, then run the main job on the bundled data
#   make test  - create .venv from the lock file (with the Dask extra), then run the tests
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DASK_STAMP := $(VENV)/.installed-dask
SYNTH := data/raw/synthetic
PROCESSED := data/processed
OUTPUTS := outputs
LINTED := vip2analysis tests benchmarks notebooks conftest.py

.PHONY: all venv test test-fast lint format check-synth clean-data build lab lock bench distclean

all: check-synth clean-data build

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==25.3"
	$(PY) -m pip install --quiet -c requirements.lock -e ".[build,lab,test]"
	$(PY) -m ipykernel install --prefix $(VENV) --name vip2analysis --display-name "vip2analysis (.venv)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# The optional Dask engine (vip2analysis[dask]), pinned by the same lock; the tests need it,
# `make all` does not.
$(DASK_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c requirements.lock -e ".[dask]"
	touch $(DASK_STAMP)

# Regenerate the bundled synthetic data in a temporary folder and require it to equal the committed copy.
check-synth: $(STAMP)
	$(PY) -m vip2analysis synth --check $(SYNTH)

clean-data: $(STAMP)
	$(PY) -m vip2analysis clean --raw $(SYNTH) --out $(PROCESSED)

# Every notebook for every period (parallel, cached); outputs/index.html shows them.
build: $(STAMP)
	$(PY) -m vip2analysis build --raw $(SYNTH) --processed $(PROCESSED) --out $(OUTPUTS)

# Lint and format (notebooks too), the house's import contract, the type check, the tests.
test: $(DASK_STAMP)
	$(PY) -m ruff check $(LINTED)
	$(PY) -m ruff format --check $(LINTED)
	$(VENV)/bin/lint-imports
	$(PY) -m mypy
	$(PY) -m pytest

test-fast: $(DASK_STAMP)
	$(PY) -m pytest -m "not slow"

lint: $(STAMP)
	$(PY) -m ruff check $(LINTED)
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

format: $(STAMP)
	$(PY) -m ruff format $(LINTED)
	$(PY) -m ruff check --fix $(LINTED)

# JupyterLab with the project's kernel; the explorer's widgets come from the lock
# (ipywidgets, jupyterlab_widgets: a prebuilt extension, checked enabled before start).
lab: $(STAMP)
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(VENV)/bin/jupyter labextension list 2>&1 \
	  | grep -q "@jupyter-widgets/jupyterlab-manager.*enabled" \
	  || { echo "the widget extension is missing: run 'make distclean venv'"; exit 1; }
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter $(VENV)/bin/jupyter lab --notebook-dir=notebooks

# Re-resolve the pinned set from pyproject.toml (needs the package registry).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install --quiet --upgrade "pip==25.3"
	.lock-venv/bin/pip install --quiet ".[build,lab,test,dask]"
	( echo "# Exact versions for every package the project installs (runtime, notebooks, tests, lint)."; \
	  echo "# Regenerate: make lock (resolves pyproject.toml extras in a scratch venv and freezes it)."; \
	  .lock-venv/bin/pip freeze --exclude vip2analysis ) > requirements.lock
	rm -rf .lock-venv

bench: $(STAMP)
	$(PY) benchmarks/bench_clean.py

distclean:
	rm -rf $(VENV) $(PROCESSED)/*.parquet $(PROCESSED)/*.csv $(PROCESSED)/*.json
