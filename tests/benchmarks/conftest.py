"""The benchmarks (`make bench`): pytest tests under the `bench` marker, which the default run deselects.

    python -m pytest tests/benchmarks -m bench [--quick] [--report PATH] [-k NAME]

They measure on pytest-django's test database and on the suite's Temporal dev server. Each module is
one benchmark: its FULL and QUICK sizes (the `size` fixture picks one) and a test that prints every
figure beside a baseline measured in the same run, through the `bench` fixture. When every selected
benchmark has passed, the session ends by writing BENCHMARKS.md (or --report) with all the figures.
"""

import shlex
import time
from pathlib import Path
from types import SimpleNamespace

import environ
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import setup_test_environment, teardown_test_environment

from tests.benchmarks.measure import Recorder, Section
from tests.benchmarks.report import write_report
from tests.processes import BASE_DIR

ORDER = ("eventstore", "personal_data", "ledger", "incremental", "payments", "payload_codec", "workers", "projections",
         "subscriptions", "analytics", "rollups", "business_time", "statements", "reconciliation", "scale", "curve",
         "replica", "admin", "api", "chaos")  # as in the report
PASSED = pytest.StashKey[bool]()
OUTCOME = pytest.StashKey[str]()  # what became of the report, said at the end of the session


def pytest_addoption(parser):
    group = parser.getgroup("benchmarks", "benchmarks (python -m pytest tests/benchmarks -m bench)")
    group.addoption("--quick", action="store_true", help="small sizes, for a smoke run")
    group.addoption("--report", default=str(BASE_DIR / "BENCHMARKS.md"),
                    help="where to write the report (default BENCHMARKS.md at the project root)")


def pytest_collection_modifyitems(items):
    """Benchmarks run in the report's order (the store first, the whole stack under faults last)."""
    slots = [index for index, item in enumerate(items) if item.get_closest_marker("bench")]
    ordered = sorted((items[index] for index in slots), key=lambda item: _rank(_benchmark_name(item)))
    for index, item in zip(slots, ordered):
        items[index] = item


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and item.get_closest_marker("bench"):
        item.stash[PASSED] = report.passed
    return report


@pytest.fixture(scope="session")
def bench_report(request, temporal_server, django_db_setup, django_db_blocker):
    """The sections this session's benchmarks fill, by benchmark; written to the report at the end."""
    sections: dict[str, Section] = {}
    started = time.monotonic()
    yield sections
    config = request.config
    selected = [item for item in request.session.items if item.get_closest_marker("bench")]
    unfinished = [item.nodeid for item in selected if not item.stash.get(PASSED, False)]
    if unfinished:
        config.stash[OUTCOME] = f"No report written: {', '.join(unfinished)} did not pass."
        return
    path = Path(config.getoption("report", BASE_DIR / "BENCHMARKS.md"))
    with django_db_blocker.unblock():
        write_report(path, list(sections.values()), command=_reproduce(config), seconds=time.monotonic() - started,
                     temporal=temporal_server)
    config.stash[OUTCOME] = f"Report written to {path}"


def pytest_terminal_summary(terminalreporter, config):
    if OUTCOME in config.stash:
        terminalreporter.write_line(config.stash[OUTCOME])


@pytest.fixture
def bench(request, bench_report, as_in_development) -> Recorder:
    """The running benchmark's recorder: what it says is printed at once, its figures go to the report."""
    name = _benchmark_name(request.node)
    section = bench_report.setdefault(name, Section(name))
    recorder = Recorder(section, _printer(request.config))
    recorder.say(f"\n== {name}")
    started = time.monotonic()
    yield recorder
    section.seconds += time.monotonic() - started


@pytest.fixture
def size(request) -> SimpleNamespace:
    """The benchmark module's sizes: FULL, or QUICK with --quick."""
    return SimpleNamespace(**(request.module.QUICK if _quick(request.config) else request.module.FULL))


@pytest.fixture
def as_in_development(monkeypatch):
    """Benchmarks run the code as a development checkout runs it, as every figure so far was measured:
    outside Django's test environment (which turns DEBUG off and instruments every template render so
    that the test client can keep a copy of each context), and with database connections kept between
    uses (CONN_MAX_AGE as config/settings/base.py reads it; the suite's 0 opens a new connection for
    every activity call)."""
    debug_in_tests = settings.DEBUG
    teardown_test_environment()
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", environ.Env().int("CONN_MAX_AGE", default=60))
    yield
    setup_test_environment(debug=debug_in_tests)


def _benchmark_name(item) -> str:
    """`bench_<name>` for tests/benchmarks/test_<name>.py: the section title in the report."""
    return "bench_" + item.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")


def _rank(name: str) -> int:
    short = name.removeprefix("bench_")
    return ORDER.index(short) if short in ORDER else len(ORDER)


def _quick(config) -> bool:
    return config.getoption("quick", False)


def _reproduce(config) -> str:
    arguments = ["--quick"] if _quick(config) else []
    if config.option.keyword:
        arguments += ["-k", shlex.quote(config.option.keyword)]
    return f"make bench BENCH_ARGS=\"{' '.join(arguments)}\"" if arguments else "make bench"


def _printer(config):
    """Print past pytest's output capture, so that figures show as they are measured."""
    capture = config.pluginmanager.getplugin("capturemanager")

    def say(text: str) -> None:
        if capture is None:
            print(text, flush=True)
            return
        with capture.global_and_fixture_disabled():
            print(text, flush=True)

    return say
