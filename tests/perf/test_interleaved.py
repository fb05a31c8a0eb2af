"""mlgate.perf.regression.interleaved: the champion re-run beside the candidate, in pairs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from mlgate.perf.bench import BenchmarkFixture
from mlgate.perf.regression import interleaved


@pytest.fixture(autouse=True)
def _no_xdist(monkeypatch):
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


_DATA = np.ones(20_000)


def _work(k: int):
    def run():
        for _ in range(k):
            _DATA.sum()
    return run


def test_identical_code_is_not_a_regression():
    r = interleaved(_work(40), _work(40), name="same", tolerance=0.02, max_time=1.0)
    assert not r.regressed and r.failures() == []
    assert r.low <= 1.0 <= r.high or abs(r.ratio - 1) < 0.02
    assert r.machine == "interleaved" and r.n_candidate == r.n_baseline == len(r.pairs) >= 20


def test_a_planted_50_percent_slowdown_is_caught():
    # large, so a loaded CI machine cannot hide it (benchmarks/perf.py counts 5% slowdowns)
    r = interleaved(_work(60), _work(40), name="slow", tolerance=0.05, max_time=1.5)
    assert r.regressed, r.evidence()
    assert 1.25 < r.ratio < 2.0
    assert r.low > 1.05
    [msg] = r.failures()
    assert msg.startswith("slow: ") and "slower than the baseline" in msg and "Wilcoxon" in msg


def test_a_faster_candidate_passes():
    r = interleaved(_work(30), _work(40), name="fast", tolerance=0.0, max_time=1.0)
    assert not r.regressed and r.ratio < 0.9


def test_metric_and_json_evidence():
    r = interleaved(_work(10), _work(10), name="p", tolerance=0.05, alpha=0.025, max_time=0.5)
    [m] = r.metrics()
    assert m.name == "p.median_ratio" and m.direction == "lower" and m.threshold == 1.05
    assert m.interval.level == pytest.approx(0.95)
    ev = json.loads(json.dumps(r.evidence(), allow_nan=False))
    assert ev["machine"] == "interleaved" and "paired ratios" in ev["method"]
    assert len(ev["pairs_s"]) == r.n_candidate and all(len(p) == 2 for p in ev["pairs_s"])
    assert ev["p_test"].startswith("Wilcoxon")


def test_baseline_args_and_order_is_seeded():
    calls: list[str] = []

    def cand(x):
        calls.append(f"c{x}")

    def base(x):
        calls.append(f"b{x}")

    interleaved(cand, base, 1, name="a", baseline_args=(2,), warmup=0.0, max_time=0.0,
                min_pairs=5, max_pairs=5, min_round_s=0.0, seed=3)
    first = list(calls)
    calls.clear()
    interleaved(cand, base, 1, name="a", baseline_args=(2,), warmup=0.0, max_time=0.0,
                min_pairs=5, max_pairs=5, min_round_s=0.0, seed=3)
    assert calls == first
    assert set(first) == {"c1", "b2"}
    # the measured part alternates in pairs, in an order that is not always candidate first
    measured = first[-10:]
    pairs = [measured[i:i + 2] for i in range(0, 10, 2)]
    assert all(sorted(p) == ["b2", "c1"] for p in pairs)


def test_refused_under_xdist_with_other_workers(monkeypatch):
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw0")
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "2")
    r = interleaved(_work(1), _work(1), name="x")
    assert r.refused and "pytest -n 0" in r.refused
    assert math.isnan(r.metrics()[0].value)
    assert r.failures() == [r.refused]


def test_bad_arguments():
    with pytest.raises(ValueError, match="tolerance"):
        interleaved(_work(1), _work(1), name="x", tolerance=-1)
    with pytest.raises(ValueError, match="min_pairs"):
        interleaved(_work(1), _work(1), name="x", min_pairs=2)
    with pytest.raises(TypeError, match="name"):
        interleaved(_work(1), _work(1), name="")


def test_against_is_recorded():
    from mlgate.bundle import ModelRef

    r = interleaved(_work(2), _work(2), name="a", max_time=0.2, against=ModelRef("m", "3"))
    assert r.evidence()["baseline_model"] == {"name": "m", "version": "3"}
    with pytest.raises(TypeError, match="against must be a ModelRef"):
        interleaved(_work(2), _work(2), name="a", against="m v3")


def test_fixture_compare_records_through_check():
    seen = []
    fx = BenchmarkFixture(seen.append, default_name="test_x")
    r = fx.compare(_work(5), _work(5), tolerance=0.5, max_time=0.3)
    assert seen == [r] and r.name == "regression.test_x"
