-- Before a tree head is inserted: it must name the current signing key, the last key statement's
-- next key (none after a retirement with no successor), else the newest head's key, and be timed
-- no earlier than that statement. A retired key, or a key swapped in without a statement, signs
-- nothing more.
CREATE OR REPLACE FUNCTION eventstore_treehead_signed_by_current_key() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_statement record;
    current_key text;
BEGIN
    SELECT statement.sequence, statement.timestamp, statement.next_public_key INTO last_statement
    FROM eventstore_keystatement AS statement ORDER BY statement.sequence DESC LIMIT 1;
    IF FOUND THEN
        current_key := last_statement.next_public_key;
        IF NEW.timestamp < last_statement.timestamp THEN
            RAISE EXCEPTION 'a tree head timed % precedes key statement % (%)', NEW.timestamp,
                last_statement.sequence, last_statement.timestamp USING ERRCODE = 'check_violation';
        END IF;
    ELSE
        SELECT head.public_key INTO current_key FROM eventstore_treehead AS head ORDER BY head.tree_size DESC LIMIT 1;
        current_key := COALESCE(current_key, NEW.public_key);
    END IF;
    IF current_key IS NULL OR NEW.public_key <> current_key THEN
        RAISE EXCEPTION 'a tree head signed by key % is refused: the current signing key is %', NEW.public_key,
            COALESCE(current_key, 'none (retired)') USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$;
