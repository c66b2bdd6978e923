"""Percentiles by nearest rank: a measured value, never an interpolation."""

import pytest

from analytics.percentiles import percentile


def test_the_nearest_ranked_sample_whatever_the_order():
    samples = [7.0, 1.0, 5.0, 3.0, 9.0]

    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 0.5) == 5.0
    assert percentile(samples, 0.95) == 9.0
    assert percentile(samples, 1) == 9.0


def test_a_percentile_is_always_one_of_the_samples():
    samples = [float(n) for n in range(1, 101)]

    assert percentile(samples, 0.99) == 99.0
    assert percentile(samples, 0.5) in samples
    assert percentile([4.2], 0.99) == 4.2
    assert percentile(iter([2.0, 1.0]), 0.0) == 1.0


def test_no_samples_or_a_fraction_outside_zero_to_one_is_an_error():
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 0.5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        percentile([1.0], 99)
