"""Small numeric summaries shared by every report measure, rounded so JSON is stable."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

PERCENTILES: tuple[int, ...] = (0, 10, 25, 50, 75, 90, 99, 100)
DIGITS = 6


def rnd(value: float) -> float:
    """Round a float for JSON: equal runs print equal bytes, and -0.0 becomes 0.0."""
    out = round(float(value), DIGITS)
    return 0.0 if out == 0 else out


def ratio(numerator: float, denominator: float) -> float:
    return rnd(numerator / denominator) if denominator else 0.0


def summary(values: Sequence[float] | np.ndarray) -> dict[str, object]:
    """n, total, mean, std (sample), min, max and percentiles (numpy 'linear' method).

    The first six fields are datatrove's `MetricStats` summary fields, so its readers map 1:1.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {"n": 0, "total": 0, "mean": 0.0, "std": 0.0, "min": 0, "max": 0,
                "percentiles": {}}
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    cuts = np.percentile(arr, PERCENTILES)
    return {
        "n": int(arr.size),
        "total": _number(arr.sum()),
        "mean": rnd(arr.mean()),
        "std": rnd(std),
        "min": _number(arr.min()),
        "max": _number(arr.max()),
        "percentiles": {f"p{p}": rnd(c) for p, c in zip(PERCENTILES, cuts, strict=True)},
    }


def _number(value: float) -> int | float:
    value = float(value)
    return int(value) if value.is_integer() else rnd(value)


def log2_histogram(values: Sequence[float] | np.ndarray,
                   weights: Sequence[float] | None = None) -> dict[str, list[int]]:
    """Counts in bins [2^k, 2^(k+1)); `edges` holds each bin's lower edge (0 holds values < 1).

    Power-of-two bins fit lengths from a few tokens to a million on one axis.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return {"edges": [], "counts": []}
    keys = np.where(arr < 1, -1, np.floor(np.log2(np.maximum(arr, 1)))).astype(np.int64)
    w = np.ones_like(arr) if weights is None else np.asarray(weights, dtype=np.float64)
    low, high = int(keys.min()), int(keys.max())
    counts = np.zeros(high - low + 1, dtype=np.float64)
    np.add.at(counts, keys - low, w)
    edges = [0 if k < 0 else 2 ** k for k in range(low, high + 1)]
    return {"edges": edges, "counts": [int(c) for c in counts]}


def linear_histogram(values: Sequence[float], low: float, high: float,
                     bins: int) -> dict[str, list]:
    """Counts in `bins` equal bins over [low, high]; values outside are clipped to the ends."""
    arr = np.clip(np.asarray(values, dtype=np.float64), low, high)
    counts, edges = np.histogram(arr, bins=bins, range=(low, high))
    return {"edges": [rnd(e) for e in edges[:-1]], "counts": [int(c) for c in counts]}


def shares(weights: Mapping[str, float]) -> dict[str, float]:
    """Each key's share of the total, keys sorted."""
    total = float(sum(weights.values()))
    return {k: ratio(weights[k], total) for k in sorted(weights)}


def entropy(weights: Iterable[float]) -> dict[str, float]:
    """Shannon entropy in bits of a weight distribution, and its normalised form H/log2(k).

    Normalised entropy is 1 when all k values carry equal weight and 0 with one value.
    """
    w = np.asarray([x for x in weights if x > 0], dtype=np.float64)
    if w.size == 0:
        return {"bits": 0.0, "normalized": 0.0, "distinct": 0}
    p = w / w.sum()
    bits = float(-(p * np.log2(p)).sum())
    norm = bits / math.log2(w.size) if w.size > 1 else 0.0
    return {"bits": rnd(bits), "normalized": rnd(norm), "distinct": int(w.size)}
