-- A stream head may only move forward: the same stream, a higher version.
CREATE OR REPLACE FUNCTION eventstore_stream_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream_id <> OLD.stream_id OR NEW.version <= OLD.version THEN
        RAISE EXCEPTION 'stream heads only move forward (% v% -> v%)', OLD.stream_id, OLD.version, NEW.version
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
