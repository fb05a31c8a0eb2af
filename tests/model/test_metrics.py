"""Metrics with intervals: values against scikit-learn, intervals against direct formulas and
published values, the bootstrap's reproducibility, coverage, and bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from mlgate.errors import InputError
from mlgate.model.intervals import delong, wilson
from mlgate.model.metrics import classification_metrics, regression_metrics
from mlgate.record import CheckResult, Metric


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# -- agreement with scikit-learn ----------------------------------------------------------------

scores = st.one_of(
    st.floats(0, 1, allow_nan=False, allow_subnormal=False),
    st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]),  # ties, and scores exactly at the threshold
)


@st.composite
def binary_data(draw):
    n = draw(st.integers(1, 60))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    s = np.array(draw(st.lists(scores, min_size=n, max_size=n)), dtype=float)
    threshold = draw(st.sampled_from([0.5, 0.3, 0.9]))
    return y, s, threshold


@given(binary_data())
def test_binary_metrics_agree_with_sklearn(data):
    y, s, threshold = data
    result = classification_metrics(y, s, threshold=threshold, n_boot=100)
    pred = (s >= threshold).astype(int)
    nan = np.nan
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, zero_division=nan),
        "recall": skm.recall_score(y, pred, zero_division=nan),
        "f1": skm.f1_score(y, pred, zero_division=nan),
        "log_loss": skm.log_loss(y, s, labels=[0, 1]),
        "brier": skm.brier_score_loss(y, s, pos_label=1),
    }
    if 0 < y.sum() < len(y):
        expected["roc_auc"] = skm.roc_auc_score(y, s)
    if y.sum() > 0:
        expected["pr_auc"] = skm.average_precision_score(y, s)
    for name, want in expected.items():
        got = result[name].value
        if math.isnan(want):
            assert math.isnan(got), name
        else:
            assert close(got, want), (name, got, want)
    if y.sum() in (0, len(y)):
        assert math.isnan(result["roc_auc"].value)
    if y.sum() == 0:
        assert math.isnan(result["pr_auc"].value)
    for e in result.estimates:  # every finite value lies in its interval
        if math.isfinite(e.value) and e.interval is not None:
            assert e.low - 1e-12 <= e.value <= e.high + 1e-12, e


@st.composite
def label_data(draw):
    n = draw(st.integers(1, 60))
    labels = st.sampled_from([0, 1, 2, 3])
    y = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    pred = np.array(draw(st.lists(labels, min_size=n, max_size=n)))
    if len(np.unique(np.concatenate([y, pred]))) <= 2 and set(np.unique(y)) <= {0, 1}:
        y = y + 2  # labels, not 0/1: keep to the label path
        pred = pred + 2
    return y, pred


@given(label_data())
def test_multiclass_metrics_agree_with_sklearn_macro(data):
    y, pred = data
    result = classification_metrics(y, pred, n_boot=100)
    assert result.task == "labels"
    nan = np.nan
    expected = {
        "accuracy": skm.accuracy_score(y, pred),
        "precision": skm.precision_score(y, pred, average="macro", zero_division=nan),
        "recall": skm.recall_score(y, pred, average="macro", zero_division=nan),
        "f1": skm.f1_score(y, pred, average="macro", zero_division=nan),
    }
    for name, want in expected.items():
        got = result[name].value
        assert (math.isnan(got) and math.isnan(want)) or close(got, want), (name, got, want)


def test_probability_matrix_and_string_labels():
    y = np.array(["cat", "dog", "eel", "dog", "cat", "eel"])
    proba = np.array([[.8, .1, .1], [.2, .7, .1], [.1, .1, .8], [.6, .3, .1], [.5, .4, .1],
                      [.1, .2, .7]])
    result = classification_metrics(y, proba, n_boot=100)
    pred = np.array(["cat", "dog", "eel", "cat", "cat", "eel"])
    assert close(result["accuracy"].value, skm.accuracy_score(y, pred))
    assert close(result["f1"].value, skm.f1_score(y, pred, average="macro"))
    two = classification_metrics([0, 1, 1, 0], np.array([[.9, .1], [.2, .8], [.6, .4], [.3, .7]]),
                                 n_boot=100)
    assert two.task == "binary"
    assert close(two["roc_auc"].value, skm.roc_auc_score([0, 1, 1, 0], [.1, .8, .4, .7]))


finite = st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False)


@st.composite
def regression_data(draw):
    n = draw(st.integers(1, 60))
    y = np.array(draw(st.lists(finite, min_size=n, max_size=n)))
    p = np.array(draw(st.lists(finite, min_size=n, max_size=n)))
    return y, p


@given(regression_data())
def test_regression_metrics_agree_with_sklearn(data):
    y, p = data
    result = regression_metrics(y, p, n_boot=100)
    assert close(result["mae"].value, skm.mean_absolute_error(y, p))
    assert close(result["rmse"].value, skm.root_mean_squared_error(y, p))
    assert close(result["mape"].value, skm.mean_absolute_percentage_error(y, p))
    if ((y - y.mean()) ** 2).sum() > 0:
        assert close(result["r2"].value, skm.r2_score(y, p))
    else:  # scikit-learn forces 1.0 or 0.0 here; mlgate fails closed
        assert math.isnan(result["r2"].value)
        assert "constant" in result["r2"].note


def test_larger_data_agrees_with_sklearn():
    rng = np.random.default_rng(7)
    n = 20_000
    y = rng.integers(0, 2, n)
    s = np.clip(0.35 * y + 0.65 * rng.random(n), 0, 1).round(3)  # many ties
    result = classification_metrics(y, s, n_boot=200)
    assert close(result["roc_auc"].value, skm.roc_auc_score(y, s))
    assert close(result["pr_auc"].value, skm.average_precision_score(y, s))
    assert close(result["log_loss"].value, skm.log_loss(y, s))
    assert close(result["brier"].value, skm.brier_score_loss(y, s))


# -- intervals ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("k", "n", "low", "high"), [
    # Newcombe (1998), Statistics in Medicine 17:857-872, Table II, method 3 (Wilson score)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_published_values(k, n, low, high):
    lo, hi = wilson(k, n, 0.95)
    assert lo == pytest.approx(low, abs=6e-5)
    assert hi == pytest.approx(high, abs=6e-5)


def test_wilson_is_the_score_formula():
    from scipy.stats import norm

    for k, n, level in [(3, 10, 0.9), (50, 50, 0.95), (123, 1000, 0.99)]:
        z = norm.ppf(0.5 + level / 2)
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        lo, hi = wilson(k, n, level)
        assert close(lo, max(0, centre - half)) and close(hi, min(1, centre + half))


def slow_delong(y, scores):
    """O(n_pos x n_neg) DeLong: structural components from the kernel psi directly."""
    scores = np.atleast_2d(scores)
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    v10 = psi.mean(axis=2)  # (k, m)
    v01 = psi.mean(axis=1)  # (k, n)
    k = scores.shape[0]
    s = np.cov(v10).reshape(k, k) / pos.shape[1] + np.cov(v01).reshape(k, k) / neg.shape[1]
    return v10.mean(axis=1), s


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_delong_equals_the_quadratic_definition(seed):
    rng = np.random.default_rng(seed)
    n = 300
    y = (rng.random(n) < 0.4).astype(int)
    s1 = (rng.normal(size=n) + y).round(1)  # ties
    s2 = s1 + rng.normal(scale=0.5, size=n)
    aucs, cov = delong(y, np.vstack([s1, s2]))
    ref_aucs, ref_cov = slow_delong(y, np.vstack([s1, s2]))
    np.testing.assert_allclose(aucs, ref_aucs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-10, atol=1e-15)
    assert close(aucs[0], skm.roc_auc_score(y, s1))


def test_roc_auc_interval_is_delong_wald():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    s = rng.random(500) + 0.3 * y
    result = classification_metrics(y, s, metrics=["roc_auc"])
    auc, cov = slow_delong(y, s)
    half = 1.959963984540054 * math.sqrt(cov[0, 0])
    e = result["roc_auc"]
    assert e.method == "delong"
    assert e.low == pytest.approx(auc[0] - half, abs=1e-10)
    assert e.high == pytest.approx(auc[0] + half, abs=1e-10)


def test_methods_per_metric():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = rng.random(200)
    result = classification_metrics(y, s, n_boot=200)
    methods = {e.metric: e.method for e in result.estimates}
    assert methods == {"accuracy": "wilson", "precision": "wilson", "recall": "wilson",
                       "f1": "bootstrap-percentile", "roc_auc": "delong",
                       "pr_auc": "bootstrap-percentile", "log_loss": "bootstrap-percentile",
                       "brier": "bootstrap-percentile"}
    boot = classification_metrics(y, rng.random(200), n_boot=200, method="bootstrap")
    assert {e.method for e in boot.estimates} == {"bootstrap-percentile"}
    assert result["precision"].n == int((s >= 0.5).sum())  # Wilson over the predicted positives
    assert result["recall"].n == int(y.sum())  # over the positives


def test_bootstrap_is_reproducible_with_a_seed():
    rng = np.random.default_rng(5)
    y, p = rng.normal(size=300), rng.normal(size=300)
    a = regression_metrics(y, p, n_boot=300, seed=11)
    b = regression_metrics(y, p, n_boot=300, seed=11)
    c = regression_metrics(y, p, n_boot=300, seed=12)
    assert a == b
    assert [e.low for e in a.estimates] != [e.low for e in c.estimates]
    assert a.evidence()["seed"] == 11 and a.evidence()["n_boot"] == 300


def test_bootstrap_interval_matches_a_plain_loop():
    """The vectorised replicates equal a per-replicate loop over the same resampled rows."""
    from mlgate.model.intervals import bootstrap_weights

    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 80)
    s = rng.random(80).round(1)
    counts = np.concatenate(list(bootstrap_weights(80, 150, seed=4)))
    loop = []
    for w in counts:
        idx = np.repeat(np.arange(80), w.astype(int))
        loop.append(skm.average_precision_score(y[idx], s[idx]) if y[idx].any() else np.nan)
    result = classification_metrics(y, s, metrics=["pr_auc"], n_boot=150, seed=4)
    loop = np.array(loop)
    lo, hi = np.quantile(loop[np.isfinite(loop)], [0.025, 0.975])
    assert result["pr_auc"].low == pytest.approx(lo, abs=1e-12)
    assert result["pr_auc"].high == pytest.approx(hi, abs=1e-12)


def test_wilson_interval_covers_the_true_accuracy():
    rng = np.random.default_rng(2024)
    truth, n, trials = 0.8, 100, 400
    covered = 0
    for _ in range(trials):
        y = rng.integers(0, 2, n)
        right = rng.random(n) < truth
        pred = np.where(right, y, 1 - y).astype(float)
        e = classification_metrics(y, pred, metrics=["accuracy"])["accuracy"]
        covered += e.low <= truth <= e.high
    assert covered / trials >= 0.90


# -- the check result ---------------------------------------------------------------------------

def test_result_is_a_check_result_with_thresholds_and_directions():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    s = np.clip(0.3 * y + 0.7 * rng.random(300), 0, 1)
    result = classification_metrics(y, s, n_boot=200, prefix="holdout_",
                                    thresholds={"roc_auc": 0.99, "log_loss": 5.0})
    assert isinstance(result, CheckResult)
    assert result.name == "metrics"
    by_name = {m.name: m for m in result.metrics()}
    assert set(by_name) == {f"holdout_{m}" for m in ("accuracy", "precision", "recall", "f1",
                                                      "roc_auc", "pr_auc", "log_loss", "brier")}
    assert by_name["holdout_log_loss"].direction == "lower"
    assert by_name["holdout_brier"].direction == "lower"
    assert by_name["holdout_roc_auc"].direction == "higher"
    assert by_name["holdout_roc_auc"].threshold == 0.99
    assert by_name["holdout_accuracy"].threshold is None
    assert all(isinstance(m, Metric) and m.interval.level == 0.95 for m in by_name.values())
    failures = result.failures()
    assert len(failures) == 1 and failures[0].startswith("holdout_roc_auc = ")
    assert "must be >= 0.99" in failures[0]
    json.dumps(result.evidence(), allow_nan=False)


def test_regression_directions():
    result = regression_metrics([1.0, 2.0, 3.0, 4.0], [1.1, 1.9, 3.2, 3.7], n_boot=100,
                                thresholds={"r2": 0.9, "mae": 0.1})
    directions = {m.name: m.direction for m in result.metrics()}
    assert directions == {"mae": "lower", "rmse": "lower", "r2": "higher", "mape": "lower"}
    assert [f.split(" ")[0] for f in result.failures()] == ["mae"]


# -- bad input ----------------------------------------------------------------------------------

def test_one_class_only_is_nan_and_a_failure_never_a_pass():
    y = np.zeros(50, dtype=int)
    s = np.linspace(0, 1, 50)
    result = classification_metrics(y, s, n_boot=100, thresholds={"roc_auc": 0.5})
    auc = result["roc_auc"]
    assert math.isnan(auc.value) and auc.interval is None and auc.method == "undefined"
    text = "\n".join(result.failures())
    assert "roc_auc is nan: y_true has one class only" in text
    assert "pr_auc is nan" in text and "recall is nan" in text
    metric = {m.name: m for m in result.metrics()}["roc_auc"]
    assert metric.passed is False
    json.dumps(result.evidence(), allow_nan=False)  # NaN written as "NaN"
    assert result.evidence()["metrics"]["roc_auc"]["value"] == "NaN"


def test_nothing_predicted_positive_gives_nan_precision():
    result = classification_metrics([0, 1, 1, 0], [0.1, 0.2, 0.3, 0.4], n_boot=100)
    assert math.isnan(result["precision"].value)
    assert "no row is predicted positive" in result["precision"].note


@pytest.mark.parametrize(("y", "s", "message"), [
    ([0, 1, 1], [0.2, 0.8], "y_true has 3 rows but y_score has 2"),
    ([], [], "y_true is empty"),
    ([0, 1, 1], [0.2, np.nan, 0.5], "y_score has NaN, infinite or missing values in 1 row (e.g. 1)"),
    ([0, 1, 1], [0.2, np.inf, 0.5], "y_score has NaN, infinite or missing values"),
    ([0, np.nan, 1], [0.2, 0.1, 0.5], "y_true has missing or non-finite values"),
    ([0, 1, 1], [0.2, 1.5, 0.5], "y_score is outside [0, 1] in 1 row (e.g. 1)"),
    ([0, 1, 2], [[.5, .5], [.1, .9], [.3, .7]], "y_score has 2 probability columns but y_true has 3"),
    ([[0, 1], [1, 0]], [0.2, 0.8], "y_true has shape (2, 2)"),
    (["no", "yes"], [0.2, 0.8], "y_true holds <U3 labels but y_score holds float64 values"),
    ([0, 1, 2], [0.2, 0.8, 0.5], "y_score holds fractional numbers, but y_true has classes other than 0/1"),
])
def test_bad_input_is_a_clear_input_error(y, s, message):
    with pytest.raises(InputError) as info:
        classification_metrics(y, s, n_boot=100)
    assert message in str(info.value)
    assert "fix:" in str(info.value) or "shape" in str(info.value)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"metrics": ["auc"]}, "metric 'auc' cannot be computed"),
    ({"thresholds": {"mae": 1}}, "thresholds names 'mae'"),
    ({"thresholds": {"accuracy": float("nan")}}, "is not a finite number"),
    ({"level": 1.5}, "level=1.5 is not in (0, 1)"),
    ({"n_boot": 10}, "at least 100 replicates"),
    ({"method": "exact"}, "method='exact'"),
    ({"metrics": []}, "no metrics asked for"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(InputError, match=None) as info:
        classification_metrics([0, 1, 1, 0], [0.1, 0.9, 0.6, 0.3], **kwargs)
    assert message in str(info.value)


def test_score_metrics_on_labels_are_refused():
    with pytest.raises(InputError, match="roc_auc.*cannot be computed for a labels task"):
        classification_metrics([0, 1, 2], [0, 1, 1], metrics=["roc_auc"])


def test_decision_scores_are_fine_without_probability_metrics():
    y = [0, 0, 1, 1]
    s = [-2.0, 0.5, 1.0, 3.0]
    result = classification_metrics(y, s, metrics=["roc_auc"], threshold=0.0)
    assert close(result["roc_auc"].value, skm.roc_auc_score(y, s))


def test_regression_bad_input():
    with pytest.raises(InputError, match="y_true has 2 rows but y_pred has 3"):
        regression_metrics([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(InputError, match="y_pred has NaN"):
        regression_metrics([1.0, 2.0], [1.0, np.nan])
    with pytest.raises(InputError, match="1-D numeric"):
        regression_metrics(["a", "b"], [1.0, 2.0])
