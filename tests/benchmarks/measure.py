"""What every benchmark measures with: timing, alternating rounds, same-run comparisons, and the
section of BENCHMARKS.md each benchmark fills.

Every figure is printed beside a baseline measured in the same process on the same machine:
absolute times on shared machines are noise, ratios are what to compare.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection

from tests.benchmarks.cpu import GROUPS, CpuMeter, CpuUse


def psycopg_settings() -> dict:
    """Connection arguments for a plain psycopg connection to the database the benchmark uses."""
    settings = connection.settings_dict
    return dict(
        dbname=settings["NAME"], user=settings["USER"], password=settings.get("PASSWORD") or None,
        host=settings["HOST"] or None, port=settings["PORT"] or None,
    )


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Alternated:
    """Medians of alternating rounds: operations/s, and the CPU one operation used, by process."""

    measured: float
    baseline: float
    measured_cpu: CpuUse
    baseline_cpu: CpuUse


def alternate(rounds: int, operations: int, measured: Callable[[], None], baseline: Callable[[], None]) -> Alternated:
    """Run baseline and measured work in alternation so that drifting machine load hits both alike."""
    meter, measured_rounds, baseline_rounds = CpuMeter(), _Rounds(), _Rounds()
    for _ in range(rounds):
        baseline_rounds.run(baseline, operations, meter)
        measured_rounds.run(measured, operations, meter)
    return Alternated(measured_rounds.rate(), baseline_rounds.rate(), measured_rounds.cpu(), baseline_rounds.cpu())


class _Rounds:
    def __init__(self):
        self.rates, self.uses = [], []

    def run(self, work: Callable[[], None], operations: int, meter: CpuMeter) -> None:
        before = meter.sample()
        self.rates.append(operations / timed(work))
        self.uses.append(meter.used_since(before).per_operation(operations))

    def rate(self) -> float:
        return statistics.median(self.rates)

    def cpu(self) -> CpuUse:
        return CpuUse.median(self.uses)


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
    def ratio_text(self) -> str:
        """Two decimals, or two significant digits below 0.01x (0.0018x, not 0.00x)."""
        return f"{self.ratio:.2g}x" if abs(self.ratio) < 0.01 else f"{self.ratio:.2f}x"

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
            f"{self.baseline:>12,.1f}  ratio {self.ratio_text} ({'higher' if self.higher_is_better else 'lower'} is better{target})"
        )


def cpu_comparisons(name: str, measured: CpuUse, baseline: CpuUse, baseline_name: str, *,
                    unit: str = "µs", scale: float = 1e6) -> list[Comparison]:
    """CPU per operation beside the baseline's, in all and for each process that did a share of the
    baseline's (5% or more): where a rate bound by busy cores loses its time."""
    rows = [Comparison(f"{name}: CPU, all processes", unit, measured.total * scale, baseline.total * scale,
                       baseline_name, higher_is_better=False)]
    for group in GROUPS:
        if baseline.seconds[group] >= 0.05 * baseline.total:
            rows.append(Comparison(f"{name}: CPU, {group}", unit, measured.seconds[group] * scale,
                                   baseline.seconds[group] * scale, baseline_name, higher_is_better=False))
    return rows


@dataclass
class Section:
    """One benchmark's figures and the data they were measured on, for BENCHMARKS.md."""

    benchmark: str
    data: str = ""
    comparisons: list[Comparison] = field(default_factory=list)
    seconds: float = 0.0


class Recorder:
    """What a benchmark tells as it goes (printed at once, even under pytest's capture) and keeps
    for the report: the `bench` fixture hands one to every benchmark."""

    def __init__(self, section: Section, say: Callable[[str], None]):
        self.section = section
        self._say = say

    def say(self, text: str = "") -> None:
        self._say(text)

    def describe_data(self, text: str) -> None:
        """Say what the benchmark measures on (rows, sizes); it goes into BENCHMARKS.md."""
        self.section.data = text

    def report(self, comparison: Comparison) -> None:
        """Print a figure beside its baseline and keep it for the report."""
        self.say(comparison.line())
        self.section.comparisons.append(comparison)
