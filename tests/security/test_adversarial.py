"""Adversarial robustness: FGSM and PGD on a small torch MLP trained on scikit-learn's digits,
checked against torchattacks on the same model; the black-box attack on scikit-learn models,
checked against the exact robust accuracy of a linear model.

torchattacks (3.5.1) is installed with ``pip install --no-deps torchattacks`` (its pinned
dependencies would replace torch). Without it the agreement tests skip with the reason, except
under ``CI=true``, where they fail."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from mlgate.errors import InputError
from mlgate.record import CheckResult
from mlgate.security.adversarial import (
    blackbox,
    bounds_from_schema,
    fgsm,
    pgd,
    robustness,
)

try:
    import torch
except ImportError:  # the black-box tests run without it
    torch = None

EPSILONS = (0.0, 0.05, 0.1, 0.2)
NO_TORCH = "torch is not installed (optional: pip install 'mlgate[torch]')"


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: these models are tiny, and the test machines are shared. Skips the test
    without torch."""
    if torch is None:
        pytest.skip(NO_TORCH)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits(one_thread):
    """A seeded 64-64-10 MLP on the digits (8x8 images scaled to [0, 1]); the last 297 rows are
    the test set. Inputs are images (N, 1, 8, 8), as torchattacks' L2 attack expects."""
    data = load_digits()
    X = torch.tensor((data.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8))
    y = torch.tensor(data.target)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(12):
        for i in range(0, 1500, 100):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(X[i:i + 100]), y[i:i + 100]).backward()
            opt.step()
    net.eval()
    return net, X[1500:], y[1500:]


def _robust_acc(net, X, adv, y) -> float:
    with torch.no_grad():
        ok = (net(X).argmax(1) == y) & (net(adv).argmax(1) == y)
    return float(ok.double().mean())


# -- white box ---------------------------------------------------------------------------------------

def test_result_is_a_check_result_with_the_parameters_recorded(digits):
    net, X, y = digits
    r = robustness(net, X, y, attack="pgd", eps=0.05, steps=5, clip=(0.0, 1.0), seed=3,
                   min_robust_accuracy=0.0, prefix="digits_")
    assert isinstance(r, CheckResult)
    metric = r.metrics()[0]
    assert metric.name == "digits_robust_accuracy" and metric.direction == "higher"
    assert metric.threshold == 0.0 and metric.interval is not None
    assert metric.interval.low <= metric.value <= metric.interval.high
    ev = r.evidence()
    assert ev["eps"] == 0.05 and ev["norm"] == "linf" and ev["steps"] == 5
    assert ev["step_size"] == pytest.approx(2.5 * 0.05 / 5) and ev["random_start"] is True
    assert ev["seed"] == 3 and ev["bounds"] == [0.0, 1.0]
    assert ev["budget"]["gradient_steps_per_row"] == 5 and ev["n"] == len(y)
    assert 0 < len(ev["examples"]) <= 3
    for example in ev["examples"]:
        assert example["linf"] <= 0.05 + 1e-6
        assert example["adversarial_prediction"] != example["label"]
    assert r.failures() == []


@pytest.mark.parametrize("attack,norm", [("fgsm", "linf"), ("pgd", "linf"), ("pgd", "l2")])
def test_robust_accuracy_falls_monotonically_with_eps_and_equals_clean_at_zero(digits, attack, norm):
    net, X, y = digits
    scale = 4.0 if norm == "l2" else 1.0
    accs = [robustness(net, X, y, attack=attack, norm=norm, eps=e * scale, steps=10,
                       clip=(0.0, 1.0), seed=0).robust_accuracy for e in EPSILONS]
    clean = robustness(net, X, y, attack=attack, norm=norm, eps=0.0, clip=(0.0, 1.0))
    assert accs[0] == clean.clean_accuracy > 0.9
    assert all(a >= b for a, b in zip(accs, accs[1:], strict=False)), accs
    assert accs[-1] < 0.25 * accs[0], accs  # the attack really attacks


