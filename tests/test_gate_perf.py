"""The gate's performance rules: ``kind = "benchmark"`` (speed against the champion: in-job
interleaved re-run first, stored rounds on the same machine otherwise) and ``kind = "cost"``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from mlgate.bundle import Bundle, ModelRef, format_time
from mlgate.errors import PolicyError
from mlgate.gate import Baseline, decide
from mlgate.perf.bench import BenchResult, RoundStats, machine_fingerprint
from mlgate.perf.regression import RegressionResult
from mlgate.policy import BenchmarkRule, CostRule, Policy, parse_policy
from mlgate.record import Metric, TestRecord

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
CHAMPION = ModelRef("iris", "2")
CANDIDATE = ModelRef("iris", "3")


def rounds(median: float, n: int = 60, seed: int = 0) -> list[float]:
    rng = random.Random(seed)
    return [median * rng.lognormvariate(0, 0.03) for _ in range(n)]


def bench_test(median: float, seed: int = 0, fingerprint=None, outcome="passed") -> TestRecord:
    r = BenchResult(bench="predict", stats=RoundStats.of(rounds(median, seed=seed)),
                    rounds=tuple(rounds(median, seed=seed)), loops=10, batch_size=100,
                    peak_bytes=None, fingerprint=fingerprint or machine_fingerprint(),
                    stop_reason="ci", elapsed_s=1.0, target_rel_ci=0.01)
    return TestRecord("tests/test_speed.py::test_predict", outcome, ("performance",),
                      tuple(r.metrics()), evidence={r.name: r.evidence()})


def make(model: ModelRef, *tests: TestRecord, days: int = 0) -> Bundle:
    created = format_time(NOW - timedelta(days=days, seconds=60))
    return Bundle(created_at=created, model=model, commit=None, tests=tests).sealed()


def rule(**kw) -> Policy:
    return Policy(rules=(BenchmarkRule(id="speed", metric="predict", **kw),))


def verdict(candidate: Bundle, baseline: Baseline | None, policy: Policy):
    d = decide(candidate, policy, baseline, now=NOW)
    (r,) = [x for x in d.reasons if x.rule in ("speed", "cost")]
    return r


def champion(median: float, **kw) -> Baseline:
    return Baseline(CHAMPION, make(CHAMPION, bench_test(median, seed=1, **kw), days=30), "registry")


def test_stored_baseline_same_speed_passes():
    r = verdict(make(CANDIDATE, bench_test(1e-3)), champion(1e-3), rule())
    assert r.status == "pass" and "stored rounds" in r.message
    assert r.observed == pytest.approx(1.0, abs=0.03)


def test_stored_baseline_20_percent_slower_fails():
    r = verdict(make(CANDIDATE, bench_test(1.2e-3)), champion(1e-3), rule(tolerance=0.05))
    assert r.status == "fail"
    assert r.message.startswith("slower than the champion beyond the tolerance: predict:")
    assert r.threshold == 1.05


def test_other_machine_is_not_compared_silently():
    other = dict(machine_fingerprint(), cpu="Some Other CPU")
    r = verdict(make(CANDIDATE, bench_test(1e-3)), champion(1e-3, fingerprint=other), rule())
    assert r.status == "review"
    assert "another machine" in r.message and "Some Other CPU" in r.message
    allowed = verdict(make(CANDIDATE, bench_test(1e-3)), champion(1e-3, fingerprint=other),
                      rule(allow_other_machine=True))
    assert allowed.status == "pass" and "machine different" in allowed.message


def test_missing_evidence_fails_closed():
    no_bench = make(CANDIDATE, TestRecord("t.py::a", "passed"))
    assert verdict(no_bench, champion(1e-3), rule()).status == "fail"
    skipped = make(CANDIDATE, bench_test(1e-3, outcome="skipped"))
    r = verdict(skipped, champion(1e-3), rule())
    assert r.status == "fail" and "skipped" in r.message
    assert verdict(make(CANDIDATE, bench_test(1e-3)), None, rule()).status == "review"
    assert verdict(make(CANDIDATE, bench_test(1e-3)), Baseline(None, None, "registry"),
                   rule()).status == "pass"
    champ_without = Baseline(CHAMPION, make(CHAMPION, TestRecord("t.py::a", "passed")), "registry")
    assert verdict(make(CANDIDATE, bench_test(1e-3)), champ_without, rule()).status == "review"


def interleaved_test(ratio: float, low: float, high: float, against=None) -> TestRecord:
    r = RegressionResult(bench="predict", ratio=ratio, low=low, high=high, level=0.98,
                         tolerance=0.05, alpha=0.01, mw_p=0.5, mw_p_tolerance=0.5,
                         candidate_median=ratio, baseline_median=1.0, n_candidate=50,
                         n_baseline=50, n_boot=0, seed=0, machine="interleaved",
                         machine_differences={},
                         baseline_model=None if against is None else against.to_json())
    return TestRecord("tests/test_speed.py::test_vs_champion", "passed", ("performance",),
                      tuple(r.metrics()), evidence={r.name: r.evidence()})


@pytest.mark.parametrize(("ratio", "low", "high", "status"), [
    (1.00, 0.99, 1.01, "pass"),
    (1.09, 1.07, 1.11, "fail"),      # supported and beyond the tolerance
    (1.06, 1.01, 1.12, "review"),    # beyond the tolerance, not supported
])
def test_interleaved_comparison_is_preferred(ratio, low, high, status):
    # the stored baseline says "much slower"; the in-job re-run decides
    cand = make(CANDIDATE, bench_test(2e-3), interleaved_test(ratio, low, high))
    r = verdict(cand, champion(1e-3), rule(tolerance=0.05))
    assert r.status == status and "interleaved in this job" in r.message


def test_interleaved_against_another_version_than_the_champion_goes_to_review():
    cand = make(CANDIDATE, interleaved_test(1.0, 0.99, 1.01, against=ModelRef("iris", "1")))
    r = verdict(cand, champion(1e-3), rule())
    assert r.status == "review"
    assert r.message == ("benchmark 'predict' was re-run against iris v1, but the champion is "
                         "iris v2: run the tests again")
    same = make(CANDIDATE, interleaved_test(1.0, 0.99, 1.01, against=CHAMPION))
    ok = verdict(same, champion(1e-3), rule())
    assert ok.status == "pass" and "champion iris v2 re-run interleaved" in ok.message


def test_cost_rule():
    throughput = TestRecord("t.py::load", "passed", ("performance",),
                            (Metric("load.requests_per_second", 250.0, None, "higher"),))
    policy = Policy(rules=(CostRule(id="cost", metric="load.requests_per_second",
                                    price_per_hour=3.6, max_per_million=0.5,
                                    predictions_per_unit=10),))
    r = verdict(make(CANDIDATE, throughput), None, policy)
    # 2,500 predictions/s -> 9M an hour for $3.60 -> $0.40 per million
    assert r.status == "pass" and r.observed == pytest.approx(0.4)
    assert "per million predictions at 3.6 per hour" in r.message
    strict = Policy(rules=(CostRule(id="cost", metric="load.requests_per_second",
                                    price_per_hour=3.6, max_per_million=0.3,
                                    predictions_per_unit=10),))
    assert verdict(make(CANDIDATE, throughput), None, strict).status == "fail"
    zero = TestRecord("t.py::load", "passed", (), (Metric("load.requests_per_second", 0.0),))
    assert verdict(make(CANDIDATE, zero), None, policy).status == "fail"
    missing = make(CANDIDATE, TestRecord("t.py::x", "passed"))
    assert verdict(missing, None, policy).status == "fail"


def test_policy_parsing():
    p = parse_policy({"rule": [
        {"kind": "benchmark", "metric": "predict", "tolerance": 0.02, "alpha": 0.05},
        {"kind": "cost", "metric": "predict.throughput", "price_per_hour": 3.06,
         "max_per_million": 0.5},
    ]}, source="mlgate.toml")
    assert p.rules == (
        BenchmarkRule(id="benchmark:predict", metric="predict", tolerance=0.02, alpha=0.05),
        CostRule(id="cost:predict.throughput", metric="predict.throughput", price_per_hour=3.06,
                 max_per_million=0.5))
    for raw, where in [
        ({"kind": "benchmark", "metric": "p", "tolerance": -0.1}, "rule[0].tolerance"),
        ({"kind": "benchmark", "metric": "p", "alpha": 0.7}, "rule[0].alpha"),
        ({"kind": "benchmark", "metric": "p", "allow_other_machine": "yes"},
         "rule[0].allow_other_machine"),
        ({"kind": "benchmark", "metric": "p", "margin": 1}, "rule[0].margin"),
        ({"kind": "cost", "metric": "p", "price_per_hour": 1}, "rule[0].max_per_million"),
        ({"kind": "cost", "metric": "p", "max_per_million": 1, "price_per_hour": -1},
         "rule[0].price_per_hour"),
        ({"kind": "cost", "metric": "p", "max_per_million": 1, "price_per_hour": 1,
          "predictions_per_unit": 0}, "rule[0].predictions_per_unit"),
    ]:
        with pytest.raises(PolicyError) as info:
            parse_policy({"rule": [raw]}, source="mlgate.toml")
        assert info.value.key == where, (raw, info.value)
        assert "mlgate.toml" in str(info.value)
