# crwv-note: executed notebooks <- source notebooks + library + data + parameters; note <- executed notebooks + templates.
# `make help` lists the targets. Outputs are written atomically by the build driver (temp file + rename),
# so a failed step leaves the previous outputs in place (no .DELETE_ON_ERROR: it would delete them).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := report
.SECONDEXPANSION:
MAKEFLAGS += --no-builtin-rules

# ---- parameters and variant -------------------------------------------------------------
PARAMS ?= params/default.yaml
VARIANT := $(basename $(notdir $(PARAMS)))
OUT := $(if $(filter default,$(VARIANT)),reports,reports/$(VARIANT))
BUILD := $(OUT)/build

# ---- environment: everything lives inside the repository --------------------------------
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.crwv-env-stamp
CACHE := $(CURDIR)/.cache
export UV_CACHE_DIR := $(CACHE)/uv
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export PIP_CACHE_DIR := $(CACHE)/pip
export MPLCONFIGDIR := $(CACHE)/matplotlib
export IPYTHONDIR := $(CACHE)/ipython
export JUPYTER_CONFIG_DIR := $(CACHE)/jupyter/config
export JUPYTER_DATA_DIR := $(CACHE)/jupyter/data
export JUPYTER_RUNTIME_DIR := $(CACHE)/jupyter/runtime
export JUPYTER_PLATFORM_DIRS := 1
export XDG_CACHE_HOME := $(CACHE)/xdg/cache
export XDG_CONFIG_HOME := $(CACHE)/xdg/config
export XDG_DATA_HOME := $(CACHE)/xdg/data
export PYTHONHASHSEED := 0
export TZ := UTC
export LC_ALL := C.UTF-8
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# temporary files too (pytest's tmp_path, tempfile) stay inside the repository
export TMPDIR := $(CACHE)/tmp
$(shell mkdir -p $(CACHE)/tmp)

