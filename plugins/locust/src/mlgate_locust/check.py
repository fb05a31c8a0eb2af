"""A load test's numbers as gate metrics (``mlgate.check(result)``), with SLO thresholds.

:class:`LoadResult` (``name = "load"``)
    ``load.p50_ms``, ``load.p95_ms``, ``load.p99_ms`` (lower is better; ``max_p50_ms`` …),
    ``load.requests_per_second`` (higher; ``min_rps``) and ``load.error_ratio`` (lower;
    ``max_error_ratio``; with a Wilson 95% interval, so a policy can bound its upper end).
:class:`ShadowResult` (``name = "shadow"``)
    ``shadow.agreement`` (the share of predictions equal to the champion's, on the same
    requests; higher; ``min_agreement``; Wilson interval), ``shadow.latency_diff_ms`` /
    ``shadow.latency_diff_p95_ms`` (candidate minus champion: the median of the paired
    differences with its distribution-free order-statistic interval, and the difference of the
    95th percentiles with a seeded paired-bootstrap interval) and ``shadow.error_ratio`` (the
    candidate's failed requests; ``max_error_ratio``; Wilson interval). The candidate's
    latency and throughput are evidence only: each user waits for both models.

Each test that records load metrics should use its own ``prefix`` when a run has several (the
gate refuses a metric recorded twice).

A run that did not happen, or made no requests, gives NaN metrics and a failure: never a pass.
Latencies are locust's: its percentiles are bucketed (to 1 ms below 100 ms, 10 ms up to 1 s,
100 ms beyond).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from mlgate.record import Interval, Metric, make_metric

from .runner import LoadRun, RowStats, strip_credentials

LEVEL = 0.95
BOOTSTRAP_REPLICATES = 2000


def _wilson(successes: int, n: int) -> Interval | None:
    if n <= 0:
        return None
    from mlgate.model.intervals import wilson

    low, high = wilson(successes, n, LEVEL)
    return Interval(low, high, LEVEL)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


@dataclass(frozen=True)
class Slo:
    """The service-level objective a load test is held to; ``None`` means recorded only."""

    max_p50_ms: float | None = None
    max_p95_ms: float | None = None
    max_p99_ms: float | None = None
    min_rps: float | None = None
    max_error_ratio: float | None = None


@dataclass(frozen=True)
class LoadResult:
    """The candidate's latency, throughput and errors under load (a ``CheckResult``)."""

    run: LoadRun
    slo: Slo = Slo()
    request_name: str = "candidate"
    name: str = "load"
    #: the metrics' names start with it: give each load test of a run its own (``load.batch32``)
    prefix: str = "load"
    #: the machine's price per hour (``--mlgate-price-per-hour``): adds ``{prefix}.cost_per_million``
    price_per_hour: float | None = None

    @property
    def cost_per_million(self) -> float:
        """Price of a million predictions (rows) at the measured rate; NaN without a price or
        without requests (so a gate on it fails closed)."""
        from mlgate.perf.cost import cost_per_million

        s = self.stats
        if self.price_per_hour is None or not s.requests:
            return math.nan
        return cost_per_million(self.price_per_hour, s.rps * self.run.spec.rows_per_request)

    @property
    def stats(self) -> RowStats:
        return RowStats.empty(self.request_name) if self.run.error else self.run.row(self.request_name)

    @property
    def error_ratio(self) -> float:
        s = self.stats
        return s.failures / s.requests if s.requests else math.nan

    def metrics(self) -> list[Metric]:
        s, slo = self.stats, self.slo
        return [
            make_metric(f"{self.prefix}.p50_ms", s.p50_ms, threshold=slo.max_p50_ms, direction="lower",
                        unit="ms"),
            make_metric(f"{self.prefix}.p95_ms", s.p95_ms, threshold=slo.max_p95_ms, direction="lower",
                        unit="ms"),
            make_metric(f"{self.prefix}.p99_ms", s.p99_ms, threshold=slo.max_p99_ms, direction="lower",
                        unit="ms"),
            make_metric(f"{self.prefix}.requests_per_second", s.rps if s.requests else math.nan,
                        threshold=slo.min_rps, direction="higher", unit="1/s"),
            make_metric(f"{self.prefix}.error_ratio", self.error_ratio, threshold=slo.max_error_ratio,
                        direction="lower", interval=_wilson(s.failures, s.requests)),
        ] + ([] if self.price_per_hour is None else [
            make_metric(f"{self.prefix}.cost_per_million", self.cost_per_million, direction="lower",
                        unit="per 1e6 predictions")])

    def evidence(self) -> dict[str, Any]:
        from mlgate.perf.bench import machine_fingerprint

        spec, s = self.run.spec, self.stats
        return {
            "url": strip_credentials(spec.url),
            "path": spec.path,
            "users": spec.users,
            "spawn_rate": spec.spawn_rate,
            "duration_s": spec.duration_s,
            "workers": spec.workers,
            "worker_mode": spec.worker_mode if spec.workers else None,
            "max_rps": spec.max_rps,
            "request_timeout_s": spec.request_timeout_s,
            "seed": spec.seed,
            "rows_per_request": spec.rows_per_request,
            "price_per_hour": self.price_per_hour,
            # other tests running at the same time (pytest-xdist) share the machine
            "pytest_xdist_workers": int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 0),
            "requests": s.requests,
            "failures": s.failures,
            "mean_ms": None if math.isnan(s.mean_ms) else round(s.mean_ms, 3),
            "max_ms": None if math.isnan(s.max_ms) else round(s.max_ms, 3),
            "failure_samples": list(self.run.failure_samples),
            "locust_master_requests": self.run.master_requests,
            "exit_code": self.run.exit_code,
            "wall_s": round(self.run.wall_s, 3),
            "error": None if self.run.error is None else self.run.error[-2000:],
            "slo": {k: v for k, v in vars(self.slo).items() if v is not None},
            "machine": machine_fingerprint(),
        }

    def failures(self) -> list[str]:
        if self.run.error:
            return [f"the load test against {strip_credentials(self.run.spec.url)} gave no "
                    f"numbers: {self.run.error}"]
        out = []
        for metric in self.metrics():
            if metric.passed is False:
                op = "<=" if metric.direction == "lower" else ">="
                out.append(f"{metric.name} = {_fmt(metric.value)}, the SLO is {op} "
                           f"{_fmt(metric.threshold)}" if metric.threshold is not None
                           else f"{metric.name} is {metric.value}")
        s = self.stats
        if out:
            out.append(f"({s.requests} requests, {s.failures} failed, {self.run.spec.users} "
                       f"users, {self.run.spec.workers} workers, {self.run.spec.duration_s:g} s"
                       + (f"; failures: {'; '.join(self.run.failure_samples[:3])}"
                          if self.run.failure_samples else "") + ")")
        return out


