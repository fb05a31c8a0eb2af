"""Metrics per slice (segment) of the evaluation rows, the worst slice as a gate metric, and the
rule "no slice worse than the champion's same slice by more than ``max_gap``".

:func:`slices` returns a :class:`SliceResult` (a :class:`mlgate.record.CheckResult`,
``name="slices"``) for ``mlgate.check``::

    import pytest
    from mlgate.model.slices import slices

    @pytest.mark.model
    def test_no_region_regresses(mlgate, test_frame, y_pred, champion_pred):
        mlgate.check(slices(test_frame["label"], y_pred, "region", data=test_frame,
                            threshold=0.8, champion=champion_pred, max_gap=0.02))

Segments: a column name of ``data``, a categorical Series/array (one slice per value; a missing
value is a slice of its own, ``"null"``), a numeric one with ``bins`` (an int: that many quantile
bins; a sequence: explicit edges, right-closed, lowest included), or a callable that maps ``data``
to one label per row. Slices with fewer than ``min_size`` rows are reported (evidence) but not gated.

Metrics (``metric=``): ``"accuracy"`` and ``"error_rate"`` (labels), ``"roc_auc"`` (binary
labels and scores for the positive class: the larger label, or ``pos_label``; Mann-Whitney from
average ranks, as scikit-learn's ``roc_auc_score``), ``"mae"`` (regression), or a callable
``f(y_true, y_pred) -> float`` (with ``direction=``).

Intervals per slice (at ``level``): Wilson score intervals for the proportions (accuracy, error
rate); DeLong's interval for ROC AUC (its variance from the placement values, clipped to [0, 1]);
the normal interval of a mean for MAE (``mean |error| +- z sd / sqrt(n)``); a seeded percentile
bootstrap (``n_boot`` resamples of the slice's rows) for a callable.

Recorded metrics:

- ``slice_worst_<metric>``: the worst gated slice's value (its name in the evidence), against
  ``threshold`` with the metric's direction. NaN, and a failure, when a gated slice's metric is
  undefined (e.g. ROC AUC on a slice with one class) or when no slice has ``min_size`` rows.
- ``slice_<metric>[<slice>]``: each gated slice's value with its interval, no threshold (at
  most :data:`MAX_RECORDED` slices, the worst first).
- ``slice_regressions`` (with ``champion``; threshold 0, lower is better): gated slices where the
  candidate is significantly worse than the champion by more than ``max_gap``.

The champion comparison is paired on the same rows. Per slice the difference is
``candidate - champion`` signed so that **positive means the candidate is better** (for error
rate and MAE: ``champion - candidate``), and the one-sided test has H0 "the candidate is not
worse by more than ``max_gap``" against H1 "worse by more than ``max_gap``":

- accuracy, error rate: Tango's score test for a difference of paired proportions (the
  discordant rows; at ``max_gap=0`` it is McNemar's z = (b - c) / sqrt(b + c)); a Wald interval
  for the difference;
- MAE: a paired z-test on the per-row differences of absolute errors, with its z interval;
- ROC AUC: DeLong's paired test (the covariance of the two AUCs from their placement values on
  the same rows), one-sided z, with its z interval;
- callables: a paired bootstrap (the same resampled rows for both models): the p-value is the
  share of resampled differences at or above ``-max_gap`` (plus one, over ``n_boot + 1``), the
  interval is the percentile interval.

The p-values are corrected for the number of gated slices compared (``correction``: ``"holm"``,
the default, controls the family-wise error; ``"bh"`` the false discovery rate; ``"bonferroni"``
or ``"none"``), and a slice regresses when its corrected p is below ``alpha``. This detects
regressions: a small slice without enough rows to show one is not flagged; its difference and
interval are in the evidence for review.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mlgate.errors import InputError
from mlgate.model.intervals import delong as _delong
from mlgate.model.intervals import wilson_array as wilson_interval
from mlgate.record import Direction, Interval, Metric, encode_float

#: per-slice metrics recorded as gate metrics (the worst first); the evidence lists every slice
MAX_RECORDED = 100
#: slices listed in the evidence
MAX_LISTED = 200
#: elements of one bootstrap block (resamples x rows), to bound memory
BOOT_BLOCK = 1 << 22

METRICS: dict[str, Direction] = {
    "accuracy": "higher", "error_rate": "lower", "roc_auc": "higher", "mae": "lower"}
CORRECTIONS = ("holm", "bh", "bonferroni", "none")


# -- shared helpers (also used by fairness and calibration) ---------------------------------------

def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``0``, not ``np.int64(0)``, in messages)."""
    return value.item() if hasattr(value, "item") else value


