"""mlgate-evidently against a real Evidently 0.7 run: planted drift fails, none passes, the
records and the HTML land in the bundle, warnings stay inside, and the import is lazy."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from compat_frames import frames

from mlgate.bundle import Bundle
from mlgate_evidently import EvidentlyResult, run_evidently


def evidently_api():
    with warnings.catch_warnings():  # import evidently warns (Litestar deprecations)
        warnings.simplefilter("ignore")
        from evidently import Report
        from evidently.presets import DataDriftPreset
    return Report, DataDriftPreset


def test_importing_the_plugin_imports_no_evidently() -> None:
    code = ("import sys, mlgate_evidently; mlgate_evidently.__version__; "
            "print(sorted(m for m in ('evidently', 'pandas', 'numpy', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_planted_drift_fails_on_its_column_only(drifted) -> None:
    reference, current = drifted
    result = run_evidently(reference, current)
    assert isinstance(result, EvidentlyResult) and result.name == "evidently"
    failures = result.failures()
    assert len(failures) == 1 and failures[0].startswith("Value Drift for column income [failed]")
    metrics = {m.name: m for m in result.metrics()}
    income = metrics["evidently.ValueDrift[income].drift"]
    assert income.threshold == 0.1 and income.direction == "lower" and income.passed is False
    assert metrics["evidently.ValueDrift[age].drift"].passed is True
    assert metrics["evidently_failed_tests"].value == 1.0
    assert metrics["evidently_failed_tests"].passed is False
    statuses = {t["name"]: t["status"] for t in result.evidence()["tests"]}
    assert statuses["Value Drift for column income"] == "failed"
    assert statuses["Value Drift for column city"] == "passed"


def test_no_drift_passes(same) -> None:
    result = run_evidently(*same)
    assert result.failures() == []
    assert len(result.tests) == 5  # the share of drifted columns, and one per column
    assert {m.name: m.value for m in result.metrics()}["evidently_failed_tests"] == 0.0


def test_thresholds_agree_with_evidentlys_verdicts_on_p_values() -> None:
    """Below 1,000 rows Evidently tests p-values (drift when small): direction 'higher'."""
    reference, current = frames(rows=400, drift=True)
    result = run_evidently(reference, current)
    kept = [t for t in result.tests if t.threshold is not None]
    assert any(t.direction == "higher" for t in kept)
    for t in kept:
        metric = next(m for m in result.metrics() if m.name == t.metric)
        assert metric.passed == (t.status == "passed"), t


def test_a_users_report_gets_tests_and_is_not_changed(drifted) -> None:
    report_cls, preset = evidently_api()
    report = report_cls([preset(columns=["income"])])  # Evidently's default: include_tests=False
    result = run_evidently(*drifted, metrics=report)
    assert report.include_tests is False
    # one column tested, and it drifted: the share of drifted columns fails as well
    assert sorted(t.metric for t in result.failed) == [
        "evidently.DriftedColumnsCount.share.lt", "evidently.ValueDrift[income].drift"]


def test_no_tests_at_all_is_a_failure_not_a_pass(same) -> None:
    result = run_evidently(*same, include_tests=False)
    assert result.tests == ()
    assert "Evidently ran no tests" in result.failures()[0]


def test_html_written_for_a_path_object(same, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "drift.html"  # Evidently alone writes nothing for a Path
    result = run_evidently(*same, html=target)
    assert result.evidence()["html"] == target.as_posix()
    assert target.stat().st_size > 10_000


def test_records_and_html_in_the_bundle(pytester: pytest.Pytester) -> None:
    reference, current = frames(drift=True)
    reference.to_pickle(pytester.path / "reference.pkl")
    current.to_pickle(pytester.path / "drifted.pkl")
    reference.to_pickle(pytester.path / "same.pkl")
    pytester.makepyfile(test_data="""
        import pandas as pd
        import pytest
        from mlgate_evidently import run_evidently

        @pytest.mark.data
        def test_stable(mlgate):
            mlgate.check(run_evidently(pd.read_pickle("reference.pkl"), pd.read_pickle("same.pkl"),
                                       name="evidently_stable"))

        @pytest.mark.data
        def test_drifted(mlgate):
            mlgate.check(run_evidently(pd.read_pickle("reference.pkl"), pd.read_pickle("drifted.pkl"),
                                       html="reports/evidently-drift.html"))
    """)
    result = pytester.runpytest("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mlgate evidently check failed:*",
                                 "*Value Drift for column income [[]failed[]]: Drift score is*"])
    assert "warnings summary" not in result.stdout.str()
    bundle = Bundle.read(pytester.path / "reports" / "results.json")
    tests = {t.nodeid: t for t in bundle.tests}
    drifted = tests["test_data.py::test_drifted"]
    assert drifted.outcome == "failed" and drifted.families == ("data",)
    metrics = {m.name: m for m in drifted.metrics}
    assert metrics["evidently_failed_tests"].value == 1.0
    assert metrics["evidently.ValueDrift[income].drift"].passed is False
    evidence = drifted.evidence["evidently"]
    assert evidence["html"] == "reports/evidently-drift.html"
    assert evidence["counts"] == {"failed": 1, "passed": 4}
    assert (pytester.path / evidence["html"]).stat().st_size > 10_000
    stable = tests["test_data.py::test_stable"]
    assert stable.outcome == "passed"
    assert {m.name: m.value for m in stable.metrics}["evidently_stable_failed_tests"] == 0.0
    assert stable.evidence["evidently_stable"]["html"] is None