def test_perturbations_stay_in_the_ball_and_the_bounds(digits):
    net, X, y = digits
    lower = torch.full((1, 8, 8), 0.0)
    upper = torch.full((1, 8, 8), 1.0)
    upper[0, :, :4] = 0.5  # per-feature bounds: the left half of each image at most 0.5
    Xc = torch.minimum(X, upper)
    linf = pgd(net, Xc, y, eps=0.1, steps=7, clip=(lower.numpy(), upper.numpy()), seed=1)
    assert float((linf - Xc).abs().max()) <= 0.1 + 1e-6
    l2 = pgd(net, Xc, y, eps=0.8, norm="l2", steps=7, clip=(lower.numpy(), upper.numpy()), seed=1)
    norms = (l2 - Xc).reshape(len(Xc), -1).norm(dim=1)
    assert float(norms.max()) <= 0.8 * (1 + 1e-5)
    assert float(norms.max()) > 0.5  # it used the ball
    one = fgsm(net, Xc, y, eps=0.1, clip=(lower.numpy(), upper.numpy()))
    for adv in (linf, l2, one):
        assert bool((adv >= lower).all()) and bool((adv <= upper).all())
    assert bool((linf[:, 0, :, :4] <= 0.5).all())


def test_seeded_runs_reproduce_and_batching_changes_nothing(digits):
    net, X, y = digits
    options = dict(eps=0.08, steps=6, clip=(0.0, 1.0), random_start=True)
    a = pgd(net, X, y, seed=7, batch_size=512, **options)
    b = pgd(net, X, y, seed=7, batch_size=512, **options)
    assert torch.equal(a, b)
    c = pgd(net, X, y, seed=8, batch_size=512, **options)
    assert not torch.equal(a, c)
    small = pgd(net, X, y, seed=7, batch_size=37, **options)
    # the same rows, the same random start, the same steps: batch size only changes how BLAS
    # blocks the matrix products, so at most float32 rounding differs
    assert float((small - a).abs().max()) <= 1e-5
    ra = robustness(net, X, y, attack="pgd", seed=7, batch_size=512, **options)
    rb = robustness(net, X, y, attack="pgd", seed=7, batch_size=37, **options)
    assert (ra.robust_correct, ra.clean_correct) == (rb.robust_correct, rb.clean_correct)


def test_the_model_is_left_as_it_was(digits):
    net, X, y = digits
    net.zero_grad(set_to_none=True)
    net.train()
    try:
        pgd(net, X[:20], y[:20], eps=0.1, steps=2, clip=(0.0, 1.0))
        assert net.training
        assert all(p.requires_grad and p.grad is None for p in net.parameters())
    finally:
        net.eval()


def test_threshold_failure_says_what_and_how_much(digits):
    net, X, y = digits
    r = robustness(net, X, y, attack="fgsm", eps=0.2, clip=(0.0, 1.0), min_robust_accuracy=0.9)
    (message,) = r.failures()
    assert "robust_accuracy = " in message and "must be >= 0.9" in message
    assert "fgsm linf eps=0.2" in message and "interval" in message
    assert r.metrics()[0].passed is False


def test_a_single_logit_binary_model(one_thread):
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (300, 2)).astype(np.float32)
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    net = torch.nn.Linear(2, 1)
    with torch.no_grad():
        net.weight[:] = torch.tensor([[4.0, -4.0]])
        net.bias.zero_()
    accs = [robustness(net, X, y, eps=e, clip=(0.0, 1.0)).robust_accuracy for e in (0, 0.05, 0.2)]
    assert accs[0] == 1.0 and accs[0] > accs[1] > accs[2]
    # exact for a linear model: a row survives the L-inf ball iff |x0 - x1| > 2 eps
    # (the bounds can only help it)
    assert accs[1] >= float(np.mean(np.abs(X[:, 0] - X[:, 1]) > 0.1))


