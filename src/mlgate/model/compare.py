"""Candidate against champion on the same rows: paired differences with intervals, for a
non-inferiority decision.

::

    import pytest
    from mlgate.model.compare import compare

    @pytest.mark.model
    def test_not_worse_than_champion(mlgate, candidate, champion, X_test, y_test):
        mlgate.check(compare(y_test, candidate.predict_proba(X_test)[:, 1],
                             champion.predict_proba(X_test)[:, 1],
                             metrics=("accuracy", "roc_auc"), margin=0.01))

For each metric ``m`` the result records one gate metric, ``{m}_vs_champion``:

- ``value``: the difference, signed so that **positive means the candidate is better**:
  ``candidate - champion`` for higher-is-better metrics (accuracy, ROC AUC, …) and
  ``champion - candidate`` for lower-is-better ones (log loss, Brier);
- ``interval``: its confidence interval (see below), at the Bonferroni-adjusted level when several
  metrics are compared;
- ``threshold = -margin``, ``direction = "higher"``.

Both models' values, the p-value of the test of no difference and the method are evidence.

**The decision** (the gate's ``noninferiority`` rule reads the same numbers): the candidate is
non-inferior when the interval's lower end is at least ``-margin`` (**pass**); clearly inferior when
its upper end is below ``-margin`` (**fail**: the only case :meth:`ComparisonResult.failures`
lists, so the only one that fails the pytest test); otherwise the interval straddles the margin
and the data cannot tell: **review** (not a test failure; the gate says ``needs-review``). A
metric that cannot be computed (one class only) is NaN and a failure.

``level`` is two-sided. Non-inferiority reads only the lower end, so its one-sided error (promoting
a candidate truly worse by more than the margin) is at most ``(1 - level) / 2``: 0.025 at the
default 0.95; pass ``level=0.90`` for a one-sided 0.05 test. ``benchmarks/decision_quality.py``
measures it.

**Several metrics**: with ``adjust="bonferroni"`` (the default; it changes nothing for one metric)
each interval is at level ``1 - (1 - level) / k`` for ``k`` metrics, so all ``k`` intervals hold
together with probability at least ``level``: the chance of any wrong clear verdict (a false
fail, or a false pass) over the family stays within ``1 - level``. A promotion that needs every
metric to pass is an intersection-union test and keeps its error at ``(1 - level) / 2`` even
without adjustment; ``adjust="none"`` gives that more powerful (but per-metric) reading.

**Methods** (``method="auto"``):

- ``accuracy``: interval of the difference of paired proportions by Newcombe's hybrid score
  method (1998, method 10, no continuity correction), from the two Wilson intervals and the phi
  correlation of the pairs; p-value from McNemar's test on the discordant rows (``b``: only the
  candidate right, ``c``: only the champion right), exact binomial when ``b + c < 25``, else
  chi-square with continuity correction.
- ``roc_auc``: paired DeLong: the covariance of the two AUCs from the same rows (Sun & Xu's fast
  algorithm), ``var(diff) = v1 + v2 - 2 cov``, a Wald interval clipped to [-1, 1] and a z-test.
- any other metric (and every metric with ``method="bootstrap"``): paired percentile bootstrap:
  the row indices are resampled once per replicate and applied to both models, so their
  correlation is kept; no p-value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mlgate.errors import InputError
from mlgate.record import Interval, Metric, encode_float

from .metrics import (
    BINARY_METRICS,
    BOOTSTRAP,
    DIRECTIONS,
    LABEL_METRICS,
    PROBABILITY_METRICS,
    Prepared,
    _check_metrics,
    _check_options,
    _rows,
    check_inputs,
    point_value,
    prepare_classification,
    replicates,
    undefined_note,
)

Status = Literal["pass", "review", "fail"]
ADJUSTMENTS = ("bonferroni", "none")


@dataclass(frozen=True)
class Comparison:
    """One metric compared: both values, the difference (positive = candidate better), its
    interval, and the non-inferiority status against ``margin``."""

    metric: str
    candidate: float
    champion: float
    difference: float
    low: float
    high: float
    level: float
    margin: float
    method: str
    p_value: float | None = None
    test: str | None = None
    n: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None

    @property
    def status(self) -> Status:
        """``pass`` (low >= -margin), ``fail`` (high < -margin, or not computable) or ``review``."""
        if not all(math.isfinite(x) for x in (self.difference, self.low, self.high)):
            return "fail"
        if self.low >= -self.margin:
            return "pass"
        if self.high < -self.margin:
            return "fail"
        return "review"

    @property
    def interval(self) -> Interval | None:
        if math.isfinite(self.low) and math.isfinite(self.high):
            return Interval(self.low, self.high, self.level)
        return None

    def message(self, name: str) -> str:
        if not math.isfinite(self.difference):
            return f"{name} is NaN: {self.note or 'it could not be computed'}"
        better = "higher" if DIRECTIONS[self.metric] == "higher" else "lower"
        head = (f"{name} = {self.difference:+.4g} ({100 * self.level:.4g}% interval [{self.low:+.4g}, "
                f"{self.high:+.4g}], margin {self.margin:g}): candidate {self.metric} "
                f"{self.candidate:.6g} against champion {self.champion:.6g} ({better} is better)")
        status = self.status
        if status == "fail":
            return head + " - the candidate is worse than the champion by more than the margin"
        if status == "review":
            return head + " - the interval straddles the margin: the data cannot tell"
        return head + " - not worse than the champion by more than the margin"


@dataclass(frozen=True)
class ComparisonResult:
    """What :func:`compare` found: a :class:`mlgate.record.CheckResult`.

    ``failures()`` lists only the clearly inferior metrics; ``reviews()`` the ones whose interval
    straddles the margin; ``status`` is the worst of the metrics' statuses."""

    comparisons: tuple[Comparison, ...]
    n: int
    level: float  # as asked (two-sided, for the family)
    adjusted_level: float  # of each interval
    adjust: str
    method: str
    n_boot: int
    seed: int
    decision_threshold: float | None
    prefix: str = ""
    name: str = "comparison"

    def __getitem__(self, metric: str) -> Comparison:
        for c in self.comparisons:
            if c.metric == metric:
                return c
        raise KeyError(f"metric {metric!r} was not compared; compared: "
                       f"{[c.metric for c in self.comparisons]}")

    def _name(self, c: Comparison) -> str:
        return f"{self.prefix}{c.metric}_vs_champion"

    @property
    def status(self) -> Status:
        statuses = {c.status for c in self.comparisons}
        return "fail" if "fail" in statuses else "review" if "review" in statuses else "pass"

    def metrics(self) -> list[Metric]:
        return [Metric(self._name(c), c.difference, -c.margin, "higher", c.interval)
                for c in self.comparisons]

    def evidence(self) -> dict[str, Any]:
        def num(x: float | None) -> Any:
            return None if x is None else encode_float(x)

        return {
            "n": self.n,
            "level": self.level,
            "adjusted_level": self.adjusted_level,
            "adjust": self.adjust,
            "method": self.method,
            "n_boot": self.n_boot,
            "seed": self.seed,
            "decision_threshold": self.decision_threshold,
            "sign": "difference > 0 means the candidate is better (champion - candidate for "
                    "lower-is-better metrics)",
            "status": self.status,
            "comparisons": {
                self._name(c): {
                    "metric": c.metric,
                    "direction": DIRECTIONS[c.metric],
                    "candidate": num(c.candidate),
                    "champion": num(c.champion),
                    "difference": num(c.difference),
                    "low": num(c.low),
                    "high": num(c.high),
                    "level": c.level,
                    "margin": c.margin,
                    "method": c.method,
                    "test": c.test,
                    "p_value": num(c.p_value),
                    "status": c.status,
                    "note": c.note,
                    **c.details,
                }
                for c in self.comparisons
            },
        }

    def failures(self) -> list[str]:
        return [c.message(self._name(c)) for c in self.comparisons if c.status == "fail"]

    def reviews(self) -> list[str]:
        return [c.message(self._name(c)) for c in self.comparisons if c.status == "review"]


