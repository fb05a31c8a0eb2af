"""Confidence intervals for model metrics: exact or closed-form where one exists, else a seeded,
vectorised bootstrap.

- :func:`wilson`: the Wilson score interval of a proportion (accuracy, precision, recall).
- :func:`delong`: ROC AUCs of one or more score vectors on the same rows and their covariance
  (DeLong, DeLong & Clarke-Pearson 1988), by the fast midrank algorithm of Sun & Xu (2014,
  IEEE Signal Processing Letters 21(11)): O(n log n) per score vector instead of O(n_pos x n_neg).
- :func:`newcombe_paired`: the interval of a difference of two paired proportions (Newcombe 1998,
  Statistics in Medicine 17, method 10: hybrid score from the two Wilson intervals and the
  phi correlation of the pairs, no continuity correction).
- :func:`mcnemar`: McNemar's test of two paired proportions: exact binomial when the discordant
  pairs are few (``b + c < 25``), else chi-square with continuity correction.
- :func:`bootstrap_weights`: the bootstrap replicates as count matrices, drawn in chunks from
  one seeded generator, so every metric (and both models of a paired comparison) is evaluated on
  the same resampled rows. Intervals from it are **percentile** intervals.

Everything here is pure (no I/O); numpy and scipy are imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

#: discordant pairs below which McNemar's test is the exact binomial test
MCNEMAR_EXACT_BELOW = 25
#: rows x replicates held in memory at once by the bootstrap (about 16 MB of counts)
BOOTSTRAP_CHUNK_CELLS = 2_000_000


def z_value(level: float) -> float:
    """The two-sided normal quantile for ``level`` (1.959964... for 0.95)."""
    from scipy.stats import norm

    return float(norm.ppf(0.5 + level / 2))


def wilson(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of ``successes / n`` (NaN, NaN when ``n`` is 0)."""
    if n <= 0:
        return math.nan, math.nan
    z = z_value(level)
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(max(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    return max(0.0, centre - half), min(1.0, centre + half)


def wilson_array(successes: Any, n: Any, level: float = 0.95) -> tuple[Any, Any]:
    """:func:`wilson` elementwise on arrays (for simulations)."""
    import numpy as np

    successes = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    z = z_value(level)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        half = z / (1 + z2 / n) * np.sqrt(np.maximum(p * (1 - p) / n + z2 / (4 * n * n), 0.0))
    return np.maximum(0.0, centre - half), np.minimum(1.0, centre + half)


def _midranks(x: Any) -> Any:
    """Average ranks (1-based, ties share their mean rank) along the last axis."""
    from scipy.stats import rankdata

    return rankdata(x, method="average", axis=-1)


def delong(y: Any, scores: Any) -> tuple[Any, Any]:
    """ROC AUCs and their DeLong covariance for ``k`` score vectors on the same rows.

    ``y``: 0/1 labels (n,), both classes present. ``scores``: (k, n) or (n,). Returns
    ``(aucs (k,), covariance (k, k))``. Sun & Xu's algorithm: with ``m`` positives and ``n``
    negatives, midranks over all rows (``Tz``), within the positives (``Tx``) and within the
    negatives (``Ty``) give the structural components ``V10 = (Tz_pos - Tx) / n`` and
    ``V01 = 1 - (Tz_neg - Ty) / m``; ``AUC = mean(V10)`` and
    ``S = cov(V10) / m + cov(V01) / n``.
    """
    import numpy as np

    y = np.asarray(y)
    scores = np.atleast_2d(np.asarray(scores, dtype=float))
    pos = y == 1
    m = int(pos.sum())
    n = int(y.size - m)
    if m == 0 or n == 0:
        raise ValueError("DeLong needs both classes")
    x_pos = scores[:, pos]
    x_neg = scores[:, ~pos]
    tz = _midranks(np.concatenate([x_pos, x_neg], axis=1))
    tx = _midranks(x_pos)
    ty = _midranks(x_neg)
    v10 = (tz[:, :m] - tx) / n
    v01 = 1.0 - (tz[:, m:] - ty) / m
    aucs = v10.mean(axis=1)
    k = scores.shape[0]
    s10 = np.cov(v10).reshape(k, k) if m > 1 else np.zeros((k, k))
    s01 = np.cov(v01).reshape(k, k) if n > 1 else np.zeros((k, k))
    return aucs, s10 / m + s01 / n


def newcombe_paired(a: int, b: int, c: int, d: int, level: float = 0.95) -> tuple[float, float]:
    """Interval of ``p1 - p2`` for paired proportions (Newcombe 1998, method 10).

    The pairs: ``a`` both successes, ``b`` only the first, ``c`` only the second, ``d`` neither;
    ``p1 = (a + b) / n``, ``p2 = (a + c) / n``. With the Wilson intervals ``(l1, u1)``,
    ``(l2, u2)`` and ``phi = (ad - bc) / sqrt((a+b)(c+d)(a+c)(b+d))`` (0 when a margin is 0)::

        L = D - sqrt((p1 - l1)^2 - 2 phi (p1 - l1)(u2 - p2) + (u2 - p2)^2)
        U = D + sqrt((u1 - p1)^2 - 2 phi (u1 - p1)(p2 - l2) + (p2 - l2)^2)
    """
    n = a + b + c + d
    if n <= 0:
        return math.nan, math.nan
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, level)
    l2, u2 = wilson(a + c, n, level)
    denom = float(a + b) * float(c + d) * float(a + c) * float(b + d)
    phi = (float(a) * d - float(b) * c) / math.sqrt(denom) if denom > 0 else 0.0
    diff = p1 - p2
    low = diff - math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    high = diff + math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(-1.0, low), min(1.0, high)


def newcombe_paired_array(a: Any, b: Any, c: Any, d: Any, level: float = 0.95) -> tuple[Any, Any]:
    """:func:`newcombe_paired` elementwise on arrays of counts (for simulations)."""
    import numpy as np

    a, b, c, d = (np.asarray(v, dtype=float) for v in (a, b, c, d))
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_array(a + b, n, level)
    l2, u2 = wilson_array(a + c, n, level)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(denom > 0, (a * d - b * c) / np.sqrt(denom), 0.0)
    diff = p1 - p2
    low = diff - np.sqrt(np.maximum((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0))
    high = diff + np.sqrt(np.maximum((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0))
    return np.maximum(-1.0, low), np.minimum(1.0, high)


def mcnemar(b: int, c: int) -> tuple[float, str]:
    """Two-sided p-value of McNemar's test for ``b`` and ``c`` discordant pairs, and the method.

    Exact (binomial, ``b`` of ``b + c`` at 1/2, as ``scipy.stats.binomtest``) when
    ``b + c < MCNEMAR_EXACT_BELOW``, else chi-square with 1 degree of freedom and continuity
    correction, ``(|b - c| - 1)^2 / (b + c)``. No discordant pairs: p = 1."""
    from scipy.stats import binomtest, chi2

    discordant = b + c
    if discordant == 0:
        return 1.0, "mcnemar-exact"
    if discordant < MCNEMAR_EXACT_BELOW:
        return float(binomtest(int(b), int(discordant), 0.5).pvalue), "mcnemar-exact"
    stat = max(abs(b - c) - 1, 0) ** 2 / discordant
    return float(chi2.sf(stat, 1)), "mcnemar-chi2-cc"


def bootstrap_weights(n: int, n_boot: int, seed: int) -> Iterator[Any]:
    """The bootstrap replicates as count matrices ``(chunk, n)`` (how often each row is drawn),
    ``n_boot`` rows in all, from ``numpy.random.default_rng(seed)``. The same ``(n, n_boot,
    seed)`` always gives the same replicates, whatever metrics are evaluated on them."""
    import numpy as np

    rng = np.random.default_rng(seed)
    chunk = max(1, min(n_boot, BOOTSTRAP_CHUNK_CELLS // max(n, 1)))
    done = 0
    while done < n_boot:
        size = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(size, n), dtype=np.int64)
        idx += (np.arange(size, dtype=np.int64) * n)[:, None]
        yield np.bincount(idx.ravel(), minlength=size * n).reshape(size, n).astype(float)
        done += size


def percentile_interval(replicates: Any, level: float) -> tuple[float, float]:
    """The percentile bootstrap interval; NaN replicates (a resample where the metric is
    undefined, e.g. one class only) are dropped; all NaN gives (NaN, NaN)."""
    import numpy as np

    values = np.asarray(replicates, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)
