"""Real locust runs (subprocesses) against real HTTP model endpoints on 127.0.0.1, each bounded to
2 to 3 seconds and a few users."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap

import pytest

from mlgate.record import PROPERTY_KEY
from mlgate_locust.check import LoadResult, ShadowResult
from mlgate_locust.fixtures import run_load


def recorded(request) -> dict[str, dict]:
    return {p["name"]: p for key, p in request.node.user_properties
            if key == PROPERTY_KEY and p["kind"] == "metric"}


def value(result, name: str) -> float:
    return next(m.value for m in result.metrics() if m.name == name)


def test_metrics_recorded_and_plausible(mlgate_load, model_endpoint, models, iris, request):
    endpoint = model_endpoint(models["good"])
    host_port = endpoint.url.removeprefix("http://")
    result = mlgate_load(f"http://ci:s3cret@{host_port}", data=iris, users=2, duration_s=2,
                         max_p95_ms=2000, min_rps=1, max_error_ratio=0.01)
    assert isinstance(result, LoadResult)
    metrics = recorded(request)
    assert set(metrics) == {"load.p50_ms", "load.p95_ms", "load.p99_ms",
                            "load.requests_per_second", "load.error_ratio"}
    p50, p95, p99 = (metrics[f"load.p{q}_ms"]["value"] for q in (50, 95, 99))
    assert 0 <= p50 <= p95 <= p99 < 2000
    assert metrics["load.requests_per_second"]["value"] > 1
    assert metrics["load.requests_per_second"]["direction"] == "higher"
    assert metrics["load.p95_ms"] | {"value": 0} == {
        "name": "load.p95_ms", "value": 0, "threshold": 2000.0, "direction": "lower",
        "interval": None, "unit": "ms", "kind": "metric"}
    assert metrics["load.error_ratio"]["value"] == 0
    assert metrics["load.error_ratio"]["interval"]["low"] == pytest.approx(0, abs=1e-12)
    stats = result.stats
    # the server answered every request locust counted (and at most the few in flight at stop)
    assert stats.requests <= endpoint.requests <= stats.requests + 2
    evidence = result.evidence()
    assert evidence["url"] == endpoint.url  # the credentials are not kept
    assert "s3cret" not in repr(evidence)
    assert evidence["users"] == 2 and evidence["workers"] == 0 and evidence["duration_s"] == 2
    assert evidence["requests"] == stats.requests and evidence["exit_code"] == 0
    assert evidence["machine"]["logical_cores"] >= 1
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_failing_endpoint_is_an_slo_failure_not_a_crash(model_endpoint, models, iris, tmp_path):
    endpoint = model_endpoint(models["good"], fail_ratio=0.3)
    result = run_load(endpoint.url, iris, tmp_path, users=2, duration_s=2, max_error_ratio=0.05)
    assert result.run.exit_code == 1  # locust's exit code when any request failed
    assert result.run.error is None
    ratio = value(result, "load.error_ratio")
    assert ratio == pytest.approx(0.3, abs=0.03)
    interval = next(m.interval for m in result.metrics() if m.name == "load.error_ratio")
    assert interval.low < 0.3 < interval.high
    failures = result.failures()
    assert failures[0].startswith(f"load.error_ratio = {ratio:.4g}, the SLO is <= 0.05")
    assert "injected failure" in failures[-1] and "HTTP 500" in failures[-1]
    assert any("injected failure" in s for s in result.evidence()["failure_samples"])


@pytest.mark.parametrize("worker_mode", ["fork", "spawn"])
def test_master_and_two_workers_aggregate(model_endpoint, models, iris, tmp_path, worker_mode):
    endpoint = model_endpoint(models["good"])
    result = run_load(endpoint.url, iris, tmp_path, users=4, duration_s=3, workers=2,
                      worker_mode=worker_mode, max_error_ratio=0)
    assert result.failures() == [], result.run.error
    log = (tmp_path / "locust.log").read_text()
    assert "2 workers connected" in log or "to 2 ready workers" in log, log[-2000:]
    stats = result.stats
    # the master's totals are the sum of both workers': what the server answered
    assert stats.requests > 0
    assert stats.requests <= endpoint.requests <= stats.requests + 4
    assert result.evidence()["workers"] == 2
    # locust's own aggregate on the master (it waits a fixed 0.5 s for the workers' last
    # reports) never counts more than the workers' own tallies
    assert 0 < result.run.master_requests <= stats.requests
    assert "locust" not in sys.modules and "gevent" not in sys.modules


def test_rate_limit_bounds_the_throughput(model_endpoint, models, iris, tmp_path):
    endpoint = model_endpoint(models["good"])
    result = run_load(endpoint.url, iris, tmp_path, users=2, duration_s=3, max_rps=10,
                      batch_size=5, price_per_hour=3.6)
    rps = value(result, "load.requests_per_second")
    assert 3 < rps <= 12, rps
    assert result.stats.requests <= 3 * 10 + 4
    # cost per million predictions: 5 rows per request at the measured rate, $3.60 an hour
    assert value(result, "load.cost_per_million") == pytest.approx(3.6 / (rps * 5 * 3600) * 1e6)
    assert result.evidence()["price_per_hour"] == 3.6


def test_shadow_identical_champion_agrees(model_endpoint, models, iris, tmp_path):
    candidate = model_endpoint(models["good"])
    champion = model_endpoint(models["same"])
    result = run_load(candidate.url, iris, tmp_path, users=2, duration_s=2, workers=2,
                      shadow_url=champion.url, min_agreement=0.99, max_error_ratio=0)
    assert isinstance(result, ShadowResult)
    assert result.failures() == []
    assert value(result, "shadow.agreement") == 1.0
    evidence = result.evidence()
    assert evidence["compared_requests"] > 0 and evidence["processes"] == 2
    assert evidence["champion"]["requests"] >= evidence["compared_requests"]
    assert evidence["load"]["requests"] >= evidence["compared_requests"]
    diff = next(m for m in result.metrics() if m.name == "shadow.latency_diff_ms")
    assert math.isfinite(diff.value) and diff.interval.low <= diff.value <= diff.interval.high
    assert abs(diff.value) < 50  # the same model on the same kind of server
    assert math.isfinite(value(result, "shadow.latency_diff_p95_ms"))
    assert value(result, "shadow.error_ratio") == 0
    assert [m.name for m in result.metrics()] == [
        "shadow.agreement", "shadow.latency_diff_ms", "shadow.latency_diff_p95_ms",
        "shadow.error_ratio"]  # the candidate's throughput here is not a plain run's


def test_shadow_different_champion_disagrees(model_endpoint, models, iris, tmp_path):
    candidate = model_endpoint(models["good"])
    champion = model_endpoint(models["other"], n_features=1)
    result = run_load(candidate.url, iris, tmp_path, users=2, duration_s=2,
                      shadow_url=champion.url, min_agreement=0.99)
    agreement = next(m for m in result.metrics() if m.name == "shadow.agreement")
    assert 0.2 < agreement.value < 0.9  # a depth-1 tree on one feature gets one class wrong
    assert agreement.interval.low < agreement.value < agreement.interval.high
    failures = result.failures()
    assert len(failures) == 1 and failures[0].startswith("shadow.agreement = ")
    assert result.evidence()["disagreement_examples"]


def test_fail_closed_when_nothing_ran(tmp_path, iris):
    """A closed port: every request fails (error ratio 1, never a pass); a run killed on its
    timeout: NaN metrics and a failure with locust's log."""
    from mlgate_locust.runner import free_port

    dead = f"http://127.0.0.1:{free_port()}"
    result = run_load(dead, iris, tmp_path / "a", users=1, duration_s=1, max_error_ratio=0.5)
    assert value(result, "load.error_ratio") == 1.0
    assert result.failures()
    killed = run_load(dead, iris, tmp_path / "b", users=1, duration_s=3, timeout_s=0.5)
    assert killed.run.exit_code is None
    assert all(math.isnan(m.value) and m.passed is False for m in killed.metrics())
    (failure,) = killed.failures()
    assert "did not finish within 0 s and was killed" in failure or "within 1 s" in failure


