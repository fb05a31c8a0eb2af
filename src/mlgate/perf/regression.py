"""Is the candidate slower than the baseline (the champion's benchmark)?

::

    from mlgate.perf.bench import benchmark
    from mlgate.perf.regression import regression

    def test_no_slowdown(mlgate, champion_bundle_evidence, model, X_batch):
        cand = mlgate.check(benchmark(model.predict, X_batch, name="predict"))
        mlgate.check(regression(cand, champion_bundle_evidence["benchmark.predict"]))

The baseline is a :class:`~mlgate.perf.bench.BenchResult`, its evidence dict (as stored in the
champion's results bundle under ``benchmark.{name}``: ``rounds_s`` and ``fingerprint``), or a
plain sequence of per-call round times (seconds).

**The decision.** With ``r`` the ratio of medians (candidate over baseline), a regression is
called only when it is **both** larger than the tolerance **and** statistically supported: the
lower end of a one-sided ``1 - alpha`` percentile-bootstrap interval of ``r`` is above
``1 + tolerance``. The two samples are resampled independently (``n_boot`` replicates each,
drawn by :func:`mlgate.model.intervals.bootstrap_weights` from ``seed`` and ``seed + 1``), and a
replicate's median is read from its counts over the sorted rounds. The recorded interval is
``[q(alpha), q(1 - alpha)]`` of the replicate ratios (level ``1 - 2 alpha``), so "its low end
is above ``1 + tolerance``" is a one-sided test at level ``alpha``.

The Mann-Whitney U test (``scipy.stats.mannwhitneyu``, one-sided, "candidate slower") is
reported beside it, twice: against the baseline as is (``mw_p``) and against the baseline scaled
by ``1 + tolerance`` (``mw_p_tolerance``). It is evidence, not the decision: U tests a shift of
the whole distribution, not of the median.

A slowdown exactly at the tolerance is, by design, rarely called (that is what the tolerance
means): to detect a 5% slowdown reliably, the tolerance must be well under 5% and the rounds
many enough for the interval to be narrower than the gap.

**Machines.** Timings from different machines are not compared: when both sides carry a machine
fingerprint and they differ on :data:`mlgate.perf.bench.COMPARED_KEYS`, the comparison is
refused (a failure naming the differences; the metric is NaN, so the gate fails closed) unless
``allow_other_machine=True``, which compares and marks it in the evidence. When either side has
no fingerprint (plain rounds), the evidence says the machine is unverified.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlgate.perf.bench import (
    MAX_KEPT_ROUNDS,
    BenchResult,
    _time_round,
    _xdist_worker,
    calibrate,
    fingerprint_differences,
    median_rank_interval,
)
from mlgate.record import Interval, Metric

#: the fewest rounds on either side for a comparison
MIN_ROUNDS = 5


@dataclass(frozen=True)
class _Side:
    rounds: tuple[float, ...]
    fingerprint: dict[str, Any] | None
    bench: str | None


def _side(value: Any, what: str) -> _Side:
    if isinstance(value, BenchResult):
        return _Side(tuple(value.rounds), dict(value.fingerprint), value.bench)
    if isinstance(value, dict):
        if "rounds_s" not in value:
            raise ValueError(f"{what}: a dict must be a benchmark's evidence with 'rounds_s' (and "
                             f"'fingerprint'); got keys {sorted(value)}")
        fp = value.get("fingerprint")
        name = value.get("name")
        return _Side(tuple(float(x) for x in value["rounds_s"]), dict(fp) if fp else None,
                     name if isinstance(name, str) else None)
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) and not hasattr(
            value, "__array__"):
        raise TypeError(f"{what}: expected a BenchResult, its evidence dict or a sequence of round "
                        f"times in seconds, got {type(value).__name__}")
    return _Side(tuple(float(x) for x in value), None, None)


def _bootstrap_medians(sorted_x: Any, n_boot: int, seed: int) -> Any:
    """Median of each bootstrap replicate of ``sorted_x``, from the replicate count matrices."""
    import numpy as np

    from mlgate.model.intervals import bootstrap_weights

    n = sorted_x.size
    lo_rank, hi_rank = (n - 1) // 2, n // 2  # 0-based ranks whose mean is the median
    out = []
    for counts in bootstrap_weights(n, n_boot, seed):
        cum = np.cumsum(counts, axis=1)
        lo = np.argmax(cum > lo_rank, axis=1)
        hi = np.argmax(cum > hi_rank, axis=1)
        out.append((sorted_x[lo] + sorted_x[hi]) / 2)
    return np.concatenate(out)


@dataclass(frozen=True)
class RegressionResult:
    """A candidate's benchmark against a baseline's; a :class:`mlgate.record.CheckResult`.

    Metric ``{bench}.median_ratio``: candidate median over baseline median (lower is better),
    threshold ``1 + tolerance``, interval the bootstrap interval (level ``1 - 2 alpha``); NaN when
    the comparison was refused."""

    bench: str
    ratio: float
    low: float
    high: float
    level: float
    tolerance: float
    alpha: float
    mw_p: float
    mw_p_tolerance: float
    candidate_median: float
    baseline_median: float
    n_candidate: int
    n_baseline: int
    n_boot: int
    seed: int
    machine: str  # "same", "different", "unverified", "interleaved"
    machine_differences: dict[str, tuple[Any, Any]]
    refused: str | None = None
    method: str = "percentile bootstrap of the ratio of medians, independent resamples"
    p_test: str = "Mann-Whitney U, one-sided (candidate slower)"
    #: the paired rounds of an interleaved run (candidate, baseline), kept for the report
    pairs: tuple[tuple[float, float], ...] = ()
    #: the model version the baseline is (``{"name", "version"}``), when the caller said
    baseline_model: dict[str, Any] | None = None
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"regression.{self.bench}")

    @property
    def regressed(self) -> bool:
        """Slower by more than the tolerance, with the interval's low end above it."""
        return self.refused is None and self.low > 1 + self.tolerance

    def metrics(self) -> list[Metric]:
        if self.refused:
            return [Metric(f"{self.bench}.median_ratio", math.nan, 1 + self.tolerance, "lower")]
        return [Metric(f"{self.bench}.median_ratio", self.ratio, 1 + self.tolerance, "lower",
                       Interval(self.low, self.high, self.level))]

    def evidence(self) -> dict[str, Any]:
        def f(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "ratio": f(self.ratio), "interval": [f(self.low), f(self.high)], "level": self.level,
            "tolerance": self.tolerance, "alpha": self.alpha, "regressed": self.regressed,
            "p_value": f(self.mw_p), "p_value_tolerance": f(self.mw_p_tolerance),
            "p_test": self.p_test,
            "candidate_median_s": f(self.candidate_median),
            "baseline_median_s": f(self.baseline_median),
            "n_candidate": self.n_candidate, "n_baseline": self.n_baseline,
            "n_boot": self.n_boot, "seed": self.seed,
            "method": self.method,
            "machine": self.machine,
            "machine_differences": {k: list(v) for k, v in self.machine_differences.items()},
            "refused": self.refused,
            "pairs_s": [list(p) for p in self.pairs[:MAX_KEPT_ROUNDS]],
            "baseline_model": self.baseline_model,
        }

    def failures(self) -> list[str]:
        if self.refused:
            return [self.refused]
        if self.regressed:
            return [f"{self.bench}: {100 * (self.ratio - 1):.1f}% slower than the baseline (median "
                    f"{self.candidate_median:.6g} s against {self.baseline_median:.6g} s per call); "
                    f"{100 * self.level:g}% interval of the ratio [{self.low:.4f}, {self.high:.4f}] "
                    f"is above 1 + tolerance = {1 + self.tolerance:g} ({self.p_test.split(',')[0]} "
                    f"p = {self.mw_p:.3g}); speed it up, or raise the tolerance"]
        return []


