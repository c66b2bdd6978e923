"""History is written only through functions that run as their owner.

The application role keeps SELECT on events, seals and verification records but loses INSERT
(eventstore/privileges.py): it cannot write a row with a position, time or hash of its choosing.
It writes them through three SECURITY DEFINER functions, owned by the role that runs migrations,
which alone set what the database must vouch for:

- `eventstore_append` (migration 0006, unchanged in body): position (the sequence), version,
  `recorded_at` (the server's clock), transaction id (the caller's transaction: a SECURITY DEFINER
  function runs inside it) and the hash chain.
- `eventstore_record_seal`: `sealed_at` (the server's clock), the link to the newest seal and the
  seal's hash. It refuses a seal whose transaction horizon is still in flight or older than the
  newest seal's, and one whose event count is not what the store holds below that horizon.
- `eventstore_record_verification`: `ran_at` (the server's clock) and the newest seal's hash. It
  refuses an `ok` record that reports problems.

Each function pins `search_path` (the catalog first, the temporary schema last, so no role can
shadow a table, function or operator the function uses) and may be executed only by the roles
that privileges.py grants it to, not by PUBLIC.

The seal's hash is the canonical JSON that `eventstore.encoding.seal_hash` builds (keys sorted, no
spaces); verify_event_chain recomputes it in Python.
"""

from django.db import migrations

SEARCH_PATH = "pg_catalog, public, pg_temp"
APPEND = "eventstore_append(text, text, bigint, uuid[], text[], text[], text[])"
RECORD_SEAL = "eventstore_record_seal(bigint, bigint, text)"
RECORD_VERIFICATION = "eventstore_record_verification(boolean, bigint, bigint, bigint, text)"

FORWARD = rf"""
ALTER FUNCTION {APPEND} SECURITY DEFINER SET search_path = {SEARCH_PATH};
REVOKE ALL ON FUNCTION {APPEND} FROM PUBLIC;

CREATE FUNCTION eventstore_record_seal(
    p_transaction_horizon bigint, p_event_count bigint, p_events_digest text
)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
DECLARE
    latest record;
    held bigint;
    clock timestamptz;
    previous text;
    new_hash text;
    new_id bigint;
BEGIN
    IF p_transaction_horizon IS NULL OR p_event_count IS NULL OR p_event_count < 0
       OR p_events_digest IS NULL OR p_events_digest !~ '^[0-9a-f]{{64}}$' THEN
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
        '{{"event_count":' || p_event_count
        || ',"events_digest":' || to_json(p_events_digest)::text
        || ',"prev_hash":' || to_json(previous)::text
        || ',"sealed_at":' || to_json(to_char(clock AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00')::text
        || ',"transaction_horizon":' || p_transaction_horizon
        || '}}', 'UTF8')), 'hex');
    INSERT INTO eventstore_seal (sealed_at, transaction_horizon, event_count, events_digest, prev_hash, hash)
    VALUES (clock, p_transaction_horizon, p_event_count, p_events_digest, previous, new_hash)
    RETURNING id INTO new_id;
    RETURN new_id;
END;
$$;
REVOKE ALL ON FUNCTION {RECORD_SEAL} FROM PUBLIC;

CREATE FUNCTION eventstore_record_verification(
    p_ok boolean, p_events_checked bigint, p_streams_checked bigint, p_problem_count bigint, p_problems text
)
RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
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
REVOKE ALL ON FUNCTION {RECORD_VERIFICATION} FROM PUBLIC;
"""

BACKWARD = f"""
DROP FUNCTION {RECORD_VERIFICATION};
DROP FUNCTION {RECORD_SEAL};
GRANT EXECUTE ON FUNCTION {APPEND} TO PUBLIC;
ALTER FUNCTION {APPEND} SECURITY INVOKER RESET search_path;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0011_projection_set_aside")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
