-- Refuses the change its trigger fires for: events, seals, stream heads (deletion), ledger entries,
-- ledger nodes and tree heads can never be updated, deleted or truncated, whoever asks. Triggers
-- fire for the owner too; only a superuser who disables triggers gets past them, and
-- verify_event_chain catches that.
CREATE OR REPLACE FUNCTION eventstore_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
