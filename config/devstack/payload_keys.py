"""A development key for Temporal payloads, so that a checkout encrypts them as production does.

On the development settings with no key configured (and encryption not turned off), the first process
that needs one writes a random key to .data/temporal-payload-keys and every process exports
TEMPORAL_PAYLOAD_KEY_FILE pointing there: manage.py, `make run`, `make dev` and the test suite all
encrypt and decrypt with it. Production settings never get one: they refuse to load without keys.
"""

import base64
import os
import secrets
import tempfile

from config.devstack import embedded
from config.devstack.database import DEVELOPMENT_SETTINGS

KEY_FILE = embedded.DATA_DIR / "temporal-payload-keys"
KEY_ID = "dev-1"
SETTINGS = ("TEMPORAL_PAYLOAD_KEYS", "TEMPORAL_PAYLOAD_KEY_FILE", "TEMPORAL_PAYLOAD_KEY_SOURCE")


def use_development_payload_keys(settings: str) -> bool:
    """Export the development key file when `settings` is a development module, no key is configured
    and encryption is not off (values in .env count as configured); True when it did."""
    if settings not in DEVELOPMENT_SETTINGS or _configured():
        return False
    if not KEY_FILE.exists():
        _write_new_key()
    os.environ["TEMPORAL_PAYLOAD_KEY_FILE"] = str(KEY_FILE)
    return True


def _configured() -> bool:
    from config.settings.environment import env  # reads .env into the environment, as settings will

    return env("TEMPORAL_PAYLOAD_ENCRYPTION", default="on").strip().lower() == "off" or any(
        env(name, default="") for name in SETTINGS)


def _write_new_key() -> None:
    """Written to a temporary file, then linked into place: of processes starting at once, one key wins
    and none reads a half-written file."""
    KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    line = f"{KEY_ID}:{base64.b64encode(secrets.token_bytes(32)).decode()}\n"
    with tempfile.NamedTemporaryFile("w", dir=KEY_FILE.parent, prefix=".payload-key-", delete=False) as temporary:
        temporary.write(f"# Development key for Temporal payloads (never used by production settings)\n{line}")
    try:
        os.chmod(temporary.name, 0o600)
        os.link(temporary.name, KEY_FILE)
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary.name)