def median_difference_interval(diffs: list[float], level: float = LEVEL) -> tuple[float, float]:
    """The distribution-free interval of the median of ``diffs`` from order statistics: the
    ranks ``k`` and ``n - k + 1`` with ``P(k <= B <= n - k) >= level``, ``B ~ Binomial(n, 1/2)``."""
    n = len(diffs)
    if n < 6:  # below 6 no pair of order statistics covers 95%
        return math.nan, math.nan
    from scipy.stats import binom

    s = sorted(diffs)
    k = int(binom.ppf((1 - level) / 2, n, 0.5))  # P(B <= k) >= (1 - level) / 2
    k = max(k, 1)
    while k > 1 and binom.cdf(k - 1, n, 0.5) * 2 > 1 - level:
        k -= 1
    return s[k - 1], s[n - k]


def _percentile(values: Any, q: float) -> Any:
    import numpy as np

    return np.percentile(values, q, axis=-1)


@dataclass(frozen=True)
class ShadowResult:
    """The same requests to champion and candidate: the candidate's load metrics, prediction
    agreement and the latency difference (a ``CheckResult``)."""

    run: LoadRun
    max_error_ratio: float | None = None
    min_agreement: float | None = None
    max_latency_diff_ms: float | None = None
    max_latency_diff_p95_ms: float | None = None
    seed: int = 0
    name: str = "shadow"
    prefix: str = "shadow"

    @property
    def load(self) -> LoadResult:
        """The candidate's side (its numbers are in the evidence, not recorded as ``load.*``:
        each user waits for both models, so its throughput is not a plain run's)."""
        return LoadResult(self.run, Slo(max_error_ratio=self.max_error_ratio))

    @property
    def champion(self) -> LoadResult:
        return LoadResult(self.run, Slo(), request_name="champion", name="champion")

    def _shadow(self) -> dict[str, Any]:
        return (self.run.shadow or {}) if not self.run.error else {}

    def agreement(self) -> tuple[float, Interval | None, int]:
        sh = self._shadow()
        rows, agree = int(sh.get("rows", 0)), int(sh.get("agree", 0))
        return (agree / rows if rows else math.nan), _wilson(agree, rows), rows

    def latency(self) -> dict[str, Any]:
        """Median paired difference and p95 difference, with intervals (NaN without pairs)."""
        pairs = self._shadow().get("pairs", [])
        nan = math.nan
        if len(pairs) < 2:
            return {"n": len(pairs), "median": nan, "median_ci": (nan, nan), "p95": nan,
                    "p95_ci": (nan, nan)}
        import numpy as np

        arr = np.asarray(pairs, dtype=float)
        cand, champ = arr[:, 0], arr[:, 1]
        diffs = cand - champ
        median = float(np.median(diffs))
        p95 = float(_percentile(cand, 95) - _percentile(champ, 95))
        rng = np.random.default_rng(self.seed)
        reps = []
        for _ in range(BOOTSTRAP_REPLICATES // 200):  # chunks of 200 replicates
            idx = rng.integers(0, len(arr), size=(200, len(arr)))
            reps.append(_percentile(cand[idx], 95) - _percentile(champ[idx], 95))
        boot = np.concatenate(reps)
        alpha = (1 - LEVEL) / 2
        p95_ci = (float(np.quantile(boot, alpha)), float(np.quantile(boot, 1 - alpha)))
        return {"n": len(pairs), "median": median,
                "median_ci": median_difference_interval(diffs.tolist()),
                "p95": p95, "p95_ci": p95_ci}

    def metrics(self) -> list[Metric]:
        value, interval, _ = self.agreement()
        lat = self.latency()

        def iv(ci: tuple[float, float]) -> Interval | None:
            return None if any(math.isnan(c) for c in ci) else Interval(ci[0], ci[1], LEVEL)

        load = self.load
        p = self.prefix
        return [
            make_metric(f"{p}.agreement", value, threshold=self.min_agreement,
                        direction="higher", interval=interval),
            make_metric(f"{p}.latency_diff_ms", lat["median"],
                        threshold=self.max_latency_diff_ms, direction="lower",
                        interval=iv(lat["median_ci"]), unit="ms"),
            make_metric(f"{p}.latency_diff_p95_ms", lat["p95"],
                        threshold=self.max_latency_diff_p95_ms, direction="lower",
                        interval=iv(lat["p95_ci"]), unit="ms"),
            make_metric(f"{p}.error_ratio", load.error_ratio, threshold=self.max_error_ratio,
                        direction="lower",
                        interval=_wilson(load.stats.failures, load.stats.requests)),
        ]

    def evidence(self) -> dict[str, Any]:
        sh = self._shadow()
        champ = self.champion.stats
        _, _, rows = self.agreement()
        lat = self.latency()
        return {
            "load": self.load.evidence(),
            "champion_url": strip_credentials(self.run.spec.shadow_url or ""),
            "champion": {"requests": champ.requests, "failures": champ.failures,
                         "p50_ms": None if math.isnan(champ.p50_ms) else champ.p50_ms,
                         "p95_ms": None if math.isnan(champ.p95_ms) else champ.p95_ms},
            "compared_requests": int(sh.get("compared", 0)),
            "compared_predictions": rows,
            "agreeing_predictions": int(sh.get("agree", 0)),
            "answers_of_different_length": int(sh.get("mismatched_shape", 0)),
            "disagreement_examples": sh.get("examples", [])[:5],
            "latency_pairs": lat["n"],
            "latency_pairs_seen": int(sh.get("pairs_seen", 0)),
            "processes": int(sh.get("processes", 0)),
        }

    def failures(self) -> list[str]:
        if self.run.error:
            return self.load.failures()
        out: list[str] = []
        value, _, rows = self.agreement()
        if rows == 0:
            out.append("the shadow comparison compared no predictions: no request got an answer "
                       "from both the candidate and the champion "
                       f"({strip_credentials(self.run.spec.shadow_url or '')})")
            return out
        for metric in self.metrics():
            if metric.passed is False:
                op = "<=" if metric.direction == "lower" else ">="
                out.append(f"{metric.name} = {_fmt(metric.value)}, must be {op} "
                           f"{_fmt(metric.threshold)}" if metric.threshold is not None
                           else f"{metric.name} is {metric.value}")
        if out and self.run.failure_samples:
            out.append(f"(failures: {'; '.join(self.run.failure_samples[:3])})")
        return out
