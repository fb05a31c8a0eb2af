"""Membership inference: the loss-threshold attack finds an overfit model's training rows, and a
model without membership (members and non-members drawn from the same unseen rows) shows no
advantage beyond the stated level, checked over seeded repeats."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier

from mlgate.errors import InputError
from mlgate.record import CheckResult
from mlgate.security.membership import (
    membership_from_losses,
    membership_inference,
    newcombe_unpaired,
    per_row_loss,
)


def _noisy(n: int, seed: int):
    """Small, noisy data (15% of labels flipped): a memorising model shows its training rows."""
    return make_classification(n_samples=n, n_features=8, n_informative=4, flip_y=0.15,
                               random_state=seed)


def test_an_overfit_model_leaks_membership():
    X, y = _noisy(600, 0)
    for model in (DecisionTreeClassifier(random_state=0), KNeighborsClassifier(n_neighbors=1)):
        model.fit(X[:300], y[:300])
        r = membership_inference(model, X[:300], y[:300], X[300:], y[300:], seed=0,
                                 max_advantage=0.1)
        assert isinstance(r, CheckResult)
        # training rows: loss 0; held-out rows: misclassified about 25% of the time
        assert r.advantage > 0.15 and r.interval.low > 0, r.evidence()
        assert r.auc > 0.55 and r.auc_low > 0.5 and r.p_value < 1e-6
        assert r.tpr == 1.0 and r.fpr < 0.85
        (message,) = r.failures()
        assert "membership_advantage = " in message and "must be <= 0.1" in message
        assert r.metrics()[0].passed is False


def test_a_model_that_generalises_passes():
    X, y = make_classification(n_samples=4000, n_features=5, n_informative=3, random_state=1)
    model = LogisticRegression().fit(X[:2000], y[:2000])
    r = membership_inference(model, X[:2000], y[:2000], X[2000:], y[2000:], seed=0,
                             max_advantage=0.1, prefix="lr_")
    assert r.failures() == [] and r.interval.low <= 0.05
    assert abs(r.auc - 0.5) < 0.05
    names = [m.name for m in r.metrics()]
    assert names == ["lr_membership_advantage", "lr_membership_auc"]
    assert r.metrics()[0].direction == "lower" and r.metrics()[0].threshold == 0.1


def test_no_membership_no_advantage_over_seeded_repeats():
    """Members and non-members both drawn from rows the model never saw: the advantage's 95%
    interval (two-sided) lies above 0 in at most 2 of 20 repeats (10%; the nominal rate is
    2.5%). The in-sample advantage, by contrast, is biased upwards (it is never negative): the
    selection bias the cross-fit removes."""
    X, y = _noisy(2000, 2)
    model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[:400], y[:400])
    unseen_X, unseen_y = X[400:], y[400:]
    positives, in_sample, crossfit, covers = 0, [], [], 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        rows = rng.permutation(len(unseen_y))
        a, b = rows[:400], rows[400:800]
        r = membership_inference(model, unseen_X[a], unseen_y[a], unseen_X[b], unseen_y[b],
                                 seed=seed)
        positives += r.interval.low > 0
        covers += r.interval.low <= 0 <= r.interval.high
        in_sample.append(r.advantage_in_sample)
        crossfit.append(r.advantage)
    assert positives <= 2, positives
    assert covers >= 17
    assert min(in_sample) >= 0 and np.mean(in_sample) > 0.01
    assert abs(np.mean(crossfit)) < 0.01 < np.mean(in_sample), (np.mean(crossfit), in_sample)


def test_false_positive_rate_of_the_interval_on_losses():
    """300 seeded repeats with member and non-member losses from one distribution, including
    heavy ties (a memorising model's losses are 0 or large): the interval excludes 0 from above
    in at most 5% of them (nominal 2.5%; the binomial 99% bound for 300 repeats at 2.5% is 14)."""
    rng = np.random.default_rng(11)
    continuous = tied = 0
    for seed in range(300):
        a, b = rng.exponential(1.0, 120), rng.exponential(1.0, 120)
        continuous += membership_from_losses(a, b, seed=seed).interval.low > 0
        a, b = (rng.choice([0.0, 34.5], 120, p=[0.8, 0.2]) for _ in range(2))
        tied += membership_from_losses(a, b, seed=seed).interval.low > 0
    assert continuous <= 15 and tied <= 15, (continuous, tied)


def test_values_agree_with_scikit_learn():
    X, y = _noisy(400, 3)
    model = LogisticRegression().fit(X[:200], y[:200])
    proba = model.predict_proba(X)
    losses = per_row_loss(proba, y, model.classes_)
    assert losses.mean() == pytest.approx(log_loss(y, proba), abs=1e-12)
    r = membership_inference(model, X[:200], y[:200], X[200:], y[200:], seed=0)
    membership = np.r_[np.ones(200), np.zeros(200)]
    assert r.auc == pytest.approx(roc_auc_score(membership, -losses), abs=1e-12)


def test_newcombe_interval_matches_the_published_example():
    # Newcombe (1998), Statistics in Medicine 17, table II: 56/70 - 48/80, method 10
    low, high = newcombe_unpaired(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_seeded_and_balanced():
    rng = np.random.default_rng(0)
    a, b = rng.exponential(0.5, 300), rng.exponential(1.0, 100)
    r1, r2 = membership_from_losses(a, b, seed=4), membership_from_losses(a, b, seed=4)
    assert r1 == r2
    assert r1.m == 100 and r1.n_members == 300 and r1.n_nonmembers == 100
    assert membership_from_losses(a, b, seed=4, n=50).m == 50
    with pytest.raises(InputError, match="pass n <= 100"):
        membership_from_losses(a, b, n=200)


def test_any_model_through_probabilities():
    X, y = _noisy(300, 4)
    labels = np.where(y == 1, "spam", "ham")
    tree = DecisionTreeClassifier(random_state=0).fit(X[:150], labels[:150])
    from_model = membership_inference(tree, X[:150], labels[:150], X[150:], labels[150:])
    from_function = membership_inference(tree.predict_proba, X[:150], labels[:150], X[150:],
                                         labels[150:], classes=["ham", "spam"])
    assert from_model.advantage == from_function.advantage > 0.1
    torch = pytest.importorskip("torch", reason="torch is not installed (optional)")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 2))
    r = membership_inference(net, X[:150].astype(np.float32), y[:150],
                             X[150:].astype(np.float32), y[150:])
    assert -1 <= r.advantage <= 1 and r.evidence()["model"].startswith("torch")


def test_fails_closed_on_bad_input():
    X, y = _noisy(200, 5)
    model = LogisticRegression().fit(X[:100], y[:100])
    with pytest.raises(InputError, match="NaN or infinite losses"):
        membership_from_losses([0.1, np.nan] * 10, [0.2] * 20)
    with pytest.raises(InputError, match="NaN or infinite probabilities"):
        membership_inference(lambda X: np.full((len(X), 2), np.nan), X[:100], y[:100],
                             X[100:], y[100:])
    with pytest.raises(InputError, match="not probabilities"):
        membership_inference(model.decision_function, X[:100], y[:100] * 0 + 1, X[100:],
                             y[100:] * 0 + 1)
    with pytest.raises(InputError, match="label 7 is not one of the model's classes"):
        membership_inference(model, X[:100], np.full(100, 7), X[100:], y[100:])
    with pytest.raises(InputError, match="at least 8"):
        membership_from_losses([0.1] * 5, [0.2] * 5)
    with pytest.raises(InputError, match="needs probabilities"):
        membership_inference(object(), X[:100], y[:100], X[100:], y[100:])


def test_fixture_records_the_advantage(pytester):
    pytester.makepyfile("""
        from sklearn.datasets import make_classification
        from sklearn.tree import DecisionTreeClassifier

        X, y = make_classification(n_samples=400, n_features=8, flip_y=0.15, random_state=0)

        def test_memorising_tree(mlgate_membership):
            tree = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])
            mlgate_membership(tree, X[:200], y[:200], X[200:], y[200:], max_advantage=0.05)
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*mlgate membership check failed:*",
                                 "*membership_advantage = * is above its threshold: it must be "
                                 "<= 0.05*"])
