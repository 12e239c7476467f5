# The two commands of the README's Quickstart: `make run` and `make test`.
# Each sets up the virtual environment and the data first; both work on a fresh machine.

PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
# --dist loadgroup: tests marked xdist_group share a worker (and so their module's costly
# fixtures: a trained run, a server, a browser); the others spread over the workers.
PYTEST_ARGS ?= -n 2 --dist loadgroup

.PHONY: run test test-fast setup data lint

run: data  ## train the notebook's experiment end to end and write its report
	$(BIN)/fashion-mlp train

test: data  ## run every test (exit code 5, "no tests collected", counts as success)
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

# The inner loop: no real data set, no long trainings, no Ray, no browser (pyproject's markers).
FAST_MARKERS ?= not (realdata or slow or ray or browser)

test-fast: setup  ## every test but the marked ones, in under 3 minutes on 2 cores (exit code 5 as test)
	$(BIN)/pytest $(PYTEST_ARGS) -m "$(FAST_MARKERS)"; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

setup: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# The data set: found locally or downloaded by fashion-mlp itself; offline, Debian's package.
data: setup
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
