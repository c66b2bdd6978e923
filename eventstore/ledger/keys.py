"""Rotating and retiring the ledger's signing key: a chain of keys, each handed over by a statement.

The first key is the one that signed the first head. `rotate_signing_key` records a statement, signed
by the current key, that the next key signs every head larger than the newest one (its `tree_size`)
and timed from the statement's time on, and the current key none; without a next key it retires the
current key for good. Statements are recorded through `eventstore_record_key_statement`
(eventstore/sql/), which keeps the keys one chain, and the database refuses a head by any other key
than the current one. `key_periods` reads the chain back: each key with the sizes and times it signs.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction

from eventstore.encoding import timestamp_text
from eventstore.ledger.models import KeyStatement, TreeHead
from eventstore.ledger.selectors import heads_newest_first
from eventstore.ledger.signing import SigningKeyMissing, key_id, key_statement_message, public_key_hex

# The lock eventstore_record_tree_head holds while it appends: no head is signed while a statement is.
TREE_HEAD_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('eventstore_tree_head', 0))"


class SigningKeyRetired(SigningKeyMissing):
    """The configured key is not the chain's current key: retired, or never handed signing."""


class RotationRefused(Exception):
    """The key cannot hand signing over: it is not the current key, or the next key is no new key."""


@dataclass(frozen=True)
class KeyPeriod:
    """One key of the chain, from the statement that introduced it (None: the first key) to the one
    that retired it (None: the current key)."""

    public_key: str
    introduced_by: KeyStatement | None
    retired_by: KeyStatement | None

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)

    @property
    def valid_from_tree_size(self) -> int:
        """The smallest head it may sign."""
        return 1 if self.introduced_by is None else self.introduced_by.tree_size + 1

    @property
    def valid_until_tree_size(self) -> int | None:
        """The largest head it may sign; None while it is current."""
        return None if self.retired_by is None else self.retired_by.tree_size


def key_statements() -> list[KeyStatement]:
    return list(KeyStatement.objects.order_by("sequence"))


def first_public_key(statements: list[KeyStatement]) -> str | None:
    """The chain's first key: the first statement's previous key, else the first head's (None: no head yet)."""
    if statements:
        return statements[0].previous_public_key
    return TreeHead.objects.order_by("tree_size").values_list("public_key", flat=True).first()


def key_periods() -> list[KeyPeriod]:
    """Every key of the chain, the first one first."""
    statements = key_statements()
    public_key, introduced_by, periods = first_public_key(statements), None, []
    for statement in statements:
        periods.append(KeyPeriod(public_key, introduced_by, statement))
        public_key, introduced_by = statement.next_public_key, statement
    if public_key is not None:
        periods.append(KeyPeriod(public_key, introduced_by, None))
    return periods


def key_of_size(periods: list[KeyPeriod], tree_size: int) -> KeyPeriod | None:
    """The key that signs the head of `tree_size`, if any may."""
    return next((period for period in periods if period.valid_from_tree_size <= tree_size and (
        period.valid_until_tree_size is None or tree_size <= period.valid_until_tree_size)), None)


def current_public_key() -> str | None:
    """The key that signs the next head: the last statement's next key (None after a retirement
    with no successor), else the newest head's key (None before the first head)."""
    last = KeyStatement.objects.order_by("-sequence").first()
    if last is not None:
        return last.next_public_key
    newest = heads_newest_first(limit=1)
    return newest[0].public_key if newest else None


def check_may_sign(key: Ed25519PrivateKey) -> None:
    """Raise SigningKeyRetired unless `key` is the chain's current key (or no head is signed yet)."""
    public_key = public_key_hex(key)
    statements_exist = KeyStatement.objects.exists()
    current = current_public_key()
    if current == public_key or (current is None and not statements_exist):
        return
    if current is None:
        raise SigningKeyRetired("the ledger's signing key was retired with no successor: no head can be signed")
    raise SigningKeyRetired(
        f"the configured signing key {key_id(public_key)} is not the current key {key_id(current)}: set "
        "LEDGER_SIGNING_KEY or LEDGER_SIGNING_KEY_FILE to the current key")


def rotate_signing_key(*, current: Ed25519PrivateKey, next_key: Ed25519PrivateKey | None) -> KeyStatement:
    """Hand signing from `current` to `next_key` (None: retire `current` for good) after the newest
    head, in a statement `current` signs. One transaction, holding the tree heads' lock."""
    previous_public_key = public_key_hex(current)
    next_public_key = None if next_key is None else public_key_hex(next_key)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(TREE_HEAD_LOCK)
        check_rotation(previous_public_key, next_public_key)
        newest = heads_newest_first(limit=1)
        last = KeyStatement.objects.order_by("-sequence").first()
        sequence, tree_size = (0 if last is None else last.sequence) + 1, newest[0].tree_size if newest else 0
        timestamp = datetime.now(UTC)
        signature = current.sign(key_statement_message(
            sequence=sequence, tree_size=tree_size, timestamp=timestamp, previous_public_key=previous_public_key,
            next_public_key=next_public_key)).hex()
        cursor.execute("SELECT eventstore_record_key_statement(%s, %s, %s, %s, %s)",
                       [tree_size, timestamp, previous_public_key, next_public_key, signature])
        return KeyStatement.objects.get(sequence=cursor.fetchone()[0])


def check_rotation(previous_public_key: str, next_public_key: str | None) -> None:
    """What the database function would refuse, said in words an operator acts on."""
    current = current_public_key()
    if current is None and KeyStatement.objects.exists():
        raise RotationRefused("the ledger's signing key was retired with no successor: nothing to rotate")
    if current is not None and current != previous_public_key:
        raise RotationRefused(f"the configured key {key_id(previous_public_key)} is not the current key "
                              f"{key_id(current)}: only the current key may hand signing over")
    used = {period.public_key for period in key_periods()} | {previous_public_key}
    if next_public_key in used:
        raise RotationRefused(f"the next key {key_id(next_public_key)} signed before: give a new key")


def statement_document(statement: KeyStatement) -> dict:
    """A key statement as the API and the audit bundle carry it; its signed message is
    `signing.key_statement_message` of these fields."""
    return {
        "sequence": statement.sequence, "tree_size": statement.tree_size,
        "timestamp": timestamp_text(statement.timestamp),
        "previous_key_id": statement.previous_key_id, "previous_public_key": statement.previous_public_key,
        "next_key_id": statement.next_key_id, "next_public_key": statement.next_public_key,
        "signature": statement.signature,
    }


def period_document(period: KeyPeriod) -> dict:
    """A key and when it signs, as the API lists it."""
    return {
        "key_id": period.key_id, "public_key": period.public_key,
        "valid_from_tree_size": period.valid_from_tree_size, "valid_until_tree_size": period.valid_until_tree_size,
        "valid_from": period.introduced_by and timestamp_text(period.introduced_by.timestamp),
        "valid_until": period.retired_by and timestamp_text(period.retired_by.timestamp),
        "introduced_by": period.introduced_by and statement_document(period.introduced_by),
        "retired_by": period.retired_by and statement_document(period.retired_by),
    }


def keys_document() -> dict:
    """The chain as the audit bundle carries it (keys.json): its first key and every statement."""
    statements = key_statements()
    return {"first_public_key": first_public_key(statements),
            "statements": [statement_document(statement) for statement in statements]}