def regression(
    candidate: BenchResult | dict[str, Any] | Sequence[float],
    baseline: BenchResult | dict[str, Any] | Sequence[float],
    *,
    tolerance: float = 0.05,
    alpha: float = 0.01,
    n_boot: int = 2000,
    seed: int = 0,
    name: str | None = None,
    allow_other_machine: bool = False,
) -> RegressionResult:
    """Compare a candidate's round times with a baseline's (see the module docstring).

    ``tolerance``: the slowdown accepted (0.05: 5%). ``alpha``: the one-sided error of calling
    a regression. ``name``: the benchmark's name (default: the candidate's or baseline's, else
    ``"benchmark"``)."""
    import numpy as np
    from scipy.stats import mannwhitneyu

    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha!r}")
    if n_boot < 100:
        raise ValueError(f"n_boot must be at least 100, got {n_boot!r}")
    cand = _side(candidate, "candidate")
    base = _side(baseline, "baseline")
    bench = name or cand.bench or base.bench or "benchmark"
    for side, what in ((cand, "candidate"), (base, "baseline")):
        if len(side.rounds) < MIN_ROUNDS:
            raise ValueError(f"{bench}: the {what} has {len(side.rounds)} rounds; a comparison needs "
                             f"at least {MIN_ROUNDS}")
        if not all(math.isfinite(x) and x > 0 for x in side.rounds):
            raise ValueError(f"{bench}: the {what}'s rounds must be positive, finite times")

    refused = None
    diffs: dict[str, tuple[Any, Any]] = {}
    if cand.fingerprint is None or base.fingerprint is None:
        machine = "unverified"
    else:
        diffs = fingerprint_differences(cand.fingerprint, base.fingerprint)
        machine = "different" if diffs else "same"
        if diffs and not allow_other_machine:
            shown = "; ".join(f"{k}: {a!r} (candidate) vs {b!r} (baseline)" for k, (a, b) in diffs.items())
            refused = (f"{bench}: not compared: the baseline was measured on another machine ({shown}). "
                       "Re-run the baseline here (interleaved with the candidate, in the same job), "
                       "or pass allow_other_machine=True to compare anyway (marked in the evidence)")

    x = np.sort(np.asarray(cand.rounds, dtype=float))
    y = np.sort(np.asarray(base.rounds, dtype=float))
    cand_med, base_med = float(np.median(x)), float(np.median(y))
    ratios = _bootstrap_medians(x, n_boot, seed) / _bootstrap_medians(y, n_boot, seed + 1)
    low, high = np.quantile(ratios, [alpha, 1 - alpha])
    mw_p = float(mannwhitneyu(x, y, alternative="greater").pvalue)
    mw_p_tol = float(mannwhitneyu(x, y * (1 + tolerance), alternative="greater").pvalue)
    return RegressionResult(
        bench=bench, ratio=cand_med / base_med, low=float(low), high=float(high), level=1 - 2 * alpha,
        tolerance=tolerance, alpha=alpha, mw_p=mw_p, mw_p_tolerance=mw_p_tol,
        candidate_median=cand_med, baseline_median=base_med, n_candidate=x.size, n_baseline=y.size,
        n_boot=n_boot, seed=seed, machine=machine, machine_differences=diffs, refused=refused,
    )


