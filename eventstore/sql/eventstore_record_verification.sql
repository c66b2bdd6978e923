-- Records a run of verify_event_chain. The database sets `ran_at` (the server's clock) and the
-- newest seal's hash; it refuses an `ok` record that reports problems, and negative counts.
-- `p_kind` is 'full' (every event) or 'incremental' (the events committed since the last verified
-- point); the range is what the run covered: transaction ids and positions from (NULL for a full
-- pass) up to the snapshot's horizon and the last position handed out, and ledger leaves from the
-- last verified signed head's size to the newest head's (NULL when no head was checked).
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_record_verification(
    p_ok boolean, p_events_checked bigint, p_streams_checked bigint, p_problem_count bigint, p_problems text,
    p_kind text, p_from_transaction bigint, p_transaction_horizon bigint, p_from_position bigint,
    p_last_position bigint, p_from_tree_size bigint, p_tree_size bigint
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
    IF p_kind IS NULL OR p_kind NOT IN ('full', 'incremental') OR (p_kind = 'full') <> (p_from_transaction IS NULL)
       OR p_from_transaction > p_transaction_horizon OR p_from_tree_size > p_tree_size THEN
        RAISE EXCEPTION 'a verification is full (from the start) or incremental (from a verified point before its end)'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO eventstore_chainverification
        (ran_at, ok, events_checked, streams_checked, problem_count, problems, seal_hash, kind, from_transaction,
         transaction_horizon, from_position, last_position, from_tree_size, tree_size)
    VALUES (clock_timestamp(), p_ok, p_events_checked, p_streams_checked, p_problem_count, COALESCE(p_problems, ''),
            COALESCE((SELECT seal.hash FROM eventstore_seal AS seal ORDER BY seal.id DESC LIMIT 1), ''), p_kind,
            p_from_transaction, p_transaction_horizon, p_from_position, p_last_position, p_from_tree_size, p_tree_size)
    RETURNING id INTO new_id;
    RETURN new_id;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_record_verification(boolean, bigint, bigint, bigint, text, text, bigint, bigint, bigint,
                                                      bigint, bigint, bigint) FROM PUBLIC;
