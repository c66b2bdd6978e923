"""Every function of the store as its file in eventstore/sql/ defines it.

From here on each function's current definition lives in its file, and a change to a file comes
with a migration that applies it (eventstore/sql/__init__.py). This one applies them all: a
database migrated long ago already has these definitions and keeps them; one migrated from scratch
gets here the append of migrations 0016 and 0017 (set-based batches, a single-event path, the
stream head moved by the append) and the PL/pgSQL business time of migration 0016.

Backwards, the functions go back to what migration 0017 leaves: the append of migration 0006 with
migration 0012's settings, and the SQL business time of migration 0015; the others are unchanged.
"""

from django.db import migrations

from eventstore import sql

FUNCTIONS = (
    "eventstore_reject_change",
    "eventstore_stream_forward_only",
    "eventstore_advance_stream_heads",
    "eventstore_notify_events",
    "eventstore_business_time",
    "eventstore_append",
    "eventstore_record_seal",
    "eventstore_record_verification",
    "eventstore_ledger_extend",
    "eventstore_ledger_root",
    "eventstore_record_tree_head",
)

APPEND_BEFORE = r"""
CREATE OR REPLACE FUNCTION eventstore_append(
    p_stream_id text, p_aggregate_type text, p_expected bigint,
    p_event_ids uuid[], p_event_types text[], p_data text[], p_metadata text[]
)
RETURNS TABLE (
    status text, head_version integer, positions bigint[], hashes text[],
    recorded_at timestamptz, transaction_id bigint
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    head record;
    stream_exists boolean;
    current_version integer;
    batch_size integer := cardinality(p_event_ids);
    clock timestamptz;
    new_positions bigint[];
    chain text[];
    previous text;
    document_start text;
    stamp text;
    stream_json text := to_json(p_stream_id)::text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));
    SELECT stream.version, stream.head_hash, stream.updated_at INTO head
    FROM eventstore_stream AS stream WHERE stream.stream_id = p_stream_id;
    stream_exists := FOUND;
    current_version := COALESCE(head.version, 0);

    IF (p_expected = -2 AND stream_exists) OR (p_expected = -3 AND NOT stream_exists)
       OR (p_expected >= 0 AND p_expected <> current_version) THEN
        RETURN QUERY SELECT 'conflict'::text, CASE WHEN stream_exists THEN current_version END,
                            NULL::bigint[], NULL::text[], NULL::timestamptz, NULL::bigint;
        RETURN;
    END IF;

    -- Never earlier than the stream's previous event, so time and version orders agree.
    clock := GREATEST(clock_timestamp(), head.updated_at);
    stamp := to_json(to_char(clock AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00')::text;
    new_positions := ARRAY(SELECT nextval('eventstore_event_position_seq') FROM generate_series(1, batch_size));
    previous := COALESCE(head.head_hash, repeat('0', 64));
    chain := ARRAY[previous];
    document_start := '{"aggregate_type":' || to_json(p_aggregate_type)::text || ',"data":';
    FOR i IN 1 .. batch_size LOOP
        previous := encode(sha256(convert_to(
            document_start || p_data[i]
            || ',"event_id":"' || p_event_ids[i]::text
            || '","event_type":' || to_json(p_event_types[i])::text
            || ',"metadata":' || p_metadata[i]
            || ',"position":' || new_positions[i]
            || ',"prev_hash":"' || previous
            || '","recorded_at":' || stamp
            || ',"stream_id":' || stream_json
            || ',"version":' || (current_version + i)
            || '}', 'UTF8')), 'hex');
        chain := chain || previous;
    END LOOP;

    INSERT INTO eventstore_event
        (position, event_id, stream_id, aggregate_type, version, event_type, data, metadata,
         recorded_at, prev_hash, hash)
    SELECT batch.position, batch.event_id, p_stream_id, p_aggregate_type, current_version + batch.n,
           batch.event_type, batch.data::jsonb, batch.metadata::jsonb, clock, batch.prev_hash, batch.hash
    FROM unnest(new_positions, p_event_ids, p_event_types, p_data, p_metadata,
                chain[1:batch_size], chain[2:batch_size + 1])
         WITH ORDINALITY AS batch(position, event_id, event_type, data, metadata, prev_hash, hash, n);

    RETURN QUERY SELECT 'ok'::text, current_version, new_positions, chain, clock,
                        pg_current_xact_id()::text::bigint;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_append(text, text, bigint, uuid[], text[], text[], text[]) FROM PUBLIC;
"""

BUSINESS_TIME_BEFORE = """
CREATE OR REPLACE FUNCTION eventstore_business_time(data jsonb, recorded_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN data->>'occurred_at' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})$'
             AND pg_input_is_valid(data->>'occurred_at', 'timestamptz')
        THEN (data->>'occurred_at')::timestamptz
        ELSE recorded_at
    END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0017_single_event_append")]

    operations = [sql.apply_functions(*FUNCTIONS, reverse_sql=[APPEND_BEFORE, BUSINESS_TIME_BEFORE])]
