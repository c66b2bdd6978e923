-- Appends a signed tree head: its root must be the stored tree's at its size, its size beyond the
-- newest head's, its time the server's within five minutes and not before the newest head's (a
-- newer head recorded meanwhile: NULL). The signature is checked by every reader, not here. Its
-- streams tree orders the streams by their first leaf in the ledger (`streams_order`).
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
    INSERT INTO eventstore_treehead (tree_size, timestamp, root_hash, streams_root, streams_order, signature,
                                     public_key)
    VALUES (p_tree_size, p_timestamp, p_root_hash, p_streams_root, 'first_in_ledger', p_signature, p_public_key);
    RETURN p_tree_size;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_record_tree_head(bigint, timestamptz, text, text, text, text) FROM PUBLIC;
