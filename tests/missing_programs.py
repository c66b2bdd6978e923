"""Tests that need a program the machine may lack (Debian's Chromium, nginx, redis-server, promtool,
systemd-analyze) are deselected without it, never skipped-as-passed, and the run says so plainly,
with the line that installs it."""


def deselect_and_say(config, items, needing: list, *, what: str, missing: str, install: str) -> None:
    """Leave `needing` out of `items` and print one loud line: WHAT NOT RUN: MISSING (N deselected)."""
    if not needing:
        return
    config.hook.pytest_deselected(items=needing)
    items[:] = [item for item in items if item not in needing]
    config.pluginmanager.get_plugin("terminalreporter").write_line(
        f"{what} NOT RUN: {missing} ({len(needing)} deselected). Install it with: {install}", yellow=True, bold=True)
