"""The verifiable ledger's tables: each event's leaf, the Merkle tree's perfect subtrees, each
stream's leaf in the streams tree and that tree's perfect subtrees, signed tree heads, where they
were published and the statements that hand signing from key to key."""

from django.db import models

from eventstore.ledger.signing import key_id
from eventstore.models import STREAM_ID_MAX_LENGTH


class LedgerEntry(models.Model):
    """An event's place in the verifiable ledger: its leaf, in the order `read_all` delivers events.

    Written only by `eventstore_ledger_extend` (eventstore/sql/), which runs as its owner, one caller at
    a time, and never updated or deleted: indexes are dense and never change.
    """

    ledger_index = models.BigIntegerField(primary_key=True)
    position = models.BigIntegerField(unique=True)
    transaction_id = models.BigIntegerField()

    class Meta:
        ordering = ["ledger_index"]
        verbose_name_plural = "ledger entries"

    def __str__(self):
        return f"leaf {self.ledger_index}: event at position {self.position}"


class PerfectSubtree(models.Model):
    """The hash of one perfect subtree of a Merkle tree: leaves [index * 2**level, (index + 1) * 2**level)."""

    pk = models.CompositePrimaryKey("level", "index")
    level = models.SmallIntegerField()
    index = models.BigIntegerField()
    hash = models.BinaryField()

    class Meta:
        abstract = True
        ordering = ["level", "index"]


class LedgerNode(PerfectSubtree):
    """The hash of one perfect subtree of the ledger's Merkle tree: leaves [index * 2**level,
    (index + 1) * 2**level). Level 0 holds the leaf hashes. Any root or proof combines O(log n) of
    them, so no request rebuilds the tree."""


class LedgerStream(models.Model):
    """Each stream's newest event in the ledger and its leaf in the streams tree (see
    `eventstore.ledger.service`), moved by `eventstore_ledger_extend` as the ledger grows. A stream's
    leaf stays where the stream first entered the ledger (`leaf_index`, the number of streams before
    it), so a new event changes one leaf and the perfect subtrees above it (`LedgerStreamNode`)."""

    stream_id = models.CharField(primary_key=True, max_length=STREAM_ID_MAX_LENGTH, db_collation="C")
    leaf_index = models.BigIntegerField(unique=True)
    version = models.PositiveIntegerField()
    head_hash = models.CharField(max_length=64)
    leaf_hash = models.BinaryField()

    class Meta:
        ordering = ["leaf_index"]

    def __str__(self):
        return f"{self.stream_id} at v{self.version} in the ledger"


class LedgerStreamNode(PerfectSubtree):
    """The hash of one perfect subtree of the streams tree above its leaves: leaves [index * 2**level,
    (index + 1) * 2**level), level >= 1 (the leaves are `LedgerStream.leaf_hash`). Rehashed by
    `eventstore_ledger_extend` above each leaf it moves; the streams root folds O(log n) of them."""


class TreeHead(models.Model):
    """A signed tree head (RFC 9162 section 4.10 in spirit): the ledger's root at a size, signed with
    Ed25519. Recorded only through `eventstore_record_tree_head`, which checks the root against the
    stored tree and records the streams tree's order; never updated or deleted."""

    # The order of the leaves of a head's streams tree: by stream id (heads signed before each stream
    # kept its place), or by each stream's first leaf in the ledger.
    STREAM_ID_ORDER, FIRST_IN_LEDGER_ORDER = "stream_id", "first_in_ledger"

    tree_size = models.BigIntegerField(primary_key=True)
    timestamp = models.DateTimeField()
    root_hash = models.CharField(max_length=64)
    streams_root = models.CharField(max_length=64)
    streams_order = models.CharField(
        max_length=15, choices=[(STREAM_ID_ORDER, STREAM_ID_ORDER), (FIRST_IN_LEDGER_ORDER, FIRST_IN_LEDGER_ORDER)])
    signature = models.CharField(max_length=128)
    public_key = models.CharField(max_length=64)

    class Meta:
        ordering = ["-tree_size"]
        get_latest_by = "tree_size"

    def __str__(self):
        return f"tree head of {self.tree_size} events at {self.timestamp:%Y-%m-%d %H:%M:%S}"

    @property
    def key_id(self) -> str:
        """Derived from the stored public key, for heads signed before key ids as for new ones."""
        return key_id(self.public_key)


class PublishedHead(models.Model):
    """A signed head that `publish_tree_head` put outside the database, and where: the dashboard
    checks that today's log still extends the last one."""

    tree_size = models.BigIntegerField()
    document = models.JSONField(help_text="The head as published.")
    destination = models.CharField(max_length=500)
    published_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"

    def __str__(self):
        return f"head of {self.tree_size} events published to {self.destination}"


class KeyStatement(models.Model):
    """A hand-over of the signing key, signed by the key it retires: heads larger than `tree_size`
    (the newest head's size when it was made) and timed from `timestamp` on are signed by the next
    key, none by the previous one. No next key: the previous one is retired with no successor.
    Recorded only through `eventstore_record_key_statement`, which keeps the keys one chain; never
    updated or deleted."""

    sequence = models.PositiveIntegerField(primary_key=True)
    tree_size = models.BigIntegerField()
    timestamp = models.DateTimeField()
    previous_public_key = models.CharField(max_length=64)
    next_public_key = models.CharField(max_length=64, null=True)
    signature = models.CharField(max_length=128)

    class Meta:
        ordering = ["sequence"]

    def __str__(self):
        successor = f"key {self.next_key_id[:16]}" if self.next_public_key else "no key"
        return f"key statement {self.sequence}: after {self.tree_size} events, {successor} signs"

    @property
    def previous_key_id(self) -> str:
        return key_id(self.previous_public_key)

    @property
    def next_key_id(self) -> str | None:
        return self.next_public_key and key_id(self.next_public_key)
