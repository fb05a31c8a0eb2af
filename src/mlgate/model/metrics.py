"""Model metrics, each with a confidence interval, as one :class:`mlgate.record.CheckResult`.

::

    import pytest
    from mlgate.model.metrics import classification_metrics

    @pytest.mark.model
    def test_quality(mlgate, model, X_test, y_test):
        scores = model.predict_proba(X_test)[:, 1]
        mlgate.check(classification_metrics(y_test, scores, thresholds={"roc_auc": 0.9}))

**Classification, binary** (``y_true`` of 0/1 or booleans, ``y_score`` the probability of class 1;
a row is predicted positive when ``score >= threshold``, as ``sklearn.metrics.roc_curve`` counts):

=============  =========  ===========================================================
metric         direction  interval
=============  =========  ===========================================================
``accuracy``   higher     Wilson score, over all rows
``precision``  higher     Wilson score, over the rows predicted positive
``recall``     higher     Wilson score, over the positive rows
``f1``         higher     bootstrap (percentile)
``roc_auc``    higher     DeLong (Sun & Xu's O(n log n) midranks), Wald, clipped to [0, 1]
``pr_auc``     higher     bootstrap (percentile); the value is average precision
``log_loss``   lower      bootstrap (percentile)
``brier``      lower      bootstrap (percentile)
=============  =========  ===========================================================

**Classification, labels** (multiclass, or classes other than 0/1): ``y_score_or_pred`` holds the
predicted labels, or is an ``(n, k)`` probability matrix whose columns are the sorted classes of
``y_true`` (the prediction is the column of the largest probability). Metrics: ``accuracy``
(Wilson) and macro-averaged ``precision``, ``recall``, ``f1`` (bootstrap), as scikit-learn's
``average="macro"``.

**Regression**: ``mae``, ``rmse``, ``mape`` (lower is better) and ``r2`` (higher), each with a
bootstrap (percentile) interval.

Values agree with scikit-learn (``accuracy_score``, ``precision_score``, ``recall_score``,
``f1_score``, ``roc_auc_score``, ``average_precision_score``, ``log_loss``, ``brier_score_loss``,
``mean_absolute_error``, ``root_mean_squared_error``, ``r2_score``,
``mean_absolute_percentage_error``) to 1e-12. Where scikit-learn needs a convention because a metric
is undefined, mlgate **fails closed**: the metric is NaN with a note, which fails the check and
never passes a gate rule. That is scikit-learn's ``zero_division=np.nan`` for precision, recall
and F1 (no predicted positives, no positives); ROC AUC with one class only; average precision
without positives; R² of a constant ``y_true``. Inputs that make no sense (lengths that differ,
no rows, NaN or infinite scores or labels, probabilities outside [0, 1] for log loss or Brier, an
unknown metric) raise :class:`mlgate.errors.InputError` saying what and how to fix it.

The bootstrap: ``n_boot`` replicates (default 2000) of the rows, drawn once from
``numpy.random.default_rng(seed)`` and shared by every bootstrapped metric; the interval is the
percentile interval (the ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the replicates;
replicates where the metric is undefined are dropped). ``method="bootstrap"`` bootstraps every
metric, the exact ones included. The result's evidence records each metric's method, ``n``,
``seed`` and ``n_boot``, so a reported interval can be reproduced.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Direction, Interval, Metric, encode_float

BINARY_METRICS: tuple[str, ...] = (
    "accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss", "brier")
LABEL_METRICS: tuple[str, ...] = ("accuracy", "precision", "recall", "f1")
REGRESSION_METRICS: tuple[str, ...] = ("mae", "rmse", "r2", "mape")

#: which way is better, for every metric mlgate computes
DIRECTIONS: dict[str, Direction] = {
    "accuracy": "higher", "precision": "higher", "recall": "higher", "f1": "higher",
    "roc_auc": "higher", "pr_auc": "higher", "log_loss": "lower", "brier": "lower",
    "mae": "lower", "rmse": "lower", "r2": "higher", "mape": "lower",
}
#: metrics that need scores (probabilities), not labels
SCORE_METRICS = ("roc_auc", "pr_auc", "log_loss", "brier")
#: metrics that need probabilities in [0, 1]
PROBABILITY_METRICS = ("log_loss", "brier")
METHODS = ("auto", "bootstrap")
BOOTSTRAP = "bootstrap-percentile"


@dataclass(frozen=True)
class MetricEstimate:
    """One metric: its value, interval, how the interval was computed, and its threshold."""

    metric: str
    value: float
    low: float
    high: float
    level: float
    method: str  # "wilson", "delong", "bootstrap-percentile", or "undefined"
    direction: Direction
    threshold: float | None = None
    n: int = 0  # the rows the value is over (a proportion's denominator)
    note: str | None = None

    @property
    def interval(self) -> Interval | None:
        if math.isfinite(self.low) and math.isfinite(self.high):
            return Interval(self.low, self.high, self.level)
        return None

    @property
    def passed(self) -> bool | None:
        return Metric(self.metric, self.value, self.threshold, self.direction).passed

    def failure(self, name: str) -> str | None:
        if not math.isfinite(self.value):
            return f"{name} is {self.value}: {self.note or 'it could not be computed'}"
        if self.passed is False:
            op, word = (">=", "below") if self.direction == "higher" else ("<=", "above")
            iv = self.interval
            shown = "" if iv is None else f" ({iv.level:.0%} interval [{iv.low:.4g}, {iv.high:.4g}])"
            return (f"{name} = {self.value:.6g}{shown} is {word} its threshold: it must be {op} "
                    f"{self.threshold:.6g}")
        return None


@dataclass(frozen=True)
class MetricsResult:
    """What :func:`classification_metrics` or :func:`regression_metrics` measured: a
    :class:`mlgate.record.CheckResult`. ``result["roc_auc"]`` is one :class:`MetricEstimate`."""

    estimates: tuple[MetricEstimate, ...]
    n: int
    task: str  # "binary", "labels" or "regression"
    level: float
    method: str
    n_boot: int
    seed: int
    decision_threshold: float | None = None
    prefix: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    name: str = "metrics"

    def __getitem__(self, metric: str) -> MetricEstimate:
        for e in self.estimates:
            if e.metric == metric:
                return e
        raise KeyError(f"metric {metric!r} was not computed; computed: "
                       f"{[e.metric for e in self.estimates]}")

    def metrics(self) -> list[Metric]:
        return [Metric(self.prefix + e.metric, e.value, e.threshold, e.direction, e.interval)
                for e in self.estimates]

    def evidence(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "n": self.n,
            "level": self.level,
            "method": self.method,
            "n_boot": self.n_boot,
            "seed": self.seed,
            "bootstrap": "percentile, rows resampled with replacement, replicates shared by "
                         "all bootstrapped metrics",
            "decision_threshold": self.decision_threshold,
            **self.details,
            "metrics": {
                self.prefix + e.metric: {
                    "value": encode_float(e.value),
                    "low": encode_float(e.low),
                    "high": encode_float(e.high),
                    "method": e.method,
                    "n": e.n,
                    "direction": e.direction,
                    "threshold": None if e.threshold is None else encode_float(e.threshold),
                    "passed": e.passed,
                    "note": e.note,
                }
                for e in self.estimates
            },
        }

    def failures(self) -> list[str]:
        return [f for e in self.estimates if (f := e.failure(self.prefix + e.metric)) is not None]


# -- input checking -----------------------------------------------------------------------------

def _array(values: Any, what: str) -> Any:
    import numpy as np

    if hasattr(values, "to_numpy"):  # pandas / polars
        values = values.to_numpy()
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} cannot be read as an array: {exc}",
                         fix="pass a 1-D list, NumPy array or pandas Series") from None
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    return arr


def _rows(mask: Any) -> str:
    import numpy as np

    rows = np.flatnonzero(mask)
    shown = ", ".join(str(int(r)) for r in rows[:5])
    return f"{len(rows)} row{'s' * (len(rows) != 1)} (e.g. {shown})"


def _missing(arr: Any) -> Any:
    import numpy as np

    if arr.dtype.kind in "fc":
        return ~np.isfinite(arr)
    if arr.dtype.kind == "O":
        return np.array([v is None or (isinstance(v, float) and not math.isfinite(v)) for v in arr],
                        dtype=bool)
    return np.zeros(arr.shape[0], dtype=bool)


def check_inputs(y_true: Any, predictions: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Arrays of the same length, not empty, without NaN, infinities or None; else InputError."""
    y = _array(y_true, "y_true")
    if y.ndim != 1:
        raise InputError(f"y_true has shape {y.shape}; expected one label or target per row",
                         key="y_true", fix="pass a 1-D array")
    if y.shape[0] == 0:
        raise InputError("y_true is empty: no metric can be computed on no rows", key="y_true",
                         fix="check the step that loads or filters the evaluation data")
    bad = _missing(y)
    if bad.any():
        raise InputError(f"y_true has missing or non-finite values in {_rows(bad)}", key="y_true",
                         fix="drop the unlabeled rows from the evaluation set")
    out = {}
    for what, values in predictions.items():
        arr = _array(values, what)
        if arr.ndim not in (1, 2):
            raise InputError(f"{what} has shape {arr.shape}; expected (n,) or (n, classes)", key=what)
        if arr.shape[0] != y.shape[0]:
            raise InputError(f"y_true has {y.shape[0]} rows but {what} has {arr.shape[0]}",
                             key=what, fix="predict on exactly the rows of y_true, in the same order")
        bad = _missing(arr)
        if bad.ndim == 2:
            bad = bad.any(axis=1)
        if bad.any():
            raise InputError(f"{what} has NaN, infinite or missing values in {_rows(bad)}",
                             key=what, fix="a model that returns NaN is broken for those rows: fix "
                             "the model or its preprocessing; do not drop the rows to pass a gate")
        out[what] = arr
    return y, out


