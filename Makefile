# `make run` and `make test` work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-requirements
CATALOGS := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

.PHONY: install lock run dev test test-quick lint-imports bench chaos check-python messages

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'

# What production runs (requirements.txt) and the development and test tools (requirements-dev.txt,
# which holds both), hash-locked: pip installs exactly the files `make lock` recorded.
$(INSTALLED): requirements.txt requirements-dev.txt | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --require-hashes -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED) $(CATALOGS)

# The message catalogs (locale/<language>/LC_MESSAGES/django.po, committed) compiled to the .mo files
# Django reads (not committed: built from the .po, they never drift from it). Babel's pybabel compiles
# them in pure Python, so installing needs no GNU gettext; a fuzzy or empty translation is left out
# (the English text shows) and the catalog test fails on it.
locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po $(INSTALLED)
	$(BIN)/pybabel --quiet compile --domain django --locale $* --input-file $< --output-file $@

# After a change of text: every string marked for translation into the catalogs (Django's makemessages,
# which needs GNU gettext's xgettext and msgmerge: `apt-get install gettext`), then compiled. New
# entries come with an empty msgstr: translate them in locale/fr/LC_MESSAGES/django.po.
MAKEMESSAGES_ARGS := --locale fr --add-location file --no-obsolete --ignore "tests/*" --ignore "staticfiles/*"
messages: $(INSTALLED)
	$(BIN)/python manage.py makemessages $(MAKEMESSAGES_ARGS)
	$(MAKE) $(CATALOGS)

# Recompile the locked requirements*.txt from requirements*.in after a change there: versions already
# locked stay unless LOCK_ARGS says otherwise (--upgrade, or --upgrade-package NAME). No index or
# mirror of the machine that locks is written into the files.
PIP_TOOLS_VERSION := 7.7.0
LOCK_ARGS ?=
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host $(LOCK_ARGS)

lock: install
	$(BIN)/python -m pip install --disable-pip-version-check --quiet pip-tools==$(PIP_TOOLS_VERSION)
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-dev.txt requirements-dev.in

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
