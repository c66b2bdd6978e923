-- Destroys a data subject's key: the row is deleted, and with it every value encrypted under it
-- becomes unreadable for good. Returns the id of the key destroyed, NULL when the subject had none.
-- The caller records the erasure (a PersonalDataErased event) in the same transaction.
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_personal_data_key_erase(p_subject text)
RETURNS uuid
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    erased uuid;
BEGIN
    DELETE FROM eventstore_personaldatakey AS k WHERE k.subject = p_subject RETURNING k.key_id INTO erased;
    RETURN erased;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_personal_data_key_erase(text) FROM PUBLIC;
