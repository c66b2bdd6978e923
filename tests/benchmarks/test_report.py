"""BENCHMARKS.md carries every figure with its baseline and ratio, the machine and how to reproduce it.

A unit test of the report writer: it runs in the default suite, not under the `bench` marker.
"""

import pytest

from tests.benchmarks.measure import Comparison, Section
from tests.benchmarks.report import write_report

pytestmark = pytest.mark.django_db


def test_the_report_lists_figures_ratios_targets_machine_and_command(tmp_path, temporal_server):
    section = Section("bench_demo", data="1,000 events", seconds=12.0, comparisons=[
        Comparison("appends", "events/s", 150.0, 300.0, "raw INSERT", target=0.5),
        Comparison("history", "ms", 3.0, 2.0, "hand-written SQL", higher_is_better=False, target=1.4),
    ])
    report = tmp_path / "BENCHMARKS.md"

    write_report(report, [section], command="make bench", seconds=600, temporal=temporal_server)

    text = report.read_text()
    assert "| appends | 150.0 events/s | 300.0 events/s (raw INSERT) | 0.50x | higher | at least 0.50x, met |" in text
    assert "| history | 3.0 ms | 2.0 ms (hand-written SQL) | 1.50x | lower | at most 1.40x, MISSED |" in text
    assert "Data: 1,000 events; 12s." in text
    for fact in ("cores", "GiB", "PostgreSQL: 1", "Temporal: server 1.", "Django: 5.2"):
        assert fact in text
    assert text.rstrip().endswith("make bench\n```")
    assert "## Where the time goes" in text  # the profiles' findings, kept beside the benchmarks
