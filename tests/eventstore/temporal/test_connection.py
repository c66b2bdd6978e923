"""Connecting to a real Temporal cluster: TLS (server CA, client certificate and key, server name)
and API keys from the settings, for the web server, the worker and every command (eventstore.temporal.connection.connect).

The dev server speaks plain TCP only, so what it can show is that the settings reach the connection:
a client configured for TLS is refused by it with a clear error."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from temporalio.service import TLSConfig

from eventstore.temporal.connection import TemporalUnavailable, connect, tls_config

TLS_SETTINGS = ("TEMPORAL_TLS", "TEMPORAL_TLS_SERVER_CA", "TEMPORAL_TLS_CLIENT_CERT", "TEMPORAL_TLS_CLIENT_KEY",
                "TEMPORAL_TLS_SERVER_NAME", "TEMPORAL_API_KEY")


@pytest.fixture
def plain(settings):
    for name in TLS_SETTINGS:
        setattr(settings, name, False if name == "TEMPORAL_TLS" else "")
    return settings


def test_no_tls_setting_means_plain_tcp(plain):
    assert tls_config() is False


def test_certificate_files_and_server_name_make_the_tls_configuration(plain, tmp_path):
    for name in ("ca", "cert", "key"):
        (tmp_path / f"{name}.pem").write_bytes(f"-----BEGIN {name}-----".encode())
    plain.TEMPORAL_TLS_SERVER_CA, plain.TEMPORAL_TLS_CLIENT_CERT = str(tmp_path / "ca.pem"), str(tmp_path / "cert.pem")
    plain.TEMPORAL_TLS_CLIENT_KEY, plain.TEMPORAL_TLS_SERVER_NAME = str(tmp_path / "key.pem"), "payments.tmprl.cloud"

    config = tls_config()

    assert isinstance(config, TLSConfig)
    assert (config.server_root_ca_cert, config.client_cert, config.client_private_key) == (
        b"-----BEGIN ca-----", b"-----BEGIN cert-----", b"-----BEGIN key-----")
    assert config.domain == "payments.tmprl.cloud"


def test_an_api_key_implies_tls_with_the_systems_authorities(plain):
    plain.TEMPORAL_API_KEY = "key"

    config = tls_config()

    assert isinstance(config, TLSConfig) and config.server_root_ca_cert is None and config.client_cert is None


def test_an_unreadable_certificate_file_is_named(plain, tmp_path):
    plain.TEMPORAL_TLS_SERVER_CA = str(tmp_path / "missing.pem")

    with pytest.raises(ImproperlyConfigured, match="TEMPORAL_TLS_SERVER_CA=.*missing.pem cannot be read"):
        tls_config()


def test_the_dev_server_refuses_a_tls_client_with_a_clear_error(plain, temporal_server):
    plain.TEMPORAL_TLS = True

    with pytest.raises(TemporalUnavailable, match=f"Temporal is unreachable at {temporal_server.address}"):
        temporal_server.run(connect(address=temporal_server.address), timeout=60)


def test_the_dev_server_takes_a_plain_client(plain, temporal_server):
    client = temporal_server.run(connect(address=temporal_server.address), timeout=60)

    assert client.namespace == "default"
