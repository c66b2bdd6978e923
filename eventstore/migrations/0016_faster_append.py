"""Faster appends, with the same results: the same hash documents, positions, versions and locks.

- `eventstore_append` builds every event's hash document in one set-based statement, as the text
  before and after its `prev_hash`, so the loop that chains the hashes (each event's document holds
  its predecessor's hash, so the chain is sequential) only joins three texts and hashes them. It
  stays SECURITY DEFINER with the pinned search_path of migration 0012, and PUBLIC may not execute it.
- The append moves its stream's head itself, in one upsert, as the stream-heads trigger of migration
  0002 did after each insert statement: that trigger (a PL/pgSQL call over a transition table) cost
  more than the insert it followed.
- The notification of migration 0014 is sent by the appender once its transaction has committed
  (`store.append_events`), in a transaction of its own. Sent from the inserting transaction, it held
  PostgreSQL's notify queue lock, which a committing transaction keeps until its commit record is
  flushed: every append waited for the flushes of all appends before it, one by one, where writers
  without notifications share one flush.
- Both triggers pass by the append's own insert, which sets `eventstore.inserting_by_append` for that
  statement only, and still act on any other insert (the owner's; the application role may insert
  only through the append).
- `eventstore_business_time` (migration 0015) is PL/pgSQL instead of SQL. The SQL function could
  not be inlined (the cast to timestamptz is only stable, the function immutable), so every event
  insert ran it twice, once per business-time index, through the SQL function executor: PL/pgSQL
  evaluates the same expressions at a fraction of the cost. Same result for every input, so the
  indexes stay valid.
"""

from importlib import import_module

from django.db import migrations

SEARCH_PATH = "pg_catalog, public, pg_temp"
APPEND = "eventstore_append(text, text, bigint, uuid[], text[], text[], text[])"
INSERTING_BY_APPEND = "eventstore.inserting_by_append"  # "on" only during the append's own insert

