"""The verifiable ledger: a Merkle tree over every event (RFC 9162 section 2.1), and signed heads.

- `eventstore_ledger_extend(limit)` gives the next committed events, in the order `read_all`
  delivers them (transaction id, position, below the oldest transaction in flight), the next ledger
  indexes, and stores their leaf hashes SHA-256(0x00 || event hash) and every perfect subtree they
  complete, SHA-256(0x01 || left || right). One caller at a time (an advisory lock), so two signers
  never interleave; a late commit is never passed over, as no index is given past a transaction in
  flight.
- `eventstore_ledger_root(size)` is the root of the first `size` leaves, folded from the perfect
  subtrees of `size`'s binary decomposition.
- `eventstore_record_tree_head(...)` appends a signed head: its root must be the stored tree's at its
  size, its size beyond the newest head's, its time the server's within a few minutes and not before
  the newest head's. The signature is checked by every reader, not here.

All three run as their owner (SECURITY DEFINER, pinned search_path); the application role reads
the ledger tables and executes these functions (eventstore/privileges.py). Ledger rows and heads
can never be updated, deleted or truncated, as events cannot (migration 0002's trigger function).
An "Auditor" group is created for the audit bundle's admin action.
"""

from django.db import migrations, models

SEARCH_PATH = "pg_catalog, public, pg_temp"
EXTEND = "eventstore_ledger_extend(integer)"
ROOT = "eventstore_ledger_root(bigint)"
RECORD_HEAD = "eventstore_record_tree_head(bigint, timestamptz, text, text, text, text)"
APPEND_ONLY_TABLES = ("eventstore_ledgerentry", "eventstore_ledgernode", "eventstore_treehead")
HEAD_CLOCK_TOLERANCE = "5 minutes"

FORWARD = rf"""
CREATE FUNCTION eventstore_ledger_extend(p_limit integer)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
DECLARE
    size bigint;
    last_transaction bigint := -1;
    last_position bigint := -1;
    event record;
    node_hash bytea;
    node_level smallint;
    node_index bigint;
BEGIN
    IF p_limit IS NULL OR p_limit < 1 THEN
        RAISE EXCEPTION 'extend the ledger by at least one event' USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('eventstore_ledger', 0));
    SELECT entry.ledger_index + 1, entry.transaction_id, entry.position
    INTO size, last_transaction, last_position
    FROM eventstore_ledgerentry AS entry ORDER BY entry.ledger_index DESC LIMIT 1;
    IF NOT FOUND THEN
        size := 0;
        last_transaction := -1;
        last_position := -1;
    END IF;
    FOR event IN
        SELECT e.position, e.transaction_id, e.hash FROM eventstore_event AS e
        WHERE (e.transaction_id, e.position) > (last_transaction, last_position)
          AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
        ORDER BY e.transaction_id, e.position
        LIMIT p_limit
    LOOP
        INSERT INTO eventstore_ledgerentry (ledger_index, position, transaction_id)
        VALUES (size, event.position, event.transaction_id);
        node_hash := sha256('\x00'::bytea || decode(event.hash, 'hex'));
        node_level := 0;
        node_index := size;
        INSERT INTO eventstore_ledgernode (level, index, hash) VALUES (0, size, node_hash);
        WHILE node_index % 2 = 1 LOOP  -- a right child completes its parent
            SELECT '\x01'::bytea || node.hash || node_hash INTO node_hash
            FROM eventstore_ledgernode AS node WHERE node.level = node_level AND node.index = node_index - 1;
            node_hash := sha256(node_hash);
            node_level := node_level + 1;
            node_index := node_index / 2;
            INSERT INTO eventstore_ledgernode (level, index, hash) VALUES (node_level, node_index, node_hash);
        END LOOP;
        size := size + 1;
    END LOOP;
    RETURN size;
END;
$$;
REVOKE ALL ON FUNCTION {EXTEND} FROM PUBLIC;

CREATE FUNCTION eventstore_ledger_root(p_size bigint)
RETURNS bytea
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
DECLARE
    subtrees bytea[] := ARRAY[]::bytea[];
    offset_ bigint := 0;
    level_ integer;
    root bytea;
    i integer;
BEGIN
    IF p_size IS NULL OR p_size < 0 THEN
        RAISE EXCEPTION 'a tree size is >= 0' USING ERRCODE = 'check_violation';
    END IF;
    IF p_size = 0 THEN
        RETURN sha256(''::bytea);
    END IF;
    FOR level_ IN REVERSE 62..0 LOOP  -- the perfect subtrees of p_size, largest (leftmost) first
        IF (p_size >> level_) & 1 = 1 THEN
            subtrees := subtrees || (SELECT node.hash FROM eventstore_ledgernode AS node
                                     WHERE node.level = level_ AND node.index = offset_ >> level_);
            offset_ := offset_ + (1::bigint << level_);
        END IF;
    END LOOP;
    IF array_position(subtrees, NULL) IS NOT NULL OR cardinality(subtrees) = 0 THEN
        RAISE EXCEPTION 'the ledger holds fewer than % leaves', p_size USING ERRCODE = 'check_violation';
    END IF;
    root := subtrees[cardinality(subtrees)];
    FOR i IN REVERSE cardinality(subtrees) - 1..1 LOOP
        root := sha256('\x01'::bytea || subtrees[i] || root);
    END LOOP;
    RETURN root;
END;
$$;
REVOKE ALL ON FUNCTION {ROOT} FROM PUBLIC;

CREATE FUNCTION eventstore_record_tree_head(
    p_tree_size bigint, p_timestamp timestamptz, p_root_hash text, p_streams_root text,
    p_signature text, p_public_key text
)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
DECLARE
    latest record;
    ledger_size bigint;
BEGIN
    IF p_tree_size IS NULL OR p_tree_size < 1 OR p_timestamp IS NULL
       OR p_root_hash IS NULL OR p_root_hash !~ '^[0-9a-f]{{64}}$'
       OR p_streams_root IS NULL OR p_streams_root !~ '^[0-9a-f]{{64}}$'
       OR p_signature IS NULL OR p_signature !~ '^[0-9a-f]{{128}}$'
       OR p_public_key IS NULL OR p_public_key !~ '^[0-9a-f]{{64}}$' THEN
        RAISE EXCEPTION 'a tree head needs a size >= 1, a time, two roots of 64 hex digits, a signature of 128 '
                        'and a public key of 64' USING ERRCODE = 'check_violation';
    END IF;
    IF abs(extract(epoch FROM clock_timestamp() - p_timestamp)) > extract(epoch FROM interval '{HEAD_CLOCK_TOLERANCE}') THEN
        RAISE EXCEPTION 'a tree head is timed by the server''s clock (% is too far from %)', p_timestamp,
            clock_timestamp() USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('eventstore_tree_head', 0));
    SELECT head.tree_size, head.timestamp INTO latest FROM eventstore_treehead AS head
    ORDER BY head.tree_size DESC LIMIT 1;
    IF FOUND AND (p_tree_size <= latest.tree_size OR p_timestamp < latest.timestamp) THEN
        RETURN NULL;  -- a newer head was recorded meanwhile
    END IF;
    SELECT COALESCE(max(entry.ledger_index) + 1, 0) INTO ledger_size FROM eventstore_ledgerentry AS entry;
    IF p_tree_size > ledger_size THEN
        RAISE EXCEPTION 'the ledger holds % leaves, fewer than %', ledger_size, p_tree_size
            USING ERRCODE = 'check_violation';
    END IF;
    IF encode(eventstore_ledger_root(p_tree_size), 'hex') <> p_root_hash THEN
        RAISE EXCEPTION 'the root hash is not the ledger''s root at size %', p_tree_size
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO eventstore_treehead (tree_size, timestamp, root_hash, streams_root, signature, public_key)
    VALUES (p_tree_size, p_timestamp, p_root_hash, p_streams_root, p_signature, p_public_key);
    RETURN p_tree_size;
END;
$$;
REVOKE ALL ON FUNCTION {RECORD_HEAD} FROM PUBLIC;
""" + "".join(
    f"""
CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change();
CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_reject_change();
"""
    for table in APPEND_ONLY_TABLES
)

