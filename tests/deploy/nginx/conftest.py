"""The nginx tests need Debian's nginx. Without it they are deselected, never skipped-as-passed, and
the run says so plainly."""

import pytest

from tests.deploy.nginx.site import NGINX, nginx_available
from tests.missing_programs import deselect_and_say


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if nginx_available():
        return
    nginx_tests = [item for item in items if "tests/deploy/nginx/" in str(item.fspath)]
    deselect_and_say(config, items, nginx_tests, what="NGINX TESTS", missing=f"no nginx at {NGINX}",
                     install="apt-get install nginx")
