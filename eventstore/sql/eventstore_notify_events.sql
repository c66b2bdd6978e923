-- Wakes listeners (catch-up loop, feed long-polls, webhook deliveries) on channel
-- `eventstore_events` when a transaction that inserted events commits. The append's own insert
-- passes this trigger by: its caller notifies once its transaction has committed (store.py).
CREATE OR REPLACE FUNCTION eventstore_notify_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('eventstore_events', '');
    RETURN NULL;
END
$$;