BACKWARD = f"""
DROP FUNCTION {RECORD_HEAD};
DROP FUNCTION {ROOT};
DROP FUNCTION {EXTEND};
""" + "".join(
    f"DROP TRIGGER {table}_no_truncate ON {table}; DROP TRIGGER {table}_no_update_delete ON {table};\n"
    for table in APPEND_ONLY_TABLES
)

AUDITOR_GROUP = "Auditor"


def create_auditor_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=AUDITOR_GROUP)


def delete_auditor_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=AUDITOR_GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("eventstore", "0012_append_function_security_definer"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerEntry",
            fields=[
                ("ledger_index", models.BigIntegerField(primary_key=True, serialize=False)),
                ("position", models.BigIntegerField(unique=True)),
                ("transaction_id", models.BigIntegerField()),
            ],
            options={"ordering": ["ledger_index"], "verbose_name_plural": "ledger entries"},
        ),
        migrations.CreateModel(
            name="LedgerNode",
            fields=[
                ("pk", models.CompositePrimaryKey("level", "index", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
                ("level", models.SmallIntegerField()),
                ("index", models.BigIntegerField()),
                ("hash", models.BinaryField()),
            ],
            options={"ordering": ["level", "index"]},
        ),
        migrations.CreateModel(
            name="TreeHead",
            fields=[
                ("tree_size", models.BigIntegerField(primary_key=True, serialize=False)),
                ("timestamp", models.DateTimeField()),
                ("root_hash", models.CharField(max_length=64)),
                ("streams_root", models.CharField(max_length=64)),
                ("signature", models.CharField(max_length=128)),
                ("public_key", models.CharField(max_length=64)),
            ],
            options={"ordering": ["-tree_size"], "get_latest_by": "tree_size"},
        ),
        migrations.CreateModel(
            name="PublishedHead",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("tree_size", models.BigIntegerField()),
                ("document", models.JSONField(help_text="The head as published.")),
                ("destination", models.CharField(max_length=500)),
                ("published_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ["-published_at"], "get_latest_by": "published_at"},
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
        migrations.RunPython(create_auditor_group, delete_auditor_group),
    ]