def vector(values: Any, what: str) -> Any:
    """A 1-D NumPy array from a list, array or pandas Series (InputError otherwise)."""
    import numpy as np

    if hasattr(values, "to_numpy") and not hasattr(values, "columns"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"{what} must be one-dimensional (one value per row), got shape {arr.shape}",
                         key=what, fix="pass a 1-D array or a pandas Series")
    return arr


def missing_mask(arr: Any) -> Any:
    import numpy as np
    import pandas as pd

    if arr.dtype.kind in "fc":
        return np.isnan(arr)
    if arr.dtype.kind in "biu":
        return np.zeros(len(arr), dtype=bool)
    return np.asarray(pd.isna(arr), dtype=bool)


def refuse_missing(arr: Any, what: str) -> None:
    """InputError when ``arr`` holds NaN or null values, naming how many and a few rows."""
    import numpy as np

    bad = missing_mask(arr)
    if bad.any():
        rows = np.flatnonzero(bad)[:5].tolist()
        raise InputError(f"{what} has {int(bad.sum())} missing (NaN/null) values of {len(arr)}, "
                         f"e.g. at positions {rows}", key=what,
                         fix="drop or impute those rows before the check, or fix the model output")


def same_length(**arrays: Any) -> int:
    """The common length of the arrays given (``None`` skipped); InputError naming every length
    otherwise."""
    lengths = {name: len(a) for name, a in arrays.items() if a is not None}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name} has {n}" for name, n in lengths.items())
        raise InputError(f"inputs of different length: {listed} rows",
                         fix="pass one value per evaluation row in each (the same rows, same order)")
    if not lengths or next(iter(lengths.values())) == 0:
        raise InputError("no rows to evaluate", fix="check the step that builds the evaluation set")
    return next(iter(lengths.values()))


def _column_list(columns: Any) -> str:
    names = [str(c) for c in columns]
    return ", ".join(repr(c) for c in names[:30]) + (f" and {len(names) - 30} more" if len(names) > 30
                                                      else "")


def group_values(spec: Any, data: Any, what: str) -> Any:
    """The per-row group labels named by ``spec``: a column name of ``data`` (or a list of names,
    whose combinations are the groups: a list of strings as long as ``data`` is taken for values),
    a callable of ``data``, or the values themselves (a Series/array, or a DataFrame whose columns
    are combined)."""
    import pandas as pd

    names = (isinstance(spec, (list, tuple)) and bool(spec) and all(isinstance(c, str) for c in spec)
             and data is not None and hasattr(data, "columns") and len(spec) != len(data))
    if isinstance(spec, str) or names:
        columns = [spec] if isinstance(spec, str) else list(spec)
        if data is None or not hasattr(data, "columns"):
            raise InputError(f"{what}={spec!r} names a column, but no data frame was given",
                             key=what, fix="pass data=the evaluation DataFrame, or the values")
        missing = [c for c in columns if c not in data.columns]
        if missing:
            raise InputError(
                f"column {missing[0]!r} is not in the data; it has: {_column_list(data.columns)}",
                key=what, fix=f"pass {what}= one of the data's columns")
        spec = data[columns[0]] if len(columns) == 1 else data[columns]
    elif callable(spec):
        if data is None:
            raise InputError(f"{what} is a function of the data, but no data was given", key=what,
                             fix="pass data=the evaluation DataFrame")
        spec = spec(data)
    if hasattr(spec, "columns"):  # several attributes: one group per combination
        frame = spec
        if frame.shape[1] == 1:
            spec = frame.iloc[:, 0]
        else:
            spec = pd.Series([" & ".join(f"{c}={v}" for c, v in zip(frame.columns, row, strict=True))
                              for row in frame.itertuples(index=False)])
    return spec


def factorize(values: Any) -> tuple[Any, list[str], list[Any]]:
    """Integer codes (0..k-1, a missing value is its own group), the group names (text) and the
    group values (JSON-able)."""
    import pandas as pd

    from mlgate.data.schema import jsonable

    try:
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=False)
    except TypeError:  # mixed types do not sort
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
    names, raw = [], []
    for u in list(uniques):
        j = str(u) if isinstance(u, pd.Interval) else jsonable(u)
        missing = j is None or (j == "NaN" and isinstance(u, float))
        names.append("null" if missing else str(j))
        raw.append(None if missing else j)
    return codes, names, raw


