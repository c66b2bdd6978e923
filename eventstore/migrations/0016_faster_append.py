"""Faster appends, with the same results: the append's own insert passes the stream-heads and notify
triggers by.

The append (eventstore/sql/eventstore_append.sql, applied by migration 0018) moves its stream's head
itself, in one upsert, as the stream-heads trigger of migration 0002 did after each insert statement:
that trigger (a PL/pgSQL call over a transition table) cost more than the insert it followed. It also
leaves the notification of migration 0014 to its caller, which sends it once the append's transaction
has committed (`store.append_events`), in a transaction of its own. Sent from the inserting
transaction, it held PostgreSQL's notify queue lock, which a committing transaction keeps until its
commit record is flushed: every append waited for the flushes of all appends before it, one by one,
where writers without notifications share one flush.

Both triggers pass by an insert that sets `eventstore.inserting_by_append` for that statement only,
as the append's own insert does, and still act on any other insert (the owner's; the application
role may insert only through the append). The PL/pgSQL business time that came with these changes
is eventstore/sql/eventstore_business_time.sql, also applied by migration 0018.
"""

from django.db import migrations

# "on" only during the append's own insert.
PASSED_BY_THE_APPEND = "WHEN (current_setting('eventstore.inserting_by_append', true) IS DISTINCT FROM 'on')"

FORWARD = f"""
DROP TRIGGER eventstore_event_advance_stream_heads ON eventstore_event;
CREATE TRIGGER eventstore_event_advance_stream_heads
    AFTER INSERT ON eventstore_event
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT
    {PASSED_BY_THE_APPEND}
    EXECUTE FUNCTION eventstore_advance_stream_heads();

DROP TRIGGER eventstore_event_notify ON eventstore_event;
CREATE TRIGGER eventstore_event_notify AFTER INSERT ON eventstore_event
    FOR EACH STATEMENT
    {PASSED_BY_THE_APPEND}
    EXECUTE FUNCTION eventstore_notify_events();
"""

# The triggers as migrations 0002 and 0014 created them.
BACKWARD = """
DROP TRIGGER eventstore_event_advance_stream_heads ON eventstore_event;
CREATE TRIGGER eventstore_event_advance_stream_heads
    AFTER INSERT ON eventstore_event
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_advance_stream_heads();

DROP TRIGGER eventstore_event_notify ON eventstore_event;
CREATE TRIGGER eventstore_event_notify AFTER INSERT ON eventstore_event
    FOR EACH STATEMENT EXECUTE FUNCTION eventstore_notify_events();
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0015_business_time")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
