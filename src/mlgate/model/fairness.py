"""Group fairness of binary decisions by a sensitive attribute, each measure a gate metric.

:func:`fairness` returns a :class:`FairnessResult` (a :class:`mlgate.record.CheckResult`,
``name="fairness"``) for ``mlgate.check``::

    import pytest
    from mlgate.model.fairness import fairness

    @pytest.mark.model
    def test_fair_by_sex(mlgate, test_frame, y_pred):
        mlgate.check(fairness(test_frame["label"], y_pred, "sex", data=test_frame))

Per group ``g`` of the sensitive attribute (a column of ``data``, a list of columns whose
combinations are the groups, a Series/array, or a callable of ``data``): the selection rate
``P(pred = pos | g)``, the true positive rate ``P(pred = pos | y = pos, g)`` and the false
positive rate ``P(pred = pos | y != pos, g)``. The metrics, with fairlearn's definitions
(``method="between_groups"``; fairlearn 0.15 gives the same numbers where every rate is defined):

- ``fairness_demographic_parity_difference``: max - min selection rate (lower is better;
  ``max_demographic_parity_difference``, 0.1), as ``demographic_parity_difference``;
- ``fairness_disparate_impact_ratio``: min / max selection rate (higher is better;
  ``min_disparate_impact_ratio``, 0.8: the four-fifths rule), as ``demographic_parity_ratio``;
- ``fairness_equal_opportunity_difference``: max - min TPR (lower; 0.1), as
  ``equal_opportunity_difference``;
- ``fairness_equalized_odds_difference``: the larger of the TPR and FPR differences (lower; 0.1),
  as ``equalized_odds_difference(agg="worst_case")``.

A threshold of ``None`` skips its metric; those that need ``y_true`` are skipped without it.
The evidence has every group's counts and rates with Wilson intervals at ``level``.

Undefined rates: a group with no positive labels has no TPR (no negatives: no FPR). It is left
out of that difference, which is taken over the groups where the rate is defined, and the
evidence notes it (fairlearn counts such a rate as 0 instead). A measure defined for fewer than
two groups (one group only, or one class only), or a ratio with no selection in any group, is
NaN and a failure: the gate never passes on NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mlgate.errors import InputError
from mlgate.model.intervals import wilson_array as wilson_interval
from mlgate.model.slices import factorize, group_values, refuse_missing, same_length, vector
from mlgate.record import Direction, Metric, encode_float

#: groups listed in the evidence
MAX_LISTED = 200


@dataclass(frozen=True)
class GroupRates:
    """One group's counts and rates (NaN where undefined)."""

    name: str
    n: int
    selected: int
    positives: int | None  # None without y_true
    true_positives: int | None
    negatives: int | None
    false_positives: int | None

    @property
    def selection_rate(self) -> float:
        return self.selected / self.n

    @property
    def tpr(self) -> float:
        return math.nan if not self.positives else self.true_positives / self.positives  # type: ignore[operator]

    @property
    def fpr(self) -> float:
        return math.nan if not self.negatives else self.false_positives / self.negatives  # type: ignore[operator]

    def to_json(self, level: float) -> dict[str, Any]:
        def rate(k: int | None, n: int | None) -> dict[str, Any] | None:
            if n is None or k is None:
                return None
            if n == 0:
                return {"rate": None, "count": 0, "of": 0, "interval": None, "note": "undefined: no rows"}
            lo, hi = wilson_interval(k, n, level)
            return {"rate": k / n, "count": k, "of": n, "interval": [float(lo), float(hi)]}

        return {"group": self.name, "n": self.n,
                "selection_rate": rate(self.selected, self.n),
                "true_positive_rate": rate(self.true_positives, self.positives),
                "false_positive_rate": rate(self.false_positives, self.negatives)}


@dataclass(frozen=True)
class FairnessMeasure:
    metric: str
    value: float
    threshold: float | None
    direction: Direction
    message: str  # the failure message, when the threshold is not met or the value is NaN

    @property
    def passed(self) -> bool | None:
        return Metric(self.metric, self.value, self.threshold, self.direction).passed


