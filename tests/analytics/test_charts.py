"""Server-rendered charts: axis labels never overlap, however many buckets there are."""

import re
from datetime import UTC, datetime, timedelta

import pytest

from analytics import charts


@pytest.mark.parametrize("buckets, label_format", [(24 * 7, "%d %b %H:%M"), (24 * 7, "%Y-%m-%d %H:%M"), (24 * 31, "%Y-%m-%d %H:%M"), (30, "%Y-%m-%d"), (12, "%b %Y"), (1, "%Y-%m-%d")])
def test_axis_labels_leave_room_between_them(buckets, label_format):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    labels = [(start + timedelta(hours=hour)).strftime(label_format) for hour in range(buckets)]
    svg = charts.bar_chart("PaymentProcessed per hour (UTC)", labels, list(range(buckets)))
    places = [float(x) for x, text in re.findall(r'<text x="([\d.]+)" y="\d+" text-anchor="middle">([^<]*)</text>', svg)]
    assert places, "at least the first label is shown"
    widest = max(len(label) for label in labels) * charts.CHARACTER_WIDTH
    assert all(right - left >= widest for left, right in zip(places, places[1:]))
    assert places[-1] <= charts.WIDTH
