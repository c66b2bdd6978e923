"""The payload codec and its keys: what reaches Temporal is ciphertext under the current key, any
configured key decrypts, plain payloads pass through, and a payload no key here opens is a clear,
final error."""

import asyncio
import base64
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from eventstore.temporal.connection import data_converter
from eventstore.temporal.payload_codec import ENCODING, KEY_ID, EncryptionCodec, PayloadNotDecryptable, payload_codec
from eventstore.temporal.payload_keys import PayloadKeys, configured_keys

FIRST, SECOND = (bytes([n]) * 32 for n in (1, 2))
SECRET = {"amount": "4321.09", "description": "a description nobody else may read", "user_id": "user-secret-7"}


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def payload(value=None) -> Payload:
    return DataConverter.default.payload_converter.to_payload(value or SECRET)


def codec(*keys: tuple[str, bytes], current: str | None = None) -> EncryptionCodec:
    return EncryptionCodec(PayloadKeys(current=current or keys[-1][0], keys=dict(keys)))


@pytest.fixture
def only_settings_keys(settings):
    """No key but those a test sets (the suite's development key file is left out)."""
    settings.TEMPORAL_PAYLOAD_ENCRYPTION = True
    settings.TEMPORAL_PAYLOAD_KEYS, settings.TEMPORAL_PAYLOAD_KEY_FILE = [], ""
    settings.TEMPORAL_PAYLOAD_KEY_SOURCE, settings.TEMPORAL_PAYLOAD_CURRENT_KEY = "", ""
    return settings


def test_a_payload_leaves_encrypted_under_the_current_key_and_comes_back_whole():
    original = payload()
    encrypted = codec(("k1", FIRST)).encrypt(original)

    assert encrypted.metadata["encoding"] == ENCODING and encrypted.metadata[KEY_ID] == b"k1"
    assert b"4321.09" not in encrypted.SerializeToString() and b"json/plain" not in encrypted.SerializeToString()
    assert codec(("k1", FIRST)).decrypt(encrypted) == original
    assert codec(("k1", FIRST)).encrypt(original).data != encrypted.data  # a fresh nonce each time


def test_a_payload_written_under_key_1_reads_after_key_2_became_current():
    written = codec(("k1", FIRST)).encrypt(payload())
    rotated = codec(("k1", FIRST), ("k2", SECOND))

    assert rotated.decrypt(written) == payload()
    assert rotated.encrypt(payload()).metadata[KEY_ID] == b"k2"
    # While every process learns key 2, key 1 may stay current: TEMPORAL_PAYLOAD_CURRENT_KEY.
    assert codec(("k1", FIRST), ("k2", SECOND), current="k1").encrypt(payload()).metadata[KEY_ID] == b"k1"


def test_a_payload_recorded_before_encryption_passes_through():
    plain = payload()
    assert codec(("k1", FIRST)).decrypt(plain) is plain


def test_a_payload_under_an_unknown_key_or_altered_is_a_final_error_naming_the_key():
    written = codec(("k9", FIRST)).encrypt(payload())

    with pytest.raises(PayloadNotDecryptable, match="under key 'k9', which this process does not have") as unknown:
        codec(("k1", FIRST)).decrypt(written)
    assert unknown.value.non_retryable and unknown.value.type == "PayloadNotDecryptable"

    with pytest.raises(PayloadNotDecryptable, match="under key 'k9' does not decrypt"):
        codec(("k9", SECOND)).decrypt(written)  # same id, another key
    moved = Payload(metadata={**written.metadata, KEY_ID: b"k1"}, data=written.data)
    with pytest.raises(PayloadNotDecryptable, match="under key 'k1' does not decrypt"):
        codec(("k1", FIRST), ("k9", FIRST)).decrypt(moved)  # the key id is authenticated too


