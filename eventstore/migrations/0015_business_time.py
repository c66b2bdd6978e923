"""Business time: `data.occurred_at` (when it happened at the provider or bank) beside `recorded_at`.

`eventstore_business_time(data, recorded_at)` is an event's business time: `data.occurred_at` when
it holds an ISO 8601 time with an offset, else when it was recorded (as upcasting reads events
written before business time). IMMUTABLE is true for such texts, whose offset fixes the instant
whatever the session's time zone. Two indexes answer "events of a type (of an organization) by
business time" as the recorded-time indexes do. Events are not changed.
"""

from django.db import migrations

BUSINESS_TIME = """
CREATE FUNCTION eventstore_business_time(data jsonb, recorded_at timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN data->>'occurred_at' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})$'
             AND pg_input_is_valid(data->>'occurred_at', 'timestamptz')
        THEN (data->>'occurred_at')::timestamptz
        ELSE recorded_at
    END
$$;
CREATE INDEX eventstore_event_type_business_time
    ON eventstore_event (event_type, eventstore_business_time(data, recorded_at));
CREATE INDEX eventstore_event_organization_business_time
    ON eventstore_event ((metadata->>'organization_id'), event_type, eventstore_business_time(data, recorded_at));
"""

DROP = """
DROP INDEX IF EXISTS eventstore_event_organization_business_time;
DROP INDEX IF EXISTS eventstore_event_type_business_time;
DROP FUNCTION IF EXISTS eventstore_business_time(jsonb, timestamptz);
"""


class Migration(migrations.Migration):

    dependencies = [
        ('eventstore', '0014_subscriptions'),
    ]

    operations = [migrations.RunSQL(BUSINESS_TIME, DROP)]
