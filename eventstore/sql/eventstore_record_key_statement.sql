-- Appends a key statement (the signature, by the previous key, is checked by every reader, not
-- here). The keys stay one chain: the previous key is the current one (the last statement's next
-- key, else the newest head's key), never retired for good; the next key was never used before.
-- The statement starts after the newest head: its tree_size is that head's size (0 without one),
-- its time the server's within five minutes and not before that head's nor the last statement's.
-- It takes the tree heads' lock, so no head is recorded meanwhile.
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_record_key_statement(
    p_tree_size bigint, p_timestamp timestamptz, p_previous_public_key text, p_next_public_key text,
    p_signature text
)
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    last_statement record;
    newest record;
    current_key text;
BEGIN
    IF p_tree_size IS NULL OR p_timestamp IS NULL
       OR p_previous_public_key IS NULL OR p_previous_public_key !~ '^[0-9a-f]{64}$'
       OR p_next_public_key !~ '^[0-9a-f]{64}$'
       OR p_signature IS NULL OR p_signature !~ '^[0-9a-f]{128}$' THEN
        RAISE EXCEPTION 'a key statement needs a size, a time, public keys of 64 hex digits (the next one may be '
                        'NULL) and a signature of 128' USING ERRCODE = 'check_violation';
    END IF;
    IF abs(extract(epoch FROM clock_timestamp() - p_timestamp)) > extract(epoch FROM interval '5 minutes') THEN
        RAISE EXCEPTION 'a key statement is timed by the server''s clock (% is too far from %)', p_timestamp,
            clock_timestamp() USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('eventstore_tree_head', 0));
    SELECT statement.sequence, statement.timestamp, statement.next_public_key INTO last_statement
    FROM eventstore_keystatement AS statement ORDER BY statement.sequence DESC LIMIT 1;
    SELECT head.tree_size, head.timestamp, head.public_key INTO newest
    FROM eventstore_treehead AS head ORDER BY head.tree_size DESC LIMIT 1;
    current_key := CASE WHEN last_statement.sequence IS NOT NULL THEN last_statement.next_public_key
                        ELSE newest.public_key END;
    IF last_statement.sequence IS NOT NULL AND current_key IS NULL THEN
        RAISE EXCEPTION 'the ledger''s signing key was retired with no successor' USING ERRCODE = 'check_violation';
    END IF;
    IF p_previous_public_key IS DISTINCT FROM COALESCE(current_key, p_previous_public_key) THEN
        RAISE EXCEPTION 'only the current key % may hand signing over', current_key USING ERRCODE = 'check_violation';
    END IF;
    IF p_next_public_key = p_previous_public_key OR EXISTS (
           SELECT FROM eventstore_keystatement AS statement WHERE statement.previous_public_key = p_next_public_key) THEN
        RAISE EXCEPTION 'the next key % signed before: a key is used for one period only', p_next_public_key
            USING ERRCODE = 'check_violation';
    END IF;
    IF p_tree_size <> COALESCE(newest.tree_size, 0) THEN
        RAISE EXCEPTION 'a key statement starts after the newest head, of % events, not after %',
            COALESCE(newest.tree_size, 0), p_tree_size USING ERRCODE = 'check_violation';
    END IF;
    IF p_timestamp < newest.timestamp OR p_timestamp < last_statement.timestamp THEN
        RAISE EXCEPTION 'a key statement is not timed before the newest head or statement' USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO eventstore_keystatement (sequence, tree_size, timestamp, previous_public_key, next_public_key, signature)
    VALUES (COALESCE(last_statement.sequence, 0) + 1, p_tree_size, p_timestamp, p_previous_public_key,
            p_next_public_key, p_signature);
    RETURN COALESCE(last_statement.sequence, 0) + 1;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_record_key_statement(bigint, timestamptz, text, text, text) FROM PUBLIC;
