"""Candidate against champion, paired: differences, intervals, tests, statuses, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.stats import binomtest, chi2, norm

from mlgate.errors import InputError
from mlgate.model.compare import compare
from mlgate.model.intervals import MCNEMAR_EXACT_BELOW, mcnemar, newcombe_paired
from mlgate.record import CheckResult


def slow_delong(y, scores):
    """O(n_pos x n_neg) DeLong: structural components from the kernel psi directly."""
    pos, neg = scores[:, y == 1], scores[:, y == 0]
    psi = (pos[:, :, None] > neg[:, None, :]) + 0.5 * (pos[:, :, None] == neg[:, None, :])
    v10, v01 = psi.mean(axis=2), psi.mean(axis=1)
    return v10.mean(axis=1), np.cov(v10) / pos.shape[1] + np.cov(v01) / neg.shape[1]


def models(n=2000, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    champ = np.clip(0.3 * y + 0.7 * rng.random(n), 0, 1)
    cand = np.clip(champ + rng.normal(0, noise, n), 0, 1)
    return y, cand, champ


def test_identical_models_differ_by_zero_and_the_interval_holds_zero():
    y, _, champ = models()
    result = compare(y, champ, champ, metrics=("accuracy", "roc_auc", "log_loss", "f1"),
                     margin=0.01, n_boot=200)
    for c in result.comparisons:
        assert c.difference == 0
        assert c.low <= 0 <= c.high
        assert c.status == "pass"
    assert result.failures() == [] and result.reviews() == []
    assert result["accuracy"].p_value == 1.0


def test_a_clearly_worse_candidate_is_a_failure():
    rng = np.random.default_rng(1)
    y, _, champ = models(seed=1)
    worse = np.where(rng.random(len(y)) < 0.3, 1 - champ, champ)  # scramble 30% of the rows
    result = compare(y, worse, champ, metrics=("accuracy", "roc_auc", "brier"), margin=0.01,
                     n_boot=300)
    for c in result.comparisons:
        assert c.high < -0.01, c
        assert c.status == "fail"
    assert result.status == "fail"
    failures = result.failures()
    assert len(failures) == 3
    assert failures[0].startswith("accuracy_vs_champion = -")
    assert "worse than the champion by more than the margin" in failures[0]


def test_a_straddle_is_review_not_a_failure():
    y, cand, champ = models(n=400, seed=3, noise=0.05)
    result = compare(y, cand, champ, metrics=("accuracy",), margin=0.005)
    c = result["accuracy"]
    assert c.low < -0.005 <= c.high
    assert c.status == "review" and result.status == "review"
    assert result.failures() == []
    assert "straddles the margin" in result.reviews()[0]


def test_recorded_metrics_and_evidence():
    y, cand, champ = models()
    result = compare(y, cand, champ, metrics=("accuracy", "log_loss"), margin={"log_loss": 0.02},
                     n_boot=200, prefix="eval_")
    assert isinstance(result, CheckResult)
    ms = {m.name: m for m in result.metrics()}
    assert set(ms) == {"eval_accuracy_vs_champion", "eval_log_loss_vs_champion"}
    acc, ll = ms["eval_accuracy_vs_champion"], ms["eval_log_loss_vs_champion"]
    assert acc.threshold == 0.0 and ll.threshold == -0.02  # a metric left out of the dict: 0
    assert acc.direction == ll.direction == "higher"
    assert acc.interval.level == ll.interval.level == 0.975  # Bonferroni over 2 metrics
    c = result["log_loss"]
    assert c.difference == pytest.approx(c.champion - c.candidate)  # lower is better: flipped
    ev = result.evidence()
    json.dumps(ev, allow_nan=False)
    entry = ev["comparisons"]["eval_accuracy_vs_champion"]
    assert entry["method"] == "newcombe-paired" and entry["test"] in ("mcnemar-exact", "mcnemar-chi2-cc")
    assert entry["only_candidate_right"] + entry["only_champion_right"] + entry["both_right"] \
        + entry["both_wrong"] == len(y)
    assert ev["comparisons"]["eval_log_loss_vs_champion"]["method"] == "bootstrap-percentile-paired"


def test_bonferroni_is_optional():
    y, cand, champ = models()
    one = compare(y, cand, champ, metrics=("accuracy",))
    assert one.adjusted_level == 0.95
    none = compare(y, cand, champ, metrics=("accuracy", "roc_auc"), adjust="none")
    assert none.adjusted_level == 0.95
    both = compare(y, cand, champ, metrics=("accuracy", "roc_auc"))
    assert both.adjusted_level == pytest.approx(0.975)
    assert both["roc_auc"].low < none["roc_auc"].low


def test_accuracy_difference_and_mcnemar():
    y, cand, champ = models(seed=4)
    result = compare(y, cand, champ, metrics=("accuracy",))
    c = result["accuracy"]
    right1, right2 = (cand >= 0.5) == y, (champ >= 0.5) == y
    assert c.difference == pytest.approx(right1.mean() - right2.mean(), abs=1e-15)
    b, d = int((right1 & ~right2).sum()), int((~right1 & right2).sum())
    assert c.details["only_candidate_right"] == b and c.details["only_champion_right"] == d


@pytest.mark.parametrize(("b", "c"), [(0, 3), (7, 2), (12, 12), (20, 4), (1, 23)])
def test_mcnemar_exact_is_scipy_binomtest(b, c):
    p, method = mcnemar(b, c)
    assert method == "mcnemar-exact"
    assert p == pytest.approx(binomtest(b, b + c, 0.5).pvalue, abs=1e-15)


def test_mcnemar_chi_square_with_continuity_correction():
    b, c = 40, 20
    assert b + c >= MCNEMAR_EXACT_BELOW
    p, method = mcnemar(b, c)
    assert method == "mcnemar-chi2-cc"
    assert p == pytest.approx(chi2.sf((abs(b - c) - 1) ** 2 / (b + c), 1), abs=1e-15)


def test_newcombe_paired_interval_formula_and_coverage():
    # the interval contains the estimate, stays in [-1, 1], and handles empty cells
    for a, b, c, d in [(30, 5, 1, 4), (0, 0, 0, 10), (10, 0, 0, 0), (0, 7, 0, 0), (5, 5, 5, 5)]:
        lo, hi = newcombe_paired(a, b, c, d)
        diff = (b - c) / (a + b + c + d)
        assert -1 <= lo <= diff <= hi <= 1
    # seeded coverage of the 95% interval of a known paired difference
    rng = np.random.default_rng(8)
    probs = np.array([0.70, 0.12, 0.06, 0.12])  # true difference 0.06
    covered = 0
    for _ in range(400):
        a, b, c, d = rng.multinomial(150, probs)
        lo, hi = newcombe_paired(a, b, c, d)
        covered += lo <= 0.06 <= hi
    assert covered / 400 >= 0.90


def test_paired_delong_against_the_quadratic_definition():
    y, cand, champ = models(n=400, seed=6, noise=0.2)
    cand, champ = cand.round(2), champ.round(2)
    result = compare(y, cand, champ, metrics=("roc_auc",))
    c = result["roc_auc"]
    aucs, cov = slow_delong(y, np.vstack([cand, champ]))
    se = math.sqrt(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    assert c.difference == pytest.approx(aucs[0] - aucs[1], abs=1e-12)
    assert c.low == pytest.approx(aucs[0] - aucs[1] - norm.ppf(0.975) * se, abs=1e-10)
    assert c.p_value == pytest.approx(2 * norm.sf(abs(aucs[0] - aucs[1]) / se), rel=1e-9)
    assert c.method == "delong-paired"


def test_paired_bootstrap_is_reproducible_and_keeps_the_pairing():
    y, cand, champ = models(n=600, seed=9)
    one = compare(y, cand, champ, metrics=("accuracy", "roc_auc"), method="bootstrap",
                  n_boot=300, seed=5)
    two = compare(y, cand, champ, metrics=("accuracy", "roc_auc"), method="bootstrap",
                  n_boot=300, seed=5)
    assert one == two
    exact = compare(y, cand, champ, metrics=("accuracy", "roc_auc"))
    for m in ("accuracy", "roc_auc"):  # paired: far narrower than unpaired, close to the exact width
        width_boot = one[m].high - one[m].low
        width_exact = exact[m].high - exact[m].low
        assert 0.6 < width_boot / width_exact < 1.5, m


# -- bad input ----------------------------------------------------------------------------------

def test_one_class_only_is_a_nan_failure():
    y = np.ones(30, dtype=int)
    s = np.linspace(0, 1, 30)
    result = compare(y, s, s[::-1], metrics=("accuracy", "roc_auc"))
    c = result["roc_auc"]
    assert math.isnan(c.difference) and c.status == "fail"
    assert any("roc_auc_vs_champion is NaN: y_true has one class only" in f for f in result.failures())
    metric = {m.name: m for m in result.metrics()}["roc_auc_vs_champion"]
    assert metric.passed is False and metric.interval is None
    json.dumps(result.evidence(), allow_nan=False)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (([0, 1, 1], [0.1, 0.9, 0.8], [0.1, 0.9]), {}, "y_true has 3 rows but champion_scores has 2"),
    (([0, 1, 1], [0.1, np.nan, 0.8], [0.1, 0.9, 0.5]), {}, "candidate_scores has NaN"),
    (([], [], []), {}, "y_true is empty"),
    (([0, 1, 1], [0.1, 0.9, 0.8], [0.1, 0.9, 0.5]), {"margin": -0.1}, "must be a finite number >= 0"),
    (([0, 1, 1], [0.1, 0.9, 0.8], [0.1, 0.9, 0.5]), {"margin": {"f1": 0.1}}, "margin names 'f1'"),
    (([0, 1, 1], [0.1, 0.9, 0.8], [0.1, 0.9, 0.5]), {"adjust": "holm"}, "adjust='holm'"),
    (([0, 1, 1], [0.1, 0.9, 0.8], [0.1, 1.9, 0.5]), {"metrics": ["brier"]},
     "champion_scores is outside [0, 1]"),
    (([0, 1, 1], [0.1, 0.9, 0.8], ["a", "b", "a"]), {},
     "y_true holds int64 labels but champion_scores holds <U1 values"),
])
def test_bad_input(args, kwargs, message):
    with pytest.raises(InputError) as info:
        compare(*args, **kwargs)
    assert message in str(info.value)


def test_multiclass_labels_compare_accuracy():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 500)
    cand = np.where(rng.random(500) < 0.8, y, rng.integers(0, 4, 500))
    champ = np.where(rng.random(500) < 0.7, y, rng.integers(0, 4, 500))
    result = compare(y, cand, champ, metrics=("accuracy", "f1"), n_boot=200)
    assert result["accuracy"].difference > 0
    assert result["f1"].method == "bootstrap-percentile-paired"
    with pytest.raises(InputError, match="roc_auc"):
        compare(y, cand, champ, metrics=("roc_auc",))