def _margins(margin: float | Mapping[str, float], chosen: tuple[str, ...]) -> dict[str, float]:
    if isinstance(margin, Mapping):
        for key in margin:
            if key not in chosen:
                raise InputError(f"margin names {key!r}, which is not among the metrics {chosen}",
                                 key=f"margin[{key!r}]", fix="add it to metrics= or drop the key")
        raw = {m: margin.get(m, 0.0) for m in chosen}
    else:
        raw = {m: margin for m in chosen}
    out = {}
    for m, value in raw.items():
        try:
            v = float(value)
        except (TypeError, ValueError):
            v = math.nan
        if not (math.isfinite(v) and v >= 0):
            raise InputError(f"margin for {m} is {value!r}; it must be a finite number >= 0 (how much "
                             "worse than the champion the candidate may be, in the metric's units)",
                             key="margin", fix="e.g. margin=0.01")
        out[m] = v
    return out


def _accuracy(cand: Prepared, champ: Prepared, level: float) -> tuple[Any, ...]:
    from .intervals import mcnemar, newcombe_paired

    right1 = cand.y == cand.pred
    right2 = champ.y == champ.pred
    a = int((right1 & right2).sum())
    b = int((right1 & ~right2).sum())
    c = int((~right1 & right2).sum())
    d = cand.n - a - b - c
    low, high = newcombe_paired(a, b, c, d, level)
    p, test = mcnemar(b, c)
    details = {"both_right": a, "only_candidate_right": b, "only_champion_right": c,
               "both_wrong": d}
    return (b - c) / cand.n, low, high, "newcombe-paired", p, test, details