@dataclass(frozen=True)
class FairnessResult:
    """What :func:`fairness` found: a :class:`mlgate.record.CheckResult`."""

    groups: tuple[GroupRates, ...]
    measures: tuple[FairnessMeasure, ...]
    pos_label: Any
    level: float
    notes: tuple[str, ...] = ()
    name: str = "fairness"

    def __getitem__(self, metric: str) -> FairnessMeasure:
        for m in self.measures:
            if m.metric == metric:
                return m
        raise KeyError(f"no fairness measure {metric!r}; measured: {[m.metric for m in self.measures]}")

    def metrics(self) -> list[Metric]:
        return [Metric(f"{self.name}_{m.metric}", m.value, m.threshold, m.direction)
                for m in self.measures]

    def evidence(self) -> dict[str, Any]:
        from mlgate.data.schema import jsonable

        return {
            "pos_label": jsonable(self.pos_label), "level": self.level, "notes": list(self.notes),
            "measures": {m.metric: {"value": encode_float(m.value),
                                    "threshold": None if m.threshold is None else m.threshold,
                                    "direction": m.direction, "passed": m.passed}
                         for m in self.measures},
            "groups_total": len(self.groups),
            "groups": [g.to_json(self.level) for g in self.groups[:MAX_LISTED]],
        }

    def failures(self) -> list[str]:
        return [m.message for m in self.measures if m.passed is False]


def _spread(groups: list[GroupRates], rate: str) -> tuple[float, GroupRates | None, GroupRates | None]:
    """max - min of a rate over the groups where it is defined, with the two extreme groups."""
    defined = [g for g in groups if not math.isnan(getattr(g, rate))]
    if len(defined) < 2:
        return math.nan, None, None
    low = min(defined, key=lambda g: getattr(g, rate))
    high = max(defined, key=lambda g: getattr(g, rate))
    return getattr(high, rate) - getattr(low, rate), low, high


def _undefined_reason(groups: list[GroupRates], rate: str, label: str) -> str:
    defined = [g for g in groups if not math.isnan(getattr(g, rate))]
    if len(groups) < 2:
        return f"one group only ({groups[0].name!r}): nothing to compare"
    return (f"{label} is defined for {len(defined)} of {len(groups)} groups (it needs at least 2; "
            f"a group without {'positive' if rate == 'tpr' else 'negative'} labels has none)")


def _show(g: GroupRates | None, rate: str) -> str:
    return "" if g is None else f"{getattr(g, rate):.4g} for group {g.name!r} (n={g.n})"


