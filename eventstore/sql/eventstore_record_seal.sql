-- Records a seal over the events below a transaction horizon. The database sets `sealed_at` (the
-- server's clock), the link to the newest seal and the seal's hash, the canonical JSON that
-- `eventstore.encoding.seal_hash` builds (keys sorted, no spaces). It refuses a horizon still in
-- flight or older than the newest seal's, and an event count that is not what the store holds
-- below it; nothing new since the newest seal records nothing (NULL).
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_record_seal(
    p_transaction_horizon bigint, p_event_count bigint, p_events_digest text
)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    latest record;
    held bigint;
    clock timestamptz;
    previous text;
    new_hash text;
    new_id bigint;
BEGIN
    IF p_transaction_horizon IS NULL OR p_event_count IS NULL OR p_event_count < 0
       OR p_events_digest IS NULL OR p_events_digest !~ '^[0-9a-f]{64}$' THEN
        RAISE EXCEPTION 'a seal needs a transaction horizon, an event count >= 0 and a digest of 64 hex digits'
            USING ERRCODE = 'check_violation';
    END IF;
    IF p_transaction_horizon > pg_snapshot_xmin(pg_current_snapshot())::text::bigint THEN
        RAISE EXCEPTION 'a seal cannot cover transaction %: transactions before it are still in flight',
            p_transaction_horizon USING ERRCODE = 'check_violation';
    END IF;

    -- One seal at a time, so each links to the one before it.
    PERFORM pg_advisory_xact_lock(hashtextextended('eventstore_seal', 0));
    SELECT seal.hash, seal.transaction_horizon, seal.event_count, seal.events_digest INTO latest
    FROM eventstore_seal AS seal ORDER BY seal.id DESC LIMIT 1;
    IF FOUND AND (p_transaction_horizon < latest.transaction_horizon
                  OR (p_event_count = latest.event_count AND p_events_digest = latest.events_digest)) THEN
        RETURN NULL;  -- nothing new since the newest seal, or a newer one was recorded meanwhile
    END IF;

    -- Every transaction below the horizon has ended, so this count can no longer change.
    SELECT count(*) INTO held FROM eventstore_event AS event WHERE event.transaction_id < p_transaction_horizon;
    IF held <> p_event_count THEN
        RAISE EXCEPTION 'a seal of % events below transaction % does not match the store, which holds %',
            p_event_count, p_transaction_horizon, held USING ERRCODE = 'check_violation';
    END IF;

    clock := clock_timestamp();
    previous := COALESCE(latest.hash, repeat('0', 64));
    new_hash := encode(sha256(convert_to(
        '{"event_count":' || p_event_count
        || ',"events_digest":' || to_json(p_events_digest)::text
        || ',"prev_hash":' || to_json(previous)::text
        || ',"sealed_at":' || to_json(to_char(clock AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00')::text
        || ',"transaction_horizon":' || p_transaction_horizon
        || '}', 'UTF8')), 'hex');
    INSERT INTO eventstore_seal (sealed_at, transaction_horizon, event_count, events_digest, prev_hash, hash)
    VALUES (clock, p_transaction_horizon, p_event_count, p_events_digest, previous, new_hash)
    RETURNING id INTO new_id;
    RETURN new_id;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_record_seal(bigint, bigint, text) FROM PUBLIC;