def _roc_auc(cand: Prepared, champ: Prepared, level: float) -> tuple[Any, ...]:
    import numpy as np
    from scipy.stats import norm

    from .intervals import delong, z_value

    aucs, cov = delong(cand.y, np.vstack([cand.score, champ.score]))
    diff = float(aucs[0] - aucs[1])
    var = float(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1])
    se = math.sqrt(max(var, 0.0))
    half = z_value(level) * se
    if se > 0:
        p = float(2 * norm.sf(abs(diff) / se))
    else:
        p = 1.0 if diff == 0 else 0.0
    details = {"se": se, "candidate_variance": float(cov[0, 0]),
               "champion_variance": float(cov[1, 1]), "covariance": float(cov[0, 1])}
    return diff, max(-1.0, diff - half), min(1.0, diff + half), "delong-paired", p, "delong-z", details


def compare(
    y_true: Any,
    candidate_scores: Any,
    champion_scores: Any,
    *,
    metrics: Iterable[str] = ("accuracy", "roc_auc"),
    margin: float | Mapping[str, float] = 0.0,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    threshold: float = 0.5,
    adjust: str = "bonferroni",
    method: str = "auto",
    prefix: str = "",
) -> ComparisonResult:
    """Compare the candidate's predictions with the champion's on the same rows (see the module
    docstring for the numbers, the methods and the decision).

    ``candidate_scores``/``champion_scores``: as ``y_score_or_pred`` of
    :func:`mlgate.model.metrics.classification_metrics` (probabilities of class 1 for 0/1 labels;
    predicted labels or a probability matrix otherwise), both in the order of ``y_true``.
    ``margin``: how much worse the candidate may be, in each metric's units (one number, or
    ``{metric: margin}``; a metric left out gets 0). ``level``: two-sided, for the family of
    metrics; ``adjust``: ``"bonferroni"`` or ``"none"``. ``method``: ``"auto"`` or ``"bootstrap"``
    (paired bootstrap for every metric)."""
    _check_options(level, method, n_boot)
    if adjust not in ADJUSTMENTS:
        raise InputError(f"adjust={adjust!r}", key="adjust", fix=f"use one of {ADJUSTMENTS}")
    y, preds = check_inputs(y_true, {"candidate_scores": candidate_scores,
                                     "champion_scores": champion_scores})
    cand = prepare_classification(y, preds["candidate_scores"], threshold, "candidate_scores")
    champ = prepare_classification(y, preds["champion_scores"], threshold, "champion_scores")
    if cand.task != champ.task:
        raise InputError(f"the candidate gives {'scores' if cand.task == 'binary' else 'labels'} and "
                         f"the champion {'scores' if champ.task == 'binary' else 'labels'}",
                         key="champion_scores",
                         fix="give both models' predictions in the same form (both probabilities "
                         "of class 1, or both labels)")
    allowed = BINARY_METRICS if cand.task == "binary" else LABEL_METRICS
    chosen = _check_metrics(metrics, allowed, cand.task)
    if cand.task == "binary" and set(chosen) & set(PROBABILITY_METRICS):
        for what, d in (("candidate_scores", cand), ("champion_scores", champ)):
            outside = (d.score < 0) | (d.score > 1)
            if outside.any():
                raise InputError(f"{what} is outside [0, 1] in {_rows(outside)}, but log_loss and "
                                 "brier need probabilities", key=what,
                                 fix="pass predict_proba(X)[:, 1]")
    margins = _margins(margin, chosen)
    k = len(chosen)
    each = 1 - (1 - level) / k if adjust == "bonferroni" else level

    values = {m: (point_value(m, cand), point_value(m, champ)) for m in chosen}
    exact = {}
    if method == "auto":
        for m in chosen:
            if not all(math.isfinite(v) for v in values[m]):
                continue
            if m == "accuracy":
                exact[m] = _accuracy(cand, champ, each)
            elif m == "roc_auc":
                exact[m] = _roc_auc(cand, champ, each)
    boot = [m for m in chosen if m not in exact and all(math.isfinite(v) for v in values[m])]
    reps = replicates(boot, [cand, champ], n_boot, seed) if boot else {}

    from .intervals import percentile_interval

    out = []
    for m in chosen:
        c_val, h_val = values[m]
        sign = 1.0 if DIRECTIONS[m] == "higher" else -1.0
        if not (math.isfinite(c_val) and math.isfinite(h_val)):
            who = cand if not math.isfinite(c_val) else champ
            out.append(Comparison(m, c_val, h_val, math.nan, math.nan, math.nan, each, margins[m],
                                  "undefined", n=cand.n, note=undefined_note(m, who)))
            continue
        if m in exact:
            diff, low, high, how, p, test, details = exact[m]
            diff = sign * (c_val - h_val)  # the same number, from the point values
        else:
            diff = sign * (c_val - h_val)
            low, high = percentile_interval(sign * (reps[(m, 0)] - reps[(m, 1)]), each)
            how, p, test, details = BOOTSTRAP + "-paired", None, None, {}
        out.append(Comparison(m, c_val, h_val, diff, low, high, each, margins[m], how, p, test,
                              cand.n, details))
    return ComparisonResult(tuple(out), cand.n, level, each, adjust, method, n_boot, seed,
                            threshold if cand.task == "binary" else None, prefix)