FORWARD = rf"""
CREATE OR REPLACE FUNCTION eventstore_append(
    p_stream_id text, p_aggregate_type text, p_expected bigint,
    p_event_ids uuid[], p_event_types text[], p_data text[], p_metadata text[]
)
RETURNS TABLE (
    status text, head_version integer, positions bigint[], hashes text[],
    recorded_at timestamptz, transaction_id bigint
)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = {SEARCH_PATH} AS $$
DECLARE
    head record;
    stream_exists boolean;
    current_version integer;
    batch_size integer := cardinality(p_event_ids);
    clock timestamptz;
    new_positions bigint[];
    before_prev_hash text[];
    after_prev_hash text[];
    chain text[];
    previous text;
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
    -- Positions in batch order, and each hash document (keys sorted, no spaces) around its prev_hash.
    SELECT array_agg(batch.position ORDER BY batch.n),
           array_agg(fixed.document_start || batch.data || ',"event_id":"' || batch.event_id::text
                     || '","event_type":' || to_json(batch.event_type)::text || ',"metadata":' || batch.metadata
                     || ',"position":' || batch.position || ',"prev_hash":"' ORDER BY batch.n),
           array_agg('","recorded_at":' || fixed.stamp || ',"stream_id":' || fixed.stream_json
                     || ',"version":' || (current_version + batch.n) || '}}' ORDER BY batch.n)
    INTO new_positions, before_prev_hash, after_prev_hash
    FROM (SELECT nextval('eventstore_event_position_seq') AS position, given.*
          FROM unnest(p_event_ids, p_event_types, p_data, p_metadata) WITH ORDINALITY
               AS given(event_id, event_type, data, metadata, n)
          ORDER BY given.n) AS batch,
         (SELECT '{{"aggregate_type":' || to_json(p_aggregate_type)::text || ',"data":' AS document_start,
                 to_json(to_char(clock AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00')::text AS stamp,
                 to_json(p_stream_id)::text AS stream_json) AS fixed;

    previous := COALESCE(head.head_hash, repeat('0', 64));
    chain := ARRAY[previous];
    FOR i IN 1 .. batch_size LOOP
        previous := encode(sha256(convert_to(before_prev_hash[i] || previous || after_prev_hash[i], 'UTF8')), 'hex');
        chain := chain || previous;
    END LOOP;

    -- The append moves the stream head itself, below, and its caller wakes listeners after the
    -- commit (store.py): the stream-heads and notify triggers pass this insert by.
    PERFORM set_config('{INSERTING_BY_APPEND}', 'on', true);
    INSERT INTO eventstore_event
        (position, event_id, stream_id, aggregate_type, version, event_type, data, metadata,
         recorded_at, prev_hash, hash)
    SELECT batch.position, batch.event_id, p_stream_id, p_aggregate_type, current_version + batch.n,
           batch.event_type, batch.data::jsonb, batch.metadata::jsonb, clock, batch.prev_hash, batch.hash
    FROM unnest(new_positions, p_event_ids, p_event_types, p_data, p_metadata,
                chain[1:batch_size], chain[2:batch_size + 1])
         WITH ORDINALITY AS batch(position, event_id, event_type, data, metadata, prev_hash, hash, n);
    PERFORM set_config('{INSERTING_BY_APPEND}', 'off', true);
    IF batch_size > 0 THEN
        INSERT INTO eventstore_stream AS stream
            (stream_id, aggregate_type, version, head_position, head_hash, updated_at)
        VALUES (p_stream_id, p_aggregate_type, current_version + batch_size, new_positions[batch_size], previous, clock)
        ON CONFLICT (stream_id) DO UPDATE SET
            version = EXCLUDED.version,
            head_position = EXCLUDED.head_position,
            head_hash = EXCLUDED.head_hash,
            updated_at = EXCLUDED.updated_at
        WHERE stream.version < EXCLUDED.version;
    END IF;

    RETURN QUERY SELECT 'ok'::text, current_version, new_positions, chain, clock,
                        pg_current_xact_id()::text::bigint;
END;
$$;
REVOKE ALL ON FUNCTION {APPEND} FROM PUBLIC;

DROP TRIGGER eventstore_event_advance_stream_heads ON eventstore_event;
CREATE TRIGGER eventstore_event_advance_stream_heads
    AFTER INSERT ON eventstore_event
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT
    WHEN (current_setting('{INSERTING_BY_APPEND}', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION eventstore_advance_stream_heads();

DROP TRIGGER eventstore_event_notify ON eventstore_event;
CREATE TRIGGER eventstore_event_notify AFTER INSERT ON eventstore_event
    FOR EACH STATEMENT
    WHEN (current_setting('{INSERTING_BY_APPEND}', true) IS DISTINCT FROM 'on')
    EXECUTE FUNCTION eventstore_notify_events();

CREATE OR REPLACE FUNCTION eventstore_business_time(data jsonb, recorded_at timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    occurred text := data->>'occurred_at';
BEGIN
    IF occurred ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9:.]+(Z|[+-][0-9]{{2}}:[0-9]{{2}})$'
       AND pg_input_is_valid(occurred, 'timestamptz') THEN
        RETURN occurred::timestamptz;
    END IF;
    RETURN recorded_at;
END;
$$;
"""


def _replacing(create_function_sql: str) -> str:
    return create_function_sql.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")


# Back to the functions as migrations 0006 (with 0012's settings) and 0015 created them.
_STREAM_HEADS_SQL = import_module("eventstore.migrations.0002_append_only").FORWARD
_NOTIFY_SQL = import_module("eventstore.migrations.0014_subscriptions").NOTIFY
_BUSINESS_TIME_SQL = import_module("eventstore.migrations.0015_business_time").BUSINESS_TIME
BACKWARD = (
    _replacing(import_module("eventstore.migrations.0006_append_function").FORWARD)
    + f"ALTER FUNCTION {APPEND} SECURITY DEFINER SET search_path = {SEARCH_PATH};\n"
    + f"REVOKE ALL ON FUNCTION {APPEND} FROM PUBLIC;\n"
    + "DROP TRIGGER eventstore_event_advance_stream_heads ON eventstore_event;\n"
    + _STREAM_HEADS_SQL[_STREAM_HEADS_SQL.index("CREATE TRIGGER eventstore_event_advance_stream_heads"):
                        _STREAM_HEADS_SQL.index("CREATE FUNCTION eventstore_stream_forward_only")]
    + "DROP TRIGGER eventstore_event_notify ON eventstore_event;\n"
    + _NOTIFY_SQL[_NOTIFY_SQL.index("CREATE TRIGGER eventstore_event_notify"):]
    + _replacing(_BUSINESS_TIME_SQL[: _BUSINESS_TIME_SQL.index("CREATE INDEX")])
)


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0015_business_time")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
