"""The benchmark rule's baseline from the registry: the champion's bundle, stored with its
decision in MLflow, carries its benchmark rounds; the next candidate is compared with them
(same machine), through `mlgate gate` on the embedded registry."""

from __future__ import annotations

import json
import random

import pytest

from mlgate.bundle import Bundle, ModelRef, format_time, utc_now
from mlgate.cli import main
from mlgate.perf.bench import BenchResult, RoundStats, machine_fingerprint
from mlgate.record import TestRecord
from mlgate_mlflow.registry import MlflowRegistry

POLICY = """
max_age = "unlimited"
[[rule]]
kind = "benchmark"
metric = "predict"
tolerance = 0.05
"""


def speed_bundle(model: str, version: str, median: float, seed: int, fingerprint=None) -> Bundle:
    rng = random.Random(seed)
    rounds = tuple(median * rng.lognormvariate(0, 0.03) for _ in range(80))
    r = BenchResult(bench="predict", stats=RoundStats.of(rounds), rounds=rounds, loops=10,
                    batch_size=64, peak_bytes=None, fingerprint=fingerprint or machine_fingerprint(),
                    stop_reason="ci", elapsed_s=1.0, target_rel_ci=0.01)
    test = TestRecord("tests/test_speed.py::test_predict", "passed", ("performance",),
                      tuple(r.metrics()), evidence={r.name: r.evidence()})
    return Bundle(created_at=format_time(utc_now()), model=ModelRef(model, version),
                  commit="0123456789abcdef", tests=(test,)).sealed()


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlgate.toml").write_text(POLICY)
    return tmp_path


def gate(project, bundle: Bundle, capsys) -> tuple[int, dict]:
    path = project / f"v{bundle.model.version}" / "results.json"
    bundle.write(path)
    code = main(["gate", "--bundle", str(path.relative_to(project)), "--json"])
    return code, json.loads(capsys.readouterr().out)


def reason(decision: dict) -> dict:
    (found,) = [r for r in decision["reasons"] if r["rule"] == "benchmark:predict"]
    return found


def test_slower_candidate_is_rejected_against_the_registry_champion(project, mk, capsys):
    registry = MlflowRegistry.open(project)
    name = mk.name("speed")
    v1, v2, v3, v4 = (mk.version(registry, name) for _ in range(4))

    code, first = gate(project, speed_bundle(name, v1, 1e-3, seed=1), capsys)
    assert code == 0, first["reasons"]
    assert "no champion yet" in reason(first)["message"]

    code, same = gate(project, speed_bundle(name, v2, 1e-3, seed=2), capsys)
    assert code == 0, same
    assert "stored rounds" in reason(same)["message"] and f"v{v1}" in reason(same)["message"]
    assert registry.champion(name, "champion").model.version == v2

    # v3 is 20% slower than the champion v2, whose rounds come from its bundle in the registry
    code, slower = gate(project, speed_bundle(name, v3, 1.2e-3, seed=3), capsys)
    assert code == 1 and reason(slower)["status"] == "fail"
    assert "slower than the champion beyond the tolerance" in reason(slower)["message"]
    assert registry.champion(name, "champion").model.version == v2

    # v4 was measured on another machine: not compared, a person decides
    other = dict(machine_fingerprint(), cpu="A Different CPU", logical_cores=96)
    code, elsewhere = gate(project, speed_bundle(name, v4, 1e-3, seed=4, fingerprint=other), capsys)
    assert code == 3 and reason(elsewhere)["status"] == "review"
    assert "another machine" in reason(elsewhere)["message"]
    assert registry.champion(name, "champion").model.version == v2
