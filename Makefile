# crwv-note: the note <- executed notebooks <- (code, own parameters, library modules, data) of each notebook.
# `make help` lists the targets.
#
# How rebuilds are decided: `make report` first runs the plan (`python -m analysis.build plan`, the rule
# that remakes the included $(BUILD)/plan.mk). It validates the parameter file and the data, then writes
# one content key per notebook, $(BUILD)/keys/<stem>.key, rewritten only when the key changes; make
# compares the executed notebooks with those stamps, so it re-runs what changed whatever the file times
# say. Executed runs are cached by key in .cache/executed/ (shared by every variant).
# Outputs are written atomically (temp file + rename) and every target is precious: a failed or
# interrupted build leaves the previous note in place (no .DELETE_ON_ERROR).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := report
.SUFFIXES:
# `make -n`: single-letter flags are MAKEFLAGS' first word, without a dash ('n', 'kn', 'pqn'), and only
# when there are any (read before the flags below are added: '--no-builtin-rules' has an 'n' too)
DRY_RUN := $(findstring n,$(filter-out -%,$(firstword $(MAKEFLAGS))))
MAKEFLAGS += --no-builtin-rules --no-builtin-variables
# notebooks run in parallel, as many as there are cores (`make -j1 ...` to run one at a time)
NPROC := $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
ifeq ($(MAKELEVEL),0)
MAKEFLAGS += -j$(NPROC)
endif

# ---- parameters and variant -------------------------------------------------------------
PARAMS ?= params/default.yaml
VARIANT := $(basename $(notdir $(PARAMS)))
OUT := $(if $(filter default,$(VARIANT)),reports,reports/$(VARIANT))
BUILD := $(OUT)/build
KEYS := $(BUILD)/keys
PLAN := $(BUILD)/plan.mk

# ---- environment: everything lives inside the repository --------------------------------
UV_VERSION := 0.13.9
VENV := .venv
PY := $(VENV)/bin/python
ENV_STAMP := $(VENV)/.crwv-env
CACHE := $(CURDIR)/.cache
# .venv checked against this folder (a copied or moved checkout is checked again; see tools/env.sh)
ENV_OK := $(CACHE)/env/ok-$(shell printf '%s' '$(CURDIR)' | cksum | cut -d' ' -f1)
export CACHE UV_VERSION
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
# the build reads this checkout's library and data, whatever the calling shell points at
unexport PYTHONPATH CRWV_DATA_DIR CRWV_RESULTS_DIR
# temporary files too (pytest's tmp_path, tempfile) stay inside the repository
export TMPDIR := $(CACHE)/tmp
$(shell mkdir -p $(CACHE)/tmp)
# wall time since this make started (reported with the note); each Python step gets its own start (CRWV_T0)
# (when this make process started, read from /proc: make re-reads this file after the plan is
# remade and would otherwise count from then)
ifndef CRWV_MAKE_T0
export CRWV_MAKE_T0 := $(shell tools/started_ns.sh $$PPID)
endif
T0 = CRWV_T0=$$(date +%s%N)

