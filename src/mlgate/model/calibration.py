"""Calibration of binary probabilities: expected and maximum calibration error, and the
reliability curve as evidence.

:func:`calibration` returns a :class:`CalibrationResult` (a :class:`mlgate.record.CheckResult`,
``name="calibration"``) for ``mlgate.check``::

    import pytest
    from mlgate.model.calibration import calibration

    @pytest.mark.model
    def test_calibrated(mlgate, y_test, proba):
        mlgate.check(calibration(y_test, proba[:, 1], max_ece=0.05))

Definitions, for ``y_prob`` the predicted probability of the positive class (``pos_label``, by
default the larger of two labels) and ``n_bins`` bins of the probabilities:

- bins: ``strategy="uniform"`` (equal width on [0, 1], the default) or ``"quantile"`` (equal
  mass: edges at the probabilities' quantiles). A probability on an inner edge belongs to the
  lower bin, as in scikit-learn's ``calibration_curve`` (which the curve reproduces exactly);
  empty bins are dropped.
- reliability curve: per non-empty bin, the mean predicted probability (confidence), the
  observed frequency of the positive class, and the count;
- ``calibration_ece`` (expected calibration error): ``sum_b (n_b / n) * |observed_b - mean
  predicted_b|``, the count-weighted mean gap (lower is better; ``max_ece``, 0.05);
- ``calibration_mce`` (maximum calibration error): ``max_b |observed_b - mean predicted_b|`` over
  the non-empty bins (lower; ``max_mce``, none by default).

The ECE carries a seeded percentile-bootstrap interval (``n_boot`` resamples of the rows, the bin
edges held fixed). The ECE of a finite sample is biased upward (a gap of pure noise still counts),
so is its bootstrap: the interval leans high, which is the safe side for a maximum; it is widened
to hold the point estimate where that bias pushes it off.

Bad input raises :class:`mlgate.errors.InputError`: different lengths, NaN or missing values, a
probability outside [0, 1], labels with more than two classes. One class only is not an error:
the ECE is still defined (the observed frequency is 0 or 1 in every bin); a note says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgate.errors import InputError
from mlgate.model.slices import BOOT_BLOCK, plain, quantile, refuse_missing, same_length, vector
from mlgate.record import Interval, Metric, encode_float

STRATEGIES = ("uniform", "quantile")


@dataclass(frozen=True)
class ReliabilityBin:
    """One non-empty bin of the reliability curve."""

    low: float
    high: float
    mean_predicted: float
    observed: float
    count: int

    @property
    def gap(self) -> float:
        return abs(self.observed - self.mean_predicted)

    def to_json(self) -> dict[str, Any]:
        return {"low": self.low, "high": self.high, "mean_predicted": self.mean_predicted,
                "observed": self.observed, "count": self.count}


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`calibration` found: a :class:`mlgate.record.CheckResult`."""

    ece: float
    ece_interval: Interval
    mce: float
    curve: tuple[ReliabilityBin, ...]
    n: int
    strategy: str
    n_bins: int
    max_ece: float | None
    max_mce: float | None
    notes: tuple[str, ...] = ()
    name: str = "calibration"

    def metrics(self) -> list[Metric]:
        return [Metric(f"{self.name}_ece", self.ece, self.max_ece, "lower", self.ece_interval),
                Metric(f"{self.name}_mce", self.mce, self.max_mce, "lower")]

    def evidence(self) -> dict[str, Any]:
        return {
            "n": self.n, "strategy": self.strategy, "n_bins": self.n_bins,
            "ece": encode_float(self.ece), "ece_interval": self.ece_interval.to_json(),
            "mce": encode_float(self.mce), "max_ece": self.max_ece, "max_mce": self.max_mce,
            "notes": list(self.notes),
            "reliability_curve": [b.to_json() for b in self.curve],
        }

    def failures(self) -> list[str]:
        out = []
        worst = max(self.curve, key=lambda b: b.gap)
        where = (f"; the worst bin [{worst.low:.3g}, {worst.high:.3g}] ({worst.count} rows) predicts "
                 f"{worst.mean_predicted:.3g} and observes {worst.observed:.3g}")
        if Metric("ece", self.ece, self.max_ece, "lower").passed is False:
            iv = self.ece_interval
            out.append(f"expected calibration error {self.ece:.4g} (interval {iv.low:.4g}..{iv.high:.4g}) "
                       f"is above max_ece={self.max_ece:g}{where}")
        if Metric("mce", self.mce, self.max_mce, "lower").passed is False:
            out.append(f"maximum calibration error {self.mce:.4g} is above max_mce={self.max_mce:g}{where}")
        return out


