"""Percentiles of measured samples (latencies, durations), by nearest rank: always a value that was
measured, never an interpolation. Pure Python, no Django, so any process can use it."""

from collections.abc import Iterable


def percentile(samples: Iterable[float], fraction: float) -> float:
    """The sample at `fraction` of the way through the sorted samples: 0.5 the median, 0.95 the p95.

    The rank is `fraction * (n - 1)` rounded to the nearest sample. No samples is an error: say what
    an empty measurement means where it can happen.
    """
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("percentile of no samples")
    if not 0 <= fraction <= 1:
        raise ValueError(f"fraction must lie between 0 and 1, not {fraction}")
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]