# ---- the plan: sections and content keys --------------------------------------------------
# every goal but these needs the plan (report, or a file of the build such as reports/build/executed/<stem>.ipynb)
NO_PLAN_GOALS := help clean distclean env lab strip fix lint test test-notes bench vendor check-data lock
ifneq ($(filter-out $(NO_PLAN_GOALS) note@% history history-params history-dates history-latest history@% %/leak-audit.txt,$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
include $(PLAN)
endif
EXECUTED := $(RUN_ORDER:%=$(BUILD)/executed/%.ipynb)
NOTE_HTML := $(OUT)/crwv-note.html
NOTE_PDF := $(OUT)/crwv-note.pdf

.PHONY: report test lab clean distclean help strip fix vendor env lint check-data lock bench FORCE

report: $(NOTE_HTML) $(NOTE_PDF) ## build the note: reports/crwv-note.{html,pdf} (PARAMS=params/<name>.yaml -> reports/<name>/)

$(PLAN): FORCE | $(ENV_OK)
	@$(T0) $(PY) -m analysis.build plan --params '$(PARAMS)' --build '$(BUILD)' $(if $(DRY_RUN),--dry-run) $(if $(MAKE_RESTARTS),--quiet)

$(KEYS)/%.key: ;

# the note's stamp covers every section's content key: executed copies only have to exist first
$(NOTE_HTML) $(NOTE_PDF) &: $(KEYS)/note.key | $(EXECUTED) $(ENV_OK)
	@$(T0) $(PY) -m analysis.build note --params '$(PARAMS)' --out '$(OUT)'

$(BUILD)/executed/%.ipynb: $(KEYS)/%.key | $(ENV_OK)
	@$(T0) $(PY) -m analysis.build execute notebooks/$*.ipynb --params '$(PARAMS)' --build '$(BUILD)'

# an interrupted build never deletes a previous output (make would, for a target it was updating)
.PRECIOUS: $(NOTE_HTML) $(NOTE_PDF) $(BUILD)/executed/%.ipynb $(KEYS)/%.key $(PLAN) $(ENV_STAMP) $(ENV_OK)

# ---- environment --------------------------------------------------------------------------
env: $(ENV_OK) ## create or update the Python environment (.venv) from the lock file

# .venv is (re)built when missing or older than the lock file: uv if it can be installed, else pip
$(ENV_STAMP): uv.lock requirements.lock pyproject.toml tools/env.sh
	@tools/env.sh setup
	@touch $@

# a copied or moved checkout: .venv must import this folder's library (else it is set up again)
$(ENV_OK): $(ENV_STAMP)
	@tools/env.sh check || { echo "[env] .venv does not read this folder's library: setting it up again"; tools/env.sh setup; }
	@mkdir -p $(@D) && touch $@

# ---- tests --------------------------------------------------------------------------------
# point-in-time variants built (and tested) by `make test` besides the default note
TEST_VARIANTS := params/as-of-2025-11-10.yaml
TEST_NOTES := $(addprefix note@,params/default.yaml $(TEST_VARIANTS))
.PHONY: test-notes $(TEST_NOTES)

# pytest runs on every core (pytest-xdist), a module's tests on one worker (their module-scoped
# fixtures, such as a parsed built note, are made once); PYTEST_ARGS=... to choose tests or options
PYTEST_ARGS ?= -n $(NPROC) --dist loadscope
test: | $(ENV_OK) ## build the notes (in parallel), lint, then run every test (includes tests of the built notes)
	@$(MAKE) --no-print-directory test-notes
	@$(PY) -m ruff check src tests notebooks tools
	@$(PY) -m pytest -q $(PYTEST_ARGS)

test-notes: $(TEST_NOTES)
$(TEST_NOTES): note@%:
	@CRWV_MAKE_T0=$$(date +%s%N) $(MAKE) --no-print-directory report PARAMS=$*

lint: | $(ENV_OK) ## ruff on the library, tests, tools and notebooks
	@$(PY) -m ruff check src tests notebooks tools

bench: | $(ENV_OK) ## measure cold/no-op/one-notebook builds, the naive nbconvert route and make test (one run)
	@$(PY) tools/bench.py

# ---- notebooks ----------------------------------------------------------------------------
LAB_PORT ?= 8888
lab: | $(ENV_OK) ## JupyterLab on notebooks/ with the project kernel, at http://127.0.0.1:8888 (LAB_PORT=...)
	@$(PY) -m jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
	  --MappingKernelManager.default_kernel_name=crwv-note $(if $(filter 0,$(shell id -u)),--allow-root)

strip: | $(ENV_OK) ## remove outputs and run metadata from notebooks (rewrites only those that change)
	@$(PY) -m analysis.build strip $(wildcard notebooks/*.ipynb)

fix: | $(ENV_OK) ## ruff --fix (lint and import order) on library, tests, tools and notebooks; then strip
	@$(PY) -m ruff check --fix --quiet src tests notebooks tools || true
	@$(PY) -m ruff check src tests notebooks tools
	@$(PY) -m analysis.build strip $(wildcard notebooks/*.ipynb)

# ---- data ---------------------------------------------------------------------------------
vendor: | $(ENV_OK) ## re-vendor ../shared/data into data/, validate it and refresh data/MANIFEST.sha256
	@$(PY) -m analysis.data.vendor

check-data: | $(ENV_OK) ## verify data/ against its checksum manifest and validate every file
	@$(PY) -m analysis.data.manifest verify
	@$(PY) -m analysis.data.validate

lock: ## re-resolve dependencies: uv.lock, requirements.lock (pip fallback), environment.yml (conda)
	@$(CACHE)/bootstrap/bin/uv lock
	@$(CACHE)/bootstrap/bin/uv export --frozen --all-groups --no-emit-project --format requirements-txt --quiet -o requirements.lock
	@$(PY) tools/environment_yml.py

clean: ## remove built notes, build folders and the executed-notebook cache (keeps .venv)
	@find reports -mindepth 1 -not -name .gitkeep -delete
	@rm -rf $(CACHE)/executed $(CACHE)/plan $(CACHE)/scratch

distclean: clean ## also remove .venv and caches
	@rm -rf $(VENV) $(CACHE)

help: ## list targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## /  \1\t/' | expand -t 14

# ==== history: the note as of every results date (issue 12) ===================================
# `make history` generates params/history/<date>.yaml for every quarterly results date in data/
# and params/history/latest.yaml (`python -m analysis.history params`: params/default.yaml with only
# as_of changed; never edited by hand), builds the note as of each date into reports/history/<date>/
# (in parallel), then the latest note into reports/history/latest/, whose section 08 compares them
# ("What changed"). Each note as of a date is audited for leaks (reports/history/<date>/leak-audit.txt;
# a leak fails the build). Runs are shared with every other variant through the executed-notebook cache: a
# date already built (by `make test`, an earlier `make history`, a hand-made variant with the same
# parameters) is not executed again.
HISTORY := reports/history
HISTORY_PARAMS := params/history
HISTORY_SECTION := 08_what_changed
HISTORY_GOALS := history history-params history-dates history-latest
HISTORY_DATES = $(filter-out latest,$(basename $(notdir $(wildcard $(HISTORY_PARAMS)/*.yaml))))
.PHONY: $(HISTORY_GOALS)

history: | $(ENV_OK) ## the note as of every results date in data/ and latest -> reports/history/<date>/; the latest gets "What changed"
	@$(PY) -m analysis.history params --quiet
	@$(MAKE) --no-print-directory history-dates
	@$(MAKE) --no-print-directory history-latest
	@echo "[history] $(HISTORY)/: $$($(PY) -m analysis.history dates | tr '\n' ' ')"

history-params: | $(ENV_OK)
	@$(PY) -m analysis.history params --quiet

# one make per date, run in parallel (they share the jobserver); the dates come from the files above
history-dates: $(addprefix history@,$(HISTORY_DATES))
history-latest:
	@CRWV_MAKE_T0=$$(date +%s%N) $(MAKE) --no-print-directory report PARAMS=$(HISTORY_PARAMS)/latest.yaml OUT=$(HISTORY)/latest
history@%: | history-params
	@CRWV_MAKE_T0=$$(date +%s%N) $(MAKE) --no-print-directory report PARAMS=$(HISTORY_PARAMS)/$*.yaml OUT=$(HISTORY)/$*
	@$(MAKE) --no-print-directory $(HISTORY)/$*/leak-audit.txt

# every note of the history is audited for leaks once built (analysis.leaks): a leak fails the build
$(HISTORY)/%/leak-audit.txt: $(HISTORY)/%/crwv-note.html $(HISTORY)/%/crwv-note.pdf | $(ENV_OK)
	@$(PY) -m analysis.leaks $(HISTORY)/$* > $@.tmp && mv $@.tmp $@ && cat $@

# make test also builds a 2026 note of the history (besides TEST_VARIANTS) and audits it for leaks
test-notes: history@2026-02-26

# in the latest note, section 08 reads its own note's other results: it runs after them
ifeq ($(OUT),$(HISTORY)/latest)
$(BUILD)/executed/$(HISTORY_SECTION).ipynb: | $(filter-out %/$(HISTORY_SECTION).ipynb,$(EXECUTED))
endif