def _edges(prob: Any, n_bins: int, strategy: str) -> Any:
    import numpy as np

    if strategy == "quantile":
        return np.percentile(prob, np.linspace(0, 100, n_bins + 1))
    return np.linspace(0.0, 1.0, n_bins + 1)


def calibration(
    y_true: Any,
    y_prob: Any,
    *,
    n_bins: int = 10,
    strategy: str = "uniform",
    max_ece: float | None = 0.05,
    max_mce: float | None = None,
    pos_label: Any = None,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: int = 0,
    name: str = "calibration",
) -> CalibrationResult:
    """Expected and maximum calibration error of the positive-class probabilities ``y_prob``
    against the labels ``y_true``, with the reliability curve (see the module documentation)."""
    import numpy as np

    if strategy not in STRATEGIES:
        raise InputError(f"strategy={strategy!r}", key="strategy", fix=f"use one of {STRATEGIES}")
    if not isinstance(n_bins, int) or isinstance(n_bins, bool) or n_bins < 1:
        raise InputError(f"n_bins={n_bins!r}: give a positive integer", key="n_bins")
    y = vector(y_true, "y_true")
    prob = vector(y_prob, "y_prob")
    n = same_length(y_true=y, y_prob=prob)
    refuse_missing(y, "y_true")
    if prob.dtype.kind not in "biuf":
        raise InputError(f"y_prob must be numeric probabilities, got dtype {prob.dtype}", key="y_prob")
    prob = prob.astype(float)
    refuse_missing(prob, "y_prob")
    if prob.min() < 0 or prob.max() > 1:
        raise InputError(f"y_prob must be probabilities in [0, 1]; it ranges from {prob.min():.4g} to "
                         f"{prob.max():.4g}", key="y_prob",
                         fix="pass predict_proba(X)[:, 1], or apply a sigmoid to the scores")
    labels = np.unique(y)
    if len(labels) > 2:
        raise InputError(f"calibration here is binary; y_true has {len(labels)} classes", key="y_true",
                         fix="pass one-vs-rest labels (y_true == cls) with that class's probability")
    notes: list[str] = []
    if pos_label is None:
        pos_label = labels[-1] if len(labels) == 2 else (labels[0] if labels[0] in (1, True) else 1)
    positive = (y == pos_label).astype(float)
    if len(labels) < 2:
        notes.append(f"y_true has one class only ({plain(labels[0])!r}): the observed frequency is "
                     f"{positive[0]:g} in every bin")

    edges = _edges(prob, n_bins, strategy)
    bins = np.searchsorted(edges[1:-1], prob)  # as sklearn's calibration_curve
    count = np.bincount(bins, minlength=n_bins)
    pos_sum = np.bincount(bins, weights=positive, minlength=n_bins)
    prob_sum = np.bincount(bins, weights=prob, minlength=n_bins)
    full = count > 0
    observed = pos_sum[full] / count[full]
    mean_pred = prob_sum[full] / count[full]
    gaps = np.abs(observed - mean_pred)
    ece = float((count[full] * gaps).sum() / n)
    mce = float(gaps.max())
    curve = tuple(ReliabilityBin(float(edges[i]), float(edges[i + 1]), float(mp), float(ob), int(c))
                  for i, mp, ob, c in zip(np.flatnonzero(full), mean_pred, observed, count[full],
                                          strict=True))

    # bootstrap: resample rows, bins fixed; one bincount per block of resamples
    rng = np.random.default_rng(seed)
    per_block = max(1, BOOT_BLOCK // n)
    boot = []
    done = 0
    while done < n_boot:
        b = min(per_block, n_boot - done)
        idx = rng.integers(0, n, size=(b, n))
        key = (bins[idx] + (np.arange(b) * n_bins)[:, None]).ravel()
        ps = np.bincount(key, weights=positive[idx].ravel(), minlength=b * n_bins).reshape(b, n_bins)
        pr = np.bincount(key, weights=prob[idx].ravel(), minlength=b * n_bins).reshape(b, n_bins)
        boot.append(np.abs(ps - pr).sum(axis=1) / n)  # sum_b n_b |obs_b - pred_b| = sum_b |pos_b - prob_b|
        done += b
    lo, hi = quantile(np.concatenate(boot), level)
    interval = Interval(min(lo, ece), max(hi, ece), level)
    return CalibrationResult(ece, interval, mce, curve, n, strategy, n_bins, max_ece, max_mce,
                             tuple(notes), name)
