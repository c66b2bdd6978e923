-- Stores a data subject's new key (wrapped by the master key, which the database never sees) unless the
-- subject has one already, and returns the subject's key either way: two writers racing for a new
-- subject end up with the same key.
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_personal_data_key_create(p_subject text, p_key_id uuid, p_wrapped_key bytea)
RETURNS TABLE (subject text, key_id uuid, wrapped_key bytea, created_at timestamptz)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF p_subject IS NULL OR length(p_subject) NOT BETWEEN 1 AND 300 OR p_key_id IS NULL OR p_wrapped_key IS NULL THEN
        RAISE EXCEPTION 'a subject key needs a subject of 1 to 300 characters, a key id and the wrapped key'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO eventstore_personaldatakey AS k (subject, key_id, wrapped_key, created_at)
    VALUES (p_subject, p_key_id, p_wrapped_key, clock_timestamp())
    ON CONFLICT ON CONSTRAINT eventstore_personaldatakey_pkey DO NOTHING;
    RETURN QUERY SELECT k.subject::text, k.key_id, k.wrapped_key, k.created_at
    FROM eventstore_personaldatakey AS k WHERE k.subject = p_subject;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_personal_data_key_create(text, uuid, bytea) FROM PUBLIC;