def _check_options(level: float, method: str, n_boot: int) -> None:
    if not (isinstance(level, (int, float)) and 0 < level < 1):
        raise InputError(f"level={level!r} is not in (0, 1)", key="level", fix="e.g. level=0.95")
    if method not in METHODS:
        raise InputError(f"method={method!r}", key="method", fix=f"use one of {METHODS}")
    if not isinstance(n_boot, int) or n_boot < 100:
        raise InputError(f"n_boot={n_boot!r}: a bootstrap needs at least 100 replicates",
                         key="n_boot", fix="e.g. n_boot=2000")


def _check_metrics(metrics: Iterable[str], allowed: Sequence[str], task: str) -> tuple[str, ...]:
    if isinstance(metrics, str):
        metrics = (metrics,)
    chosen = tuple(metrics)
    if not chosen:
        raise InputError("no metrics asked for", key="metrics", fix=f"name some of {allowed}")
    for m in chosen:
        if m not in allowed:
            why = ("it needs binary 0/1 labels and scores" if m in SCORE_METRICS and task == "labels"
                   else "unknown metric")
            raise InputError(f"metric {m!r} cannot be computed for a {task} task: {why}",
                             key="metrics", fix=f"use some of {allowed}")
    if len(set(chosen)) != len(chosen):
        raise InputError(f"metrics {chosen} name a metric twice", key="metrics")
    return chosen


