"""Time a callable on the CPU, with numbers worth gating on.

::

    def test_latency(mlgate_benchmark, model, X_batch):
        mlgate_benchmark(model.predict, X_batch, name="predict", batch_size=len(X_batch),
                         max_median_s=0.020, min_throughput=5_000)

or, without the fixture, ``mlgate.check(benchmark(fn, *args, name=...))``.

How :func:`benchmark` measures:

1. **Warm-up**: calls ``fn(*args)`` for ``warmup`` seconds (at least once): caches, lazy
   initialisation, JIT.
2. **Calibration**: the number of calls per round (``loops``) doubles until one round takes at
   least ``min_round_s`` (1 ms by default), far above the timer's resolution; a round's time per
   call is its elapsed time divided by ``loops`` (``time.perf_counter_ns``).
3. **Rounds** until the **distribution-free 95% confidence interval of the median** (order
   statistics: the ranks from the Binomial(n, 1/2) distribution, exact, no resampling) is
   narrower than ``target_rel_ci`` of the median (stop reason ``"ci"``), or ``max_time`` seconds
   (calibration and rounds together) run out (``"time"``), or ``max_rounds`` is reached
   (``"max_rounds"``). ``min_rounds`` (10 by default: the fewest for which the median has a 95%
   interval is 6) are always run, whatever the budget, so the median always has its interval.
4. **Peak memory**: one more call, not timed, under :mod:`tracemalloc`; the peak of traced
   allocations during that call. tracemalloc sees the Python heap and what NumPy allocates; it
   does not see native allocations of other libraries (torch, BLAS work buffers), so this is a
   lower bound. The evidence says so.

The result records min, median, mean, IQR, p95 and p99 of the per-call time over the rounds,
throughput (items per second with ``batch_size``, else calls per second, both from the median),
the rounds themselves (at most :data:`MAX_KEPT_ROUNDS`: :mod:`mlgate.perf.regression` compares
them with a baseline's) and the machine's :func:`machine_fingerprint`.

**pytest-xdist.** Timings taken while other workers load the same CPUs are skewed. When
``PYTEST_XDIST_WORKER`` is set and more than one worker runs (``PYTEST_XDIST_WORKER_COUNT``),
:func:`benchmark` **refuses**: it measures nothing, its metrics are NaN (the gate fails closed on
them) and :meth:`BenchResult.failures` says how to run it (``-n 0``, or ``-p no:xdist``, or a
separate serial run of the benchmarks: ``pytest -m performance -n 0``). ``allow_parallel=True``
measures anyway and marks the result (``xdist_worker`` and a ``note`` in the evidence).

**pytest-benchmark.** Nothing here is named ``benchmark`` in pytest's namespace: the fixture is
``mlgate_benchmark``, so both plugins can be installed and used in the same run.

Pure Python (:mod:`statistics`, :mod:`tracemalloc`): NumPy is never imported here, so the
fingerprint's ``numpy`` entry is the user's, not ours.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlgate.record import Interval, Metric

#: the most rounds a result keeps (and so the most a regression test compares)
MAX_KEPT_ROUNDS = 1000
#: the confidence level of the median's interval, for the adaptive stop and the recorded metric
CI_LEVEL = 0.95
#: fingerprint keys that must agree for two results to count as "the same machine"
COMPARED_KEYS: tuple[str, ...] = ("cpu", "logical_cores", "machine", "system", "python", "numpy",
                                   "gpu", "cuda_driver", "torch")
STOP_REASONS: tuple[str, ...] = ("ci", "time", "max_rounds", "refused-xdist", "rounds")

_NS = 1e-9


def machine_fingerprint() -> dict[str, Any]:
    """What a timing depends on: the CPU model (``/proc/cpuinfo``'s ``model name``, else
    :func:`platform.processor`), logical cores, architecture, OS, the full platform string, the
    Python implementation and version, NumPy's version when NumPy is already imported
    (``None`` otherwise; it is never imported for this), and the versions of the numeric
    libraries already imported (``libraries``: shown, not compared)."""
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    numpy = sys.modules.get("numpy")
    libraries = {name: str(getattr(sys.modules[name], "__version__", None))
                 for name in ("numpy", "scipy", "pandas", "sklearn", "torch", "xgboost",
                              "lightgbm", "onnxruntime") if name in sys.modules}
    return {
        "cpu": cpu or platform.processor() or "unknown",
        "logical_cores": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.system(),
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "numpy": getattr(numpy, "__version__", None) if numpy is not None else None,
        "libraries": libraries,
    }


def fingerprint_differences(a: dict[str, Any], b: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The :data:`COMPARED_KEYS` on which two fingerprints disagree, as ``{key: (a, b)}``.
    ``numpy`` and ``torch`` are compared only when both name a version (``None`` when not
    imported); ``gpu`` and ``cuda_driver`` are set by GPU benchmarks only, so a GPU timing is
    never compared with a CPU one."""
    out: dict[str, tuple[Any, Any]] = {}
    for key in COMPARED_KEYS:
        va, vb = a.get(key), b.get(key)
        if key in ("numpy", "torch") and (va is None or vb is None):
            continue
        if va != vb:
            out[key] = (va, vb)
    return out


