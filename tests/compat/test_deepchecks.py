"""mlgate-deepchecks against a real Deepchecks 0.19 run: planted drift fails, none passes, no
silent sampling, HTML replaced (never "name (1).html"), warnings kept inside, lazy import."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from compat_frames import frames

from mlgate.bundle import Bundle
from mlgate_deepchecks import DeepchecksResult, run_deepchecks

NOISY_CHECK = '''
import warnings
from deepchecks.core import CheckResult, ConditionCategory, ConditionResult
from deepchecks.tabular import TrainTestCheck


class NoisyCheck(TrainTestCheck):
    """Warns as much as a full suite on today's scikit-learn does (1,282 seen), then passes."""

    def run_logic(self, context):
        for i in range(1500):
            warnings.warn(f"old API number {i % 3}", DeprecationWarning)
        return CheckResult(len(context.train.data))

    def add_condition_rows_at_least(self, n):
        return self.add_condition(
            f"train has at least {n} rows",
            lambda rows: ConditionResult(ConditionCategory.PASS if rows >= n else ConditionCategory.FAIL,
                                         f"{rows} rows"))
'''


def feature_drift(**kwargs):
    from deepchecks.tabular.checks import FeatureDrift

    return FeatureDrift(**kwargs).add_condition_drift_score_less_than()


def run_drift(frames_pair, **kwargs) -> DeepchecksResult:
    train, test = frames_pair
    return run_deepchecks(feature_drift(), train=train, test=test, label="label",
                          cat_features=["city"], **kwargs)


def test_importing_the_plugin_imports_no_deepchecks() -> None:
    code = ("import sys, mlgate_deepchecks; mlgate_deepchecks.__version__; "
            "print(sorted(m for m in ('deepchecks', 'pandas', 'numpy', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_planted_drift_fails(drifted) -> None:
    result = run_drift(drifted)
    assert result.name == "deepchecks"
    [failure] = result.failures()
    assert failure.startswith("Feature Drift: categorical drift score < 0.2 and numerical drift score "
                              "< 0.2 [failed]")
    assert "income" in failure
    metrics = {m.name: m for m in result.metrics()}
    assert metrics["deepchecks_failed_conditions"].value == 1.0
    assert metrics["deepchecks.feature_drift.income.drift_score"].value > 0.5
    assert metrics["deepchecks.feature_drift.age.drift_score"].value < 0.1
    [condition] = result.evidence()["conditions"]
    assert condition["status"] == "failed" and condition["check"] == "Feature Drift"


def test_no_drift_passes(same) -> None:
    result = run_drift(same)
    assert result.failures() == []
    assert result.evidence()["counts"] == {"passed": 1}


def test_every_row_is_used_unless_told(same) -> None:
    train, test = frames(rows=3000)
    default = run_drift((train, test))
    assert default.n_samples["Feature Drift"] >= 3000
    assert default.rows == {"train": 3000, "test": 3000}
    sampled = run_drift((train, test), n_samples=1000)
    assert sampled.n_samples == {"Feature Drift": 1000}
    kept = run_deepchecks(feature_drift(n_samples=50), train=train, test=test, label="label",
                          n_samples=None)
    assert kept.n_samples == {"Feature Drift": 50}
    with pytest.raises(ValueError, match="n_samples=0: use 'all', a positive int, or None"):
        run_drift((train, test), n_samples=0)


def test_html_is_replaced_not_numbered(same, tmp_path: Path) -> None:
    target = tmp_path / "deepchecks.html"
    target.write_text("old")
    for _ in range(2):
        result = run_drift(same, html=target)
    assert result.evidence()["html"] == target.as_posix()
    assert [p.name for p in tmp_path.iterdir()] == ["deepchecks.html"]
    assert target.stat().st_size > 10_000


def test_a_suite_without_conditions_is_a_failure(same) -> None:
    from deepchecks.tabular.checks import FeatureDrift

    result = run_deepchecks(FeatureDrift(), train=same[0], test=same[1], label="label")
    assert "Deepchecks evaluated no condition" in result.failures()[0]


def test_a_lone_check_that_cannot_run_fails(same) -> None:
    from deepchecks.tabular.checks import DateTrainTestLeakageOverlap

    check = DateTrainTestLeakageOverlap().add_condition_leakage_ratio_less_or_equal()
    result = run_deepchecks(check, train=same[0], test=same[1], label="label")
    assert [c.status for c in result.conditions] == ["not-run"]
    assert "did not run [not-run]" in result.failures()[0]


def test_records_in_the_bundle_and_warnings_kept_inside(pytester: pytest.Pytester) -> None:
    train, test = frames(drift=True)
    train.to_pickle(pytester.path / "train.pkl")
    test.to_pickle(pytester.path / "test.pkl")
    pytester.makepyfile(noisy=NOISY_CHECK)
    pytester.makepyfile(test_data="""
        import pandas as pd
        import pytest
        from deepchecks.tabular import Suite
        from deepchecks.tabular.checks import FeatureDrift
        from mlgate_deepchecks import run_deepchecks
        from noisy import NoisyCheck

        @pytest.mark.data
        def test_noisy_but_fine(mlgate):
            train = pd.read_pickle("train.pkl")
            mlgate.check(run_deepchecks(NoisyCheck().add_condition_rows_at_least(100), train=train,
                                        test=train, label="label", name="deepchecks_noisy"))

        @pytest.mark.data
        def test_drift(mlgate):
            suite = Suite("drift", FeatureDrift().add_condition_drift_score_less_than())
            mlgate.check(run_deepchecks(suite, train=pd.read_pickle("train.pkl"),
                                        test=pd.read_pickle("test.pkl"), label="label",
                                        cat_features=["city"], html="reports/deepchecks.html"))
    """)
    result = pytester.runpytest("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mlgate deepchecks check failed:*", "*Feature Drift: *[[]failed[]]*"])
    out = result.stdout.str() + result.stderr.str()
    assert "warnings summary" not in out and "DeprecationWarning" not in out
    assert "Feature Drift]" not in out  # Deepchecks' progress bar
    bundle = Bundle.read(pytester.path / "reports" / "results.json")
    tests = {t.nodeid: t for t in bundle.tests}
    noisy = tests["test_data.py::test_noisy_but_fine"]
    assert noisy.outcome == "passed"
    warned = noisy.evidence["deepchecks_noisy"]["warnings"]
    assert warned["count"] >= 1500
    assert warned["distinct"] == [f"DeprecationWarning: old API number {i}" for i in range(3)]
    drift = tests["test_data.py::test_drift"]
    assert drift.outcome == "failed"
    assert {m.name: m.value for m in drift.metrics}["deepchecks_failed_conditions"] == 1.0
    evidence = drift.evidence["deepchecks"]
    assert evidence["html"] == "reports/deepchecks.html"
    assert (pytester.path / "reports" / "deepchecks.html").stat().st_size > 10_000
    assert evidence["conditions"][0]["status"] == "failed"