def test_requests_slower_than_the_request_timeout_fail(model_endpoint, models, iris, tmp_path):
    endpoint = model_endpoint(models["good"], delay_s=5.0)
    result = run_load(endpoint.url, iris, tmp_path, users=2, duration_s=2, request_timeout_s=0.5,
                      max_error_ratio=0.01)
    assert result.run.error is None and result.run.exit_code == 1
    stats = result.stats
    assert stats.requests >= 2 and stats.failures == stats.requests
    assert value(result, "load.error_ratio") == 1.0
    assert result.failures()[0].startswith("load.error_ratio = 1, the SLO is <= 0.01")
    assert result.run.wall_s < 15  # bounded: not the 5 s per request, nor locust's 60 s default


def test_through_pytest_an_slo_breach_fails_the_test_with_the_numbers(pytester, model_endpoint,
                                                                     models, iris):
    endpoint = model_endpoint(models["good"], fail_ratio=0.3)
    data = pytester.path / "rows.csv"
    iris.head(20).to_csv(data, index=False)
    pytester.makepyfile(test_slo=textwrap.dedent(f"""
        import sys

        def test_load(mlgate_load, mlgate_model_server):
            server = mlgate_model_server({endpoint.url!r})
            mlgate_load(server, data={str(data)!r}, users=2, duration_s=2, max_p95_ms=5000,
                        max_error_ratio=0.01)

        def test_nothing_imported():
            assert "locust" not in sys.modules and "gevent" not in sys.modules
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mlgate-no-bundle")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mlgate load check failed:*",
                                 "*load.error_ratio = 0.*, the SLO is <= 0.01*"])
    assert "Traceback" not in result.stdout.str()


def test_plugin_import_is_light():
    code = ("import sys, mlgate_locust.pytest_plugin, mlgate_locust.fixtures, mlgate_locust.server;"
            "bad = [m for m in ('locust', 'gevent', 'mlflow', 'sklearn', 'pandas', 'numpy') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
