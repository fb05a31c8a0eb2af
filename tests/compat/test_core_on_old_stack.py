"""The core on the older stack (numpy 1.26, pandas 2.3): a pytest session writes a bundle with
data evidence and `mlgate gate` decides on it, the same as on today's stack."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest

from mlgate.bundle import Bundle
from mlgate.cli import main

POLICY = """
model = "churn"
[require]
families = ["data"]
[[rule]]
kind = "bound"
metric = "evidently_failed_tests"
max = 0
"""


def test_this_environment_is_the_old_stack() -> None:
    """Guard: tests/compat/requirements.txt pins what the plugins support; if a resolver ever
    lifts these, the old stack is no longer tested."""
    assert version("numpy").startswith("1.26.")
    assert version("pandas").startswith("2.3.")
    assert version("scikit-learn").startswith("1.7.")
    assert int(version("setuptools").split(".")[0]) < 81
    assert (version("evidently"), version("deepchecks")) == ("0.7.23", "0.19.1")


@pytest.mark.parametrize(("current", "verdict", "code"), [("same", "promote", 0), ("drifted", "reject", 1)])
def test_a_bundle_with_evidently_records_is_gated(pytester: pytest.Pytester, capsys, current: str,
                                                   verdict: str, code: int) -> None:
    from compat_frames import frames

    reference, drifted = frames(drift=True)
    reference.to_pickle(pytester.path / "reference.pkl")
    (drifted if current == "drifted" else reference).to_pickle(pytester.path / "current.pkl")
    pytester.makepyfile(test_data="""
        import pandas as pd
        import pytest
        from mlgate_evidently import run_evidently

        @pytest.mark.data
        def test_drift(mlgate):
            current = pd.read_pickle("current.pkl")
            mlgate.fingerprint("current", current)
            mlgate.check(run_evidently(pd.read_pickle("reference.pkl"), current))
    """)
    pytester.makefile(".toml", mlgate=POLICY)
    run = pytester.runpytest("--mlgate-model", "churn", "--mlgate-model-version", "4", "-p",
                             "no:cacheprovider")
    run.assert_outcomes(**{"passed" if verdict == "promote" else "failed": 1})
    bundle_path = pytester.path / "reports" / "results.json"
    bundle = Bundle.read(bundle_path)
    assert bundle.data["current"].startswith("sha256:")
    capsys.readouterr()
    assert main(["gate", "-p", "no:mlflow", "--bundle", str(bundle_path), "--policy",
                 str(pytester.path / "mlgate.toml"), "--json"]) == code
    decision = json.loads(capsys.readouterr().out)
    assert decision["verdict"] == verdict
    reasons = {r["rule"]: r["status"] for r in decision["reasons"]}
    assert reasons["bound:evidently_failed_tests"] == ("pass" if verdict == "promote" else "fail")