# ---- inputs -------------------------------------------------------------------------------
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
EXECUTED := $(patsubst notebooks/%.ipynb,$(BUILD)/executed/%.ipynb,$(NOTEBOOKS))
LIBRARY := $(shell find src/analysis -name '*.py' -not -path '*/report/*')
REPORT_LAYER := $(shell find src/analysis/report -type f -not -name '*.pyc')
DATA_FILES := $(shell find data -type f -not -name MANIFEST.sha256 -not -name VENDORED.sha256 | sort)
PRICES := $(wildcard data/prices/*.csv)
SOURCES := data/sources.csv

# the data each notebook reads (a change elsewhere does not re-run it)
DATA_00_overview := $(PRICES) data/events.csv
DATA_01_unit_economics := data/fundamentals.csv $(SOURCES)
DATA_02_backlog_conversion := data/fundamentals.csv data/contracts.csv $(SOURCES)
DATA_03_customer_concentration := data/fundamentals.csv data/customers.csv data/contracts.csv $(SOURCES)
DATA_04_sector_contagion := $(PRICES) data/events.csv
DATA_05_claims_ledger := data/claims.yaml $(PRICES) data/fundamentals.csv data/contracts.csv $(SOURCES)
DATA_06_funding := data/fundamentals.csv data/debt_facilities.csv data/debt_maturities.csv data/financings.csv data/prices/CRWV.csv $(SOURCES)
data_for = $(or $(DATA_$(1)),$(DATA_FILES))

NOTE_HTML := $(OUT)/crwv-note.html
NOTE_PDF := $(OUT)/crwv-note.pdf

.PHONY: report test lab clean distclean help strip vendor env lint check-data

report: $(NOTE_HTML) $(NOTE_PDF) ## build the note: reports/crwv-note.{html,pdf} (PARAMS=params/<name>.yaml -> reports/<name>/)

$(NOTE_HTML) $(NOTE_PDF) &: $(EXECUTED) $(REPORT_LAYER) $(PARAMS) | $(ENV_STAMP)
	@SOURCE_DATE_EPOCH=$$($(PY) -m analysis.build epoch --params $(PARAMS)) \
	  $(PY) -m analysis.build note --params $(PARAMS) --out $(OUT)

$(BUILD)/executed/%.ipynb: notebooks/%.ipynb $(LIBRARY) $$(call data_for,$$*) $(PARAMS) | $(BUILD)/.data-verified $(ENV_STAMP)
	@$(PY) -m analysis.build execute $< --params $(PARAMS) --build $(BUILD)

# data/ changes only on purpose: every file must match data/MANIFEST.sha256 (an edited file is reported with file/line/column)
$(BUILD)/.data-verified: $(DATA_FILES) data/MANIFEST.sha256 data data/prices | $(ENV_STAMP)
	@$(PY) -m analysis.data.manifest verify
	@mkdir -p $(@D) && touch $@

env: $(ENV_STAMP) ## create or update the Python environment (.venv) from the lock file

# .venv is (re)built when missing or older than the lock file: uv if it can be installed, else pip from requirements.lock
$(ENV_STAMP): uv.lock requirements.lock pyproject.toml
	@python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (python3 is %s)" % sys.version.split()[0])'
	@echo "setting up $(VENV) from the lock file (first run only)"
	@t0=$$(date +%s); \
	if { [ -x $(CACHE)/bootstrap/bin/uv ] || { python3 -m venv $(CACHE)/bootstrap && $(CACHE)/bootstrap/bin/python -m pip install -q --disable-pip-version-check uv==$(UV_VERSION); }; } >/dev/null 2>&1; then \
	  $(CACHE)/bootstrap/bin/uv sync --frozen --python python3 --quiet; \
	else \
	  echo "uv could not be installed: falling back to pip with requirements.lock"; \
	  python3 -m venv $(VENV) && $(VENV)/bin/python -m pip install -q --disable-pip-version-check --require-hashes -r requirements.lock \
	    && $(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .; \
	fi; \
	echo "environment ready in $$(( $$(date +%s) - t0 )) s"
	@touch $@

# point-in-time variants built (and tested) by `make test` besides the default note
TEST_VARIANTS := params/as-of-2025-11-10.yaml

test: $(ENV_STAMP) ## build the notes, lint, then run every test (includes tests of the built notes)
	@$(MAKE) --no-print-directory report PARAMS=params/default.yaml
	@$(foreach p,$(TEST_VARIANTS),$(MAKE) --no-print-directory report PARAMS=$(p) &&) true
	@$(PY) -m ruff check src tests notebooks
	@$(PY) -m pytest -q

lint: $(ENV_STAMP) ## ruff on the library, tests and notebooks
	@$(PY) -m ruff check src tests notebooks

lab: $(ENV_STAMP) ## open JupyterLab on notebooks/ with the project's kernel
	$(PY) -m jupyter lab --notebook-dir=notebooks

strip: $(ENV_STAMP) ## remove outputs from the source notebooks (they are committed without outputs)
	@$(PY) -m jupyter nbconvert --log-level=WARN --clear-output --inplace $(NOTEBOOKS)

vendor: $(ENV_STAMP) ## take in what changed in ../shared/data since the last vendoring (refuses to overwrite local changes)
	@$(PY) -m analysis.data.vendor

check-data: $(ENV_STAMP) ## verify data/ against its checksum manifest and validate every file
	@$(PY) -m analysis.data.manifest verify
	@$(PY) -m analysis.data.validate

lock: ## re-resolve dependencies: uv.lock, requirements.lock (pip fallback), environment.yml (conda)
	@$(CACHE)/bootstrap/bin/uv lock
	@$(CACHE)/bootstrap/bin/uv export --frozen --all-groups --no-emit-project --format requirements-txt --quiet -o requirements.lock
	@$(PY) tools/environment_yml.py

clean: ## remove built notes and build folders (keeps .venv)
	@find reports -mindepth 1 -not -name .gitkeep -delete

distclean: clean ## also remove .venv and caches
	@rm -rf $(VENV) $(CACHE)

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  \1\t/' | expand -t 14
