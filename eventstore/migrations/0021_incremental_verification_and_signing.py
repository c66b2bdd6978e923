"""Incremental verification and signing.

- `eventstore_chainverification` records which kind of pass ran (full or incremental) and the range it
  covered; `eventstore_record_verification` takes them (a new signature: the old one is dropped).
- `eventstore_ledgerstream` holds each stream's newest event in the ledger with its streams-tree leaf,
  moved by `eventstore_ledger_extend` and filled here from the ledger as it stands, so that signing a
  head folds the streams root from stored leaves.
"""

from django.db import migrations, models

from eventstore import sql

OLD_RECORD = "eventstore_record_verification(boolean, bigint, bigint, bigint, text)"
NEW_RECORD = ("eventstore_record_verification(boolean, bigint, bigint, bigint, text, text, bigint, bigint, bigint,"
              " bigint, bigint, bigint)")

FILL_LEDGER_STREAMS = """
INSERT INTO eventstore_ledgerstream (stream_id, version, head_hash, leaf_hash)
SELECT DISTINCT ON (e.stream_id) e.stream_id, e.version, e.hash,
       sha256('\\x00'::bytea || convert_to('{"head_hash":"' || e.hash || '","stream_id":' || to_json(e.stream_id)::text
                                          || ',"version":' || e.version || '}', 'UTF8'))
FROM eventstore_ledgerentry AS entry JOIN eventstore_event AS e ON e.position = entry.position
ORDER BY e.stream_id, e.version DESC
"""

# The definitions these replace, for going back.
PREVIOUS_LEDGER_EXTEND = r"""
-- Extends the verifiable ledger (a Merkle tree over every event, RFC 9162 section 2.1) by up to
-- p_limit events and returns its new size. The next committed events come in the order `read_all`
-- delivers them (transaction id, position, below the oldest transaction in flight), so a late
-- commit is never passed over; each gets the next ledger index, its leaf hash
-- SHA-256(0x00 || event hash), and every perfect subtree it completes, SHA-256(0x01 || left || right).
-- One caller at a time (an advisory lock), so two signers never interleave.
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
REVOKE ALL ON FUNCTION eventstore_ledger_extend(integer) FROM PUBLIC;
"""
PREVIOUS_RECORD_VERIFICATION = r"""
-- Records a run of verify_event_chain. The database sets `ran_at` (the server's clock) and the
-- newest seal's hash; it refuses an `ok` record that reports problems, and negative counts.
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_record_verification(
    p_ok boolean, p_events_checked bigint, p_streams_checked bigint, p_problem_count bigint, p_problems text
)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    new_id bigint;
BEGIN
    IF p_ok IS NULL OR p_events_checked IS NULL OR p_streams_checked IS NULL OR p_problem_count IS NULL
       OR p_events_checked < 0 OR p_streams_checked < 0 OR p_streams_checked > p_events_checked
       OR p_problem_count < 0 OR p_ok <> (p_problem_count = 0) OR (p_ok AND COALESCE(p_problems, '') <> '') THEN
        RAISE EXCEPTION 'a verification record is ok exactly when it reports no problem, and counts are >= 0'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO eventstore_chainverification
        (ran_at, ok, events_checked, streams_checked, problem_count, problems, seal_hash)
    VALUES (clock_timestamp(), p_ok, p_events_checked, p_streams_checked, p_problem_count, COALESCE(p_problems, ''),
            COALESCE((SELECT seal.hash FROM eventstore_seal AS seal ORDER BY seal.id DESC LIMIT 1), ''))
    RETURNING id INTO new_id;
    RETURN new_id;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_record_verification(boolean, bigint, bigint, bigint, text) FROM PUBLIC;
"""


class Migration(migrations.Migration):

    dependencies = [
        ('eventstore', '0020_data_exports'),
    ]

    operations = [
        migrations.CreateModel(
            name='LedgerStream',
            fields=[
                ('stream_id', models.CharField(db_collation='C', max_length=200, primary_key=True, serialize=False)),
                ('version', models.PositiveIntegerField()),
                ('head_hash', models.CharField(max_length=64)),
                ('leaf_hash', models.BinaryField()),
            ],
            options={
                'ordering': ['stream_id'],
            },
        ),
        migrations.AddField(
            model_name='chainverification',
            name='from_position',
            field=models.BigIntegerField(help_text="Incremental: the previous run's last position.", null=True),
        ),
        migrations.AddField(
            model_name='chainverification',
            name='from_transaction',
            field=models.BigIntegerField(help_text="Incremental: the previous run's horizon.", null=True),
        ),
        migrations.AddField(
            model_name='chainverification',
            name='from_tree_size',
            field=models.BigIntegerField(help_text='Ledger leaves verified before this run.', null=True),
        ),
        migrations.AddField(
            model_name='chainverification',
            name='kind',
            field=models.CharField(choices=[('full', 'full'), ('incremental', 'incremental')], default='full', max_length=11),
        ),
        migrations.AddField(
            model_name='chainverification',
            name='last_position',
            field=models.BigIntegerField(help_text='The last position handed out at the snapshot.', null=True),
        ),
        migrations.AddField(
            model_name='chainverification',
            name='transaction_horizon',
            field=models.BigIntegerField(help_text='Every transaction below it had committed or aborted when the run took its snapshot.', null=True),
        ),
        migrations.AddField(
            model_name='chainverification',
            name='tree_size',
            field=models.BigIntegerField(help_text='The signed head the ledger was verified up to.', null=True),
        ),
        migrations.RunSQL(FILL_LEDGER_STREAMS, migrations.RunSQL.noop),
        sql.apply_functions("eventstore_ledger_extend", reverse_sql=PREVIOUS_LEDGER_EXTEND),
        migrations.RunSQL(f"DROP FUNCTION {OLD_RECORD}", PREVIOUS_RECORD_VERIFICATION),
        sql.apply_functions("eventstore_record_verification", reverse_sql=f"DROP FUNCTION {NEW_RECORD}"),
    ]
