"""Calibration: ECE, MCE, the reliability curve (as scikit-learn's), the bootstrap interval."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.calibration import calibration_curve

from mlgate.errors import InputError
from mlgate.model.calibration import calibration
from mlgate.record import CheckResult


def test_hand_computed_example():
    # bins [0, .5] and (.5, 1]: {.1, .4} -> predicted .25, observed 0; {.8, .9} -> .85, observed 1
    r = calibration([0, 0, 1, 1], [0.1, 0.4, 0.8, 0.9], n_bins=2, max_ece=0.1, n_boot=50)
    assert isinstance(r, CheckResult) and r.name == "calibration"
    assert r.ece == pytest.approx(0.2, abs=1e-15)  # 0.5 * 0.25 + 0.5 * 0.15
    assert r.mce == pytest.approx(0.25, abs=1e-15)
    assert [(b.low, b.high, b.count) for b in r.curve] == [(0.0, 0.5, 2), (0.5, 1.0, 2)]
    assert [b.mean_predicted for b in r.curve] == pytest.approx([0.25, 0.85])
    assert [b.observed for b in r.curve] == [0.0, 1.0]
    m = {m.name: m for m in r.metrics()}
    assert (m["calibration_ece"].threshold, m["calibration_ece"].direction) == (0.1, "lower")
    assert m["calibration_ece"].interval.low <= r.ece <= m["calibration_ece"].interval.high
    assert m["calibration_mce"].threshold is None
    assert r.failures() == [
        f"expected calibration error 0.2 (interval {r.ece_interval.low:.4g}..{r.ece_interval.high:.4g}) "
        "is above max_ece=0.1; the worst bin [0, 0.5] (2 rows) predicts 0.25 and observes 0"]
    ev = json.loads(json.dumps(r.evidence(), allow_nan=False))
    assert ev["reliability_curve"][1] == {"low": 0.5, "high": 1.0, "mean_predicted": pytest.approx(0.85),
                                          "observed": 1.0, "count": 2}


def test_edges_go_to_the_lower_bin_and_empty_bins_are_dropped():
    r = calibration([0, 1, 1, 0], [0.0, 0.5, 1.0, 0.2], n_bins=4, max_ece=None, n_boot=10)
    assert [(b.low, b.count) for b in r.curve] == [(0.0, 2), (0.25, 1), (0.75, 1)]


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_curve_agrees_with_sklearn(strategy):
    rng = np.random.default_rng(7)
    p = rng.beta(2, 5, 3000)
    y = (rng.random(3000) < p**1.3).astype(int)
    r = calibration(y, p, n_bins=12, strategy=strategy, n_boot=50)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=12, strategy=strategy)
    assert [b.observed for b in r.curve] == pytest.approx(prob_true, abs=1e-12)
    assert [b.mean_predicted for b in r.curve] == pytest.approx(prob_pred, abs=1e-12)


@given(st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=2, max_size=60), st.integers(1, 15))
def test_curve_and_ece_agree_with_sklearn_on_any_input(rows, n_bins):
    y = np.array([r[0] for r in rows], dtype=int)
    p = np.array([r[1] for r in rows])
    if len(set(y.tolist())) < 2:
        y[0] = 1 - y[0]
    r = calibration(y, p, n_bins=n_bins, n_boot=20)
    prob_true, prob_pred = calibration_curve(y, p, n_bins=n_bins)
    assert [b.observed for b in r.curve] == pytest.approx(prob_true, abs=1e-12)
    assert [b.mean_predicted for b in r.curve] == pytest.approx(prob_pred, abs=1e-12)
    counts = np.array([b.count for b in r.curve])
    assert r.ece == pytest.approx(float((counts * np.abs(prob_true - prob_pred)).sum() / len(y)), abs=1e-12)
    assert r.ece <= r.mce + 1e-15


def test_calibrated_data_has_small_ece_inside_its_interval():
    rng = np.random.default_rng(0)
    p = rng.random(20_000)
    y = (rng.random(20_000) < p).astype(int)
    r = calibration(y, p, n_boot=300)
    assert r.ece < 0.015
    assert r.ece_interval.low <= r.ece <= r.ece_interval.high < 0.03
    assert r.failures() == []
    again = calibration(y, p, n_boot=300)
    assert again.ece_interval == r.ece_interval  # seeded


def test_miscalibrated_data_has_large_ece_and_fails():
    rng = np.random.default_rng(1)
    truth = rng.random(20_000)
    y = (rng.random(20_000) < truth).astype(int)
    r = calibration(y, truth**0.4, n_boot=300, max_mce=0.2, strategy="quantile")  # overconfident
    assert r.ece > 0.15 and r.ece_interval.low > 0.15 and r.mce > 0.2
    assert len(r.failures()) == 2 and r.failures()[0].startswith("expected calibration error 0.")


def test_one_class_is_defined_and_noted():
    r = calibration([0, 0, 0], [0.1, 0.2, 0.05], n_bins=5, n_boot=20)
    assert r.ece == pytest.approx((0.1 + 0.2 + 0.05) / 3)
    assert r.evidence()["notes"] == ["y_true has one class only (0): the observed frequency is "
                                     "0 in every bin"]


def test_bad_inputs():
    with pytest.raises(InputError, match="y_true has 3, y_prob has 2 rows"):
        calibration([1, 0, 1], [0.1, 0.2])
    with pytest.raises(InputError, match=r"y_prob has 1 missing \(NaN/null\) values"):
        calibration([1, 0], [0.1, math.nan])
    with pytest.raises(InputError, match="probabilities in"):
        calibration([1, 0], [0.1, 1.5])
    with pytest.raises(InputError, match="binary; y_true has 3 classes"):
        calibration([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="strategy="):
        calibration([0, 1], [0.1, 0.2], strategy="kmeans")
