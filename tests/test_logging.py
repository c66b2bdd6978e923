"""Structured logs: one JSON object per line, with the Temporal and correlation context."""

import json
import logging

from config.logging import JsonFormatter


def test_json_lines_carry_the_command_context():
    record = logging.LogRecord("payments", logging.INFO, __file__, 1, "ACCEPTED %s", ("payment-1",), None)
    record.temporal_workflow = {"workflow_id": "payment-command:org-1:k", "run_id": "r-1"}
    record.correlation_id = "order-7"

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "ACCEPTED payment-1" and line["level"] == "INFO"
    assert line["temporal_workflow"]["workflow_id"] == "payment-command:org-1:k"
    assert line["correlation_id"] == "order-7"
