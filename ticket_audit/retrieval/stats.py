"""Latency statistics: percentiles and the growth of latency with index size."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between closest ranks.

    Same definition as numpy's default ("linear"): position (n - 1) * q / 100 in the sorted
    values, interpolated between its neighbours.
    """
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} outside [0, 100]")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": percentile(latencies_ms, 50),
        "p95_ms": percentile(latencies_ms, 95),
        "p99_ms": percentile(latencies_ms, 99),
        "mean_ms": sum(latencies_ms) / len(latencies_ms),
        "max_ms": max(latencies_ms),
    }


def growth_exponent(n_small: int, ms_small: float, n_large: int, ms_large: float) -> float:
    """Exponent b of latency ~ docs^b through two measurements, clamped to [0, 1].

    A BM25 disjunction reads posting lists that grow at most linearly with the index, so b
    above 1 is measurement noise (sub-millisecond timings on a busy machine); b below 0
    would predict a larger index to be faster.
    """
    if n_large <= n_small or ms_small <= 0 or ms_large <= 0:
        return 1.0  # no usable pair: assume latency grows linearly with the index
    return min(1.0, max(0.0, math.log(ms_large / ms_small) / math.log(n_large / n_small)))


def extrapolate(ms: float, n_measured: int, n_target: int, exponent: float) -> float:
    if n_target <= n_measured:
        return ms
    return ms * (n_target / n_measured) ** exponent
