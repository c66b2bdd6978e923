-- Extends the verifiable ledger (a Merkle tree over every event, RFC 9162 section 2.1) by up to
-- p_limit events and returns its new size. The next committed events come in the order `read_all`
-- delivers them (transaction id, position, below the oldest transaction in flight), so a late
-- commit is never passed over; each gets the next ledger index, its leaf hash
-- SHA-256(0x00 || event hash), and every perfect subtree it completes, SHA-256(0x01 || left || right).
-- One caller at a time (an advisory lock), so two signers never interleave.
--
-- It also moves `eventstore_ledgerstream`, each stream's newest event in the ledger with the leaf
-- hash of the streams tree, SHA-256(0x00 || {"head_hash":…,"stream_id":…,"version":…}), at the leaf
-- index the stream took when it first entered the ledger (the number of streams before it), and
-- rehashes the perfect subtrees above the leaves it moved (`eventstore_ledger_streams_rehash`), so
-- that a signer folds the streams root from O(log n) stored subtrees instead of rescanning anything.
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
    stream_count bigint;
    changed bigint[];
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
    SELECT COALESCE(max(stream.leaf_index) + 1, 0) INTO stream_count FROM eventstore_ledgerstream AS stream;
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
    WITH newest AS (  -- each stream's newest event in this batch, and its first leaf here
        SELECT DISTINCT ON (e.stream_id) e.stream_id, e.version, e.hash,
               min(entry.ledger_index) OVER (PARTITION BY e.stream_id) AS first_leaf
        FROM eventstore_ledgerentry AS entry JOIN eventstore_event AS e ON e.position = entry.position
        WHERE entry.ledger_index >= first_new
        ORDER BY e.stream_id, e.version DESC
    ), placed AS (  -- a stream new to the ledger takes the next leaf, in the order of first leaves
        SELECT newest.*, COALESCE(known.leaf_index, stream_count - 1 + row_number() OVER (
                   PARTITION BY known.leaf_index IS NULL ORDER BY newest.first_leaf)) AS leaf_index
        FROM newest LEFT JOIN eventstore_ledgerstream AS known ON known.stream_id = newest.stream_id
    ), moved AS (
        INSERT INTO eventstore_ledgerstream AS stream (stream_id, leaf_index, version, head_hash, leaf_hash)
        SELECT placed.stream_id, placed.leaf_index, placed.version, placed.hash,
               sha256('\x00'::bytea || convert_to('{"head_hash":"' || placed.hash || '","stream_id":'
                                                  || to_json(placed.stream_id)::text || ',"version":'
                                                  || placed.version || '}', 'UTF8'))
        FROM placed
        ON CONFLICT (stream_id) DO UPDATE SET
            version = EXCLUDED.version, head_hash = EXCLUDED.head_hash, leaf_hash = EXCLUDED.leaf_hash
        WHERE stream.version < EXCLUDED.version
        RETURNING stream.leaf_index
    )
    SELECT array_agg(moved.leaf_index) INTO changed FROM moved;
    PERFORM eventstore_ledger_streams_rehash(changed);
    RETURN size;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_ledger_extend(integer) FROM PUBLIC;