def median_rank_interval(n: int, level: float = CI_LEVEL) -> tuple[int, int] | None:
    """0-based indices ``(lo, hi)`` into ``n`` sorted values such that ``[x[lo], x[hi]]`` covers
    the population median with probability at least ``level`` (exact, from Binomial(n, 1/2));
    ``None`` when ``n`` is too small for any such interval (``n < 6`` at 95%)."""
    if n < 1:
        return None
    tail = (1 - level) / 2
    log_half_n = n * math.log(0.5)
    lgn = math.lgamma(n + 1)
    cdf = 0.0
    j = 0  # the largest j with P(B <= j - 1) <= tail gives ranks j+1 .. n-j (1-based)
    while j <= n // 2:
        p = math.exp(lgn - math.lgamma(j + 1) - math.lgamma(n - j + 1) + log_half_n)
        if cdf + p > tail:
            break
        cdf += p
        j += 1
    if j == 0:
        return None
    return j - 1, n - j


def _quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (NumPy's default, ``method="linear"``)."""
    n = len(sorted_values)
    pos = (n - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


@dataclass(frozen=True)
class RoundStats:
    """Summary of per-call times (seconds) over the rounds."""

    n: int
    min: float
    median: float
    mean: float
    iqr: float
    p95: float
    p99: float
    median_low: float
    median_high: float

    @classmethod
    def of(cls, rounds: list[float] | tuple[float, ...], level: float = CI_LEVEL) -> RoundStats:
        xs = sorted(rounds)
        if not xs:
            nan = math.nan
            return cls(0, nan, nan, nan, nan, nan, nan, nan, nan)
        ranks = median_rank_interval(len(xs), level)
        low, high = (xs[ranks[0]], xs[ranks[1]]) if ranks else (-math.inf, math.inf)
        return cls(
            n=len(xs), min=xs[0], median=statistics.median(xs), mean=statistics.fmean(xs),
            iqr=_quantile(xs, 0.75) - _quantile(xs, 0.25), p95=_quantile(xs, 0.95),
            p99=_quantile(xs, 0.99), median_low=low, median_high=high,
        )

    @property
    def rel_ci_width(self) -> float:
        """Width of the median's interval over the median (inf while it cannot be computed)."""
        if not self.n or not math.isfinite(self.median_low - self.median_high) or self.median <= 0:
            return math.inf
        return (self.median_high - self.median_low) / self.median


def _json_float(value: float) -> float | None:
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class BenchResult:
    """What :func:`benchmark` measured; a :class:`mlgate.record.CheckResult`.

    Metrics: ``{bench}.median_s`` (lower is better; its 95% order-statistic interval),
    ``{bench}.p95_s``, ``{bench}.throughput`` (higher; items/s with a batch size, else calls/s) and
    ``{bench}.peak_mb`` (lower; tracemalloc, see the module docstring)."""

    bench: str
    stats: RoundStats
    rounds: tuple[float, ...]
    loops: int
    batch_size: int | None
    peak_bytes: int | None
    fingerprint: dict[str, Any]
    stop_reason: str
    elapsed_s: float
    target_rel_ci: float | None
    max_median_s: float | None = None
    min_throughput: float | None = None
    xdist_worker: str | None = None
    notes: tuple[str, ...] = ()
    refused: str | None = None
    #: the machine's price per hour, when configured: adds ``{bench}.cost_per_million``
    price_per_hour: float | None = None
    #: how rounds were timed, and the device (GPU benchmarks: :mod:`mlgate.perf.gpu`)
    timer: str = "time.perf_counter_ns around a loop of calls"
    device: dict[str, Any] | None = None
    memory_method: str = ("tracemalloc peak during one extra, untimed call: the Python heap and "
                          "NumPy's allocations, not other native allocations")
    name: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", f"benchmark.{self.bench}")

    @property
    def cost_per_million(self) -> float:
        """Price of a million predictions at the median's throughput (NaN without a price)."""
        from .cost import cost_per_million

        if self.price_per_hour is None:
            return math.nan
        return cost_per_million(self.price_per_hour, self.throughput)

    @property
    def throughput(self) -> float:
        """Items (``batch_size``) or calls per second at the median time per call."""
        if not self.stats.n or not self.stats.median > 0:
            return math.nan
        return (self.batch_size or 1) / self.stats.median

    @property
    def peak_mb(self) -> float:
        return math.nan if self.peak_bytes is None else self.peak_bytes / 1e6

    def metrics(self) -> list[Metric]:
        s = self.stats
        interval = None
        if math.isfinite(s.median_low) and math.isfinite(s.median_high):
            interval = Interval(s.median_low, s.median_high, CI_LEVEL)
        return [
            Metric(f"{self.bench}.median_s", s.median, self.max_median_s, "lower", interval, "s"),
            Metric(f"{self.bench}.p95_s", s.p95, None, "lower", None, "s"),
            Metric(f"{self.bench}.throughput", self.throughput, self.min_throughput, "higher", None,
                   "items/s" if self.batch_size else "calls/s"),
            Metric(f"{self.bench}.peak_mb", self.peak_mb, None, "lower", None, "MB"),
        ] + ([] if self.price_per_hour is None else [
            Metric(f"{self.bench}.cost_per_million", self.cost_per_million, None, "lower", None,
                   "per 1e6 predictions")])

    def evidence(self) -> dict[str, Any]:
        s = self.stats
        return {
            "name": self.bench,
            "stats": {
                "n_rounds": s.n, "loops_per_round": self.loops,
                "min_s": _json_float(s.min), "median_s": _json_float(s.median),
                "mean_s": _json_float(s.mean), "iqr_s": _json_float(s.iqr),
                "p95_s": _json_float(s.p95), "p99_s": _json_float(s.p99),
                "median_interval_s": [_json_float(s.median_low), _json_float(s.median_high)],
                "median_interval_level": CI_LEVEL,
                "rel_ci_width": _json_float(s.rel_ci_width),
                "throughput": _json_float(self.throughput),
                "throughput_unit": "items/s" if self.batch_size else "calls/s",
                "batch_size": self.batch_size,
                "peak_mb": _json_float(self.peak_mb),
                "price_per_hour": self.price_per_hour,
                "cost_per_million": _json_float(self.cost_per_million),
            },
            "rounds_s": list(self.rounds),
            "fingerprint": dict(self.fingerprint),
            "stop_reason": self.stop_reason,
            "target_rel_ci": self.target_rel_ci,
            "elapsed_s": round(self.elapsed_s, 6),
            "peak_memory_method": self.memory_method,
            "timer": self.timer,
            "device": self.device,
            "xdist_worker": self.xdist_worker,
            "notes": list(self.notes),
        }

    def failures(self) -> list[str]:
        if self.refused:
            return [self.refused]
        out: list[str] = []
        s = self.stats
        if self.max_median_s is not None and not s.median <= self.max_median_s:
            out.append(f"{self.bench}: median {s.median:.6g} s per call, must be <= "
                       f"{self.max_median_s:.6g} s (max_median_s); 95% interval "
                       f"[{s.median_low:.6g}, {s.median_high:.6g}] s over {s.n} rounds")
        if self.min_throughput is not None and not self.throughput >= self.min_throughput:
            unit = "items/s" if self.batch_size else "calls/s"
            out.append(f"{self.bench}: throughput {self.throughput:.6g} {unit}, must be >= "
                       f"{self.min_throughput:.6g} {unit} (min_throughput)")
        return out


def _xdist_worker() -> tuple[str | None, bool]:
    """The xdist worker id (None outside xdist) and whether other workers run beside it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return None, False
    try:
        count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "2"))
    except ValueError:
        count = 2
    return worker, count > 1


def _time_round(fn: Callable[..., Any], args: tuple[Any, ...], loops: int) -> float:
    """Seconds per call over ``loops`` calls."""
    timer = time.perf_counter_ns
    it = range(loops)
    start = timer()
    for _ in it:
        fn(*args)
    return (timer() - start) * _NS / loops


def calibrate(fn: Callable[..., Any], args: tuple[Any, ...], min_round_s: float,
              deadline: float = math.inf) -> tuple[int, float]:
    """Calls per round (doubling, or jumping to what the last round says is needed) until one
    round of ``fn(*args)`` lasts at least ``min_round_s``, or ``time.perf_counter()`` passes
    ``deadline``; returns the calls per round and that last round's time per call."""
    loops = 1
    while True:
        per_call = _time_round(fn, args, loops)
        if per_call * loops >= min_round_s or time.perf_counter() >= deadline or loops >= 1 << 30:
            return loops, per_call
        needed = math.ceil(1.2 * min_round_s / per_call) if per_call > 0 else 0
        loops = max(loops * 2, needed)


def _peak_bytes(fn: Callable[..., Any], args: tuple[Any, ...]) -> int:
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, peak - base)


def benchmark(
    fn: Callable[..., Any],
    *args: Any,
    name: str,
    batch_size: int | None = None,
    warmup: float = 0.1,
    target_rel_ci: float = 0.01,
    max_time: float = 2.0,
    min_rounds: int = 10,
    max_rounds: int = MAX_KEPT_ROUNDS,
    min_round_s: float = 1e-3,
    max_median_s: float | None = None,
    min_throughput: float | None = None,
    allow_parallel: bool = False,
    measure_memory: bool = True,
    seed: int = 0,
    price_per_hour: float | None = None,
) -> BenchResult:
    """Time ``fn(*args)`` (see the module docstring for how) and return a :class:`BenchResult`.

    ``name``: the benchmark's name (metrics ``{name}.median_s`` …). ``batch_size``: items per
    call, for throughput in items/s. ``warmup``: seconds of warm-up calls (at least one).
    ``target_rel_ci``: stop once the 95% interval of the median is narrower than this fraction
    of it. ``max_time``: seconds for calibration and rounds. ``max_rounds``: at most
    :data:`MAX_KEPT_ROUNDS`. ``max_median_s`` / ``min_throughput``: optional limits that fail
    the check. ``allow_parallel``: measure under pytest-xdist with other workers anyway.
    ``price_per_hour``: the machine's price, to record ``{name}.cost_per_million``
    (:mod:`mlgate.perf.cost`). ``seed``: accepted for a stable signature (the measurement
    draws no random numbers; the interval is exact, not bootstrapped). Pass keyword arguments
    with :func:`functools.partial`.
    """
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"benchmark name must be a non-empty string, got {name!r}")
    if batch_size is not None and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"benchmark {name!r}: batch_size must be a positive integer, got {batch_size!r}")
    if not 1 <= min_rounds <= max_rounds <= MAX_KEPT_ROUNDS:
        raise ValueError(f"benchmark {name!r}: need 1 <= min_rounds ({min_rounds}) <= max_rounds "
                         f"({max_rounds}) <= {MAX_KEPT_ROUNDS}")
    if not target_rel_ci > 0 or not max_time > 0:
        raise ValueError(f"benchmark {name!r}: target_rel_ci and max_time must be positive")
    del seed
    name = name.strip()
    fp = machine_fingerprint()
    if price_per_hour is not None:
        from .cost import cost_per_million

        cost_per_million(price_per_hour, 1.0)  # a bad price fails before anything runs
    common = dict(bench=name, batch_size=batch_size, fingerprint=fp, target_rel_ci=target_rel_ci,
                  max_median_s=max_median_s, min_throughput=min_throughput,
                  price_per_hour=price_per_hour)
    worker, parallel = _xdist_worker()
    notes: list[str] = []
    if worker is not None and parallel:
        note = (f"measured on pytest-xdist worker {worker} while other workers may load the same "
                "CPUs: timings can be skewed")
        if not allow_parallel:
            refused = (f"{name}: not measured: this test runs on pytest-xdist worker {worker} beside "
                       f"{os.environ.get('PYTEST_XDIST_WORKER_COUNT', 'other')} workers, whose load "
                       "skews timings. Run benchmarks serially (pytest -n 0, or -p no:xdist, or a "
                       "separate run such as `pytest -m performance -n 0`), or pass "
                       "allow_parallel=True to accept skewed numbers (marked in the evidence)")
            return BenchResult(stats=RoundStats.of([]), rounds=(), loops=0, peak_bytes=None,
                               stop_reason="refused-xdist", elapsed_s=0.0, xdist_worker=worker,
                               notes=(note,), refused=refused, **common)  # type: ignore[arg-type]
        notes.append(note)

    begin = time.perf_counter()
    # 1. warm-up
    fn(*args)
    warm_end = time.perf_counter() + warmup
    while time.perf_counter() < warm_end:
        fn(*args)
    start = time.perf_counter()
    deadline = start + max_time
    rounds: list[float] = []
    gc.collect()  # garbage collection stays on: its cost is part of the callable's
    # 2. calibration: the round that reaches min_round_s is the first measured round
    loops, per_call = calibrate(fn, args, min_round_s, deadline)
    rounds.append(per_call)
    # 3. rounds, with an adaptive stop
    next_check = min_rounds
    stop = "max_rounds"
    while len(rounds) < max_rounds:
        if len(rounds) >= min_rounds:
            out_of_time = time.perf_counter() >= deadline
            if out_of_time or len(rounds) >= next_check:  # checked every ~5% more rounds
                if RoundStats.of(rounds).rel_ci_width < target_rel_ci:
                    stop = "ci"
                    break
                next_check = len(rounds) + max(1, len(rounds) // 20)
            if out_of_time:
                stop = "time"
                break
        rounds.append(_time_round(fn, args, loops))
    else:
        if RoundStats.of(rounds).rel_ci_width < target_rel_ci:
            stop = "ci"
    elapsed = time.perf_counter() - begin
    # 4. peak memory, untimed
    peak = _peak_bytes(fn, args) if measure_memory else None
    return BenchResult(stats=RoundStats.of(rounds), rounds=tuple(rounds[:MAX_KEPT_ROUNDS]), loops=loops,
                       peak_bytes=peak, stop_reason=stop, elapsed_s=elapsed, xdist_worker=worker,
                       notes=tuple(notes), **common)  # type: ignore[arg-type]


class BenchmarkFixture:
    """The ``mlgate_benchmark`` fixture: ``mlgate_benchmark(fn, *args, name=..., **options)``
    runs :func:`benchmark`, records it with ``mlgate.check`` (metrics, evidence, and a test
    failure for its failures) and returns the :class:`BenchResult`. ``name`` defaults to the
    test's name."""

    def __init__(self, check: Callable[[Any], Any], default_name: str,
                 price_per_hour: float | None = None) -> None:
        self._check = check
        self._default_name = default_name
        self._price = price_per_hour
        self.results: list[Any] = []

    def __call__(self, fn: Callable[..., Any], *args: Any, name: str | None = None,
                 **options: Any) -> BenchResult:
        options.setdefault("price_per_hour", self._price)
        result = benchmark(fn, *args, name=name or self._default_name, **options)
        self.results.append(result)
        self._check(result)
        return result

    def compare(self, candidate: Callable[..., Any], champion: Callable[..., Any], *args: Any,
                name: str | None = None, **options: Any):
        """Time ``candidate`` and ``champion`` interleaved, on this machine, now
        (:func:`mlgate.perf.regression.interleaved`), and record the
        :class:`~mlgate.perf.regression.RegressionResult`: metric ``{name}.median_ratio``
        (candidate over champion, with its interval). The test fails when the candidate is
        slower than ``1 + tolerance`` with statistical support. Pass ``against=ModelRef(...)``
        (the champion's version) so the gate can check the re-run was against the current
        champion. A policy can gate the same metric with ``kind = "bound"``, ``on = "lower"``,
        ``max = 1.05``, or a ``kind = "benchmark"`` rule, which prefers this in-job comparison
        to stored numbers."""
        from .regression import interleaved

        result = interleaved(candidate, champion, *args, name=name or self._default_name,
                             **options)
        self.results.append(result)
        self._check(result)
        return result
