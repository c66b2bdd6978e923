# `make run` and `make test` work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-requirements

.PHONY: install run dev test test-quick lint-imports bench chaos check-python

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'

$(INSTALLED): requirements.txt | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements.txt
	touch $(INSTALLED)

install: $(INSTALLED)

# gunicorn with DEBUG off, as in production; `make dev`: Django's runserver with DEBUG on and reload.
run: install
	$(BIN)/python -m config.devstack run

dev: install
	$(BIN)/python -m config.devstack dev

# The layering contracts of .importlinter, checked before any test runs.
lint-imports: install
	$(BIN)/lint-imports --no-cache

# Everything but the benchmarks (pytest.ini deselects them).
test: lint-imports
	$(BIN)/python -m config.devstack test $(PYTEST_ARGS)

# The edit loop: leaves out the slow kinds of tests (markers in pytest.ini).
QUICK_MARKERS := not chaos and not crash and not fuzz and not browser and not bench
test-quick: lint-imports
	$(BIN)/python -m config.devstack test -m "$(QUICK_MARKERS)" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m config.devstack bench $(BENCH_ARGS)

chaos: install
	$(BIN)/python -m tests.chaos.run $(CHAOS_ARGS)