def test_bad_inputs_are_refused(digits):
    net, X, y = digits
    Xn = X.clone()
    Xn[3, 0, 0, 0] = float("nan")
    with pytest.raises(InputError, match="NaN or infinite values in 1 rows"):
        robustness(net, Xn, y, eps=0.1)
    with pytest.raises(InputError, match="outside the clip bounds"):
        robustness(net, X * 2, y, eps=0.1, clip=(0.0, 1.0))
    with pytest.raises(InputError, match="eps"):
        robustness(net, X, y, eps=-1)
    with pytest.raises(InputError, match="norm"):
        robustness(net, X, y, eps=0.1, norm="l1")
    with pytest.raises(InputError, match="one label per row"):
        robustness(net, X, y[:-1], eps=0.1)
    with pytest.raises(InputError, match="blackbox"):
        robustness(LogisticRegression(), X, y, eps=0.1)
    with pytest.raises(InputError, match=r"labels range over \[1, 10\] but the model has 10 classes"):
        robustness(net, X, torch.where(y == 0, 10, y), eps=0.1)
    with pytest.raises(InputError, match="min_robust_accuracy"):
        robustness(net, X, y, eps=0.1, min_robust_accuracy=70)


def test_blackbox_attacks_a_torch_module_through_its_labels(digits):
    net, X, y = digits
    flat = X.reshape(len(X), -1).numpy()
    wrapped = torch.nn.Sequential(torch.nn.Unflatten(1, (1, 8, 8)), net)
    r = blackbox(wrapped, flat, y.numpy(), eps=0.1, budget=20, lower=0.0, upper=1.0, seed=0)
    white = robustness(wrapped, flat, y, attack="pgd", eps=0.1, clip=(0.0, 1.0))
    assert r.clean_accuracy == white.clean_accuracy
    # the white-box attack is the stronger one
    assert white.robust_accuracy <= r.robust_accuracy < r.clean_accuracy


# -- agreement with torchattacks ---------------------------------------------------------------------

def _torchattacks():
    try:
        import torchattacks
    except ImportError:
        why = "torchattacks is not installed (pip install --no-deps torchattacks)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(why + " (CI=true: the agreement test may not be skipped)")
        pytest.skip(why)
    return torchattacks


@pytest.mark.parametrize("eps", [0.03, 0.1])
def test_fgsm_agrees_with_torchattacks_exactly(digits, eps):
    ta = _torchattacks()
    net, X, y = digits
    ours = fgsm(net, X, y, eps=eps, clip=(0.0, 1.0))
    theirs = ta.FGSM(net, eps=eps)(X, y)
    # deterministic: the same sign of the same gradient (theirs of the mean loss, ours of the sum)
    assert float((ours - theirs).abs().max()) <= 1e-6
    r = robustness(net, X, y, attack="fgsm", eps=eps, clip=(0.0, 1.0))
    assert r.robust_accuracy == _robust_acc(net, X, theirs, y)


@pytest.mark.parametrize("norm,eps,alpha", [("linf", 0.05, 0.0125), ("l2", 1.0, 0.2)])
def test_pgd_agrees_with_torchattacks(digits, norm, eps, alpha):
    """No random start, the same eps, steps and step size: the same iterates up to float32
    rounding. Tolerance on robust accuracy: 1 row in 297 (|difference| <= 0.0034)."""
    ta = _torchattacks()
    net, X, y = digits
    attack = (ta.PGD(net, eps=eps, alpha=alpha, steps=10, random_start=False) if norm == "linf"
              else ta.PGDL2(net, eps=eps, alpha=alpha, steps=10, random_start=False))
    theirs = attack(X, y)
    r = robustness(net, X, y, attack="pgd", norm=norm, eps=eps, steps=10, step_size=alpha,
                   random_start=False, clip=(0.0, 1.0))
    assert abs(r.robust_accuracy - _robust_acc(net, X, theirs, y)) <= 1 / len(y) + 1e-12
    assert r.robust_accuracy < r.clean_accuracy


