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
