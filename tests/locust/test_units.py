"""The locust plugin's pure parts: request bodies, the median-difference interval, the stats
file, the commands, the checks on a run that gave nothing. No locust process here."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from dataclasses import astuple

import pytest

from mlgate.errors import InputError
from mlgate_locust.bodies import make_bodies
from mlgate_locust.check import LoadResult, ShadowResult, Slo, median_difference_interval
from mlgate_locust.runner import (
    LoadRun,
    LoadSpec,
    RowStats,
    commands,
    percentile,
    read_stats,
    strip_credentials,
)
from mlgate_locust.server import ModelServerError, wait_healthy


def test_bodies_from_csv_json_and_frame(tmp_path, iris):
    csv = tmp_path / "rows.csv"
    iris.head(5).to_csv(csv, index=False)
    split = [json.loads(b) for b in make_bodies(csv, batch_size=2)]
    assert len(split) == 3
    assert split[0]["dataframe_split"]["columns"] == list(iris.columns)
    assert split[0]["dataframe_split"]["data"] == iris.head(2).to_numpy().tolist()
    assert len(split[-1]["dataframe_split"]["data"]) == 1
    frame = [json.loads(b) for b in make_bodies(iris.head(5), batch_size=2)]
    assert frame == split
    records = tmp_path / "rows.json"
    records.write_text(iris.head(3).to_json(orient="records"))
    (body,) = [json.loads(b) for b in make_bodies(records, batch_size=3, fmt="dataframe_records")]
    assert body["dataframe_records"] == iris.head(3).to_dict(orient="records")
    plain = [json.loads(b) for b in make_bodies(records, fmt="records")]
    assert plain[0] == iris.head(1).to_dict(orient="records")


def test_bodies_are_sampled_with_the_seed(iris):
    a = make_bodies(iris, max_bodies=10, seed=1)
    assert len(a) == 10 and a == make_bodies(iris, max_bodies=10, seed=1)
    assert a != make_bodies(iris, max_bodies=10, seed=2)


def test_bodies_refuse_bad_input(tmp_path):
    with pytest.raises(InputError, match="no such data file"):
        make_bodies(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("a,b\n")
    with pytest.raises(InputError, match="no rows"):
        make_bodies(tmp_path / "empty.csv")
    with pytest.raises(InputError, match="body format 'xml'"):
        make_bodies([{"a": 1}], fmt="xml")


def test_median_difference_interval_is_distribution_free():
    """Coverage of the order-statistic interval for the median of a skewed distribution."""
    import numpy as np

    rng = np.random.default_rng(0)
    true_median = math.log(2)  # of Exp(1)
    covered = 0
    trials = 400
    for _ in range(trials):
        lo, hi = median_difference_interval(rng.exponential(size=30).tolist())
        covered += lo <= true_median <= hi
    assert covered / trials >= 0.93
    assert all(math.isnan(v) for v in median_difference_interval([1.0, 2.0, 3.0]))
    assert median_difference_interval([1, 2, 3, 4, 5, 6]) == (1, 6)  # coverage 1 - 2/64


def test_strip_credentials():
    assert strip_credentials("https://u:p@example.com:8443/x?token=t") == "https://example.com:8443/x"
    assert strip_credentials("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_spec_validation_says_what_to_pass(tmp_path):
    spec = LoadSpec("ftp://x", tmp_path / "b.jsonl", tmp_path, users=0, duration_s=0)
    with pytest.raises(InputError) as err:
        spec.validate()
    assert "users=0: use 1 to 10000" in str(err.value)
    assert "duration_s=0" in str(err.value) and "'ftp://x': must be an http(s) URL" in str(err.value)


def test_commands_master_and_workers(tmp_path):
    spec = LoadSpec("http://127.0.0.1:1", tmp_path / "b.jsonl", tmp_path, users=3, spawn_rate=3,
                    duration_s=2.5, workers=2, worker_mode="spawn")
    master, *workers = commands(spec, tmp_path / "locust", master_port=5557)
    assert master[1:3] == ["-m", "locust"]
    assert {"--headless", "--master", "--only-summary"} <= set(master)
    assert master[master.index("-t") + 1] == "3s" and master[master.index("-u") + 1] == "3"
    assert master[master.index("--expect-workers") + 1] == "2"
    assert len(workers) == 2 and all("--worker" in w and "5557" in w for w in workers)
    forked = commands(LoadSpec("http://h", tmp_path, tmp_path, workers=2), tmp_path / "l")
    assert len(forked) == 1 and forked[0][-2:] == ["--processes", "2"]
    for cmd in [master, *workers]:
        assert "--json" not in cmd


def test_per_process_stats_are_merged(tmp_path):
    def part(requests, failures, hist, first, last):
        return {"requests": requests, "failures": failures, "total_ms": 10.0 * requests,
                "max_ms": max(hist), "first": first, "last": last,
                "histogram": {str(k): v for k, v in hist.items()}}

    (tmp_path / "requests-1.json").write_text(json.dumps({"rows": {}, "errors": []}))  # master
    (tmp_path / "requests-2.json").write_text(json.dumps({
        "rows": {"candidate": part(90, 1, {5: 80, 20: 9, 300: 1}, 100.0, 104.0)},
        "errors": [{"name": "candidate", "error": "HTTP 500: x", "occurrences": 1}]}))
    (tmp_path / "requests-3.json").write_text(json.dumps({
        "rows": {"candidate": part(10, 2, {5: 8, 900: 2}, 101.0, 105.0)},
        "errors": [{"name": "candidate", "error": "HTTP 500: x", "occurrences": 2}]}))
    rows, samples = read_stats(tmp_path)
    c = rows["candidate"]
    assert (c.requests, c.failures, c.max_ms, c.mean_ms) == (100, 3, 900, 10.0)
    assert c.rps == pytest.approx(100 / 5.0)
    assert (c.p50_ms, c.p95_ms, c.p99_ms) == (5, 20, 900)  # locust's rule on the merged histogram
    assert rows["Aggregated"] == RowStats("Aggregated", *astuple(c)[1:])
    assert samples == ("candidate: HTTP 500: x (x3)",)
    assert percentile({5: 1}, 1, 0.99) == 5 and math.isnan(percentile({}, 0, 0.5))


def test_no_requests_fails_closed(tmp_path):
    (tmp_path / "requests-1.json").write_text(json.dumps({"rows": {}, "errors": []}))
    rows, samples = read_stats(tmp_path)
    assert rows["Aggregated"].requests == 0 and math.isnan(rows["Aggregated"].p95_ms)
    assert "candidate" not in rows
    spec = LoadSpec("http://127.0.0.1:1", tmp_path / "b.jsonl", tmp_path)
    result = LoadResult(LoadRun(spec, 0, 1.0, rows, samples), Slo(max_p95_ms=100))
    values = {m.name: m.value for m in result.metrics()}
    assert all(math.isnan(v) for v in values.values())
    assert all(m.passed is False for m in result.metrics())  # NaN never passes, SLO or not
    assert result.failures()
    named = LoadResult(LoadRun(spec, 0, 1.0, rows, samples), prefix="load.batch32")
    assert [m.name for m in named.metrics()] == [
        "load.batch32.p50_ms", "load.batch32.p95_ms", "load.batch32.p99_ms",
        "load.batch32.requests_per_second", "load.batch32.error_ratio"]
    nothing = LoadRun(spec, 2, 1.0, error="locust exited with 2; its log:\nboom")
    for res in (LoadResult(nothing), ShadowResult(nothing)):
        assert all(math.isnan(m.value) for m in res.metrics())
        assert res.failures() and "boom" in res.failures()[0]


def test_wait_healthy_reports_the_log_of_a_server_that_died(tmp_path):
    log = tmp_path / "server.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, "-c", "print('no such model: models:/x/1')"],
                                stdout=fh, stderr=subprocess.STDOUT)
    proc.wait(timeout=30)
    with pytest.raises(ModelServerError) as err:
        wait_healthy("http://127.0.0.1:9", timeout_s=30, proc=proc, log=log)
    assert "exited with code 0" in str(err.value)
    assert "no such model: models:/x/1" in str(err.value)
    with pytest.raises(ModelServerError, match="did not answer .* within 0 s"):
        wait_healthy("http://127.0.0.1:9", timeout_s=0.2)


def test_the_gate_decides_on_the_load_metrics(tmp_path):
    """The README's SLO rules, parsed by the real policy parser, on a LoadResult's metrics."""
    from datetime import UTC, datetime

    from mlgate.bundle import Bundle, ModelRef
    from mlgate.gate import decide
    from mlgate.policy import parse_policy
    from mlgate.record import TestRecord

    policy = parse_policy({"max_age": "unlimited", "rule": [
        {"kind": "bound", "metric": "load.p95_ms", "max": 50},
        {"kind": "bound", "metric": "load.requests_per_second", "min": 100},
        {"kind": "bound", "metric": "load.error_ratio", "on": "upper", "max": 0.01},
    ]})
    spec = LoadSpec("http://127.0.0.1:1", tmp_path / "b.jsonl", tmp_path, users=8, duration_s=10)

    def verdict(requests, failures, p95, rps):
        row = RowStats("candidate", requests, failures, rps, p95 / 2, p95, p95 * 1.5, p95 / 2, p95)
        result = LoadResult(LoadRun(spec, 0, 10.0, {"candidate": row}))
        record = TestRecord("tests/test_load.py::test_slo", "passed", ("performance",),
                            tuple(result.metrics()))
        bundle = Bundle(created_at="2026-11-27T11:00:00Z", model=ModelRef("m", "1"),
                        commit="0123456789abcdef", tests=(record,)).sealed()
        decision = decide(bundle, policy, None, now=datetime(2026, 11, 27, 12, tzinfo=UTC))
        return decision.verdict, [r.message for r in decision.reasons if r.status != "pass"]

    assert verdict(20_000, 0, 40, 2000)[0] == "promote"
    # 15 failures in 2,000: the point ratio 0.0075 is under 0.01, its Wilson upper bound (0.012) is not
    decided, reasons = verdict(2_000, 15, 40, 200)
    assert decided == "reject" and any("load.error_ratio" in m for m in reasons), reasons
    decided, reasons = verdict(20_000, 0, 80, 90)
    assert decided == "reject" and len(reasons) == 2, reasons


def test_shadow_mode_refuses_a_plain_runs_slo(tmp_path):
    from mlgate_locust.fixtures import run_load

    with pytest.raises(InputError, match="max_p95_ms, min_rps with shadow_url") as err:
        run_load("http://127.0.0.1:1", [{"a": 1}], tmp_path, shadow_url="http://127.0.0.1:2",
                 max_p95_ms=10, min_rps=5)
    assert "max_latency_diff_ms" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # refused before anything ran


def test_the_readmes_policy_parses():
    import re
    import tomllib
    from pathlib import Path

    from mlgate.policy import parse_policy

    readme = Path(__file__).resolve().parents[2] / "plugins" / "locust" / "README.md"
    (block,) = re.findall(r"```toml\n(.*?)```", readme.read_text(), flags=re.S)
    policy = parse_policy(tomllib.loads(block), source=str(readme))
    assert [(r.kind, r.metric) for r in policy.rules] == [
        ("bound", "load.p95_ms"), ("bound", "load.requests_per_second"),
        ("bound", "load.error_ratio"), ("bound", "shadow.agreement"),
        ("cost", "load.requests_per_second")]


def test_a_missing_locust_names_the_extra(tmp_path, monkeypatch):
    import importlib.util

    from mlgate.errors import MissingExtraError
    from mlgate_locust.runner import run_locust

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "locust" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"mlgate\[locust\]"):
        run_locust(LoadSpec("http://127.0.0.1:1", tmp_path / "b.jsonl", tmp_path))
