"""BENCHMARKS.md: every figure `make bench` measured, beside its same-run baseline, with the
machine, the software versions, the data sizes and the command that reproduces it."""

import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from django.db import connection
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest

from tests.benchmarks.measure import Section
from tests.temporal_harness import TemporalHarness

PACKAGES = ("Django", "djangorestframework", "temporalio", "psycopg")
# Where the time goes: what profiles of these benchmarks found, written by hand when they are taken
# (they need py-spy and a person reading flame graphs); the report carries it below the figures.
FINDINGS = Path(__file__).with_name("FINDINGS.md")


def write_report(path: Path, sections: list[Section], *, command: str, seconds: float, temporal: TemporalHarness) -> None:
    """`temporal`: the dev server the benchmarks ran on, asked for its version."""
    lines = [
        "# Benchmarks",
        "",
        f"Written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; the whole run took "
        f"{seconds / 60:.1f} minutes. Every figure sits beside a baseline measured in the same process, on "
        "the same machine, in the same run: on shared machines absolute times are noise, ratios are what to "
        "compare. A ratio above 1 means ours is larger (better for throughput, worse for latency); each row "
        "says which way is better, and the target an issue set, if any.",
        "",
        "## Machine",
        "",
        *(f"- {name}: {value}" for name, value in machine(temporal).items()),
        "",
    ]
    for section in sections:
        lines += _section(section)
    if FINDINGS.exists():
        lines += [FINDINGS.read_text().strip(), ""]
    lines += ["## Reproduce", "", "```sh", command, "```", ""]
    path.write_text("\n".join(lines))


def _section(section: Section) -> list[str]:
    lines = [f"## {section.benchmark}", "", f"Data: {section.data or 'see the command'}; {section.seconds:.0f}s.", ""]
    lines += ["| figure | ours | baseline | ratio | better | target |", "|---|---|---|---|---|---|"]
    for c in section.comparisons:
        lines.append(
            f"| {c.name} | {c.measured:,.1f} {c.unit} | {c.baseline:,.1f} {c.unit} ({c.baseline_name}) | "
            f"{c.ratio_text} | {'higher' if c.higher_is_better else 'lower'} | {c.target_text or '-'} |"
        )
    return [*lines, ""]


def machine(temporal: TemporalHarness) -> dict[str, str]:
    return {
        "CPU": f"{os.cpu_count()} cores, {_cpu_model()}",
        "memory": _memory(),
        "system": platform.platform(),
        "Python": platform.python_version(),
        "PostgreSQL": _postgres_version(),
        "Temporal": _temporal_version(temporal),
        **{name: _package_version(name) for name in PACKAGES},
    }


def _cpu_model() -> str:
    return _proc_value("/proc/cpuinfo", "model name") or platform.processor() or "unknown model"


def _memory() -> str:
    kilobytes = _proc_value("/proc/meminfo", "MemTotal")
    return f"{int(kilobytes.split()[0]) / 1024 / 1024:.1f} GiB" if kilobytes else "unknown"


def _proc_value(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _postgres_version() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]


def _temporal_version(temporal: TemporalHarness) -> str:
    async def ask() -> str:
        info = await temporal.client.workflow_service.get_system_info(GetSystemInfoRequest())
        return info.server_version

    try:
        return f"server {temporal.run(ask(), timeout=10)}"
    except Exception as error:  # the report is still worth writing without it
        return f"unknown ({error})"


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