def _check_thresholds(thresholds: Mapping[str, float] | None, chosen: Sequence[str]) -> dict:
    thresholds = dict(thresholds or {})
    for key, value in thresholds.items():
        if key not in chosen:
            raise InputError(f"thresholds names {key!r}, which is not among the metrics {chosen}",
                             key=f"thresholds[{key!r}]", fix="add it to metrics= or drop the key")
        try:
            ok = math.isfinite(float(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InputError(f"thresholds[{key!r}] = {value!r} is not a finite number",
                             key=f"thresholds[{key!r}]")
    return {k: float(v) for k, v in thresholds.items()}


# -- prepared data ------------------------------------------------------------------------------

@dataclass
class Prepared:
    """Inputs checked and turned into per-row arrays, ready for point values and replicates."""

    task: str
    n: int
    y: Any  # binary: float 0/1; labels: int codes; regression: float
    score: Any = None  # binary: the score
    pred: Any = None  # binary: float 0/1; labels: int codes; regression: float
    classes: int = 0
    cache: dict[str, Any] = field(default_factory=dict)


def _is_binary(y: Any) -> bool:
    import numpy as np

    if y.dtype.kind == "b":
        return True
    if y.dtype.kind not in "iuf":
        return False
    return bool(np.isin(y, (0, 1)).all())


def prepare_classification(y: Any, s: Any, threshold: float, what: str = "y_score") -> Prepared:
    """Binary (0/1 labels and 1-D numeric scores, or an (n, 2) probability matrix) or labels."""
    import numpy as np

    n = y.shape[0]
    if s.ndim == 2 and s.shape[1] == 2 and _is_binary(y):
        s = s[:, 1]
    if s.ndim == 1 and _is_binary(y) and s.dtype.kind in "biuf":
        if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)):
            raise InputError(f"threshold={threshold!r} is not a finite number", key="threshold")
        score = s.astype(float)
        return Prepared("binary", n, y.astype(float), score, (score >= threshold).astype(float))
    if s.ndim == 2:
        if s.dtype.kind not in "biuf":
            raise InputError(f"{what} is a 2-D array of {s.dtype}; expected class probabilities",
                             key=what)
        classes = np.unique(y)
        if len(classes) != s.shape[1]:
            raise InputError(f"{what} has {s.shape[1]} probability columns but y_true has "
                             f"{len(classes)} classes", key=what,
                             fix="give one column per class of y_true, in sorted class order, or "
                             "pass the predicted labels")
        s = classes[np.argmax(s, axis=1)]
    numeric_y, numeric_s = y.dtype.kind in "biuf", s.dtype.kind in "biuf"
    if numeric_y != numeric_s:
        raise InputError(f"y_true holds {y.dtype} labels but {what} holds {s.dtype} values",
                         key=what, fix="for binary scores, map y_true to 0/1 (e.g. "
                         "(y == positive).astype(int)); otherwise pass predicted labels of y_true's type")
    if s.dtype.kind == "f" and not np.array_equal(s, np.round(s)):
        raise InputError(f"{what} holds fractional numbers, but y_true has classes other than 0/1 "
                         f"({', '.join(map(str, np.unique(y)[:5]))}…), so they cannot be scores of "
                         "class 1", key=what, fix="pass the predicted labels, or an (n, classes) "
                         "probability matrix with one column per class of y_true")
    try:
        union, codes = np.unique(np.concatenate([y, s]), return_inverse=True)
    except TypeError:
        raise InputError(f"y_true and {what} hold labels that cannot be compared "
                         f"({y.dtype} and {s.dtype})", key=what,
                         fix="give labels of one type (e.g. all int or all str)") from None
    return Prepared("labels", n, codes[:n], None, codes[n:], classes=len(union))


