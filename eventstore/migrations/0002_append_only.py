"""Database-level guarantees of the event store.

- Positions come from a sequence, so raw inserts get one too.
- Events can never be updated, deleted or truncated, whoever asks (triggers fire for the owner too;
  only a superuser who disables triggers gets past them, and verify_event_chain catches that).
- Each insert statement moves the stream heads in `eventstore_stream`, which may only move forward.
"""

from django.db import migrations

FORWARD = r"""
CREATE SEQUENCE eventstore_event_position_seq OWNED BY eventstore_event.position;
ALTER TABLE eventstore_event ALTER COLUMN position SET DEFAULT nextval('eventstore_event_position_seq');

CREATE FUNCTION eventstore_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event store is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER eventstore_event_no_update_delete
    BEFORE UPDATE OR DELETE ON eventstore_event
    FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change();
CREATE TRIGGER eventstore_event_no_truncate
    BEFORE TRUNCATE ON eventstore_event
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_reject_change();

CREATE FUNCTION eventstore_advance_stream_heads() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER eventstore_event_advance_stream_heads
    AFTER INSERT ON eventstore_event
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_advance_stream_heads();

CREATE FUNCTION eventstore_stream_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.stream_id <> OLD.stream_id OR NEW.version <= OLD.version THEN
        RAISE EXCEPTION 'stream heads only move forward (% v% -> v%)', OLD.stream_id, OLD.version, NEW.version
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER eventstore_stream_forward_only
    BEFORE UPDATE ON eventstore_stream
    FOR EACH ROW EXECUTE FUNCTION eventstore_stream_forward_only();
CREATE TRIGGER eventstore_stream_no_delete
    BEFORE DELETE ON eventstore_stream
    FOR EACH ROW EXECUTE FUNCTION eventstore_reject_change();
CREATE TRIGGER eventstore_stream_no_truncate
    BEFORE TRUNCATE ON eventstore_stream
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_reject_change();
"""

BACKWARD = r"""
DROP TRIGGER eventstore_stream_no_truncate ON eventstore_stream;
DROP TRIGGER eventstore_stream_no_delete ON eventstore_stream;
DROP TRIGGER eventstore_stream_forward_only ON eventstore_stream;
DROP FUNCTION eventstore_stream_forward_only();
DROP TRIGGER eventstore_event_advance_stream_heads ON eventstore_event;
DROP FUNCTION eventstore_advance_stream_heads();
DROP TRIGGER eventstore_event_no_truncate ON eventstore_event;
DROP TRIGGER eventstore_event_no_update_delete ON eventstore_event;
DROP FUNCTION eventstore_reject_change();
ALTER TABLE eventstore_event ALTER COLUMN position DROP DEFAULT;
DROP SEQUENCE eventstore_event_position_seq;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
