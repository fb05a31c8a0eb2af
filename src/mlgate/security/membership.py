"""Membership inference: how much better than chance an attacker tells the rows a model was
trained on from rows it never saw, by the loss-threshold attack of Yeom et al. (2018, "Privacy
Risk in Machine Learning: Analyzing the Connection to Overfitting", IEEE CSF).

::

    import pytest
    from mlgate.security.membership import membership_inference

    @pytest.mark.security
    def test_does_not_leak_membership(mlgate, model, X_train, y_train, X_test, y_test):
        mlgate.check(membership_inference(model, X_train, y_train, X_test, y_test,
                                          seed=0, max_advantage=0.1))

The attacker guesses "member" when a row's loss (the cross-entropy ``-log p(true class)``) is at
most a threshold. Its **advantage** is ``TPR - FPR`` (Yeom et al.'s membership advantage): 0 for
a model that behaves the same on seen and unseen rows, 1 for a perfect attack.

Picking the best threshold on the same rows it is scored on makes even a model with no leak look
positive (the maximum of many noisy differences; this in-sample value, the two-sample
Kolmogorov-Smirnov statistic, is kept in the evidence as ``advantage_in_sample``, marked
optimistic). The gate's number is therefore **cross-fitted**: the members and the non-members are
each split in two halves at random (seeded); the threshold chosen on one half is applied to the
other, and the other way round, so every row is scored by a threshold chosen without it. The
advantage is the pooled ``TP / m - FP / m``, and its interval is Newcombe's hybrid score interval
for the difference of two independent proportions (Newcombe 1998, Statistics in Medicine 17,
method 10), built on :func:`mlgate.model.intervals.wilson`.

Also reported: the AUC of the loss as a membership score (``P(loss of a member < loss of a
non-member)``, ties counting one half) with its DeLong interval
(:func:`mlgate.model.intervals.delong`), and the one-sided Mann-Whitney p-value of "members have
lower losses" against chance.

Members and non-members are subsampled (seeded) to the same number ``m`` (``n=`` to choose it),
so chance is an advantage of 0 and an AUC of 0.5. NaN or infinite losses or probabilities, labels
the model does not know, and too few rows are refused with :class:`mlgate.errors.InputError`
(fail closed). A probability of 0 for the true class is clipped to ``PROBABILITY_FLOOR`` (loss
about 34.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Interval, Metric, encode_float

#: the smallest probability used in ``-log p`` (a probability of 0 would give an infinite loss)
PROBABILITY_FLOOR = 1e-15
#: fewest rows per group (members, non-members) after balancing: two halves of at least 4 rows
MIN_ROWS = 8


@dataclass(frozen=True)
class MembershipResult:
    """What :func:`membership_inference` (or :func:`membership_from_losses`) found: a
    :class:`mlgate.record.CheckResult`."""

    advantage: float  # cross-fitted TPR - FPR
    advantage_low: float
    advantage_high: float
    tpr: float
    fpr: float
    auc: float
    auc_low: float
    auc_high: float
    p_value: float  # one-sided Mann-Whitney: members have lower losses
    advantage_in_sample: float  # optimistic: threshold chosen and scored on the same rows
    m: int  # rows per group after balancing
    n_members: int
    n_nonmembers: int
    seed: int
    level: float = 0.95
    max_advantage: float | None = None
    prefix: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    name: str = "membership"

    @property
    def interval(self) -> Interval:
        return Interval(self.advantage_low, self.advantage_high, self.level)

    def metrics(self) -> list[Metric]:
        auc_iv = (Interval(self.auc_low, self.auc_high, self.level)
                  if math.isfinite(self.auc_low) and math.isfinite(self.auc_high) else None)
        return [
            Metric(self.prefix + "membership_advantage", self.advantage, self.max_advantage,
                   "lower", self.interval),
            Metric(self.prefix + "membership_auc", self.auc, None, "lower", auc_iv),
        ]

    def evidence(self) -> dict[str, Any]:
        return {
            "attack": "loss threshold (Yeom et al. 2018): member when loss <= threshold",
            "advantage": encode_float(self.advantage),
            "advantage_interval": {"low": encode_float(self.advantage_low),
                                   "high": encode_float(self.advantage_high),
                                   "level": self.level,
                                   "method": "newcombe-hybrid-score (independent proportions)"},
            "estimate": "cross-fitted: thresholds chosen on one half of each group, scored on "
                        "the other half, both ways, counts pooled",
            "tpr": self.tpr,
            "fpr": self.fpr,
            "advantage_in_sample": encode_float(self.advantage_in_sample),
            "advantage_in_sample_note": "optimistic (best threshold scored on the rows it was "
                                        "chosen on); not the gate's number",
            "auc": encode_float(self.auc),
            "auc_interval": {"low": encode_float(self.auc_low),
                             "high": encode_float(self.auc_high), "method": "delong"},
            "p_value": encode_float(self.p_value),
            "p_value_test": "Mann-Whitney U, one-sided (member losses lower)",
            "rows_per_group": self.m,
            "members": self.n_members,
            "nonmembers": self.n_nonmembers,
            "seed": self.seed,
            "level": self.level,
            "max_advantage": self.max_advantage,
            **self.details,
        }

    def failures(self) -> list[str]:
        name = self.prefix + "membership_advantage"
        if not math.isfinite(self.advantage):
            return [f"{name} is {self.advantage}: it could not be computed"]
        if self.max_advantage is None or self.advantage <= self.max_advantage:
            return []
        return [
            f"{name} = {self.advantage:.4g} ({self.level:.0%} interval [{self.advantage_low:.4g}, "
            f"{self.advantage_high:.4g}], TPR {self.tpr:.3g} - FPR {self.fpr:.3g} on {self.m} "
            f"members and {self.m} non-members) is above its threshold: it must be <= "
            f"{self.max_advantage:g}. A loss-threshold attacker tells training rows from unseen "
            f"ones (loss AUC {self.auc:.3g}, p = {self.p_value:.3g}); regularise the model or "
            f"train on more data"
        ]


# -- the statistics ------------------------------------------------------------------------------

def _losses(values: Any, what: str) -> Any:
    import numpy as np

    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} cannot be read as numbers",
                         fix="pass one loss per row (a 1-D array)") from None
    if arr.ndim != 1:
        raise InputError(f"{what} has shape {arr.shape}; expected one loss per row")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise InputError(f"{what} has {int(bad.sum())} NaN or infinite losses (e.g. row "
                         f"{int(np.flatnonzero(bad)[0])})",
                         fix="check the model's probabilities on those rows; a membership "
                         "check cannot pass on rows it cannot score")
    return arr


def _best_threshold(members: Any, nonmembers: Any) -> tuple[float, float]:
    """The threshold ``t`` maximising ``P(member loss <= t) - P(non-member loss <= t)`` and that
    maximum (0 with ``t = -inf`` when no threshold beats guessing "non-member" for all)."""
    import numpy as np

    cuts = np.unique(np.concatenate([members, nonmembers]))
    tpr = np.searchsorted(np.sort(members), cuts, side="right") / members.size
    fpr = np.searchsorted(np.sort(nonmembers), cuts, side="right") / nonmembers.size
    gap = tpr - fpr
    best = int(np.argmax(gap))
    if gap[best] <= 0:
        return -math.inf, 0.0
    return float(cuts[best]), float(gap[best])


def newcombe_unpaired(x1: int, n1: int, x2: int, n2: int, level: float = 0.95
                      ) -> tuple[float, float]:
    """Interval of ``x1/n1 - x2/n2`` for two independent proportions (Newcombe 1998, method 10:
    the hybrid score interval from the two Wilson intervals, no continuity correction)."""
    from mlgate.model.intervals import wilson

    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, level)
    l2, u2 = wilson(x2, n2, level)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def membership_from_losses(member_losses: Any, nonmember_losses: Any, *, seed: int = 0,
                           n: int | None = None, level: float = 0.95,
                           max_advantage: float | None = None, prefix: str = "",
                           details: dict[str, Any] | None = None) -> MembershipResult:
    """The loss-threshold attack on per-row losses of members (training rows) and non-members
    (held-out rows); see the module docstring for the statistics.

    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> r = membership_from_losses(rng.exponential(0.2, 500), rng.exponential(1.0, 500))
    >>> r.advantage > 0.3 and r.interval.low > 0
    True
    >>> same = membership_from_losses(rng.exponential(1.0, 500), rng.exponential(1.0, 500))
    >>> same.interval.low <= 0 <= same.interval.high
    True
    """
    import numpy as np
    from scipy.stats import mannwhitneyu

    from mlgate.model.intervals import delong

    if not 0 < level < 1:
        raise InputError(f"level={level!r} must be in (0, 1)")
    if max_advantage is not None and not -1 <= float(max_advantage) <= 1:
        raise InputError(f"max_advantage={max_advantage!r} must be in [-1, 1] (an advantage is "
                         "TPR - FPR)", fix="e.g. max_advantage=0.1")
    mem = _losses(member_losses, "member_losses")
    non = _losses(nonmember_losses, "nonmember_losses")
    available = min(mem.size, non.size)
    m = available if n is None else int(n)
    if m > available:
        raise InputError(f"n={n} rows per group asked, but there are {mem.size} members and "
                         f"{non.size} non-members", fix=f"pass n <= {available}")
    if m < MIN_ROWS:
        raise InputError(f"{m} rows per group (members: {mem.size}, non-members: {non.size}); "
                         f"the attack needs at least {MIN_ROWS} of each",
                         fix="pass more training and held-out rows")
    rng = np.random.default_rng(seed)
    mem = mem[rng.permutation(mem.size)[:m]]
    non = non[rng.permutation(non.size)[:m]]
    # the two halves of each group: rows were shuffled above, so a cut is a random split
    half = m // 2
    folds = [(mem[:half], non[:half], mem[half:], non[half:]),
             (mem[half:], non[half:], mem[:half], non[:half])]
    tp = fp = 0
    thresholds = []
    for fit_m, fit_n, ev_m, ev_n in folds:
        t, _ = _best_threshold(fit_m, fit_n)
        thresholds.append(encode_float(t))
        tp += int((ev_m <= t).sum())
        fp += int((ev_n <= t).sum())
    tpr, fpr = tp / m, fp / m
    low, high = newcombe_unpaired(tp, m, fp, m, level)
    _, in_sample = _best_threshold(mem, non)
    labels = np.concatenate([np.ones(m, dtype=int), np.zeros(m, dtype=int)])
    aucs, cov = delong(labels, -np.concatenate([mem, non]))
    auc = float(aucs[0])
    from mlgate.model.intervals import z_value

    se = math.sqrt(max(float(cov[0, 0]), 0.0))
    z = z_value(level)
    auc_low, auc_high = max(0.0, auc - z * se), min(1.0, auc + z * se)
    if np.ptp(np.concatenate([mem, non])) == 0:  # every loss equal: no information at all
        p_value = 1.0
    else:
        p_value = float(mannwhitneyu(non, mem, alternative="greater").pvalue)
    return MembershipResult(
        advantage=tpr - fpr, advantage_low=low, advantage_high=high, tpr=tpr, fpr=fpr,
        auc=auc, auc_low=auc_low, auc_high=auc_high, p_value=p_value,
        advantage_in_sample=in_sample, m=m, n_members=int(np.size(member_losses)),
        n_nonmembers=int(np.size(nonmember_losses)), seed=seed, level=level,
        max_advantage=None if max_advantage is None else float(max_advantage), prefix=prefix,
        details={"thresholds": thresholds,
                 "mean_loss_members": float(mem.mean()),
                 "mean_loss_nonmembers": float(non.mean()),
                 **(details or {})},
    )


# -- from a model ----------------------------------------------------------------------------------

def _probabilities(model: Any, X: Any) -> tuple[Any, Any]:
    """The model's class probabilities on ``X`` and the classes the model knows (or None)."""
    import numpy as np

    if hasattr(model, "predict_proba"):
        proba, classes = model.predict_proba(X), getattr(model, "classes_", None)
    elif type(model).__module__.startswith("torch") or hasattr(model, "parameters"):
        from mlgate.model.adapters import as_model

        proba, classes = as_model(model).predict_scores(X), None
    elif callable(model):
        proba, classes = model(X), None
    else:
        raise InputError(f"expected a model with predict_proba, a torch module or a function "
                         f"f(X) -> probabilities, got {type(model).__module__}."
                         f"{type(model).__name__}",
                         fix="membership inference needs probabilities, not labels")
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:
        proba = np.column_stack([1 - proba, proba])
    return proba, None if classes is None else list(classes)


