-- An event's business time: `data.occurred_at` when it holds an ISO 8601 time with an offset, else
-- when it was recorded (as upcasting reads events written before business time). IMMUTABLE is true
-- for such texts, whose offset fixes the instant whatever the session's time zone; the two
-- business-time indexes of `eventstore_event` are built on it. PL/pgSQL, not SQL: the SQL function
-- could not be inlined (the cast is only stable), and its executor cost more per inserted event.
CREATE OR REPLACE FUNCTION eventstore_business_time(data jsonb, recorded_at timestamptz) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    occurred text := data->>'occurred_at';
BEGIN
    IF occurred ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})$'
       AND pg_input_is_valid(occurred, 'timestamptz') THEN
        RETURN occurred::timestamptz;
    END IF;
    RETURN recorded_at;
END;
$$;
