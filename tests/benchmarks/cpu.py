"""CPU time by process, beside the figures a busy machine bounds.

When every core is busy, a rate is what the cores can give divided by the CPU one operation needs
from every process that serves it: the benchmark's own process (client, worker), the Temporal dev
server it started, and the PostgreSQL server. The meter reads those processes' CPU time (user and
system) before and after a measurement; a process that starts meanwhile counts whole, and a
PostgreSQL backend that ends meanwhile (a thread's connection closed) counts through its postmaster,
which adds its children's time to its own once they end. PostgreSQL counts only when it runs on this
machine (the postmaster of our own connection's backend, with every process it started).
"""

import statistics
from dataclasses import dataclass

import psutil
from django.db import connection

BENCHMARK, TEMPORAL, POSTGRES = "benchmark process", "Temporal server", "PostgreSQL"
GROUPS = (BENCHMARK, TEMPORAL, POSTGRES)

Sample = dict[str, dict[int, float]]  # CPU seconds by group, then by process id


@dataclass(frozen=True)
class CpuUse:
    """CPU seconds each group of processes used during a measurement."""

    seconds: dict[str, float]

    @property
    def total(self) -> float:
        return sum(self.seconds.values())

    def per_operation(self, operations: int) -> "CpuUse":
        return CpuUse({group: seconds / operations for group, seconds in self.seconds.items()})

    @staticmethod
    def median(uses: list["CpuUse"]) -> "CpuUse":
        return CpuUse({group: statistics.median(use.seconds[group] for use in uses) for group in GROUPS})


class CpuMeter:
    def __init__(self):
        self._benchmark = psutil.Process()
        self._postmaster = _local_postmaster()

    def sample(self) -> Sample:
        """Note the CPU time used so far; `used_since` tells what was used after."""
        return {
            BENCHMARK: _cpu_seconds([self._benchmark]),
            TEMPORAL: _cpu_seconds(self._temporal_servers()),
            POSTGRES: self._postgres(),
        }

    def used_since(self, before: Sample) -> CpuUse:
        after = self.sample()
        return CpuUse({
            group: sum(seconds - before[group].get(pid, 0.0) for pid, seconds in after[group].items())
            for group in GROUPS
        })

    def _temporal_servers(self) -> list[psutil.Process]:
        return [child for child in _children(self._benchmark) if "temporal" in _name(child)]

    def _postgres(self) -> dict[int, float]:
        if self._postmaster is None:
            return {}
        seconds = _cpu_seconds([self._postmaster, *_children(self._postmaster)])
        try:
            ended = self._postmaster.cpu_times()
        except psutil.Error:
            return seconds
        seconds[self._postmaster.pid] += ended.children_user + ended.children_system
        return seconds


def _cpu_seconds(processes: list[psutil.Process]) -> dict[int, float]:
    seconds = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended between listing and reading
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _name(process: psutil.Process) -> str:
    try:
        return process.name().lower()
    except psutil.Error:
        return ""


def _local_postmaster() -> psutil.Process | None:
    """The PostgreSQL server our connection's backend belongs to, if it runs on this machine."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    try:
        postmaster = psutil.Process(backend_pid).parent()
    except psutil.Error:
        return None
    return postmaster if postmaster is not None and "postgres" in _name(postmaster) else None