def per_row_loss(proba: Any, y: Any, classes: Any = None) -> Any:
    """``-log p(true class)`` per row, ``proba`` an ``(n, k)`` matrix whose columns are
    ``classes`` (default ``0..k-1``), the probabilities floored at ``PROBABILITY_FLOOR``.

    >>> per_row_loss([[0.9, 0.1], [0.5, 0.5]], [0, 1]).round(4).tolist()
    [0.1054, 0.6931]
    """
    import numpy as np

    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 1:
        proba = np.column_stack([1 - proba, proba])
    y = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if proba.ndim != 2 or proba.shape[0] != y.shape[0]:
        raise InputError(f"probabilities of shape {proba.shape} for {y.shape[0]} labels; expected "
                         "one row of class probabilities per label")
    if not np.isfinite(proba).all():
        raise InputError("the model returned NaN or infinite probabilities",
                         fix="check the inputs for missing values; the check fails closed")
    if (proba < -1e-9).any() or (proba > 1 + 1e-9).any():
        raise InputError("the model's scores are not probabilities (outside [0, 1])",
                         fix="pass predict_proba (or softmax the logits), not raw scores")
    classes = list(range(proba.shape[1])) if classes is None else list(classes)
    if len(classes) != proba.shape[1]:
        raise InputError(f"{len(classes)} classes for {proba.shape[1]} probability columns")
    index = {c: i for i, c in enumerate(classes)}
    try:
        col = np.array([index[v.item() if hasattr(v, "item") else v] for v in y], dtype=np.int64)
    except KeyError as exc:
        raise InputError(f"label {exc.args[0]!r} is not one of the model's classes {classes}",
                         fix="pass classes=[...] in the order of the probability columns") from None
    p = proba[np.arange(y.shape[0]), col]
    return -np.log(np.clip(p, PROBABILITY_FLOOR, 1.0))


