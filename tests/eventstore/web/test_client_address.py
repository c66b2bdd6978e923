"""The client's address: REMOTE_ADDR unless proxies are trusted, then the entry the outermost trusted
proxy appended to X-Forwarded-For, never one the client wrote."""

import pytest
from django.test import RequestFactory

from eventstore.web.client_address import client_address

PROXY = "10.0.0.5"


def request_from(remote: str = PROXY, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/api/events/", REMOTE_ADDR=remote, **headers)


def test_with_no_proxy_trusted_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_address(request_from("198.51.100.7", forwarded="203.0.113.1")) == "198.51.100.7"


@pytest.mark.parametrize(("proxies", "forwarded", "client"), [
    (1, "198.51.100.7", "198.51.100.7"),
    (1, "203.0.113.1, 198.51.100.7", "198.51.100.7"),  # what the client sent is left of the proxy's entry
    (2, "203.0.113.1, 198.51.100.7, 10.0.0.9", "198.51.100.7"),
    (2, "198.51.100.7", "198.51.100.7"),  # came in through the nearest proxy only
    (1, "2001:DB8:0:0::7", "2001:db8::7"),
])
def test_behind_proxies_the_client_is_the_entry_the_outermost_trusted_proxy_wrote(settings, proxies, forwarded, client):
    settings.TRUSTED_PROXY_COUNT = proxies

    assert client_address(request_from(forwarded=forwarded)) == client


@pytest.mark.parametrize("forwarded", [None, "", "unknown", "198.51.100.7, not-an-address"])
def test_behind_a_proxy_without_an_address_to_believe_the_client_is_the_connection(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_address(request_from(forwarded=forwarded)) == PROXY
