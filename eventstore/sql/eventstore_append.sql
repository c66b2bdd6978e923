-- The append, in one round trip: lock the stream, check the expected version, number, timestamp
-- and hash-chain the events, insert them and move the stream head.
--
-- p_expected: a version >= 0, or -1 ANY, -2 NO_STREAM, -3 STREAM_EXISTS.
--
-- Concurrency: a transaction-scoped advisory lock per stream serializes writers of one stream only.
-- It assigns no transaction id, so the appending transaction gets its id at insert, after the
-- previous writer of the stream committed; and inside this volatile function each statement takes
-- a fresh snapshot (READ COMMITTED), so the head read after the lock sees that writer's commit.
--
-- The hash document is the canonical JSON that `eventstore.encoding.event_hash` builds: keys
-- sorted, no spaces, `data` and `metadata` spliced in as the canonical text the caller sent. A
-- single event takes its position, document and row in plain expressions and one INSERT ... VALUES;
-- a batch builds every document in one set-based statement, as the text before and after its
-- `prev_hash`, so the loop that chains the hashes only joins three texts and hashes them. Both
-- paths build the same document byte for byte; verify_event_chain recomputes every hash in Python.
--
-- The append's own insert sets `eventstore.inserting_by_append` for that statement only, so the
-- stream-heads and notify triggers pass it by: it moves the head itself, in one upsert, and its
-- caller notifies after the commit.
--
-- Runs as its owner (SECURITY DEFINER, the catalog first and the temporary schema last in its
-- search_path, so no role can shadow what it uses): it alone sets positions, versions,
-- `recorded_at`, transaction ids and hashes. PUBLIC may not execute it; eventstore/privileges.py
-- grants it to the application role after every migrate.
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
    IF batch_size = 1 THEN
        new_positions := ARRAY[nextval('eventstore_event_position_seq')];
        previous := COALESCE(head.head_hash, repeat('0', 64));
        chain := ARRAY[previous, encode(sha256(convert_to(
            '{"aggregate_type":' || to_json(p_aggregate_type)::text || ',"data":' || p_data[1]
            || ',"event_id":"' || p_event_ids[1]::text || '","event_type":' || to_json(p_event_types[1])::text
            || ',"metadata":' || p_metadata[1] || ',"position":' || new_positions[1] || ',"prev_hash":"' || previous
            || '","recorded_at":'
            || to_json(to_char(clock AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00')::text
            || ',"stream_id":' || to_json(p_stream_id)::text || ',"version":' || (current_version + 1) || '}',
            'UTF8')), 'hex')];
        previous := chain[2];
        PERFORM set_config('eventstore.inserting_by_append', 'on', true);
        INSERT INTO eventstore_event
            (position, event_id, stream_id, aggregate_type, version, event_type, data, metadata,
             recorded_at, prev_hash, hash)
        VALUES (new_positions[1], p_event_ids[1], p_stream_id, p_aggregate_type, current_version + 1,
                p_event_types[1], p_data[1]::jsonb, p_metadata[1]::jsonb, clock, chain[1], chain[2]);
        PERFORM set_config('eventstore.inserting_by_append', 'off', true);
    ELSE
    -- Positions in batch order, and each hash document (keys sorted, no spaces) around its prev_hash.
    SELECT array_agg(batch.position ORDER BY batch.n),
           array_agg(fixed.document_start || batch.data || ',"event_id":"' || batch.event_id::text
                     || '","event_type":' || to_json(batch.event_type)::text || ',"metadata":' || batch.metadata
                     || ',"position":' || batch.position || ',"prev_hash":"' ORDER BY batch.n),
           array_agg('","recorded_at":' || fixed.stamp || ',"stream_id":' || fixed.stream_json
                     || ',"version":' || (current_version + batch.n) || '}' ORDER BY batch.n)
    INTO new_positions, before_prev_hash, after_prev_hash
    FROM (SELECT nextval('eventstore_event_position_seq') AS position, given.*
          FROM unnest(p_event_ids, p_event_types, p_data, p_metadata) WITH ORDINALITY
               AS given(event_id, event_type, data, metadata, n)
          ORDER BY given.n) AS batch,
         (SELECT '{"aggregate_type":' || to_json(p_aggregate_type)::text || ',"data":' AS document_start,
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
    PERFORM set_config('eventstore.inserting_by_append', 'on', true);
    INSERT INTO eventstore_event
        (position, event_id, stream_id, aggregate_type, version, event_type, data, metadata,
         recorded_at, prev_hash, hash)
    SELECT batch.position, batch.event_id, p_stream_id, p_aggregate_type, current_version + batch.n,
           batch.event_type, batch.data::jsonb, batch.metadata::jsonb, clock, batch.prev_hash, batch.hash
    FROM unnest(new_positions, p_event_ids, p_event_types, p_data, p_metadata,
                chain[1:batch_size], chain[2:batch_size + 1])
         WITH ORDINALITY AS batch(position, event_id, event_type, data, metadata, prev_hash, hash, n);
    PERFORM set_config('eventstore.inserting_by_append', 'off', true);
    END IF;
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
REVOKE ALL ON FUNCTION eventstore_append(text, text, bigint, uuid[], text[], text[], text[]) FROM PUBLIC;
