"""`mlgate gate` end to end on files: exit codes, words, JSON, input errors, fail-closed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlgate.bundle import Bundle, ModelRef, format_time, utc_now
from mlgate.cli import main
from mlgate.record import Interval, Metric, TestRecord

pytest_plugins = ["pytester"]

POLICY = """
model = "iris"
[require]
families = ["model"]
tests = ["test_model.py::test_accuracy"]
[[rule]]
kind = "bound"
metric = "accuracy"
min = 0.9
"""


def make_bundle(path: Path, *, accuracy: float = 0.95, outcome: str = "passed",
                interval: Interval | None = None, version: str = "2") -> Bundle:
    bundle = Bundle(
        created_at=format_time(utc_now()), model=ModelRef("iris", version), commit="abc1234def",
        tests=(TestRecord("test_model.py::test_accuracy", outcome, ("model",),
                          (Metric("accuracy", accuracy, interval=interval),)),),
    ).sealed()
    bundle.write(path)
    return bundle


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlgate.toml").write_text(POLICY)
    return tmp_path


def test_promote_prints_every_rule_and_exits_0(project, capsys) -> None:
    make_bundle(project / "reports" / "results.json")
    code = main(["gate", "-p", "no:mlflow", "--bundle", "reports/results.json"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == "mlgate: PROMOTE  iris v2  (no champion yet)"
    assert "  ok   bound:accuracy: accuracy = 0.95 >= 0.9" in out.splitlines()
    saved = json.loads((project / "reports" / "decision.json").read_text())
    assert saved["verdict"] == "promote"


def test_reject_as_json_has_one_reason_per_rule(project, capsys) -> None:
    make_bundle(project / "reports" / "results.json", accuracy=0.8)
    code = main(["gate", "-p", "no:mlflow", "--bundle", "reports/results.json", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["verdict"] == "reject"
    rules = [r["rule"] for r in data["reasons"]]
    assert rules == ["integrity", "binding", "freshness", "tests", "require.family:model",
                     "require.test:test_model.py::test_accuracy", "bound:accuracy"]
    bound = data["reasons"][-1]
    assert bound == {"rule": "bound:accuracy", "status": "fail", "observed": 0.8, "threshold": 0.9,
                     "message": "accuracy = 0.8 is below the minimum 0.9"}


def test_needs_review_exit_3_when_interval_straddles_margin(project, capsys) -> None:
    (project / "mlgate.toml").write_text(
        POLICY + '[[rule]]\nkind = "champion"\nmetric = "accuracy"\nmargin = 0.01\n')
    make_bundle(project / "champion.json", accuracy=0.95, version="1")
    make_bundle(project / "reports" / "results.json", accuracy=0.945,
                interval=Interval(0.90, 0.98))
    code = main(["gate", "-p", "no:mlflow", "--baseline", "champion.json", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert (code, data["verdict"]) == (3, "needs-review")
    assert data["reasons"][-1]["status"] == "review"
    assert "straddles the margin" in data["reasons"][-1]["message"]


def test_skipped_required_test_is_not_promoted(pytester: pytest.Pytester, capsys) -> None:
    """Through a real pytest run: the required test is skipped, so the gate rejects."""
    pytester.makepyfile(test_model="""
        import pytest
        @pytest.mark.model
        def test_accuracy(mlgate):
            mlgate.metric("accuracy", 0.97)
            pytest.skip("data not available")
    """)
    pytester.makefile(".toml", mlgate=POLICY)
    pytester.runpytest("--mlgate-model", "iris", "--mlgate-model-version", "2",
                       "-p", "no:cacheprovider").assert_outcomes(skipped=1)
    code = main(["gate", "-p", "no:mlflow", "--bundle", str(pytester.path / "reports" / "results.json"),
                 "--policy", str(pytester.path / "mlgate.toml")])
    out = capsys.readouterr().out
    assert code == 1
    assert ("  FAIL require.test:test_model.py::test_accuracy: required test "
            "test_model.py::test_accuracy was skipped: Skipped: data not available") in out


def test_tampered_bundle_is_rejected(project, capsys) -> None:
    path = project / "reports" / "results.json"
    make_bundle(path, accuracy=0.5)
    raw = json.loads(path.read_text())
    raw["tests"][0]["metrics"][0]["value"] = 0.99  # edit the number, keep the old digest
    path.write_text(json.dumps(raw))
    code = main(["gate", "-p", "no:mlflow", "--bundle", str(path)])
    assert code == 1
    assert "FAIL integrity: bundle digest" in capsys.readouterr().out


def test_other_model_version_is_rejected(project, capsys) -> None:
    make_bundle(project / "reports" / "results.json", version="2")
    assert main(["gate", "-p", "no:mlflow", "--model-version", "3"]) == 1
    assert "the bundle tested iris v2, but version 3 is being decided" in capsys.readouterr().out


def test_same_inputs_same_decision_id(project, capsys) -> None:
    make_bundle(project / "reports" / "results.json")
    main(["gate", "-p", "no:mlflow", "--json"])
    first = json.loads(capsys.readouterr().out)["id"]
    main(["gate", "-p", "no:mlflow", "--json"])
    assert json.loads(capsys.readouterr().out)["id"] == first


@pytest.mark.parametrize(
    ("policy", "bundle", "expected"),
    [
        ("model = [", None, "mlgate.toml: not valid TOML"),
        ('[[rule]]\nkind = "magic"\nmetric = "x"\n', None,
         "mlgate.toml: rule[0].kind: unknown rule kind 'magic'"),
        (POLICY, "{not json", "results.json: not valid JSON"),
        (POLICY, '{"schema": "mlgate.bundle/99"}', "results.json: schema: schema is 'mlgate.bundle/99'"),
        (POLICY, "missing", "results.json: no such file"),
    ],
)
def test_input_errors_exit_2_with_file_and_key(project, capsys, policy, bundle, expected) -> None:
    (project / "mlgate.toml").write_text(policy)
    path = project / "reports" / "results.json"
    if bundle is None:
        make_bundle(path)
    elif bundle != "missing":
        path.parent.mkdir(exist_ok=True)
        path.write_text(bundle)
    code = main(["gate", "-p", "no:mlflow"])
    err = capsys.readouterr().err
    assert code == 2
    assert expected in err
    assert "fix:" in err
    assert not (project / "reports" / "decision.json").exists()  # nothing half-written


def test_help_teaches_exit_codes() -> None:
    out = subprocess.run([sys.executable, "-m", "mlgate", "gate", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for line in ("  0  promote", "  1  reject", "  3  needs-review", "  2  input error"):
        assert line in out


def test_regating_the_champion_does_not_compare_it_with_itself(project, capsys) -> None:
    (project / "mlgate.toml").write_text(
        POLICY + '[[rule]]\nkind = "champion"\nmetric = "accuracy"\nmargin = 0.01\n')
    make_bundle(project / "champion.json", accuracy=0.95, version="2",
                interval=Interval(0.90, 0.98))
    make_bundle(project / "reports" / "results.json", accuracy=0.95, version="2",
                interval=Interval(0.90, 0.98))
    assert main(["gate", "-p", "no:mlflow", "--baseline", "champion.json"]) == 0
    assert ("  ok   champion:accuracy: iris v2 is the champion itself: accuracy = 0.95 is not "
            "compared with itself") in capsys.readouterr().out.splitlines()


def test_schema_infer_writes_a_schema_that_validates_its_own_data(tmp_path, capsys) -> None:
    import pandas as pd

    from mlgate.data.schema import validate

    frame = pd.DataFrame({"age": [20, 35, 61], "city": ["Oslo", "Lima", "Oslo"]})
    frame.to_parquet(tmp_path / "ref.parquet")
    assert main(["schema", "infer", str(tmp_path / "ref.parquet"), "-o",
                 str(tmp_path / "schema.yaml")]) == 0
    assert "next: review" in capsys.readouterr().err
    assert validate(frame, tmp_path / "schema.yaml").failures() == []
    bad = frame.assign(age=[20, 35, 200])
    assert validate(bad, tmp_path / "schema.yaml").failures() == [
        "column 'age': check less_than_or_equal_to(61.0) failed on 1 row, e.g. 200"]
