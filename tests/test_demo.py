"""`make demo`'s flow, end to end, twice, on a copy of the example with its own registry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart"
pytestmark = pytest.mark.slow


def run_demo(folder: Path) -> subprocess.CompletedProcess[str]:
    # not the outer pytest-xdist worker's variables either: the demo's benchmarks would rightly
    # refuse to time beside other workers
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_", "MLGATE_", "PYTEST_XDIST_"))}
    return subprocess.run([sys.executable, "run_demo.py"], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=600)


def registry_state(folder: Path) -> dict:
    from mlflow import MlflowClient

    uri = f"sqlite:///{folder / '.mlgate' / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    versions = sorted(client.search_model_versions("name='breast-cancer'"),
                      key=lambda v: int(v.version))
    model = client.get_registered_model("breast-cancer")
    return {
        "versions": [str(v.version) for v in versions],
        "verdicts": {str(v.version): v.tags.get("mlgate.verdict") for v in versions},
        "reasons": {str(v.version): v.tags.get("mlgate.reasons", "") for v in versions},
        "aliases": {k: str(v) for k, v in model.aliases.items()},
    }


def test_demo_promotes_the_good_model_and_rejects_the_worse_twice(tmp_path: Path) -> None:
    folder = tmp_path / "quickstart"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns(
        ".mlgate", "reports", "__pycache__", ".pytest_cache"))
    first = run_demo(folder)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    out = first.stdout
    assert "mlgate: PROMOTE  breast-cancer v1  (no champion yet)" in out
    assert "mlgate: REJECT  breast-cancer v2  (champion: breast-cancer v1)" in out
    # the reasons name the rules and the numbers
    assert "FAIL noninferiority:accuracy_vs_champion: worse than the champion beyond the margin" in out
    assert "FAIL bound:accuracy: lower 95% bound of accuracy = " in out
    state = registry_state(folder)
    assert state["versions"] == ["1", "2"]
    assert state["verdicts"] == {"1": "promote", "2": "reject"}
    assert state["aliases"] == {"champion": "1"}
    assert "test_vs_champion" in state["reasons"]["2"]
    decision = json.loads((folder / "reports" / "v2" / "decision.json").read_text())
    assert decision["verdict"] == "reject"

    second = run_demo(folder)
    assert second.returncode == 0, second.stdout[-4000:] + second.stderr[-4000:]
    assert "mlgate: PROMOTE  breast-cancer v1  (champion: breast-cancer v1)" in second.stdout
    again = registry_state(folder)
    assert again["versions"] == ["1", "2"]          # no new versions
    assert again["aliases"] == {"champion": "1"}    # still the good model
    assert again["verdicts"] == state["verdicts"]
