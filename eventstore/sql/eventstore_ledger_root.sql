-- The root of the ledger's first p_size leaves, folded from the perfect subtrees of p_size's binary
-- decomposition (the hash of nothing for size 0).
--
-- Runs as its owner with a pinned search_path; PUBLIC may not execute it (eventstore/privileges.py
-- grants it to the application role).
CREATE OR REPLACE FUNCTION eventstore_ledger_root(p_size bigint)
RETURNS bytea
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    subtrees bytea[] := ARRAY[]::bytea[];
    offset_ bigint := 0;
    level_ integer;
    root bytea;
    i integer;
BEGIN
    IF p_size IS NULL OR p_size < 0 THEN
        RAISE EXCEPTION 'a tree size is >= 0' USING ERRCODE = 'check_violation';
    END IF;
    IF p_size = 0 THEN
        RETURN sha256(''::bytea);
    END IF;
    FOR level_ IN REVERSE 62..0 LOOP  -- the perfect subtrees of p_size, largest (leftmost) first
        IF (p_size >> level_) & 1 = 1 THEN
            subtrees := subtrees || (SELECT node.hash FROM eventstore_ledgernode AS node
                                     WHERE node.level = level_ AND node.index = offset_ >> level_);
            offset_ := offset_ + (1::bigint << level_);
        END IF;
    END LOOP;
    IF array_position(subtrees, NULL) IS NOT NULL OR cardinality(subtrees) = 0 THEN
        RAISE EXCEPTION 'the ledger holds fewer than % leaves', p_size USING ERRCODE = 'check_violation';
    END IF;
    root := subtrees[cardinality(subtrees)];
    FOR i IN REVERSE cardinality(subtrees) - 1..1 LOOP
        root := sha256('\x01'::bytea || subtrees[i] || root);
    END LOOP;
    RETURN root;
END;
$$;
REVOKE ALL ON FUNCTION eventstore_ledger_root(bigint) FROM PUBLIC;
