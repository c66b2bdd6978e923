"""The CPU meter the benchmarks report beside their rates: each process's work lands in its group.

A unit test of the benchmark tooling: it runs in the default suite, not under the `bench` marker.
"""

import time

import psutil
import psycopg
import pytest

from tests.benchmarks.cpu import BENCHMARK, POSTGRES, CpuMeter
from tests.benchmarks.measure import psycopg_settings
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db

SERVER_WORK = "SELECT count(*) FROM generate_series(1, 3000000)"  # a few hundred ms of the server's CPU


def test_server_work_counts_for_postgresql_even_when_its_connection_closed_meanwhile():
    meter = CpuMeter()
    before = meter.sample()
    with psycopg.connect(**psycopg_settings()) as connection:  # its backend starts and ends in between
        backend = connection.info.backend_pid
        connection.execute(SERVER_WORK)
    assert wait_for(lambda: not psutil.pid_exists(backend), timeout=10)

    used = meter.used_since(before)

    assert used.seconds[POSTGRES] >= 0.1
    assert used.seconds[BENCHMARK] < used.seconds[POSTGRES]


def test_work_in_this_process_counts_for_the_benchmark_process():
    meter = CpuMeter()
    before = meter.sample()
    started = time.process_time()
    while time.process_time() - started < 0.3:
        pass

    used = meter.used_since(before)

    assert used.seconds[BENCHMARK] >= 0.25
    assert used.seconds[POSTGRES] < 0.1
    assert used.per_operation(10).seconds[BENCHMARK] == pytest.approx(used.seconds[BENCHMARK] / 10)
