-- Rehashes the perfect subtrees of the streams tree above the leaves p_changed (leaf indexes of
-- `eventstore_ledgerstream`, moved or added), level by level, set-based: each complete parent of a
-- changed node, SHA-256(0x01 || left || right), into `eventstore_ledgerstreamnode` (level >= 1; the
-- leaves are `eventstore_ledgerstream.leaf_hash`). A parent whose subtree reaches past the last
-- stream waits until the streams fill it. O(changed x log n).
--
-- Called by `eventstore_ledger_extend` (and by the migration that filled the table), which run as
-- the owner; PUBLIC may not execute it.
CREATE OR REPLACE FUNCTION eventstore_ledger_streams_rehash(p_changed bigint[])
RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    stream_count bigint := (SELECT COALESCE(max(stream.leaf_index) + 1, 0) FROM eventstore_ledgerstream AS stream);
    changed bigint[] := p_changed;
    level_ smallint := 0;
BEGIN
    WHILE cardinality(changed) > 0 LOOP
        WITH parent AS (
            SELECT DISTINCT child >> 1 AS index FROM unnest(changed) AS child
            WHERE ((child >> 1) + 1) << (level_ + 1) <= stream_count
        ), child AS (
            SELECT stream.leaf_index AS index, stream.leaf_hash AS hash
            FROM parent JOIN eventstore_ledgerstream AS stream
              ON stream.leaf_index IN (parent.index * 2, parent.index * 2 + 1)
            WHERE level_ = 0
            UNION ALL
            SELECT node.index, node.hash
            FROM parent JOIN eventstore_ledgerstreamnode AS node
              ON node.level = level_ AND node.index IN (parent.index * 2, parent.index * 2 + 1)
            WHERE level_ > 0
        ), rehashed AS (
            INSERT INTO eventstore_ledgerstreamnode AS node (level, index, hash)
            SELECT level_ + 1, parent.index, sha256('\x01'::bytea || left_.hash || right_.hash)
            FROM parent JOIN child AS left_ ON left_.index = parent.index * 2
                        JOIN child AS right_ ON right_.index = parent.index * 2 + 1
            ON CONFLICT (level, index) DO UPDATE SET hash = EXCLUDED.hash
            RETURNING node.index
        )
        SELECT array_agg(rehashed.index) INTO changed FROM rehashed;
        level_ := level_ + 1;
    END LOOP;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_ledger_streams_rehash(bigint[]) FROM PUBLIC;