# -- the metrics as functions of row weights ------------------------------------------------------
# Each takes a Prepared and w: None for the point value, or a (B, n) matrix of bootstrap counts
# (each row sums to n), and returns an array of B values (1 for the point value).

def _sum(x: Any, w: Any) -> Any:
    import numpy as np

    return np.array([x.sum()]) if w is None else w @ x


def _mean(x: Any, w: Any, n: int) -> Any:
    import numpy as np

    return np.array([x.mean()]) if w is None else (w @ x) / n


def _ratio(num: Any, den: Any) -> Any:
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _accuracy(d: Prepared, w: Any) -> Any:
    return _mean((d.y == d.pred).astype(float), w, d.n)


def _binary_counts(d: Prepared, w: Any) -> tuple[Any, Any, Any]:
    """Weighted true positives, predicted positives and actual positives."""
    if "tp" not in d.cache:
        d.cache["tp"] = d.y * d.pred
    return _sum(d.cache["tp"], w), _sum(d.pred, w), _sum(d.y, w)


def _class_counts(d: Prepared, w: Any) -> tuple[Any, Any, Any]:
    """Per class (B, k): weighted true positives, predicted and actual counts."""
    import numpy as np

    if "onehot" not in d.cache:
        eye = np.eye(d.classes)
        d.cache["onehot"] = (eye[d.y], eye[d.pred])
    oy, op = d.cache["onehot"]
    if w is None:
        return (oy * op).sum(0)[None], op.sum(0)[None], oy.sum(0)[None]
    return w @ (oy * op), w @ op, w @ oy


def _macro(values: Any, present: Any) -> Any:
    """Mean over the classes present; NaN classes (zero division) left out, as scikit-learn's
    ``zero_division=np.nan``."""
    import numpy as np

    keep = present & np.isfinite(values)
    count = keep.sum(axis=1)
    total = np.where(keep, values, 0.0).sum(axis=1)
    return _ratio(total, count.astype(float))


def _precision(d: Prepared, w: Any) -> Any:
    if d.task == "binary":
        tp, pp, _ = _binary_counts(d, w)
        return _ratio(tp, pp)
    tp, pp, ap = _class_counts(d, w)
    return _macro(_ratio(tp, pp), (pp + ap) > 0)


