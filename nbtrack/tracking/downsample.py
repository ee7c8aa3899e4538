"""Thin a metric history for display without losing what matters in it.

The series (ordered by step) is cut into buckets of consecutive points; each
bucket keeps its first, lowest, highest and last point. So the first and last
points and the global minimum and maximum always survive, and a spike never
disappears between two kept points. Non-finite values are kept where they are
the bucket's first or last point but never count as lowest or highest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["downsample_indices"]


def downsample_indices(values: Sequence[float], max_points: int) -> list[int]:
    """Indices (ascending) of the points of ``values`` to keep: about ``max_points`` of them.

    Parameters
    ----------
    values:
        The series, ordered by step.
    max_points:
        The budget; every point is kept when the series fits in it (or when
        the budget is under 4, the smallest useful bucket).
    """
    n = len(values)
    if n <= max_points or max_points < 4:
        return list(range(n))
    buckets = max(max_points // 4, 1)
    size = n / buckets
    kept: list[int] = []
    for bucket in range(buckets):
        lo, hi = int(bucket * size), min(int((bucket + 1) * size), n)
        if lo >= hi:
            continue
        finite = [i for i in range(lo, hi) if math.isfinite(values[i])]
        extremes = (
            {min(finite, key=values.__getitem__), max(finite, key=values.__getitem__)}
            if finite
            else set()
        )
        kept.extend(sorted({lo, hi - 1, *extremes}))
    return kept
