"""Shared tools of the `bench_*` commands (and the concurrency tests): a scratch database, threads
with their own connections, timing and same-run ratios.

Every figure is printed beside a baseline measured in the same process on the same machine:
absolute times on shared machines are noise, ratios are what to compare.
"""

import contextlib
import threading
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

from django.db import connection


@contextlib.contextmanager
def scratch_database():
    """A fresh, migrated database beside the configured one (Django's test database), dropped after."""
    original_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield connection.settings_dict["NAME"]
    finally:
        _disconnect_everyone_else(connection.settings_dict["NAME"])
        connection.creation.destroy_test_db(original_name, verbosity=0)


def _disconnect_everyone_else(database: str) -> None:
    """Worker threads keep their own connections; the scratch database cannot be dropped under them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        )


def psycopg_settings() -> dict:
    settings = connection.settings_dict
    return dict(
        dbname=settings["NAME"], user=settings["USER"], password=settings.get("PASSWORD") or None,
        host=settings["HOST"] or None, port=settings["PORT"] or None,
    )


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@dataclass
class Comparison:
    name: str
    unit: str
    measured: float
    baseline: float
    baseline_name: str
    higher_is_better: bool = True
    target: float | None = None  # the ratio an issue asked for: at least it (higher is better) or at most it

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline if self.baseline else float("nan")

    @property
    def target_met(self) -> bool | None:
        if self.target is None:
            return None
        return self.ratio >= self.target if self.higher_is_better else self.ratio <= self.target

    @property
    def target_text(self) -> str:
        if self.target is None:
            return ""
        return f"{'at least' if self.higher_is_better else 'at most'} {self.target:.2f}x, {'met' if self.target_met else 'MISSED'}"

    def line(self) -> str:
        target = f"; target {self.target_text}" if self.target is not None else ""
        return (
            f"{self.name:<46} {self.measured:>12,.1f} {self.unit:<10} baseline ({self.baseline_name}) "
            f"{self.baseline:>12,.1f}  ratio {self.ratio:.2f}x ({'higher' if self.higher_is_better else 'lower'} is better{target})"
        )


@dataclass
class Section:
    """One benchmark's figures and the data they were measured on, for BENCHMARKS.md."""

    benchmark: str
    data: str = ""
    comparisons: list[Comparison] = field(default_factory=list)
    seconds: float = 0.0


SECTIONS: list[Section] = []  # what this process measured, in order


def begin_section(benchmark: str) -> Section:
    SECTIONS.append(Section(benchmark))
    return SECTIONS[-1]


def describe_data(text: str) -> None:
    """Say what the current benchmark measures on (rows, sizes); it goes into BENCHMARKS.md."""
    if SECTIONS:
        SECTIONS[-1].data = text


def report(stdout, comparison: Comparison) -> None:
    """Print a figure beside its baseline and keep it for the report."""
    stdout.write(comparison.line())
    if SECTIONS:
        SECTIONS[-1].comparisons.append(comparison)


def alternate(rounds: int, operations: int, measured: Callable[[], None], baseline: Callable[[], None]) -> tuple[float, float]:
    """Run baseline and measured work in alternation so that drifting machine load hits both alike."""
    measured_rates, baseline_rates = [], []
    for _ in range(rounds):
        baseline_rates.append(operations / timed(baseline))
        measured_rates.append(operations / timed(measured))
    return statistics.median(measured_rates), statistics.median(baseline_rates)


def in_threads(count: int, work) -> None:
    """Run `work(index)` in `count` threads started together, each with its own database connection;
    re-raise the first error any of them met."""
    errors = []
    start = threading.Barrier(count)

    def body(index):
        try:
            start.wait()
            work(index)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=body, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
