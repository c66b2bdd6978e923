-- Moves the heads in `eventstore_stream` after an insert statement into `eventstore_event`, forward
-- only. The append moves its stream's head itself and its insert passes this trigger by (the
-- trigger's WHEN on `eventstore.inserting_by_append`); any other insert (the owner's) still moves
-- the heads. Runs as its owner: the application role has no UPDATE on `eventstore_stream`.
CREATE OR REPLACE FUNCTION eventstore_advance_stream_heads() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    INSERT INTO eventstore_stream AS stream
        (stream_id, aggregate_type, version, head_position, head_hash, updated_at)
    SELECT DISTINCT ON (stream_id) stream_id, aggregate_type, version, position, hash, recorded_at
    FROM inserted
    ORDER BY stream_id, version DESC
    ON CONFLICT (stream_id) DO UPDATE SET
        version = EXCLUDED.version,
        head_position = EXCLUDED.head_position,
        head_hash = EXCLUDED.head_hash,
        updated_at = EXCLUDED.updated_at
    WHERE stream.version < EXCLUDED.version;
    RETURN NULL;
END;
$$;