def membership_inference(model: Any, X_train: Any, y_train: Any, X_holdout: Any, y_holdout: Any,
                         *, classes: Any = None, seed: int = 0, n: int | None = None,
                         level: float = 0.95, max_advantage: float | None = None,
                         prefix: str = "") -> MembershipResult:
    """The loss-threshold membership attack on ``model``: members are the training rows, non-
    members the held-out rows (never trained on). ``model``: anything with ``predict_proba``
    (scikit-learn), a torch module returning logits, or a function ``f(X) -> probabilities``;
    ``classes``: the labels of the probability columns when the model does not say
    (``classes_``), default ``0..k-1``.

    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 5)); y = (X[:, 0] + rng.normal(size=400) > 0).astype(int)
    >>> tree = DecisionTreeClassifier(random_state=0).fit(X[:200], y[:200])   # memorises
    >>> r = membership_inference(tree, X[:200], y[:200], X[200:], y[200:], seed=0)
    >>> r.advantage > 0.2 and r.interval.low > 0
    True
    """
    p_train, known = _probabilities(model, X_train)
    p_hold, _ = _probabilities(model, X_holdout)
    cls = classes if classes is not None else known
    return membership_from_losses(
        per_row_loss(p_train, y_train, cls), per_row_loss(p_hold, y_holdout, cls),
        seed=seed, n=n, level=level, max_advantage=max_advantage, prefix=prefix,
        details={"model": f"{type(model).__module__}.{type(model).__qualname__}",
                 "loss": "cross-entropy -log p(true class)"})
