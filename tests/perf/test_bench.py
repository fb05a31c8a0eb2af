"""mlgate.perf.bench: statistics, adaptive stop, xdist refusal, the CheckResult face."""

from __future__ import annotations

import json
import math
import random
import time

import numpy as np
import pytest

from mlgate.perf.bench import (
    BenchmarkFixture,
    BenchResult,
    RoundStats,
    benchmark,
    machine_fingerprint,
    median_rank_interval,
)
from mlgate.record import CheckResult


@pytest.fixture(autouse=True)
def _no_xdist(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def test_stats_match_numpy():
    rng = np.random.default_rng(3)
    rounds = list(rng.lognormal(-7, 0.3, size=101))
    s = RoundStats.of(rounds)
    a = np.asarray(rounds)
    assert s.n == 101
    assert s.min == a.min()
    assert s.median == pytest.approx(np.median(a), rel=1e-12)
    assert s.mean == pytest.approx(a.mean(), rel=1e-12)
    q25, q75, p95, p99 = np.quantile(a, [0.25, 0.75, 0.95, 0.99])
    assert s.iqr == pytest.approx(q75 - q25, rel=1e-12)
    assert s.p95 == pytest.approx(p95, rel=1e-12)
    assert s.p99 == pytest.approx(p99, rel=1e-12)
    assert s.median_low <= s.median <= s.median_high


@pytest.mark.parametrize("n", [6, 7, 10, 25, 100, 333, 1000])
def test_median_rank_interval_is_the_exact_binomial_one(n):
    from scipy.stats import binom

    lo, hi = median_rank_interval(n)
    j = lo + 1  # 1-based lower rank; the upper is n - j + 1
    assert hi == n - j
    coverage = 1 - 2 * binom.cdf(j - 1, n, 0.5)
    assert coverage >= 0.95
    assert 1 - 2 * binom.cdf(j, n, 0.5) < 0.95  # the narrowest symmetric one


def test_median_rank_interval_too_few():
    assert median_rank_interval(5) is None
    assert math.isinf(RoundStats.of([1.0, 2.0, 3.0]).rel_ci_width)


def test_overhead_of_a_noop_is_small():
    # max_time: calibration must not run out of time on a loaded machine
    r = benchmark(lambda: None, name="noop", warmup=0.01, max_time=3.0, measure_memory=False)
    assert r.loops > 100  # calibrated so a round is >= 1 ms
    assert r.stats.median < 5e-6  # generous: the loop and call cost, tens of ns here
    assert r.stats.median * r.loops >= 0.5e-3


def test_stable_function_stops_on_the_ci_target():
    data = list(range(2000))
    r = benchmark(sum, data, name="sum", warmup=0.02, target_rel_ci=0.05, max_time=10.0)
    assert r.stop_reason == "ci"
    assert r.stats.rel_ci_width < 0.05
    assert r.elapsed_s < 10.0
    assert r.stats.n == len(r.rounds) >= 5


def test_noisy_function_stops_on_time():
    rnd = random.Random(0)

    def noisy():
        time.sleep(rnd.uniform(0.0002, 0.004))

    r = benchmark(noisy, name="noisy", warmup=0.0, target_rel_ci=0.001, max_time=0.3,
                  measure_memory=False)
    assert r.stop_reason == "time"
    assert r.stats.rel_ci_width > 0.001
    assert r.elapsed_s < 3  # generous


def test_max_rounds_and_min_rounds():
    r = benchmark(sum, range(10), name="few", warmup=0.0, target_rel_ci=1e-9, min_rounds=5,
                  max_rounds=7, max_time=5, measure_memory=False)
    assert r.stop_reason == "max_rounds"
    assert r.stats.n == 7
    with pytest.raises(ValueError, match="min_rounds"):
        benchmark(sum, range(10), name="bad", min_rounds=10, max_rounds=5)
    with pytest.raises(ValueError, match="max_rounds"):
        benchmark(sum, range(10), name="bad", max_rounds=5000)


def test_result_is_a_check_result_with_json_evidence():
    # min_rounds: enough for the median's interval even when a loaded machine stops on time
    r = benchmark(sorted, list(range(500, 0, -1)), name="sort", batch_size=500, warmup=0.01,
                  max_time=0.3, min_rounds=10, max_median_s=10.0, min_throughput=1.0)
    assert isinstance(r, CheckResult)
    assert r.name == "benchmark.sort"
    m = {x.name: x for x in r.metrics()}
    assert set(m) == {"sort.median_s", "sort.p95_s", "sort.throughput", "sort.peak_mb"}
    assert m["sort.median_s"].direction == "lower" and m["sort.median_s"].threshold == 10.0
    assert m["sort.median_s"].interval.low <= m["sort.median_s"].value <= m["sort.median_s"].interval.high
    assert m["sort.throughput"].direction == "higher" and m["sort.throughput"].unit == "items/s"
    assert m["sort.throughput"].value == pytest.approx(500 / r.stats.median)
    assert m["sort.peak_mb"].value > 0  # sorted() allocates a list of 500
    ev = r.evidence()
    json.dumps(ev, allow_nan=False)
    assert ev["name"] == "sort" and ev["stop_reason"] in ("ci", "time", "max_rounds")
    assert ev["fingerprint"] == machine_fingerprint()
    assert len(ev["rounds_s"]) == ev["stats"]["n_rounds"] <= 1000
    assert "tracemalloc" in ev["peak_memory_method"]
    assert r.failures() == []


def test_thresholds_fail():
    r = benchmark(sum, range(1000), name="slow", warmup=0.0, max_time=0.1,
                  max_median_s=1e-12, min_throughput=1e15, measure_memory=False)
    msgs = r.failures()
    assert len(msgs) == 2
    assert "must be <= 1e-12 s (max_median_s)" in msgs[0]
    assert "calls/s (min_throughput)" in msgs[1]


def test_fingerprint_fields():
    fp = machine_fingerprint()
    assert set(fp) >= {"cpu", "logical_cores", "machine", "system", "platform", "python", "numpy"}
    assert fp["numpy"] == np.__version__  # imported by this test module
    assert fp["cpu"]


def test_xdist_with_other_workers_is_refused(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "4")
    calls = []
    r = benchmark(lambda: calls.append(1), name="par")
    assert calls == []  # nothing measured
    assert r.stop_reason == "refused-xdist"
    (msg,) = r.failures()
    assert "pytest-xdist worker gw1" in msg and "-n 0" in msg and "allow_parallel=True" in msg
    assert all(math.isnan(m.value) for m in r.metrics())  # the gate fails closed
    ev = r.evidence()
    json.dumps(ev, allow_nan=False)
    assert ev["xdist_worker"] == "gw1" and ev["notes"]


def test_xdist_allow_parallel_measures_and_marks(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    r = benchmark(sum, range(10), name="par", warmup=0.0, max_time=0.1, allow_parallel=True)
    assert r.failures() == []
    assert r.stats.n >= 5
    ev = r.evidence()
    assert ev["xdist_worker"] == "gw0" and "skewed" in ev["notes"][0]


def test_xdist_single_worker_is_measured(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "1")
    r = benchmark(sum, range(10), name="one", warmup=0.0, max_time=0.1, measure_memory=False)
    assert r.failures() == [] and r.evidence()["xdist_worker"] == "gw0" and not r.notes


def test_fixture_records_through_check():
    seen: list[BenchResult] = []
    fx = BenchmarkFixture(seen.append, default_name="test_x")
    r = fx(sum, range(10), warmup=0.0, max_time=0.05, measure_memory=False)
    assert seen == [r] == fx.results
    assert r.name == "benchmark.test_x"


def test_fixture_in_pytest(pytester):
    pytester.makeconftest(
        """
        import pytest
        from mlgate.perf.bench import BenchmarkFixture

        @pytest.fixture
        def mlgate_benchmark(mlgate, request):
            return BenchmarkFixture(mlgate.check, default_name=request.node.name)
        """
    )
    pytester.makepyfile(
        """
        def test_fast(mlgate_benchmark):
            mlgate_benchmark(sum, range(10), warmup=0.0, max_time=0.05)

        def test_too_slow(mlgate_benchmark):
            mlgate_benchmark(sum, range(10), name="s", warmup=0.0, max_time=0.05, max_median_s=1e-15)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--mlgate-no-bundle")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mlgate benchmark.s check failed:*", "*s: median * (max_median_s)*"])


def test_runs_beside_pytest_benchmark(pytester, monkeypatch):
    """Both plugins in one run, each test using both fixtures: no clash of names or options."""
    pytest.importorskip("pytest_benchmark")
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    pytester.makepyfile(
        """
        def test_both(benchmark, mlgate_benchmark):
            benchmark(sum, range(100))
            r = mlgate_benchmark(sum, range(100), name="s", warmup=0.0, max_time=0.05)
            assert r.stats.n >= 5 and benchmark.stats.stats.rounds >= 1
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mlgate-no-bundle",
                                           "--benchmark-disable-gc")
    result.assert_outcomes(passed=1)