def test_keys_come_from_the_setting_the_file_and_a_kms_hook_the_last_one_current(only_settings_keys, tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"# rotated in March\nk2:{b64(SECOND)}\n\n")
    only_settings_keys.TEMPORAL_PAYLOAD_KEYS = [f"k1:{b64(FIRST)}"]
    only_settings_keys.TEMPORAL_PAYLOAD_KEY_FILE = str(key_file)
    only_settings_keys.TEMPORAL_PAYLOAD_KEY_SOURCE = f"{__name__}.kms_keys"

    keys = configured_keys()

    assert keys.keys == {"k1": FIRST, "k2": SECOND, "k3": bytes(32)} and keys.current == "k3"
    only_settings_keys.TEMPORAL_PAYLOAD_CURRENT_KEY = "k2"
    assert configured_keys().current == "k2"


def kms_keys():
    """What a KMS hook returns: the keys by id, newest last."""
    return {"k3": bytes(32)}


@pytest.mark.parametrize("change, message", [
    ({}, "no key is configured: set TEMPORAL_PAYLOAD_KEYS, TEMPORAL_PAYLOAD_KEY_FILE or TEMPORAL_PAYLOAD_KEY_SOURCE, "
         "or TEMPORAL_PAYLOAD_ENCRYPTION=off"),
    ({"TEMPORAL_PAYLOAD_KEYS": ["k1:not base64!"]}, "TEMPORAL_PAYLOAD_KEYS: key 'k1' is not valid base64."),
    ({"TEMPORAL_PAYLOAD_KEYS": [f"k1:{b64(bytes(16))}"]}, "key 'k1' holds 16 bytes; AES-256 takes 32."),
    ({"TEMPORAL_PAYLOAD_KEYS": [b64(FIRST)]}, "each key is written id:base64key"),
    ({"TEMPORAL_PAYLOAD_KEYS": [f"k1:{b64(FIRST)}"], "TEMPORAL_PAYLOAD_CURRENT_KEY": "k2"},
     "TEMPORAL_PAYLOAD_CURRENT_KEY=k2 names no configured key (configured: k1)."),
    ({"TEMPORAL_PAYLOAD_KEY_FILE": "/nonexistent/keys"}, "TEMPORAL_PAYLOAD_KEY_FILE=/nonexistent/keys cannot be read"),
    ({"TEMPORAL_PAYLOAD_KEY_SOURCE": "nowhere.keys"}, "TEMPORAL_PAYLOAD_KEY_SOURCE=nowhere.keys cannot be imported"),
])
def test_keys_that_cannot_be_read_stop_every_client_with_the_setting_named(only_settings_keys, change, message):
    for name, value in change.items():
        setattr(only_settings_keys, name, value)
    with pytest.raises(ImproperlyConfigured) as refused:
        data_converter()
    assert message in str(refused.value)
    assert FIRST.hex() not in str(refused.value) and b64(FIRST) not in str(refused.value)


def test_encryption_off_said_explicitly_leaves_payloads_plain(only_settings_keys):
    only_settings_keys.TEMPORAL_PAYLOAD_ENCRYPTION = False
    assert payload_codec() is None and data_converter().payload_codec is None


def test_a_new_key_from_the_command_is_what_the_settings_read(only_settings_keys):
    printed = io.StringIO()
    call_command("new_payload_key", "2026-12", stdout=printed)
    only_settings_keys.TEMPORAL_PAYLOAD_KEYS = [printed.getvalue().strip()]
    keys = configured_keys()
    assert keys.current == "2026-12" and len(keys.keys["2026-12"]) == 32


def in_own_loop(coroutine):
    """The coroutine's result, run in a thread of its own: the thread of the tests may hold a running
    event loop (Playwright's sync API keeps one there)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def test_every_client_and_worker_encodes_through_the_codec():
    converter = data_converter()
    [encoded] = in_own_loop(converter.encode([SECRET]))
    assert encoded.metadata["encoding"] == ENCODING
    assert in_own_loop(converter.decode([encoded], [dict])) == [SECRET]