def test_pgd_with_random_start_is_as_strong_as_torchattacks(digits):
    """Random starts differ (two generators), so robust accuracies agree within a tolerance:
    0.03 (about 9 rows of 297)."""
    ta = _torchattacks()
    net, X, y = digits
    torch.manual_seed(0)
    theirs = ta.PGD(net, eps=0.06, alpha=0.015, steps=10, random_start=True)(X, y)
    r = robustness(net, X, y, attack="pgd", eps=0.06, steps=10, step_size=0.015, seed=0,
                   clip=(0.0, 1.0))
    assert abs(r.robust_accuracy - _robust_acc(net, X, theirs, y)) <= 0.03


# -- black box -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tabular():
    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, random_state=0)
    X = (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))  # into [0, 1]
    return X[:200], y[:200], X[200:], y[200:]


class Counting:
    """A predict function that counts its calls and the rows it was asked about."""

    def __init__(self, model):
        self.model = model
        self.calls = 0
        self.rows = 0

    def __call__(self, X):
        self.calls += 1
        self.rows += len(X)
        return self.model.predict(X)


def _exact_linear_robust_accuracy(clf, X, y, eps, lower, upper) -> float:
    """The exact robust accuracy of a binary linear classifier in the L-inf ball within the
    bounds: the worst point is the vertex that moves each feature against the true class."""
    w, b = clf.coef_[0], clf.intercept_[0]
    lo, hi = np.maximum(X - eps, lower), np.minimum(X + eps, upper)
    s = np.where(y == 1, 1.0, -1.0)[:, None]  # the margin of the true class is s * (w.x + b)
    worst = np.minimum(s * w * lo, s * w * hi).sum(axis=1) + s[:, 0] * b
    clean = clf.predict(X) == y
    return float(np.mean(clean & (worst > 0)))


@pytest.mark.parametrize("method", ["random", "boundary"])
def test_blackbox_is_sound_and_close_to_the_exact_robust_accuracy(tabular, method):
    X_tr, y_tr, X, y = tabular
    clf = LogisticRegression().fit(X_tr, y_tr)
    previous = 1.0
    for eps in (0.0, 0.05, 0.1, 0.2):
        r = blackbox(clf, X, y, eps=eps, budget=40, lower=0.0, upper=1.0, seed=0, method=method)
        exact = _exact_linear_robust_accuracy(clf, X, y, eps, 0.0, 1.0)
        # sound: never below the true robust accuracy; and for a linear model the vertices it
        # samples find most of what there is to find (tolerance 0.05)
        assert exact <= r.robust_accuracy <= exact + 0.05, (eps, r.robust_accuracy, exact)
        assert r.robust_accuracy <= previous
        previous = r.robust_accuracy
        if eps == 0:
            assert r.robust_accuracy == r.clean_accuracy
        adv, flipped = r.adversarial, clf.predict(r.adversarial) != y
        assert np.abs(adv - X).max() <= eps + 1e-12 and adv.min() >= 0 and adv.max() <= 1
        assert int((~flipped).sum()) == r.robust_correct  # every claimed flip is a real one


def test_blackbox_respects_its_budget_and_the_schema_bounds(tabular):
    X_tr, y_tr, X, y = tabular
    columns = [f"f{i}" for i in range(X.shape[1])]
    clf = RandomForestClassifier(n_estimators=20, random_state=0).fit(
        pd.DataFrame(X_tr, columns=columns), y_tr)
    schema = pa.DataFrameSchema({c: pa.Column(float, pa.Check.in_range(0.0, 1.0)) for c in columns}
                                | {"f0": pa.Column(float, [pa.Check.ge(0.0), pa.Check.le(1.0)])})
    lower, upper = bounds_from_schema(schema, columns)
    assert lower.tolist() == [0.0] * 6 and upper.tolist() == [1.0] * 6
    frame = pd.DataFrame(X, columns=columns)
    counting = Counting(clf)
    for method in ("random", "boundary"):
        counting.calls = counting.rows = 0
        r = blackbox(counting, frame, y, eps=0.15, budget=40, lower=lower, upper=upper, seed=1,
                     method=method)
        assert counting.rows <= len(y) * (1 + 40)  # the clean pass plus 40 queries a row
        assert counting.calls == r.budget["predict_calls"] <= 30  # batched: few calls
        assert r.budget["queries_used_max"] <= 40 and r.budget["rows_predicted"] == counting.rows
        assert r.robust_accuracy < r.clean_accuracy
        assert r.evidence()["budget"]["queries_per_row"] == 40 and r.evidence()["eps"] == 0.15
        assert r.adversarial.min() >= 0 and r.adversarial.max() <= 1
        json.dumps(r.evidence(), allow_nan=False)  # what mlgate.check records
    assert "boundary_distance_linf" in r.evidence()


