"""The nginx tests need Debian's nginx. Without it they are deselected, never skipped-as-passed, and
the run says so plainly."""

import pytest

from tests.deploy.nginx.site import NGINX, nginx_available


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if nginx_available():
        return
    nginx_tests = [item for item in items if "tests/deploy/nginx/" in str(item.fspath)]
    if nginx_tests:
        config.hook.pytest_deselected(items=nginx_tests)
        items[:] = [item for item in items if item not in nginx_tests]
        config.pluginmanager.get_plugin("terminalreporter").write_line(
            f"NGINX TESTS NOT RUN: no nginx at {NGINX} ({len(nginx_tests)} deselected). "
            "Install it with: apt-get install nginx", yellow=True, bold=True)
