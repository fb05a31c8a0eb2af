"""The statistics behind :mod:`mlgate.data.drift`, on plain NumPy arrays.

Every function here takes what the caller already has (sorted finite values, category counts) so
that nothing is sorted or counted twice. The formulas are written to reproduce SciPy's results
bit for bit where SciPy computes the same thing:

* :func:`ks_wasserstein` gives ``scipy.stats.ks_2samp(a, b).statistic`` (two-sided, ``method="auto"``)
  and ``scipy.stats.wasserstein_distance(a, b)`` from one merge of the two sorted samples;
  :func:`ks_pvalue` gives its p-value with SciPy's own choice of exact or asymptotic method.
* :func:`chi2_homogeneity` gives ``scipy.stats.chi2_contingency(table)`` on the 2 x k table,
  with its default ``correction=True`` (Yates' continuity correction when dof == 1).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np  # noqa: TID253 - imported only when a drift check runs, never by the plugin

#: ``scipy.stats.ks_2samp(method="auto")`` is exact when both samples have at most this many values
KS_MAX_EXACT_N = 10_000
#: n d^2 above which a KS p-value is below 2 exp(-25) = 2.8e-11 whatever method computes it
TAIL_NX2 = 12.5
#: merged values handled at a time after the merge (fits the CPU cache)
_BLOCK = 1 << 15
#: proportions below this are raised to it in PSI, so an empty bin gives a large, finite term
PSI_EPS = 1e-4


@dataclass(frozen=True)
class KSResult:
    statistic: float
    p_value: float
    method: str  # "exact" or "asymp", as scipy would choose
    wasserstein: float


def ks_wasserstein(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The two-sample KS statistic and the Wasserstein-1 distance of two sorted, finite, non-empty
    float64 samples, from one stable merge.

    The step functions ``F_a`` and ``F_b`` only change at data points, so both are evaluated on the
    merged values: KS is the largest ``|F_a - F_b|`` at the last value of each run of ties (where the
    counts equal ``searchsorted(..., side="right")``, as in SciPy), Wasserstein the integral of
    ``|F_a - F_b|`` over the gaps between consecutive merged values (zero-width gaps add zero).
    """
    n, m = a.size, b.size
    both = np.concatenate((a, b))
    # a and b are sorted runs: the stable sort (timsort) merges them in linear time
    order = np.argsort(both, kind="stable")
    ks, wasserstein, seen_b = 0.0, 0.0, 0
    # the rest runs over blocks that stay in the CPU cache (one pass over memory, not ten)
    for start in range(0, n + m - 1, _BLOCK):
        stop = min(start + _BLOCK, n + m - 1)  # gaps start..stop-1 between merged values
        idx = order[start:stop + 1]
        deltas = np.diff(both[idx])
        cnt_b = np.cumsum(idx[:-1] >= n)
        cnt_b += seen_b
        seen_b = int(cnt_b[-1])
        cnt_a = np.arange(start + 1, stop + 1)
        cnt_a -= cnt_b
        cdf_diff = cnt_a / n
        cdf_diff -= cnt_b / m
        np.abs(cdf_diff, out=cdf_diff)
        # the last value of a run of ties has deltas > 0; the final value has F_a = F_b = 1
        ks = max(ks, float(np.max(cdf_diff, where=deltas > 0, initial=0.0)))
        cdf_diff *= deltas
        wasserstein += float(np.sum(cdf_diff))
    return ks, wasserstein


def ks_pvalue(d: float, n: int, m: int, a: np.ndarray | None = None,
              b: np.ndarray | None = None, *, exact_tail: bool = False) -> tuple[float, float, str]:
    """The two-sided p-value of KS statistic ``d`` for sample sizes ``n`` and ``m``, as
    ``scipy.stats.ks_2samp(method="auto")`` computes it: exact when both sizes are at most 10,000
    (the statistic is then rounded to a multiple of 1/lcm(n, m), as SciPy does), else Smirnov's
    asymptotic distribution; an exact computation that fails numerically falls back to the
    asymptotic one, as in SciPy (without its warning). In the asymptotic regime, p-values that
    are certainly below 3e-11 come from the Kolmogorov limit unless ``exact_tail`` (then they are
    SciPy's to the last bit, at up to a second per column). Returns ``(statistic, p_value, method)``."""
    from scipy.stats import distributions

    if max(n, m) <= KS_MAX_EXACT_N:
        exact = _exact_2samp()
        g = math.gcd(n, m)
        if exact is not None:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                success, d, prob = exact(n, m, g, d, "two-sided")
            if success:
                return float(d), float(np.clip(prob, 0, 1)), "exact"
        elif a is not None and b is not None:  # a SciPy without the private helper: ask it
            from scipy.stats import ks_2samp

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = ks_2samp(a, b)
            return float(res.statistic), float(res.pvalue), "exact"
    big, small = sorted((float(n), float(m)), reverse=True)
    en = float(np.round(big * small / (big + small)))
    if not exact_tail and en * d * d >= TAIL_NX2:
        # SciPy's kstwo.sf sums an O(n) series here (up to ~1 s at n = 500,000). Both it and the
        # Kolmogorov limit are below 2 exp(-2 n d^2) <= 2.8e-11 (Dvoretzky-Kiefer-Wolfowitz-Massart),
        # so they differ by less than 3e-11.
        prob = distributions.kstwobign.sf(d * math.sqrt(en))
    else:
        prob = distributions.kstwo.sf(d, en)
    return float(d), float(np.clip(prob, 0, 1)), "asymp"