def test_blackbox_is_seeded(tabular):
    X_tr, y_tr, X, y = tabular
    clf = RandomForestClassifier(n_estimators=20, random_state=0).fit(X_tr, y_tr)
    a = blackbox(clf, X, y, eps=0.1, budget=20, lower=0, upper=1, seed=5)
    b = blackbox(clf, X, y, eps=0.1, budget=20, lower=0, upper=1, seed=5)
    assert np.array_equal(a.adversarial, b.adversarial) and a.robust_correct == b.robust_correct
    c = blackbox(clf, X, y, eps=0.1, budget=20, lower=0, upper=1, seed=6)
    assert not np.array_equal(a.adversarial, c.adversarial)


def test_bounds_from_schema_reads_strict_and_one_sided_checks():
    schema = pa.DataFrameSchema({
        "a": pa.Column(float, pa.Check.gt(0.0)),
        "b": pa.Column(float, [pa.Check.ge(-1.0), pa.Check.lt(5.0)]),
        "c": pa.Column(float),
    })
    lower, upper = bounds_from_schema(schema, ["c", "b", "a"])
    assert lower[0] == -np.inf and upper[0] == np.inf
    assert lower[1] == -1.0 and upper[1] == np.nextafter(5.0, -np.inf)
    assert lower[2] == np.nextafter(0.0, 1.0) and upper[2] == np.inf
    with pytest.raises(InputError, match="not in the schema"):
        bounds_from_schema(schema, ["a", "zzz"])


def test_blackbox_refuses_bad_inputs(tabular):
    X_tr, y_tr, X, y = tabular
    clf = LogisticRegression().fit(X_tr, y_tr)
    with pytest.raises(InputError, match="outside the clip bounds"):
        blackbox(clf, X + 2, y, eps=0.1, lower=0, upper=1)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        blackbox(clf, Xn, y, eps=0.1)
    with pytest.raises(InputError, match="one label per row"):
        blackbox(clf.predict_proba, X, y, eps=0.1)
    with pytest.raises(InputError, match="method"):
        blackbox(clf, X, y, eps=0.1, method="hsj")


# -- the fixture --------------------------------------------------------------------------------------

def test_fixture_records_robust_accuracy_and_fails_below_threshold(pytester, one_thread):
    pytester.makepyfile("""
        import numpy as np
        import torch
        from sklearn.linear_model import LogisticRegression

        rng = np.random.default_rng(0)
        X = rng.uniform(0, 1, (200, 2)); y = (X[:, 0] > X[:, 1]).astype(int)

        def test_sklearn(mlgate_robustness):
            clf = LogisticRegression().fit(X, y)
            r = mlgate_robustness(clf, X, y, eps=0.05, budget=10, lower=0, upper=1,
                                  min_robust_accuracy=0.1)
            assert r.attack == "blackbox-random"

        def test_torch_too_weak(mlgate_robustness):
            net = torch.nn.Linear(2, 2)
            with torch.no_grad():
                net.weight[:] = torch.tensor([[5.0, -5.0], [-5.0, 5.0]]); net.bias.zero_()
            mlgate_robustness(net, X.astype(np.float32), 1 - y, attack="fgsm", eps=0.3,
                              clip=(0.0, 1.0), min_robust_accuracy=0.99)
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mlgate robustness check failed:*",
                                 "*robust_accuracy = * under fgsm linf eps=0.3 is below its "
                                 "threshold: it must be >= 0.99*"])