def quantile(values: Any, level: float) -> tuple[float, float]:
    import numpy as np

    lo, hi = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


def _fmt(x: float) -> str:
    return "NaN" if math.isnan(x) else f"{x:.4g}"


# -- per-slice metrics --------------------------------------------------------------------------

def delong(scores: Sequence[Any], positive: Any) -> tuple[Any, Any]:
    """ROC AUCs of score vectors on the same rows and their DeLong covariance
    (:func:`mlgate.model.intervals.delong`), NaN when a class is absent."""
    import numpy as np

    positive = np.asarray(positive, dtype=bool)
    if positive.all() or not positive.any():
        k = len(scores)
        return np.full(k, np.nan), np.full((k, k), np.nan)
    return _delong(positive.astype(int), np.vstack([np.asarray(x, dtype=float) for x in scores]))


def _resamples(rng: Any, n: int, n_boot: int) -> Any:
    """Blocks of resampled row indices (b x n), together ``n_boot`` rows."""
    per_block = max(1, BOOT_BLOCK // max(n, 1))
    done = 0
    while done < n_boot:
        b = min(per_block, n_boot - done)
        yield rng.integers(0, n, size=(b, n))
        done += b


@dataclass(frozen=True)
class _Spec:
    name: str
    direction: Direction
    func: Callable[..., float] | None = None  # a user callable


def _boot_values(spec: _Spec, y: Any, p: Any, rng: Any, n_boot: int) -> Any:
    """A callable metric on ``n_boot`` resamples of the rows."""
    import numpy as np

    assert spec.func is not None
    return np.array([spec.func(y[i], p[i]) for idx in _resamples(rng, len(y), n_boot) for i in idx],
                    dtype=float)


# -- the result ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SliceStat:
    """One slice: its size, metric value and interval, and the comparison with the champion."""

    name: str
    value_label: Any  # JSON-able
    n: int
    value: float
    low: float
    high: float
    gated: bool
    note: str | None = None  # why the metric is undefined
    champion: float | None = None
    difference: float | None = None  # positive: the candidate is better
    difference_low: float | None = None
    difference_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    regressed: bool = False

    def to_json(self) -> dict[str, Any]:
        def num(x: float | None) -> Any:
            return None if x is None else encode_float(x)

        out = {"slice": self.name, "value": self.value_label, "n": self.n, "metric": num(self.value),
               "interval": [num(self.low), num(self.high)], "gated": self.gated}
        if self.note:
            out["note"] = self.note
        if self.champion is not None:
            out.update({"champion": num(self.champion), "difference": num(self.difference),
                        "difference_interval": [num(self.difference_low), num(self.difference_high)],
                        "p_value": num(self.p_value), "p_adjusted": num(self.p_adjusted),
                        "regressed": self.regressed})
        return out


@dataclass(frozen=True)
class SliceResult:
    """What :func:`slices` found: a :class:`mlgate.record.CheckResult`."""

    metric: str
    direction: Direction
    stats: tuple[SliceStat, ...]
    min_size: int
    threshold: float | None
    level: float
    interval_method: str
    with_champion: bool = False
    max_gap: float | None = None
    correction: str = "holm"
    alpha: float = 0.05
    test: str | None = None
    notes: tuple[str, ...] = ()
    name: str = "slices"

    def __getitem__(self, slice_name: str) -> SliceStat:
        for s in self.stats:
            if s.name == slice_name:
                return s
        raise KeyError(f"no slice {slice_name!r}; slices: {[s.name for s in self.stats]}")

    @property
    def gated(self) -> list[SliceStat]:
        return [s for s in self.stats if s.gated]

    @property
    def worst(self) -> SliceStat | None:
        """The worst gated slice (an undefined one first), or None when none is gated."""
        gated = self.gated
        if not gated:
            return None
        sign = 1 if self.direction == "higher" else -1
        return min(gated, key=lambda s: (not math.isnan(s.value),
                                         sign * s.value if not math.isnan(s.value) else 0.0))

    @property
    def regressions(self) -> list[SliceStat]:
        return [s for s in self.stats if s.regressed]

    def metrics(self) -> list[Metric]:
        worst = self.worst
        value = math.nan if worst is None else worst.value
        interval = None
        if worst is not None and not math.isnan(worst.low):
            interval = Interval(worst.low, worst.high, self.level)
        out = [Metric(f"slice_worst_{self.metric}", value, self.threshold, self.direction, interval)]
        sign = 1 if self.direction == "higher" else -1
        ranked = sorted(self.gated, key=lambda s: sign * s.value if not math.isnan(s.value) else -math.inf)
        for s in ranked[:MAX_RECORDED]:
            iv = None if math.isnan(s.low) else Interval(s.low, s.high, self.level)
            out.append(Metric(f"slice_{self.metric}[{s.name}]", s.value, None, self.direction, iv))
        if self.with_champion:
            out.append(Metric("slice_regressions", float(len(self.regressions)), 0.0, "lower"))
        return out

    def evidence(self) -> dict[str, Any]:
        worst = self.worst
        out: dict[str, Any] = {
            "metric": self.metric, "direction": self.direction, "min_size": self.min_size,
            "threshold": None if self.threshold is None else encode_float(self.threshold),
            "level": self.level, "interval_method": self.interval_method,
            "slices_total": len(self.stats), "slices_gated": len(self.gated),
            "worst_slice": None if worst is None else worst.name,
            "notes": list(self.notes),
            "slices": [s.to_json() for s in self.stats[:MAX_LISTED]],
        }
        if self.with_champion:
            out.update({"max_gap": self.max_gap, "correction": self.correction, "alpha": self.alpha,
                        "test": self.test, "regressed_slices": [s.name for s in self.regressions]})
        return out

    def failures(self) -> list[str]:
        out = []
        gated = self.gated
        if not gated:
            out.append(f"no slice has at least min_size={self.min_size} rows "
                       f"({len(self.stats)} slices, the largest has "
                       f"{max((s.n for s in self.stats), default=0)}): nothing to gate; lower "
                       "min_size or use coarser segments")
        for s in gated:
            if math.isnan(s.value):
                out.append(f"slice {s.name!r} ({s.n} rows): {self.metric} is undefined"
                           f"{f' ({s.note})' if s.note else ''}; the gate never passes on NaN")
        worst = self.worst
        if (worst is not None and self.threshold is not None and not math.isnan(worst.value)
                and Metric("w", worst.value, self.threshold, self.direction).passed is False):
            op = "below" if self.direction == "higher" else "above"
            out.append(f"worst slice {worst.name!r} ({worst.n} rows): {self.metric} "
                       f"{_fmt(worst.value)} is {op} the threshold {self.threshold:g} "
                       f"(interval {_fmt(worst.low)}..{_fmt(worst.high)})")
        for s in self.regressions:
            out.append(f"slice {s.name!r} ({s.n} rows) regressed: {self.metric} {_fmt(s.value)} "
                       f"against the champion's {_fmt(s.champion or math.nan)}, worse by "
                       f"{_fmt(-(s.difference or 0.0))} > max_gap={self.max_gap:g} (p={s.p_adjusted:.3g}"
                       f" after {self.correction} correction over {self._compared()} slices, "
                       f"{self.test})")
        return out

    def _compared(self) -> int:
        return sum(1 for s in self.stats if s.p_value is not None and not math.isnan(s.p_value))


# -- the champion comparison --------------------------------------------------------------------

def adjust(p: Any, method: str) -> Any:
    """p-values adjusted for their number: Holm (step-down), or ``"bh"`` / ``"bonferroni"`` /
    ``"none"`` from :func:`mlgate.data._drift_stats.correct_pvalues`."""
    import numpy as np

    p = np.asarray(p, dtype=float)
    if method != "holm" or p.size == 0:
        from mlgate.data._drift_stats import correct_pvalues

        return correct_pvalues(p, method)
    k = p.size
    order = np.argsort(p, kind="stable")
    scaled = np.maximum.accumulate(p[order] * (k - np.arange(k)))
    out = np.empty(k)
    out[order] = np.minimum(scaled, 1.0)
    return out


def _tango(b: Any, c: Any, n: Any, gap: float) -> Any:
    """One-sided p of Tango's score test of H0 ``p_b - p_c >= -gap`` (``b``: rows only the
    candidate gets right, ``c``: only the champion), small when the candidate is worse."""
    import numpy as np
    from scipy import special

    delta = -gap
    w = -b - c + (2 * n - b + c) * delta
    q = (np.sqrt(w * w + 8 * n * c * delta * (1 - delta)) - w) / (4 * n)
    var = n * (2 * q + delta * (1 - delta))
    num = b - c - n * delta
    with np.errstate(divide="ignore", invalid="ignore"):
        z = num / np.sqrt(var)
    z = np.where(var > 0, z, np.where(num < 0, -np.inf, np.inf))
    return special.ndtr(z)


def _compare(spec: _Spec, codes: Any, gated: Any, y: Any, p: Any, q: Any, positive: Any,
             gap: float, level: float, n_boot: int, seed: int) -> tuple[dict[int, tuple], str]:
    """Per gated slice: (champion value, difference, low, high, p)."""
    import numpy as np
    from scipy import special

    z = float(special.ndtri(1 - (1 - level) / 2))
    out: dict[int, tuple] = {}
    if spec.func is None and spec.name in ("accuracy", "error_rate"):
        ok_c, ok_h = (y == p), (y == q)
        k = int(codes.max()) + 1
        n = np.bincount(codes, minlength=k).astype(float)
        b = np.bincount(codes, weights=(ok_c & ~ok_h), minlength=k)
        c = np.bincount(codes, weights=(ok_h & ~ok_c), minlength=k)
        champ_acc = np.bincount(codes, weights=ok_h, minlength=k) / np.maximum(n, 1)
        pv = _tango(b, c, n, gap)
        d = (b - c) / np.maximum(n, 1)
        se = np.sqrt(np.maximum((b + c) / np.maximum(n, 1) - d * d, 0) / np.maximum(n, 1))
        for i in np.flatnonzero(gated):
            champ = champ_acc[i] if spec.name == "accuracy" else 1 - champ_acc[i]
            out[int(i)] = (float(champ), float(d[i]), float(d[i] - z * se[i]), float(d[i] + z * se[i]),
                           float(pv[i]))
        return out, ("Tango's score test for paired proportions (McNemar's z at max_gap=0), "
                     "one-sided; Wald interval")
    if spec.func is None and spec.name == "mae":
        diff = np.abs(y - q) - np.abs(y - p)  # positive: the candidate's error is smaller
        for i in np.flatnonzero(gated):
            rows = codes == i
            mean, se = _mean_se(diff[rows])
            pv = float(special.ndtr((mean + gap) / se)) if se > 0 else (0.0 if mean < -gap else 1.0)
            out[int(i)] = (float(np.abs(y[rows] - q[rows]).mean()), mean, mean - z * se, mean + z * se, pv)
        return out, "paired z-test on per-row absolute-error differences, one-sided; z interval"
    if spec.func is None:  # roc_auc
        for i in np.flatnonzero(gated):
            rows = codes == i
            auc, cov = delong([p[rows], q[rows]], positive[rows])
            d = float(auc[0] - auc[1])
            se = math.sqrt(max(cov[0, 0] + cov[1, 1] - 2 * cov[0, 1], 0.0))
            pv = float(special.ndtr((d + gap) / se)) if se > 0 else (0.0 if d < -gap else 1.0)
            out[int(i)] = (float(auc[1]), d, d - z * se, d + z * se, pv)
        return out, "DeLong's paired test for correlated ROC AUCs, one-sided z; z interval"
    sign = 1.0 if spec.direction == "higher" else -1.0
    for i in np.flatnonzero(gated):
        rows = codes == i
        yi, pi, qi = y[rows], p[rows], q[rows]
        champ = float(spec.func(yi, qi))
        d = sign * (float(spec.func(yi, pi)) - champ)
        boot = sign * (_boot_values(spec, yi, pi, np.random.default_rng([seed, int(i), 1]), n_boot)
                       - _boot_values(spec, yi, qi, np.random.default_rng([seed, int(i), 1]), n_boot))
        boot = boot[np.isfinite(boot)]  # the same seed: the same resampled rows, paired
        if math.isnan(d) or boot.size == 0:
            out[int(i)] = (champ, d, math.nan, math.nan, math.nan)
            continue
        lo, hi = quantile(boot, level)
        pv = (1 + int((boot >= -gap).sum())) / (boot.size + 1)
        out[int(i)] = (champ, d, lo, hi, pv)
    return out, f"paired bootstrap ({n_boot} resamples of the slice's rows), one-sided; percentile interval"


def _mean_se(values: Any) -> tuple[float, float]:
    mean = float(values.mean())
    se = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0
    return mean, se


# -- the entry point ----------------------------------------------------------------------------

def _segments(segments: Any, data: Any, bins: Any) -> Any:
    import numpy as np
    import pandas as pd

    values = group_values(segments, data, "segments")
    if bins is None:
        return values
    series = pd.Series(vector(values, "segments") if not isinstance(values, pd.Series) else values)
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise InputError(f"bins={bins!r} needs numeric segment values, got dtype {series.dtype}",
                         key="bins", fix="drop bins= for a categorical column")
    series = series.astype(float).reset_index(drop=True)
    if isinstance(bins, int) and not isinstance(bins, bool):
        if bins < 1:
            raise InputError(f"bins={bins}: give at least 1 quantile bin", key="bins")
        return pd.qcut(series, q=bins, duplicates="drop")
    edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
        raise InputError(f"bins={bins!r}: give an int (quantile bins) or increasing edges", key="bins")
    return pd.cut(series, bins=edges, include_lowest=True)


def slices(
    y_true: Any,
    y_pred: Any,
    segments: Any,
    *,
    data: Any = None,
    metric: str | Callable[[Any, Any], float] = "accuracy",
    direction: Direction | None = None,
    min_size: int = 30,
    bins: int | Sequence[float] | None = None,
    threshold: float | None = None,
    champion: Any = None,
    max_gap: float | None = None,
    level: float = 0.95,
    alpha: float = 0.05,
    correction: str = "holm",
    pos_label: Any = None,
    n_boot: int = 1000,
    seed: int = 0,
    name: str = "slices",
) -> SliceResult:
    """The metric per slice of the rows, the worst slice, and (with ``champion``: the champion's
    predictions on the same rows) the slices where the candidate is significantly worse than the
    champion by more than ``max_gap`` (default 0). See the module documentation.

    ``y_pred``: labels for accuracy/error rate, scores for ROC AUC, values for MAE.
    ``direction``: only for a callable metric (default ``"higher"``). Bad input (a missing
    column, different lengths, NaN predictions or labels, an unknown metric) raises
    :class:`mlgate.errors.InputError`; an undefined metric in a slice is NaN and a failure."""
    import numpy as np

    if direction is not None and direction not in ("higher", "lower"):
        raise InputError(f"direction={direction!r}", key="direction",
                         fix="use 'higher' (bigger is better) or 'lower'")
    if callable(metric):
        spec = _Spec(getattr(metric, "__name__", "metric").strip("<>") or "metric",
                     direction or "higher", metric)
    elif metric in METRICS:
        spec = _Spec(metric, METRICS[metric])
        if direction is not None and direction != spec.direction:
            raise InputError(f"metric={metric!r} is {spec.direction}-is-better; direction= is only "
                             "for a callable metric", key="direction")
    else:
        raise InputError(f"metric={metric!r} is not known", key="metric",
                         fix=f"use one of {sorted(METRICS)} or a callable f(y_true, y_pred)")
    if correction not in CORRECTIONS:
        raise InputError(f"correction={correction!r}", key="correction", fix=f"use one of {CORRECTIONS}")
    if not 0 < level < 1 or not 0 < alpha < 1:
        raise InputError(f"level={level} and alpha={alpha} must be in (0, 1)", key="level")
    if max_gap is not None and (not math.isfinite(max_gap) or max_gap < 0):
        raise InputError(f"max_gap={max_gap}: give a non-negative number (0: any significant loss)",
                         key="max_gap")

    y = vector(y_true, "y_true")
    p = vector(y_pred, "y_pred")
    q = None if champion is None else vector(champion, "champion")
    seg = _segments(segments, data, bins)
    seg_arr = vector(seg, "segments") if not hasattr(seg, "cat") else seg
    n = same_length(y_true=y, y_pred=p, champion=q, segments=seg_arr)
    refuse_missing(y, "y_true")
    refuse_missing(p, "y_pred")
    if q is not None:
        refuse_missing(q, "champion")
    if spec.func is None and spec.name in ("roc_auc", "mae"):
        for arr, what in ((p, "y_pred"), (q, "champion")) + (((y, "y_true"),) if spec.name == "mae" else ()):
            if arr is not None and arr.dtype.kind not in "biuf":
                raise InputError(f"{what} must be numeric for metric={spec.name!r}, got dtype {arr.dtype}",
                                 key=what)
        p = p.astype(float)
        q = None if q is None else q.astype(float)
        if spec.name == "mae":
            y = y.astype(float)

    notes: list[str] = []
    positive = np.zeros(n, dtype=bool)
    if spec.name == "roc_auc" and spec.func is None:
        labels = np.unique(y)
        if len(labels) > 2:
            raise InputError(f"roc_auc needs binary labels; y_true has {len(labels)} classes",
                             key="y_true", fix="pass one-vs-rest labels (y_true == cls)")
        pos = pos_label if pos_label is not None else labels[-1]
        positive = y == pos
        if len(labels) < 2:
            notes.append(f"y_true has one class only ({plain(labels[0])!r}): ROC AUC is undefined "
                         "in every slice")

    codes, names, raw = factorize(seg if hasattr(seg, "cat") else seg_arr)
    k = len(names)
    counts = np.bincount(codes, minlength=k)
    gated = counts >= min_size

    value = np.full(k, np.nan)
    low = np.full(k, np.nan)
    high = np.full(k, np.nan)
    why: dict[int, str] = {}
    if spec.func is None and spec.name in ("accuracy", "error_rate"):
        hits = np.bincount(codes, weights=(y == p) if spec.name == "accuracy" else (y != p), minlength=k)
        value = hits / counts
        low, high = wilson_interval(hits, counts, level)
        method = "Wilson score interval"
    else:
        from scipy import special

        z = float(special.ndtri(1 - (1 - level) / 2))
        method = {"roc_auc": "DeLong", "mae": "normal (mean +- z sd / sqrt(n))"}.get(
            spec.name if spec.func is None else "", f"percentile bootstrap ({n_boot} resamples, seed {seed})")
        for i in range(k):
            rows = codes == i
            yi, pi, posi = y[rows], p[rows], positive[rows]
            if spec.name == "roc_auc" and spec.func is None:
                if posi.all() or not posi.any():
                    why[i] = f"one class only: all {int(counts[i])} rows are " + (
                        "positive" if posi.all() else "negative")
                    continue
                auc, cov = delong([pi], posi)
                value[i], half = auc[0], z * math.sqrt(cov[0, 0])
                low[i], high[i] = max(value[i] - half, 0.0), min(value[i] + half, 1.0)
                continue
            if spec.func is None:  # mae
                value[i], se = _mean_se(np.abs(yi - pi))
                low[i], high[i] = value[i] - z * se, value[i] + z * se
                continue
            value[i] = float(spec.func(yi, pi))  # type: ignore[misc]
            if not math.isfinite(value[i]):
                why[i] = f"the metric returned {value[i]}"
                continue
            boot = _boot_values(spec, yi, pi, np.random.default_rng([seed, i, 0]), n_boot)
            boot = boot[np.isfinite(boot)]
            if boot.size:
                low[i], high[i] = quantile(boot, level)

    compared: dict[int, tuple] = {}
    test = None
    gap = 0.0 if max_gap is None else float(max_gap)
    if q is not None:
        compared, test = _compare(spec, codes, gated & ~np.isnan(value), y, p, q, positive, gap,
                                  level, n_boot, seed)
        keys = [i for i in compared if not math.isnan(compared[i][4])]
        adjusted = dict(zip(keys, adjust([compared[i][4] for i in keys], correction).tolist(),
                            strict=True))
    stats = []
    for i in range(k):
        extra: dict[str, Any] = {}
        if i in compared:
            champ, d, dlo, dhi, pv = compared[i]
            padj = adjusted.get(i, math.nan)
            extra = {"champion": champ, "difference": d, "difference_low": dlo, "difference_high": dhi,
                     "p_value": pv, "p_adjusted": padj, "regressed": bool(padj < alpha)}
        elif q is not None and gated[i]:
            extra = {"champion": math.nan, "difference": math.nan, "difference_low": math.nan,
                     "difference_high": math.nan, "p_value": math.nan, "p_adjusted": math.nan}
        stats.append(SliceStat(names[i], raw[i], int(counts[i]), float(value[i]), float(low[i]),
                               float(high[i]), bool(gated[i]), why.get(i), **extra))
    small = int((~gated).sum())
    if small:
        notes.append(f"{small} slice(s) below min_size={min_size} rows: reported, not gated")
    return SliceResult(
        metric=spec.name, direction=spec.direction, stats=tuple(stats), min_size=min_size,
        threshold=threshold, level=level, interval_method=method, with_champion=q is not None,
        max_gap=gap if q is not None else None, correction=correction, alpha=alpha, test=test,
        notes=tuple(notes), name=name)
