# The two commands of the README: `make run` and `make test`; `make docs` builds the site.
# Each sets up the virtual environment (and the data) first; all work on a fresh machine.
# `make run` installs only what running needs (the package and its `serve` extra); `make test`
# adds the test tools, `make docs` the documentation tools.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# --dist loadgroup: tests of one xdist_group share a worker, and so their costly fixtures (a
# trained run, a server, a browser); a test without one joins its module's (tests/conftest.py).
# --durations: CI's log names the slowest tests, where time goes when the 15 minutes get close.
PYTEST_ARGS ?= -n 2 --dist loadgroup --durations=15

.PHONY: run test test-fast setup setup-run setup-docs data lint docs tutorial wheel-check

run: data  ## train the notebook's experiment end to end and write its report
	$(BIN)/fashion-mlp train

test: setup data  ## run every test (exit code 5, "no tests collected", counts as success)
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The inner loop: no real data set, no long trainings, no Ray, no browser (pyproject's markers).
FAST_MARKERS ?= not (realdata or slow or ray or browser)

test-fast: setup  ## every test but the marked ones, in under 3 minutes on 2 cores (exit code 5 as test)
	$(BIN)/pytest $(PYTEST_ARGS) -m "$(FAST_MARKERS)"; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# uv resolves and installs from its cache in seconds where pip takes most of a minute; pip
# installs uv into the venv first, and installs everything itself if uv cannot be had.
# The test tools install with uv's --compile-bytecode (pip compiles by default): where
# PYTHONDONTWRITEBYTECODE is set, as on this project's machines, no process writes .pyc files,
# and every Python the tests start (xdist and Ray workers, the CLI, killed and resumed runs)
# compiled JAX, Keras and Ray from source again, a second or more each.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	-$(BIN)/python -m pip install --quiet uv

install = if [ -x $(BIN)/uv ]; then \
	$(BIN)/uv pip install --quiet $(2) --python $(BIN)/python $(1); \
	else $(BIN)/python -m pip install --quiet $(1); fi

setup-run: $(BIN)/.installed-run
setup: $(BIN)/.installed
setup-docs: $(BIN)/.installed-docs

$(BIN)/.installed-run: pyproject.toml | $(BIN)/python
	$(call install,-e ".[serve]")
	touch $@

$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(call install,-e ".[test]",--compile-bytecode)
	touch $@ $(BIN)/.installed-run

$(BIN)/.installed-docs: pyproject.toml | $(BIN)/python
	$(call install,-e ".[docs]")
	touch $@

# The data set: found locally or downloaded by fashion-mlp itself; offline, Debian's package.
data: setup-run
	@$(BIN)/fashion-mlp data > /dev/null 2>&1 || $(MAKE) --no-print-directory debian-data
	@$(BIN)/fashion-mlp data | head -1

.PHONY: debian-data
debian-data:
	@command -v apt-get > /dev/null || { $(BIN)/fashion-mlp data; exit 1; }
	@echo "no download possible: installing Debian's dataset-fashion-mnist"
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update -qq
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y -qq dataset-fashion-mnist

lint: setup  ## ruff, then the import contracts of pyproject.toml (the one-way layers)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

docs: setup-docs  ## the documentation site in site/ (open site/index.html); warnings fail it
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# The tutorial runs in a scratch folder (its runs/ and sweeps/ go there) and keeps its outputs,
# which the site shows; tests/docs executes it again in CI.
tutorial: setup data  ## execute docs/tutorial.ipynb and save it with its outputs
	tmp=$$(mktemp -d) && $(BIN)/python -c "import sys, nbclient, nbformat; \
	nb = nbformat.read('docs/tutorial.ipynb', as_version=4); \
	nbclient.NotebookClient(nb, timeout=600, kernel_name='python3', \
	    resources={'metadata': {'path': sys.argv[1]}}).execute(); \
	nbformat.write(nb, 'docs/tutorial.ipynb')" $$tmp && rm -rf $$tmp

# python -m build makes the sdist, then the wheel from the sdist (so both build); the wheel
# installs into a clean venv and trains the smoke preset.
wheel-check: setup
	rm -rf dist
	$(BIN)/python -m build --outdir dist . > /dev/null
	$(PYTHON) -m venv dist/venv
	$(call install_into,dist/venv,dist/*.whl)
	cd dist && venv/bin/fashion-mlp train --preset smoke --runs-dir runs > train.log
	@echo "dist/*.whl (built from dist/*.tar.gz): installed into a clean venv, trained the smoke preset"

install_into = if [ -x $(BIN)/uv ]; then $(BIN)/uv pip install --quiet --python $(1)/bin/python $(2); \
	else $(1)/bin/python -m pip install --quiet $(2); fi
