-- The keys of the data subjects asked for, and only those: the application role reads a subject's key
-- by its id and cannot list the key table (it has no privilege on it). At most 10000 subjects a call.
-- A subject whose key was erased (or never made) has no row.
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_personal_data_keys(p_subjects text[])
RETURNS TABLE (subject text, key_id uuid, wrapped_key bytea, created_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF cardinality(p_subjects) > 10000 THEN
        RAISE EXCEPTION 'at most 10000 subjects a call, not %', cardinality(p_subjects) USING ERRCODE = 'check_violation';
    END IF;
    RETURN QUERY SELECT k.subject::text, k.key_id, k.wrapped_key, k.created_at
    FROM eventstore_personaldatakey AS k WHERE k.subject = ANY(p_subjects);
END;
$$;
REVOKE ALL ON FUNCTION eventstore_personal_data_keys(text[]) FROM PUBLIC;
