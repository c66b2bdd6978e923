"""Structured logs: one JSON object per line, with the Temporal and correlation context."""

import json
import logging
import os
import subprocess
import sys

from config.logging import JsonFormatter


def test_json_lines_carry_the_command_context():
    record = logging.LogRecord("payments", logging.INFO, __file__, 1, "ACCEPTED %s", ("payment-1",), None)
    record.temporal_workflow = {"workflow_id": "payment-command:org-1:k", "run_id": "r-1"}
    record.correlation_id = "order-7"

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "ACCEPTED payment-1" and line["level"] == "INFO"
    assert line["temporal_workflow"]["workflow_id"] == "payment-command:org-1:k"
    assert line["correlation_id"] == "order-7"


def test_with_a_log_file_command_outcomes_leave_the_console_and_warnings_stay(tmp_path):
    log_file = tmp_path / "commands.log"
    script = ("import logging, django; django.setup(); "
              "logging.getLogger('temporalio.workflow').info('ACCEPTED payment-1'); "
              "logging.getLogger('temporalio.workflow').warning('slow payment-2')")
    env = {**os.environ, "LOG_FILE": str(log_file), "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    console = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)

    assert "ACCEPTED payment-1" in log_file.read_text() and "slow payment-2" in log_file.read_text()
    assert "ACCEPTED payment-1" not in console.stderr and "slow payment-2" in console.stderr