def _recall(d: Prepared, w: Any) -> Any:
    if d.task == "binary":
        tp, _, ap = _binary_counts(d, w)
        return _ratio(tp, ap)
    tp, pp, ap = _class_counts(d, w)
    return _macro(_ratio(tp, ap), (pp + ap) > 0)


def _f1(d: Prepared, w: Any) -> Any:
    if d.task == "binary":
        tp, pp, ap = _binary_counts(d, w)
        return _ratio(2 * tp, pp + ap)
    tp, pp, ap = _class_counts(d, w)
    return _macro(_ratio(2 * tp, pp + ap), (pp + ap) > 0)


def _score_groups(d: Prepared) -> tuple[Any, Any, Any]:
    """Rows sorted by score, the start of each group of tied scores, and the sorted labels."""
    import numpy as np

    if "groups" not in d.cache:
        order = np.argsort(d.score, kind="stable")
        s = d.score[order]
        starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
        d.cache["groups"] = (order, starts, d.y[order])
    return d.cache["groups"]


def _group_weights(d: Prepared, w: Any) -> tuple[Any, Any]:
    """Weighted positives and negatives per tied-score group (B, groups), ascending score.
    The last chunk's result is kept, so ROC AUC and PR AUC share one pass over it."""
    import numpy as np

    last = d.cache.get("group_weights")
    if last is not None and last[0] is w:
        return last[1]
    order, starts, ys = _score_groups(d)
    ws = np.ones((1, d.n)) if w is None else w[:, order]
    wpos = ws * ys
    if len(starts) == d.n:  # no ties: a group is a row
        pos, neg = wpos, ws - wpos
    else:
        pos = np.add.reduceat(wpos, starts, axis=1)
        neg = np.add.reduceat(ws, starts, axis=1) - pos
    if w is not None:
        d.cache["group_weights"] = (w, (pos, neg))
    return pos, neg


def _roc_auc(d: Prepared, w: Any) -> Any:
    """Mann-Whitney: P(score of a positive > score of a negative), ties counted one half."""
    import numpy as np

    pos, neg = _group_weights(d, w)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    return _ratio(num, pos.sum(axis=1) * neg.sum(axis=1))


def _pr_auc(d: Prepared, w: Any) -> Any:
    """Average precision: sum over descending score thresholds of (R_k - R_{k-1}) P_k."""
    import numpy as np

    pos, neg = _group_weights(d, w)
    pos = pos[:, ::-1]  # descending score
    tps = np.cumsum(pos, axis=1)
    seen = np.cumsum(pos + neg[:, ::-1], axis=1)
    contrib = np.divide(pos * tps, seen, out=np.zeros_like(seen), where=seen > 0)
    return _ratio(contrib.sum(axis=1), tps[:, -1])


def _log_loss(d: Prepared, w: Any) -> Any:
    import numpy as np

    if "log_loss" not in d.cache:
        eps = np.finfo(float).eps
        p1 = np.clip(d.score, eps, 1 - eps)
        p0 = np.clip(1 - d.score, eps, 1 - eps)
        d.cache["log_loss"] = -np.where(d.y == 1, np.log(p1), np.log(p0))
    return _mean(d.cache["log_loss"], w, d.n)


def _brier(d: Prepared, w: Any) -> Any:
    return _mean((d.y - d.score) ** 2, w, d.n)


def _mae(d: Prepared, w: Any) -> Any:
    import numpy as np

    return _mean(np.abs(d.y - d.pred), w, d.n)


def _rmse(d: Prepared, w: Any) -> Any:
    import numpy as np

    return np.sqrt(_mean((d.y - d.pred) ** 2, w, d.n))


def _r2(d: Prepared, w: Any) -> Any:
    import numpy as np

    if w is None:  # as scikit-learn's r2_score, with force_finite=False but NaN for 0/0 and x/0
        num = ((d.y - d.pred) ** 2).sum()
        den = ((d.y - d.y.mean()) ** 2).sum()
        return np.array([1 - num / den if den > 0 else np.nan])
    yc = d.y - d.y.mean()  # centred: the weighted sums of squares stay accurate
    num = w @ ((d.y - d.pred) ** 2)
    mean_w = (w @ yc) / d.n
    den = w @ (yc * yc) - d.n * mean_w * mean_w
    return 1 - _ratio(num, np.where(den > 1e-12 * (w @ (yc * yc)), den, 0.0))