def interleaved(
    candidate: Callable[..., Any],
    baseline: Callable[..., Any],
    *args: Any,
    name: str,
    tolerance: float = 0.05,
    alpha: float = 0.01,
    warmup: float = 0.1,
    max_time: float = 4.0,
    min_pairs: int = 20,
    max_pairs: int = MAX_KEPT_ROUNDS,
    target_rel_ci: float = 0.01,
    min_round_s: float = 1e-3,
    seed: int = 0,
    allow_parallel: bool = False,
    baseline_args: tuple[Any, ...] | None = None,
    against: Any = None,
) -> RegressionResult:
    """Re-run the baseline (the champion) beside the candidate, on this machine, now.

    Rounds alternate in pairs (candidate and baseline, in a seeded random order within each
    pair), so drift of the machine (clock, thermal state, a neighbour's load) hits both sides
    alike. Each side's calls per round are calibrated to last at least ``min_round_s``. The
    statistic is the **median of the paired ratios** ``candidate_i / baseline_i`` with its exact
    order-statistic interval at level ``1 - 2 alpha`` (a sign test: no distribution assumed, no
    resampling). A regression is called when the interval's low end is above ``1 + tolerance``.
    Pairs run until the interval is narrower than ``target_rel_ci``, or ``max_time`` seconds,
    or ``max_pairs``; at least ``min_pairs``. The Wilcoxon signed-rank test of the log ratios
    (``scipy.stats.wilcoxon``, one-sided) is reported as evidence.

    ``baseline_args``: the baseline's arguments when they differ from the candidate's ``args``
    (e.g. each model's own input). ``against``: the model version the baseline is (a
    :class:`mlgate.bundle.ModelRef`), recorded so the gate can check it is still the
    champion. Under pytest-xdist with other workers the comparison is refused, as for
    :func:`mlgate.perf.bench.benchmark`.

    Example::

        from mlgate.perf.regression import interleaved
        r = interleaved(candidate.predict, champion.predict, X_batch, name="predict",
                        tolerance=0.02)
        mlgate.check(r)   # metric predict.median_ratio, gate it with a bound rule on "lower"
    """
    import random

    import numpy as np
    from scipy.stats import wilcoxon

    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"interleaved: name must be a non-empty string, got {name!r}")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance!r}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha!r}")
    if not MIN_ROUNDS <= min_pairs <= max_pairs <= MAX_KEPT_ROUNDS:
        raise ValueError(f"{name}: need {MIN_ROUNDS} <= min_pairs ({min_pairs}) <= max_pairs "
                         f"({max_pairs}) <= {MAX_KEPT_ROUNDS}")
    name = name.strip()
    base_args = args if baseline_args is None else tuple(baseline_args)
    if against is not None and not callable(getattr(against, "to_json", None)):
        raise TypeError(f"{name}: against must be a ModelRef (the champion's name and version), "
                        f"got {type(against).__name__}")
    level = 1 - 2 * alpha
    nan = math.nan
    common = dict(bench=name, tolerance=tolerance, alpha=alpha, n_boot=0, seed=seed,
                  machine_differences={},
                  baseline_model=None if against is None else against.to_json(),
                  method="median of paired ratios (rounds interleaved in one process), exact "
                         "order-statistic interval (sign test)",
                  p_test="Wilcoxon signed-rank of log ratios, one-sided (candidate slower)")
    worker, parallel = _xdist_worker()
    if worker is not None and parallel and not allow_parallel:
        return RegressionResult(
            ratio=nan, low=nan, high=nan, level=level, mw_p=nan, mw_p_tolerance=nan,
            candidate_median=nan, baseline_median=nan, n_candidate=0, n_baseline=0,
            machine="interleaved", refused=(
                f"{name}: not compared: this test runs on pytest-xdist worker {worker} beside other "
                "workers, whose load skews timings. Run it serially (pytest -n 0, or a separate "
                "`pytest -m performance -n 0`), or pass allow_parallel=True"), **common)

    sides = ((candidate, args), (baseline, base_args))
    # warm-up, alternating
    deadline = time.perf_counter() + warmup
    for fn, a in sides:
        fn(*a)
    while time.perf_counter() < deadline:
        for fn, a in sides:
            fn(*a)
    # calibration, each side on its own
    loops = [calibrate(fn, a, min_round_s)[0] for fn, a in sides]

    rng = random.Random(seed)
    pairs: list[tuple[float, float]] = []
    begin = time.perf_counter()
    next_check = min_pairs
    while len(pairs) < max_pairs:
        if len(pairs) >= min_pairs:
            out_of_time = time.perf_counter() - begin >= max_time
            if out_of_time or len(pairs) >= next_check:
                low, high, med = _paired_interval(pairs, level)
                if med > 0 and (high - low) / med < target_rel_ci:
                    break
                next_check = len(pairs) + max(1, len(pairs) // 20)
            if out_of_time:
                break
        order = (0, 1) if rng.random() < 0.5 else (1, 0)
        times = [0.0, 0.0]
        for i in order:
            fn, a = sides[i]
            times[i] = _time_round(fn, a, loops[i])
        pairs.append((times[0], times[1]))

    low, high, ratio = _paired_interval(pairs, level)
    logs = np.log(np.asarray([c / b for c, b in pairs]))
    try:
        p = float(wilcoxon(logs, alternative="greater").pvalue)
        p_tol = float(wilcoxon(logs - math.log1p(tolerance), alternative="greater").pvalue)
    except ValueError:  # all differences zero
        p = p_tol = 1.0
    return RegressionResult(
        ratio=ratio, low=low, high=high, level=level, mw_p=p, mw_p_tolerance=p_tol,
        candidate_median=statistics.median(c for c, _ in pairs),
        baseline_median=statistics.median(b for _, b in pairs),
        n_candidate=len(pairs), n_baseline=len(pairs), machine="interleaved",
        pairs=tuple(pairs), **common)


def _paired_interval(pairs: list[tuple[float, float]], level: float) -> tuple[float, float, float]:
    """(low, high, median) of the paired ratios; the interval from exact order statistics."""
    ratios = sorted(c / b for c, b in pairs)
    ranks = median_rank_interval(len(ratios), level)
    med = statistics.median(ratios)
    if ranks is None:
        return -math.inf, math.inf, med
    return ratios[ranks[0]], ratios[ranks[1]], med