def _exact_2samp():
    try:
        from scipy.stats._stats_py import _attempt_exact_2kssamp
    except ImportError:  # pragma: no cover - a future SciPy
        return None
    return _attempt_exact_2kssamp


def quantiles_sorted(a: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """``np.quantile(a, qs)`` (linear interpolation) of a sorted array, without re-partitioning."""
    pos = qs * (a.size - 1)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, a.size - 1)
    frac = pos - lo
    return a[lo] + (a[hi] - a[lo]) * frac


def psi_edges(a: np.ndarray, bins: int) -> np.ndarray:
    """Inner PSI bin edges from the quantiles of a sorted reference: ``bins`` bins of about equal
    reference mass (fewer when values repeat); the outer bins are open (-inf, +inf)."""
    inner = quantiles_sorted(a, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(inner)


def bin_counts_sorted(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts of a sorted array in the bins (-inf, e0], (e0, e1], ..., (e_last, inf)."""
    cuts = np.searchsorted(values, edges, side="right")
    return np.diff(np.concatenate(([0], cuts, [values.size])))


def psi(ref_counts: np.ndarray, cur_counts: np.ndarray, eps: float = PSI_EPS) -> float:
    """Population stability index ``sum((c - r) * ln(c / r))`` of two count vectors on the same
    bins, with proportions raised to at least ``eps`` (an empty bin gives a large, finite term)."""
    r = np.maximum(ref_counts / max(ref_counts.sum(), 1), eps)
    c = np.maximum(cur_counts / max(cur_counts.sum(), 1), eps)
    return float(np.sum((c - r) * np.log(c / r)))


def js_distance(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, so in [0, 1]) of two count vectors, as
    ``scipy.spatial.distance.jensenshannon(p, q, base=2)``."""
    p = ref_counts / ref_counts.sum()
    q = cur_counts / cur_counts.sum()
    mid = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / mid), 0.0)
        right = np.where(q > 0, q * np.log(q / mid), 0.0)
    js = (np.sum(left) + np.sum(right)) / 2.0 / np.log(2.0)
    return float(np.sqrt(max(js, 0.0)))


@dataclass(frozen=True)
class Chi2Result:
    statistic: float
    p_value: float
    dof: int


def chi2_homogeneity(ref_counts: np.ndarray, cur_counts: np.ndarray, *, yates: bool = True) -> Chi2Result:
    """Pearson's chi-square test of homogeneity on the 2 x k table ``[ref_counts, cur_counts]``
    (categories with a zero total must be left out), as ``scipy.stats.chi2_contingency(table,
    correction=yates)``: with the default ``yates=True``, Yates' continuity correction is applied
    when dof == 1 (two categories), exactly as SciPy's default does."""
    from scipy import special

    observed = np.vstack((ref_counts, cur_counts)).astype(np.float64)
    dof = observed.shape[1] - 1
    if dof == 0:
        return Chi2Result(0.0, 1.0, 0)
    row = observed.sum(axis=1, keepdims=True)
    col = observed.sum(axis=0, keepdims=True)
    expected = row * col / observed.sum()
    if dof == 1 and yates:
        diff = expected - observed
        observed = observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff)
    stat = float(np.sum((observed - expected) ** 2 / expected))
    return Chi2Result(stat, float(special.chdtrc(dof, stat)), dof)


def correct_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """p-values adjusted for the number of tests: ``"bh"`` (Benjamini-Hochberg, as
    ``scipy.stats.false_discovery_control(p, method="bh")``), ``"bonferroni"`` or ``"none"``."""
    p = np.asarray(p, dtype=np.float64)
    k = p.size
    if k == 0 or method == "none":
        return p.copy()
    if method == "bonferroni":
        return np.minimum(p * k, 1.0)
    order = np.argsort(p, kind="stable")
    scaled = p[order] * k / np.arange(1, k + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(k)
    out[order] = np.minimum(adjusted, 1.0)
    return out
