import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest
from django.db import connection

from eventstore.encoding import canonical_json, canonical_json_of_texts, event_hash, normalize_json, timestamp_text
from eventstore.errors import InvalidEvent


def test_event_hash_is_sha256_of_the_canonical_document():
    data, metadata = {"b": "ü", "a": [1, {"z": None, "y": True}]}, {"correlation_id": "x"}
    recorded_at = dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    fields = dict(prev_hash="0" * 64, position=5, event_id="abc", stream_id="s-é", aggregate_type="P",
                  version=2, event_type="T")
    document = {**fields, "data": data, "metadata": metadata, "recorded_at": timestamp_text(recorded_at)}

    digest = event_hash(**fields, data_json=canonical_json(data), metadata_json=canonical_json(metadata),
                        recorded_at=recorded_at)

    assert digest == hashlib.sha256(canonical_json(document).encode()).hexdigest()


def test_canonical_json_ignores_key_order():
    assert canonical_json({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'


def test_timestamps_are_utc_with_microseconds():
    moment = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert timestamp_text(moment) == "2026-05-01T10:00:00.000000+00:00"


def test_decimals_become_strings_and_floats_are_refused():
    assert normalize_json({"amount": Decimal("1.10")}, "data") == {"amount": "1.10"}
    with pytest.raises(InvalidEvent, match=r"data.amount is a float \(1.1\)"):
        normalize_json({"amount": 1.1}, "data")


@pytest.mark.django_db
def test_canonical_json_of_jsonb_text_equals_canonical_json_of_the_value():
    values = [{"b": "ü\n\"\\\u2028\x01", "a": [1, {"z": None, "y": True, "é": -123456789012345678}]}, {}, [], "x", 0]
    with connection.cursor() as cursor:
        cursor.execute("SELECT value::text FROM jsonb_array_elements(%s::jsonb) AS value", [json.dumps(values)])
        texts = [row[0] for row in cursor.fetchall()]
    assert texts[0] != canonical_json(values[0])  # PostgreSQL prints jsonb its own way
    assert canonical_json_of_texts(texts) == [canonical_json(value) for value in values]
