"""Streams that keep their place in the streams tree, so that signing a head costs what changed.

- `eventstore_ledgerstream.leaf_index`: each stream's leaf in the streams tree, in the order streams
  first entered the ledger (filled here from the ledger as it stands), so a new event moves one leaf.
- `eventstore_ledgerstreamnode`: the perfect subtrees of the streams tree above its leaves, built here
  and rehashed by `eventstore_ledger_extend` (through `eventstore_ledger_streams_rehash`) above each
  leaf it moves.
- `eventstore_treehead.streams_order`: the order of each head's streams tree; the heads signed before
  this one are in stream id order, and the audit bundle lists their streams so.
"""

from django.db import migrations, models

from eventstore import sql

REHASH = "eventstore_ledger_streams_rehash(bigint[])"

# Leaves in the order of each stream's first leaf in the ledger (a stream whose events are gone, which
# only a tampered store holds, after them), then every subtree above them.
PLACE_STREAMS = """
DELETE FROM eventstore_ledgerstreamnode;
UPDATE eventstore_ledgerstream AS stream SET leaf_index = placed.leaf_index
FROM (SELECT known.stream_id,
             row_number() OVER (ORDER BY first.first_leaf NULLS LAST, known.stream_id) - 1 AS leaf_index
      FROM eventstore_ledgerstream AS known LEFT JOIN (
          SELECT e.stream_id, min(entry.ledger_index) AS first_leaf
          FROM eventstore_ledgerentry AS entry JOIN eventstore_event AS e ON e.position = entry.position
          GROUP BY e.stream_id) AS first ON first.stream_id = known.stream_id) AS placed
WHERE placed.stream_id = stream.stream_id;
SELECT eventstore_ledger_streams_rehash(array_agg(stream.leaf_index)) FROM eventstore_ledgerstream AS stream;
"""


def place_streams(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(PLACE_STREAMS)


# The definitions these replace, for going back.
PREVIOUS_LEDGER_EXTEND = r"""
-- Extends the verifiable ledger (a Merkle tree over every event, RFC 9162 section 2.1) by up to
-- p_limit events and returns its new size. The next committed events come in the order `read_all`
-- delivers them (transaction id, position, below the oldest transaction in flight), so a late
-- commit is never passed over; each gets the next ledger index, its leaf hash
-- SHA-256(0x00 || event hash), and every perfect subtree it completes, SHA-256(0x01 || left || right).
-- One caller at a time (an advisory lock), so two signers never interleave.
--
-- It also moves `eventstore_ledgerstream`, each stream's newest event in the ledger with the leaf
-- hash of the streams tree, SHA-256(0x00 || {"head_hash":…,"stream_id":…,"version":…}), so that a
-- signer folds the streams root from stored leaves instead of rescanning every event.
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_ledger_extend(p_limit integer)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    size bigint;
    last_transaction bigint := -1;
    last_position bigint := -1;
    event record;
    node_hash bytea;
    node_level smallint;
    node_index bigint;
    first_new bigint;
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
    first_new := size;
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
    INSERT INTO eventstore_ledgerstream AS stream (stream_id, version, head_hash, leaf_hash)
    SELECT DISTINCT ON (e.stream_id) e.stream_id, e.version, e.hash,
           sha256('\x00'::bytea || convert_to('{"head_hash":"' || e.hash || '","stream_id":' || to_json(e.stream_id)::text
                                              || ',"version":' || e.version || '}', 'UTF8'))
    FROM eventstore_ledgerentry AS entry JOIN eventstore_event AS e ON e.position = entry.position
    WHERE entry.ledger_index >= first_new
    ORDER BY e.stream_id, e.version DESC
    ON CONFLICT (stream_id) DO UPDATE SET
        version = EXCLUDED.version, head_hash = EXCLUDED.head_hash, leaf_hash = EXCLUDED.leaf_hash
    WHERE stream.version < EXCLUDED.version;
    RETURN size;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_ledger_extend(integer) FROM PUBLIC;
"""
PREVIOUS_RECORD_TREE_HEAD = r"""
-- Appends a signed tree head: its root must be the stored tree's at its size, its size beyond the
-- newest head's, its time the server's within five minutes and not before the newest head's (a
-- newer head recorded meanwhile: NULL). The signature is checked by every reader, not here.
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_record_tree_head(
    p_tree_size bigint, p_timestamp timestamptz, p_root_hash text, p_streams_root text,
    p_signature text, p_public_key text
)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    latest record;
    ledger_size bigint;
BEGIN
    IF p_tree_size IS NULL OR p_tree_size < 1 OR p_timestamp IS NULL
       OR p_root_hash IS NULL OR p_root_hash !~ '^[0-9a-f]{64}$'
       OR p_streams_root IS NULL OR p_streams_root !~ '^[0-9a-f]{64}$'
       OR p_signature IS NULL OR p_signature !~ '^[0-9a-f]{128}$'
       OR p_public_key IS NULL OR p_public_key !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'a tree head needs a size >= 1, a time, two roots of 64 hex digits, a signature of 128 '
                        'and a public key of 64' USING ERRCODE = 'check_violation';
    END IF;
    IF abs(extract(epoch FROM clock_timestamp() - p_timestamp)) > extract(epoch FROM interval '5 minutes') THEN
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
REVOKE ALL ON FUNCTION eventstore_record_tree_head(bigint, timestamptz, text, text, text, text) FROM PUBLIC;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('eventstore', '0026_personal_data_erasure_labels'),
    ]

    operations = [
        migrations.CreateModel(
            name='LedgerStreamNode',
            fields=[
                ('pk', models.CompositePrimaryKey('level', 'index', blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ('level', models.SmallIntegerField()),
                ('index', models.BigIntegerField()),
                ('hash', models.BinaryField()),
            ],
            options={
                'ordering': ['level', 'index'],
            },
        ),
        migrations.AddField(
            model_name='treehead',
            name='streams_order',
            field=models.CharField(choices=[('stream_id', 'stream_id'), ('first_in_ledger', 'first_in_ledger')],
                                   default='stream_id', max_length=15),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='ledgerstream',
            name='leaf_index',
            field=models.BigIntegerField(null=True),
        ),
        sql.apply_functions("eventstore_ledger_streams_rehash", reverse_sql=f"DROP FUNCTION {REHASH}"),
        migrations.RunPython(place_streams, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='ledgerstream',
            name='leaf_index',
            field=models.BigIntegerField(unique=True),
        ),
        migrations.AlterModelOptions(
            name='ledgerstream',
            options={'ordering': ['leaf_index']},
        ),
        sql.apply_functions("eventstore_ledger_extend", "eventstore_record_tree_head",
                            reverse_sql=[PREVIOUS_LEDGER_EXTEND, PREVIOUS_RECORD_TREE_HEAD]),
    ]
