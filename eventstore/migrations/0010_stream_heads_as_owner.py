"""Stream heads move only through the event insert trigger, which now runs as its owner.

The application role may INSERT events but gets no UPDATE on `eventstore_stream`
(eventstore/privileges.py), so it cannot move a head by hand.
"""

from django.db import migrations

FORWARD = """
ALTER FUNCTION eventstore_advance_stream_heads() SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp;
"""
BACKWARD = """
ALTER FUNCTION eventstore_advance_stream_heads() SECURITY INVOKER RESET search_path;
"""


class Migration(migrations.Migration):
    dependencies = [("eventstore", "0009_chain_verification")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