def fairness(
    y_true: Any,
    y_pred: Any,
    sensitive: Any,
    *,
    data: Any = None,
    pos_label: Any = 1,
    max_demographic_parity_difference: float | None = 0.1,
    max_equal_opportunity_difference: float | None = 0.1,
    max_equalized_odds_difference: float | None = 0.1,
    min_disparate_impact_ratio: float | None = 0.8,
    level: float = 0.95,
    name: str = "fairness",
) -> FairnessResult:
    """Fairness of the decisions ``y_pred`` (labels; ``pos_label`` is the favourable one) across
    the groups of ``sensitive``. ``y_true`` may be ``None`` (then only demographic parity and
    disparate impact). Bad input (a missing column, different lengths, missing labels or
    predictions, a ``pos_label`` that occurs nowhere) raises :class:`mlgate.errors.InputError`."""
    import numpy as np

    p = vector(y_pred, "y_pred")
    y = None if y_true is None else vector(y_true, "y_true")
    groups_raw = group_values(sensitive, data, "sensitive")
    g_arr = vector(groups_raw, "sensitive")
    same_length(y_true=y, y_pred=p, sensitive=g_arr)
    refuse_missing(p, "y_pred")
    if y is not None:
        refuse_missing(y, "y_true")
    sel = p == pos_label
    pos = None if y is None else (y == pos_label)
    if not sel.any() and (pos is None or not pos.any()):
        seen = sorted({str(v) for v in np.unique(p)[:5]})
        raise InputError(f"pos_label={pos_label!r} occurs neither in y_pred nor in y_true (values: "
                         f"{', '.join(seen)})", key="pos_label", fix="pass pos_label= the favourable label")

    codes, names, _ = factorize(groups_raw if hasattr(groups_raw, "dtype") else g_arr)
    k = len(names)
    n = np.bincount(codes, minlength=k)
    selected = np.bincount(codes, weights=sel, minlength=k).astype(int)
    groups: list[GroupRates] = []
    if pos is None:
        groups = [GroupRates(names[i], int(n[i]), int(selected[i]), None, None, None, None)
                  for i in range(k)]
    else:
        positives = np.bincount(codes, weights=pos, minlength=k).astype(int)
        tp = np.bincount(codes, weights=sel & pos, minlength=k).astype(int)
        fp = np.bincount(codes, weights=sel & ~pos, minlength=k).astype(int)
        groups = [GroupRates(names[i], int(n[i]), int(selected[i]), int(positives[i]), int(tp[i]),
                             int(n[i] - positives[i]), int(fp[i])) for i in range(k)]

    notes: list[str] = []
    if y is not None:
        for g in groups:
            if g.positives == 0:
                notes.append(f"group {g.name!r} has no positive labels: its TPR is undefined and left "
                             "out of equal opportunity and equalized odds")
            if g.negatives == 0:
                notes.append(f"group {g.name!r} has no negative labels: its FPR is undefined and left "
                             "out of equalized odds")
    else:
        notes.append("no y_true: equal opportunity and equalized odds not measured")

    measures: list[FairnessMeasure] = []
    if max_demographic_parity_difference is not None:
        value, lo, hi = _spread(groups, "selection_rate")
        t = max_demographic_parity_difference
        msg = (f"demographic parity difference {value:.4g} is above {t:g}: selection rate "
               f"{_show(hi, 'selection_rate')} against {_show(lo, 'selection_rate')}"
               if not math.isnan(value) else
               "demographic parity difference is undefined: "
               + _undefined_reason(groups, "selection_rate", "the selection rate"))
        measures.append(FairnessMeasure("demographic_parity_difference", value, t, "lower", msg))
    if min_disparate_impact_ratio is not None:
        t = min_disparate_impact_ratio
        rates = [g.selection_rate for g in groups]
        lo = min(groups, key=lambda g: g.selection_rate)
        hi = max(groups, key=lambda g: g.selection_rate)
        if len(groups) < 2:
            value, why = math.nan, _undefined_reason(groups, "selection_rate", "the selection rate")
        elif max(rates) == 0:
            value, why = math.nan, "no group has a single positive decision (0 / 0)"
        else:
            value, why = min(rates) / max(rates), ""
        msg = (f"disparate impact ratio {value:.4g} is below {t:g}: selection rate "
               f"{_show(lo, 'selection_rate')} against {_show(hi, 'selection_rate')}"
               if not math.isnan(value) else f"disparate impact ratio is undefined: {why}")
        measures.append(FairnessMeasure("disparate_impact_ratio", value, t, "higher", msg))
    if y is not None and max_equal_opportunity_difference is not None:
        value, lo, hi = _spread(groups, "tpr")
        t = max_equal_opportunity_difference
        msg = (f"equal opportunity difference {value:.4g} is above {t:g}: true positive rate "
               f"{_show(hi, 'tpr')} against {_show(lo, 'tpr')}" if not math.isnan(value) else
               f"equal opportunity difference is undefined: {_undefined_reason(groups, 'tpr', 'the TPR')}")
        measures.append(FairnessMeasure("equal_opportunity_difference", value, t, "lower", msg))
    if y is not None and max_equalized_odds_difference is not None:
        tpr_d, tlo, thi = _spread(groups, "tpr")
        fpr_d, flo, fhi = _spread(groups, "fpr")
        t = max_equalized_odds_difference
        if math.isnan(tpr_d) or math.isnan(fpr_d):
            value = math.nan
            why = _undefined_reason(groups, "tpr" if math.isnan(tpr_d) else "fpr",
                                    "the TPR" if math.isnan(tpr_d) else "the FPR")
            msg = f"equalized odds difference is undefined: {why}"
        else:
            value = max(tpr_d, fpr_d)
            if tpr_d >= fpr_d:
                detail = f"true positive rate {_show(thi, 'tpr')} against {_show(tlo, 'tpr')}"
            else:
                detail = f"false positive rate {_show(fhi, 'fpr')} against {_show(flo, 'fpr')}"
            msg = f"equalized odds difference {value:.4g} is above {t:g}: {detail}"
        measures.append(FairnessMeasure("equalized_odds_difference", value, t, "lower", msg))
    return FairnessResult(tuple(groups), tuple(measures), pos_label, level, tuple(notes), name)
