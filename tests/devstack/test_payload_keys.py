"""A development checkout encrypts Temporal payloads as production does, with a key made once and
kept under .data/; a configured key, plain payloads asked for, or production settings leave it out."""

import os
import stat

import pytest

from config.devstack import payload_keys
from config.devstack.payload_keys import use_development_payload_keys
from eventstore.temporal.payload_keys import parse_key_lines


@pytest.fixture
def fresh_checkout(tmp_path, monkeypatch):
    """No key configured, and the key file of a checkout that never ran."""
    for name in (*payload_keys.SETTINGS, "TEMPORAL_PAYLOAD_ENCRYPTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(payload_keys, "KEY_FILE", tmp_path / ".data" / "temporal-payload-keys")
    return payload_keys.KEY_FILE


def test_the_first_process_makes_the_key_and_every_later_one_uses_it(fresh_checkout):
    assert use_development_payload_keys("config.settings.base")
    assert os.environ["TEMPORAL_PAYLOAD_KEY_FILE"] == str(fresh_checkout)
    [(key_id, key)] = parse_key_lines(fresh_checkout.read_text().splitlines(), "the development key file")
    assert key_id == "dev-1" and len(key) == 32
    assert stat.S_IMODE(fresh_checkout.stat().st_mode) == 0o600

    del os.environ["TEMPORAL_PAYLOAD_KEY_FILE"]
    assert use_development_payload_keys("config.settings.test")
    assert parse_key_lines(fresh_checkout.read_text().splitlines(), "again") == [(key_id, key)]


@pytest.mark.parametrize("settings_module, environment", [
    ("config.settings.production", {}),
    ("config.settings.base", {"TEMPORAL_PAYLOAD_KEYS": "k1:AAAA"}),
    ("config.settings.base", {"TEMPORAL_PAYLOAD_KEY_SOURCE": "secrets.kms.keys"}),
    ("config.settings.base", {"TEMPORAL_PAYLOAD_ENCRYPTION": "off"}),
])
def test_configured_keys_plain_payloads_or_production_get_no_development_key(
        fresh_checkout, monkeypatch, settings_module, environment):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert not use_development_payload_keys(settings_module)
    assert not fresh_checkout.exists() and "TEMPORAL_PAYLOAD_KEY_FILE" not in os.environ
