"""Tests of deploy/ that need an outside tool (Prometheus's promtool, systemd's systemd-analyze) are
deselected when the tool is missing, never skipped-as-passed, and the run says so plainly."""

import shutil

import pytest

from tests.missing_programs import deselect_and_say

TOOLS = {
    "promtool": "apt-get install prometheus",
    "systemd-analyze": "apt-get install systemd",
}


def needs(tool: str):
    """Marks a test that runs `tool`."""
    return pytest.mark.needs_tool(tool)


@pytest.hookimpl(trylast=True)  # after -m: tests a marker expression left out need no word
def pytest_collection_modifyitems(config, items):
    for tool, install in TOOLS.items():
        if shutil.which(tool):
            continue
        needing = [item for item in items if any(mark.args == (tool,) for mark in item.iter_markers("needs_tool"))]
        deselect_and_say(config, items, needing, what="DEPLOY TESTS", missing=f"no {tool} on PATH", install=install)