def _mape(d: Prepared, w: Any) -> Any:
    import numpy as np

    eps = np.finfo(np.float64).eps
    return _mean(np.abs(d.pred - d.y) / np.maximum(np.abs(d.y), eps), w, d.n)


FUNCTIONS = {
    "accuracy": _accuracy, "precision": _precision, "recall": _recall, "f1": _f1,
    "roc_auc": _roc_auc, "pr_auc": _pr_auc, "log_loss": _log_loss, "brier": _brier,
    "mae": _mae, "rmse": _rmse, "r2": _r2, "mape": _mape,
}


def point_value(metric: str, d: Prepared) -> float:
    return float(FUNCTIONS[metric](d, None)[0])


def undefined_note(metric: str, d: Prepared) -> str:
    """Why ``metric`` is NaN on these rows."""
    import numpy as np

    if d.task == "regression":
        return "y_true is constant, so R² (1 - SS_res / SS_tot) divides by zero"
    positives = int(d.y.sum()) if d.task == "binary" else None
    if metric in ("roc_auc", "pr_auc") or (metric == "recall" and positives == 0):
        if positives is not None and positives in (0, d.n):
            only = "0 (negative)" if positives == 0 else "1 (positive)"
            return (f"y_true has one class only (every row is {only}); {metric} needs positive "
                    "and negative rows: evaluate on data with both classes")
    if metric == "precision" and d.task == "binary":
        return "no row is predicted positive (score >= threshold), so precision divides by zero"
    if metric == "f1" and d.task == "binary":
        return "no positive rows and none predicted positive, so F1 divides by zero"
    classes = int(np.unique(d.y).size)
    return f"zero division in every class ({classes} classes in y_true)"


# -- estimation ---------------------------------------------------------------------------------

def replicates(metrics: Sequence[str], data: Sequence[Prepared], n_boot: int, seed: int
               ) -> dict[tuple[str, int], Any]:
    """Bootstrap replicates of every metric on every prepared data set, from the same resampled
    rows (so replicates of two models on the same rows are paired)."""
    import numpy as np

    from .intervals import bootstrap_weights

    out: dict[tuple[str, int], list[Any]] = {(m, i): [] for m in metrics for i in range(len(data))}
    if not metrics:
        return {}
    for w in bootstrap_weights(data[0].n, n_boot, seed):
        for m in metrics:
            for i, d in enumerate(data):
                out[(m, i)].append(FUNCTIONS[m](d, w))
    return {k: np.concatenate(v) for k, v in out.items()}


def _estimate(d: Prepared, chosen: Sequence[str], *, level: float, method: str, n_boot: int,
              seed: int, thresholds: dict[str, float]) -> tuple[MetricEstimate, ...]:
    from .intervals import delong, percentile_interval, wilson, z_value

    values = {m: point_value(m, d) for m in chosen}
    exact: dict[str, tuple[float, float, str, int]] = {}
    if method == "auto":
        counts = None
        if d.task == "binary" and {"precision", "recall"} & set(chosen):
            tp, pp, ap = (float(x[0]) for x in _binary_counts(d, None))
            counts = {"precision": (tp, pp), "recall": (tp, ap)}
        for m in chosen:
            if not math.isfinite(values[m]):
                continue
            if m == "accuracy":
                correct = float((d.y == d.pred).sum())
                exact[m] = (*wilson(correct, d.n, level), "wilson", d.n)
            elif m in ("precision", "recall") and counts is not None:
                k, total = counts[m]
                exact[m] = (*wilson(k, total, level), "wilson", int(total))
            elif m == "roc_auc" and d.task == "binary":
                auc, cov = delong(d.y, d.score)
                half = z_value(level) * math.sqrt(max(float(cov[0, 0]), 0.0))
                exact[m] = (max(0.0, values[m] - half), min(1.0, values[m] + half), "delong", d.n)
    boot = [m for m in chosen if m not in exact and math.isfinite(values[m])]
    reps = replicates(boot, [d], n_boot, seed) if boot else {}
    estimates = []
    for m in chosen:
        value = values[m]
        if not math.isfinite(value):
            estimates.append(MetricEstimate(m, math.nan, math.nan, math.nan, level, "undefined",
                                            DIRECTIONS[m], thresholds.get(m), d.n,
                                            undefined_note(m, d)))
            continue
        if m in exact:
            low, high, how, n = exact[m]
        else:
            low, high = percentile_interval(reps[(m, 0)], level)
            how, n = BOOTSTRAP, d.n
        note = None
        if m == "mape" and (abs(d.y) < 1e-12).any():
            note = "y_true has values at or near 0: their percentage errors dominate MAPE"
        estimates.append(MetricEstimate(m, value, low, high, level, how, DIRECTIONS[m],
                                        thresholds.get(m), n, note))
    return tuple(estimates)


