"""The chaos run's short form: load through the API while the worker, PostgreSQL and Temporal fail.

It brings up its own stack (PostgreSQL cluster, Temporal dev server with persisted state, worker and
web server as the application role) and checks every command against the store afterwards.
"""

import re
import subprocess
import sys

import pytest

from tests.processes import BASE_DIR

pytestmark = pytest.mark.chaos

SHORT_FORM = ["--seconds", "36", "--fault-every", "10", "--outage-seconds", "2", "--concurrency", "4",
              "--drain-seconds", "30", "--projection-timeout", "30", "--seed", "2026"]


def test_nothing_is_lost_or_duplicated_through_worker_database_and_temporal_faults():
    run = subprocess.run([sys.executable, "-m", "tests.chaos.run", *SHORT_FORM], cwd=BASE_DIR,
                         capture_output=True, text=True, timeout=170)
    report = run.stdout + run.stderr

    assert run.returncode == 0, report
    assert "chaos run PASSED" in report
    for fault in ("worker killed", "PostgreSQL crashed", "Temporal restarted"):
        assert re.search(rf"{fault}\s+recovery \d+\.\d+s", report), report
    accepted = int(re.search(r"answers\s+accepted (\d+)", report).group(1))
    assert accepted > 50, report
    for check in ("commands have exactly their events", "versions are contiguous", "verify_event_chain passes",
                  "lag back to zero", "equal a fold of the events"):
        assert re.search(rf"ok\s+.*{check}", report), report


def test_two_workers_and_a_multi_process_web_server_lose_nothing_and_share_the_commands():
    run = subprocess.run([sys.executable, "-m", "tests.chaos.run", *SHORT_FORM, "--workers", "2", "--web-processes", "2"],
                         cwd=BASE_DIR, capture_output=True, text=True, timeout=240)
    report = run.stdout + run.stderr

    assert run.returncode == 0, report
    assert re.search(r"worker killed\s+recovery \d+\.\d+s", report), report
    assert re.search(r"ok\s+every worker took commands \(worker-1 [1-9]\d*, worker-2 [1-9]\d*\)", report), report
    for check in ("commands have exactly their events", "versions are contiguous", "equal a fold of the events"):
        assert re.search(rf"ok\s+.*{check}", report), report


def test_the_run_fails_on_answers_that_break_the_api_promises():
    from tests.chaos.load import Answer, Command
    from tests.chaos.run import answer_problems, ledger_of

    created = Command("create", "org-1", {}, key="k1", expected={200, 201}, answer=Answer(201, {"event_ids": ["e1"]}))
    server_error = Command("create", "org-1", {}, key="k2", expected={200, 201}, answer=Answer(503, None))
    flaky = Command("refund", "org-1", {}, key="k3", expected={201, 422}, answer=Answer(422, {}), unexpected_errors=1)
    not_replayed = Command("repeat", "org-1", {}, key="k1", expected={200}, answer=Answer(200, {"replayed": False, "event_ids": ["e1"]}))
    reused = Command("key_reuse", "org-1", {}, key="k1", expected={409}, answer=Answer(201, {"event_ids": ["e9"]}))

    problems = answer_problems([created, server_error, flaky, not_replayed, reused])

    assert len(problems) == 4
    assert ledger_of([created, server_error, flaky, reused]) == [
        {"key": "k1", "outcome": "accepted", "event_ids": ["e1"]},
        {"key": "k2", "outcome": "unanswered"},
        {"key": "k3", "outcome": "refused"},
    ]
