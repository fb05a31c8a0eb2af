"""mlgate.perf.regression: planted slowdowns are flagged, identical code is not, machines differ."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mlgate.perf.bench import BenchResult, RoundStats, machine_fingerprint
from mlgate.perf.regression import RegressionResult, regression
from mlgate.record import CheckResult

N_ROUNDS = 100
SIGMA = 0.05  # lognormal timing noise


def rounds(rng, slowdown=0.0, n=N_ROUNDS, median=1e-3):
    return list(median * (1 + slowdown) * rng.lognormal(0.0, SIGMA, size=n))


def bench(rs, fp=None, name="predict"):
    return BenchResult(bench=name, stats=RoundStats.of(rs), rounds=tuple(rs), loops=1, batch_size=None,
                       peak_bytes=None, fingerprint=fp or machine_fingerprint(), stop_reason="ci",
                       elapsed_s=0.0, target_rel_ci=0.01)


def test_planted_5_percent_slowdown_is_flagged():
    rng = np.random.default_rng(0)
    base, cand = rounds(rng), rounds(rng, 0.05)
    r = regression(cand, base, tolerance=0.01)
    assert isinstance(r, CheckResult)
    assert r.regressed
    assert r.low > 1.01 and r.ratio == pytest.approx(np.median(cand) / np.median(base))
    (msg,) = r.failures()
    assert "slower than the baseline" in msg and "1 + tolerance = 1.01" in msg
    assert r.mw_p < 0.01
    (m,) = r.metrics()
    assert m.name == "benchmark.median_ratio" and m.direction == "lower" and m.threshold == 1.01
    assert m.interval.low == r.low and m.interval.level == pytest.approx(0.98)
    ev = r.evidence()
    json.dumps(ev, allow_nan=False)
    assert ev["machine"] == "unverified" and ev["regressed"] is True


def test_within_tolerance_is_not_called():
    rng = np.random.default_rng(1)
    r = regression(rounds(rng, 0.05), rounds(rng))  # default tolerance 0.05
    assert not r.regressed and r.failures() == []


def simulate(slowdown, tolerance, reps=200, n_boot=1000):
    hits = 0
    for i in range(reps):
        rng = np.random.default_rng(1000 + i)
        base, cand = rounds(rng), rounds(rng, slowdown)
        hits += regression(cand, base, tolerance=tolerance, n_boot=n_boot, seed=i).regressed
    return hits


def test_false_alarms_on_identical_distributions_are_rare():
    # tolerance 0 puts all the weight on the statistics: the one-sided alpha is 0.01
    assert simulate(0.0, tolerance=0.0) <= 6  # of 200: about 1%, with room for the bootstrap
    assert simulate(0.0, tolerance=0.05, reps=50) == 0


def test_detection_of_slowdowns():
    assert simulate(0.20, tolerance=0.05) >= 196
    assert simulate(0.05, tolerance=0.01) >= 180


def test_baseline_from_evidence_dict_and_same_machine():
    rng = np.random.default_rng(2)
    base = bench(rounds(rng))
    ev = json.loads(json.dumps(base.evidence()))
    r = regression(bench(rounds(rng, 0.3)), ev)
    assert r.regressed and r.machine == "same" and r.name == "regression.predict"
    assert r.metrics()[0].name == "predict.median_ratio"


def test_other_machine_is_refused_unless_allowed():
    rng = np.random.default_rng(3)
    fp = machine_fingerprint()
    other = {**fp, "cpu": "Some Other CPU", "logical_cores": 999}
    cand, base = bench(rounds(rng), fp), bench(rounds(rng), other)
    r = regression(cand, base)
    (msg,) = r.failures()
    assert "not compared" in msg and "Some Other CPU" in msg and "allow_other_machine=True" in msg
    assert math.isnan(r.metrics()[0].value)
    assert r.evidence()["machine"] == "different"
    assert set(r.evidence()["machine_differences"]) == {"cpu", "logical_cores"}
    ok = regression(cand, base, allow_other_machine=True)
    assert ok.failures() == [] and ok.evidence()["machine"] == "different"
    assert math.isfinite(ok.metrics()[0].value)


def test_numpy_version_compared_only_when_both_know_it():
    rng = np.random.default_rng(4)
    fp = machine_fingerprint()
    r = regression(bench(rounds(rng), {**fp, "numpy": None}), bench(rounds(rng), fp))
    assert r.machine == "same" and r.refused is None


def test_bad_inputs():
    with pytest.raises(ValueError, match="at least 5"):
        regression([1.0, 2.0], [1.0] * 10)
    with pytest.raises(ValueError, match="positive, finite"):
        regression([1.0] * 9 + [math.nan], [1.0] * 10)
    with pytest.raises(ValueError, match="rounds_s"):
        regression([1.0] * 10, {"median": 1.0})
    with pytest.raises(TypeError, match="BenchResult"):
        regression("fast", [1.0] * 10)


def test_seeded_and_deterministic():
    rng = np.random.default_rng(5)
    a, b = rounds(rng), rounds(rng)
    r1, r2 = regression(a, b, seed=7), regression(a, b, seed=7)
    assert (r1.low, r1.high) == (r2.low, r2.high)
    assert isinstance(r1, RegressionResult)