def classification_metrics(
    y_true: Any,
    y_score_or_pred: Any,
    *,
    threshold: float = 0.5,
    metrics: Iterable[str] | None = None,
    level: float = 0.95,
    method: str = "auto",
    n_boot: int = 2000,
    seed: int = 0,
    thresholds: Mapping[str, float] | None = None,
    prefix: str = "",
) -> MetricsResult:
    """Classification metrics with ``level`` confidence intervals (see the module docstring).

    ``metrics``: default every metric of the task (binary: :data:`BINARY_METRICS`; labels:
    :data:`LABEL_METRICS`). ``thresholds``: ``{metric: bound}``, a minimum for higher-is-better
    metrics and a maximum for the others; a metric that misses it (or is NaN) is a failure.
    ``method``: ``"auto"`` (Wilson, DeLong where they apply, bootstrap for the rest) or
    ``"bootstrap"`` (every interval bootstrapped). ``prefix`` is put before every recorded metric
    name (``prefix="holdout_"`` gives ``holdout_accuracy``), to record several evaluations."""
    _check_options(level, method, n_boot)
    y, preds = check_inputs(y_true, {"y_score": y_score_or_pred})
    d = prepare_classification(y, preds["y_score"], threshold)
    allowed = BINARY_METRICS if d.task == "binary" else LABEL_METRICS
    chosen = _check_metrics(allowed if metrics is None else metrics, allowed, d.task)
    if d.task == "binary" and set(chosen) & set(PROBABILITY_METRICS):
        outside = (d.score < 0) | (d.score > 1)
        if outside.any():
            raise InputError(f"y_score is outside [0, 1] in {_rows(outside)}, but "
                             f"{', '.join(m for m in chosen if m in PROBABILITY_METRICS)} need "
                             "probabilities", key="y_score",
                             fix="pass predict_proba(X)[:, 1], or leave log_loss and brier out of "
                             "metrics= for decision-function scores")
    limits = _check_thresholds(thresholds, chosen)
    estimates = _estimate(d, chosen, level=level, method=method, n_boot=n_boot, seed=seed,
                          thresholds=limits)
    details: dict[str, Any] = {}
    if d.task == "binary":
        details["positives"] = int(d.y.sum())
        details["predicted_positives"] = int(d.pred.sum())
    else:
        details["classes"] = d.classes
    return MetricsResult(estimates, d.n, d.task, level, method, n_boot, seed,
                         threshold if d.task == "binary" else None, prefix, details)


def regression_metrics(
    y_true: Any,
    y_pred: Any,
    *,
    metrics: Iterable[str] = REGRESSION_METRICS,
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    thresholds: Mapping[str, float] | None = None,
    prefix: str = "",
) -> MetricsResult:
    """Regression metrics (``mae``, ``rmse``, ``r2``, ``mape``), each with a percentile bootstrap
    interval at ``level``. ``thresholds`` and ``prefix`` as in :func:`classification_metrics`."""
    _check_options(level, "bootstrap", n_boot)
    y, preds = check_inputs(y_true, {"y_pred": y_pred})
    p = preds["y_pred"]
    for what, arr in (("y_true", y), ("y_pred", p)):
        if arr.ndim != 1 or arr.dtype.kind not in "biuf":
            raise InputError(f"{what} must be a 1-D numeric array, got {arr.dtype} of shape "
                             f"{arr.shape}", key=what)
    chosen = _check_metrics(metrics, REGRESSION_METRICS, "regression")
    limits = _check_thresholds(thresholds, chosen)
    d = Prepared("regression", y.shape[0], y.astype(float), None, p.astype(float))
    estimates = _estimate(d, chosen, level=level, method="bootstrap", n_boot=n_boot, seed=seed,
                          thresholds=limits)
    return MetricsResult(estimates, d.n, "regression", level, "bootstrap", n_boot, seed,
                         None, prefix)
