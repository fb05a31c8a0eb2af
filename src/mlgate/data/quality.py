"""Data quality checks, vectorised, each a metric with a threshold.

:func:`quality` runs every check its arguments allow and returns one :class:`QualityResult` (a
:class:`mlgate.record.CheckResult`, ``name="quality"``) for ``mlgate.check``::

    import pytest
    from mlgate.data.quality import quality

    @pytest.mark.data
    def test_training_data_quality(mlgate, train, test):
        mlgate.check(quality(train, target="label", test=test, max_null_share=0.01,
                             ranges={"age": (0, 120)}))

Metrics (named ``quality_<metric>``), what they measure, and the argument that sets each threshold:

- ``null_share``: the largest share of nulls in one column (``max_null_share``, 0)
- ``duplicate_row_share``: rows identical to an earlier row (``max_duplicate_share``, 0)
- ``constant_columns``: columns with one value in every row, or all null (``max_constant_columns``, 0)
- ``out_of_range_share``: rows with a value outside ``ranges`` (``max_out_of_range_share``, 0)
- ``minority_class_share``: the rarest class's share of ``target`` (``min_class_share``, 0.05)
- ``train_test_overlap_share``: test rows whose features are also a training row
  (``max_overlap_share``, 0)
- ``label_leakage_auc``: the best single feature's ``max(AUC, 1 - AUC)`` against ``target``
  (``max_leakage_auc``, 0.99)

A threshold of ``None`` skips its check. Lower is better for all but ``minority_class_share``; a
value equal to its threshold passes (as everywhere in mlgate). Checks that need a ``target``,
``test`` or ``ranges`` run only when given; a check that cannot run says why in the evidence's
``notes``.

Label leakage: per feature, the ROC AUC of the feature's values as a score for the target
(Mann-Whitney, from average ranks, so ties count one half; the same number as scikit-learn's
``roc_auc_score``). A multiclass target takes the largest over one-vs-rest. A categorical
feature is first replaced by its out-of-fold target mean (5 interleaved folds): an ID-like
column with a level per row then scores 0.5, not a spurious 1.0, while a category that gives the
label away still scores 1.0. A target with more than ``max_classes`` distinct values is taken
for a regression target: class imbalance and label leakage are skipped (noted).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Direction, Metric, encode_float

from .schema import jsonable, show

#: columns listed by name in a check's evidence (the counts are always complete)
MAX_LISTED = 20
#: example rows or values per check
MAX_EXAMPLES = 5
#: folds of the out-of-fold target encoding of categorical features
FOLDS = 5


@dataclass(frozen=True)
class QualityCheck:
    """One quality metric: its value, threshold, direction, what it means, and small details."""

    metric: str
    value: float
    threshold: float | None
    direction: Direction
    message: str  # the failure message, used when the threshold is not met
    details: dict[str, Any] = field(default_factory=dict)  # JSON-able

    @property
    def passed(self) -> bool | None:
        return Metric(self.metric, self.value, self.threshold, self.direction).passed


@dataclass(frozen=True)
class QualityResult:
    """What :func:`quality` found: a :class:`mlgate.record.CheckResult`.

    Metrics are named ``<name>_<metric>`` (``quality_null_share``…); ``notes`` say which checks
    could not run and why."""

    checks: tuple[QualityCheck, ...]
    rows: int
    columns: int
    notes: tuple[str, ...] = ()
    name: str = "quality"

    def __getitem__(self, metric: str) -> QualityCheck:
        for check in self.checks:
            if check.metric == metric:
                return check
        raise KeyError(f"no quality check {metric!r} ran; ran: {[c.metric for c in self.checks]}")

    def metrics(self) -> list[Metric]:
        return [Metric(f"{self.name}_{c.metric}", c.value, c.threshold, c.direction)
                for c in self.checks]

    def evidence(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "columns": self.columns,
            "notes": list(self.notes),
            "checks": {
                c.metric: {
                    "value": encode_float(c.value),
                    "threshold": None if c.threshold is None else encode_float(c.threshold),
                    "direction": c.direction,
                    "passed": c.passed,
                    **c.details,
                }
                for c in self.checks
            },
        }

    def failures(self) -> list[str]:
        return [c.message for c in self.checks if c.passed is False]


# -- helpers ------------------------------------------------------------------------------------

def _pct(share: float) -> str:
    return f"{100 * share:.3g}%"


def _names(columns: list[Any]) -> str:
    shown = ", ".join(repr(str(c)) for c in columns[:MAX_LISTED])
    more = len(columns) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _labels(labels: Any) -> list[Any]:
    return [jsonable(v) for v in list(labels)[:MAX_EXAMPLES]]


def _as_pandas(frame: Any, what: str) -> Any:
    module = type(frame).__module__
    if module.startswith("polars") and hasattr(frame, "to_pandas"):
        if type(frame).__name__ == "LazyFrame":
            frame = frame.collect()
        return frame.to_pandas()
    if module.startswith("pandas") and hasattr(frame, "columns"):
        return frame
    raise InputError(f"{what}: expected a pandas or polars DataFrame, got {module}."
                     f"{type(frame).__name__}", fix="pass a pandas.DataFrame")


def _check_frame(frame: Any, what: str) -> None:
    if frame.shape[1] == 0 or frame.shape[0] == 0:
        raise InputError(
            f"{what} is empty ({frame.shape[0]} rows, {frame.shape[1]} columns): no quality check "
            "can pass on no data", fix="check the step that loads or filters it")
    if not frame.columns.is_unique:
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(f"{what} has duplicate column names: {', '.join(dupes)}",
                         fix="rename the columns so that each name is unique")


def _row_hashes(frame: Any, what: str) -> Any:
    """One uint64 per row (pandas' ``hash_pandas_object``, index ignored)."""
    import pandas as pd

    try:
        return pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:
        for column in frame.columns:
            try:
                pd.util.hash_pandas_object(frame[column], index=False)
            except TypeError:
                kinds = sorted({type(v).__name__ for v in frame[column].head(1000)})
                raise InputError(
                    f"{what}: column {str(column)!r} holds unhashable values ({', '.join(kinds)})",
                    key=str(column), fix="convert the cells to scalars (e.g. "
                    f"df[{str(column)!r}].map(tuple) or .astype(str)), or drop the column") from None
        raise


# -- the checks ---------------------------------------------------------------------------------

def _nulls(frame: Any, threshold: float) -> QualityCheck:
    counts = frame.isna().sum()
    rows = len(frame)
    shares = counts / rows
    worst = shares.idxmax()
    value = float(shares.max())
    above = [c for c in shares.index if shares[c] > threshold]
    above.sort(key=lambda c: -shares[c])
    with_nulls = shares[shares > 0].sort_values(ascending=False)
    message = (f"column {str(worst)!r} is {_pct(value)} null ({int(counts[worst])} of {rows} rows), "
               f"above max_null_share={threshold:g}")
    if len(above) > 1:
        message += f"; {len(above)} columns above it: {_names(above)}"
    return QualityCheck("null_share", value, threshold, "lower", message, {
        "worst_column": str(worst) if value > 0 else None,
        "columns_with_nulls": int(len(with_nulls)),
        "null_share_by_column": {str(c): float(s) for c, s in with_nulls.head(MAX_LISTED).items()},
    })


def _duplicates(frame: Any, hashes: Any, threshold: float) -> QualityCheck:
    import pandas as pd

    dup = pd.Series(hashes).duplicated().to_numpy()
    count = int(dup.sum())
    rows = len(frame)
    value = count / rows
    examples = _labels(frame.index[dup])
    message = (f"{count} duplicate rows ({_pct(value)} of {rows}), above max_duplicate_share="
               f"{threshold:g}; e.g. rows {', '.join(map(str, examples))} repeat earlier rows")
    return QualityCheck("duplicate_row_share", value, threshold, "lower", message,
                        {"duplicate_rows": count, "example_rows": examples})


def _is_constant(values: Any) -> bool:
    """One value in every row (all null counts as one value), in one vectorised pass."""
    first = values.iloc[0]
    nulls = values.isna().to_numpy(dtype=bool)
    if nulls[0]:
        return bool(nulls.all())
    try:
        return bool((values == first).to_numpy(dtype=bool, na_value=False).all())
    except (TypeError, ValueError):  # cells that do not compare (lists…): compare their text
        return bool(values.astype(str).nunique(dropna=False) <= 1)


def _constants(frame: Any, threshold: float) -> QualityCheck:
    constant = []
    for column in frame.columns:
        if _is_constant(frame[column]):
            constant.append(column)
    described = [
        f"{str(c)!r} (always {show(frame[c].iloc[0])})" for c in constant[:MAX_LISTED]]
    more = len(constant) - MAX_LISTED
    message = (f"{len(constant)} constant column{'s' * (len(constant) != 1)} (one value in every "
               f"row): {', '.join(described)}{f' and {more} more' if more > 0 else ''}; "
               f"max_constant_columns={threshold:g}")
    return QualityCheck("constant_columns", float(len(constant)), threshold, "lower", message, {
        "columns": {str(c): jsonable(frame[c].iloc[0]) for c in constant[:MAX_LISTED]}})


def _ranges(frame: Any, ranges: dict[str, Any], threshold: float) -> QualityCheck:
    import numpy as np

    rows = len(frame)
    any_bad = np.zeros(rows, dtype=bool)
    per_column: dict[str, Any] = {}
    parts = []
    for column, bounds in ranges.items():
        if column not in frame.columns:
            raise InputError(f"ranges names column {column!r}, which is not in the data",
                             key=f"ranges[{column!r}]",
                             fix="use one of the data's columns: " + _names(list(frame.columns)))
        try:
            low, high = bounds
        except (TypeError, ValueError):
            raise InputError(f"ranges[{column!r}] = {bounds!r}; give (low, high), None for an open "
                             "end", key=f"ranges[{column!r}]") from None
        if low is not None and high is not None and low > high:
            raise InputError(f"ranges[{column!r}]: low {low} is above high {high}",
                             key=f"ranges[{column!r}]")
        values = frame[column]
        try:
            bad = np.zeros(rows, dtype=bool)
            if low is not None:
                bad |= (values < low).to_numpy(dtype=bool, na_value=False)
            if high is not None:
                bad |= (values > high).to_numpy(dtype=bool, na_value=False)
        except TypeError:
            raise InputError(
                f"column {str(column)!r} ({values.dtype}) cannot be compared with the range "
                f"[{low}, {high}]", key=f"ranges[{column!r}]",
                fix="give bounds of the column's type, or convert the column "
                "(e.g. pd.to_numeric(df[col], errors='coerce'))") from None
        count = int(bad.sum())
        any_bad |= bad
        if count:
            shown = [jsonable(v) for v in values[bad].drop_duplicates().head(MAX_EXAMPLES)]
            per_column[str(column)] = {"rows": count, "low": jsonable(low), "high": jsonable(high),
                                       "examples": shown}
            parts.append(f"{str(column)!r}: {count} outside [{low}, {high}], e.g. "
                         + ", ".join(show(v) for v in values[bad].drop_duplicates().head(MAX_EXAMPLES)))
    count = int(any_bad.sum())
    value = count / rows
    message = (f"{count} rows ({_pct(value)} of {rows}) have a value out of range, above "
               f"max_out_of_range_share={threshold:g}: " + "; ".join(parts))
    return QualityCheck("out_of_range_share", value, threshold, "lower", message,
                        {"rows_out_of_range": count, "columns": per_column})


def _classes(y: Any) -> tuple[Any, list[Any]]:
    """Integer class codes (-1 for null) and the classes, sorted where they sort (else in order
    of appearance)."""
    import pandas as pd

    try:
        codes, uniques = pd.factorize(y, sort=True, use_na_sentinel=True)
    except TypeError:  # mixed types do not sort
        codes, uniques = pd.factorize(y, use_na_sentinel=True)
    return codes, list(uniques)


def _imbalance(y: Any, codes: Any, classes: list[Any], target: str, threshold: float
               ) -> QualityCheck:
    import numpy as np

    known = codes >= 0
    n = int(known.sum())
    if n == 0:
        return QualityCheck("minority_class_share", 0.0, threshold, "higher",
                            f"target {target!r} is null in every row", {"classes": {}})
    counts = np.bincount(codes[known], minlength=len(classes))
    by_class = sorted(zip(classes, counts.tolist(), strict=True), key=lambda kv: kv[1])
    if len(classes) == 1:
        message = (f"target {target!r} has a single class ({show(classes[0])}): minority class "
                   f"share 0, below min_class_share={threshold:g}")
        return QualityCheck("minority_class_share", 0.0, threshold, "higher", message,
                            {"classes": {str(jsonable(classes[0])): n}})
    minority, count = by_class[0]
    value = count / n
    message = (f"target {target!r}: minority class {show(minority)} is {_pct(value)} of rows "
               f"({count} of {n}), below min_class_share={threshold:g}")
    return QualityCheck("minority_class_share", value, threshold, "higher", message, {
        "minority_class": jsonable(minority),
        "classes": {str(jsonable(k)): int(v) for k, v in by_class[:MAX_LISTED]}})


def _overlap(frame: Any, test: Any, columns: list[Any], threshold: float) -> QualityCheck:
    import pandas as pd

    missing = [c for c in columns if c not in test.columns]
    if missing:
        raise InputError(f"the test data lacks {len(missing)} column(s) of the training data: "
                         f"{_names(missing)}", key="test",
                         fix="give both splits the same columns (or pass features=[...])")
    train_part = frame[columns]
    test_part = test[columns]
    try:  # equal values of different dtypes (int 1 and float 1.0) must hash alike
        test_part = test_part.astype(train_part.dtypes.to_dict())
    except (TypeError, ValueError):
        pass
    # a hash-table lookup: np.isin gives the same answer, 7x slower on 1M uint64 (numpy 2.4)
    seen = pd.Series(_row_hashes(test_part, "test data")).isin(
        _row_hashes(train_part, "training data")).to_numpy()
    count = int(seen.sum())
    value = count / len(test)
    examples = _labels(test.index[seen])
    message = (f"{count} test rows ({_pct(value)} of {len(test)}) also appear in the training data "
               f"(on {len(columns)} columns), above max_overlap_share={threshold:g}; e.g. test rows "
               + ", ".join(map(str, examples)))
    return QualityCheck("train_test_overlap_share", value, threshold, "lower", message, {
        "overlapping_rows": count, "test_rows": int(len(test)), "columns_compared": len(columns),
        "example_test_rows": examples})


def auc_by_class(scores: Any, codes: Any, n_classes: int) -> Any:
    """One-vs-rest ROC AUC of ``scores`` (no NaN) for each class (``codes`` in
    ``0..n_classes-1``), from average ranks (Mann-Whitney U: ties count one half). NaN for a
    class that is absent or alone. One sort per call."""
    import numpy as np

    scores = np.asarray(scores, dtype=float)
    codes = np.asarray(codes)
    n = len(scores)
    order = np.argsort(scores)  # any order: tied ranks are averaged
    ordered = scores[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    ends = np.r_[starts[1:], n]
    ranks = np.repeat((starts + ends + 1) / 2, ends - starts)  # average 1-based rank of each tie
    positives = np.bincount(codes, minlength=n_classes).astype(float)
    rank_sums = np.bincount(codes[order], weights=ranks, minlength=n_classes)
    negatives = n - positives
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sums - positives * (positives + 1) / 2) / (positives * negatives)
    auc[(positives == 0) | (negatives == 0)] = np.nan
    return auc


def _oof_encoding(levels: Any, positive: Any) -> Any:
    """Each row's category replaced by the mean of ``positive`` over the other folds' rows of
    that category (the overall mean where the category is not seen there)."""
    import numpy as np

    n = len(levels)
    n_levels = int(levels.max()) + 1
    fold = np.arange(n) % FOLDS
    key = levels * FOLDS + fold
    total = np.bincount(levels, weights=positive, minlength=n_levels)
    count = np.bincount(levels, minlength=n_levels)
    fold_total = np.bincount(key, weights=positive, minlength=n_levels * FOLDS)
    fold_count = np.bincount(key, minlength=n_levels * FOLDS)
    numerator = total[levels] - fold_total[key]
    denominator = count[levels] - fold_count[key]
    prior = float(positive.mean())
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, prior)


def _is_numeric(values: Any) -> bool:
    from pandas.api import types

    return (types.is_numeric_dtype(values.dtype) or types.is_bool_dtype(values.dtype)
            or types.is_datetime64_any_dtype(values.dtype) or types.is_timedelta64_dtype(values.dtype))


def _leakage(frame: Any, codes: Any, classes: list[Any], target: str, features: list[Any],
             threshold: float, notes: list[str]) -> QualityCheck | None:
    import numpy as np
    import pandas as pd

    known_target = codes >= 0
    scored = []
    for feature in features:
        values = frame[feature]
        mask = known_target & values.notna().to_numpy(dtype=bool)
        if mask.sum() < 2:
            notes.append(f"label leakage: feature {str(feature)!r} skipped (no values where the "
                         "target is known)")
            continue
        y = codes[mask]
        present = np.flatnonzero(np.bincount(y, minlength=len(classes)))
        if len(present) < 2:
            continue
        kept = values[mask]
        numeric = _is_numeric(values)
        if numeric:
            x = kept.to_numpy()
            if x.dtype.kind in "mM":
                x = x.view("int64")
            x = np.asarray(x, dtype=float)
            aucs = auc_by_class(x, y, len(classes))
        else:
            levels, _ = pd.factorize(kept, use_na_sentinel=True)
            aucs = np.full(len(classes), np.nan)
            for c in (present if len(present) > 2 else present[1:]):
                positive = (y == c).astype(float)
                encoded = _oof_encoding(levels, positive)
                aucs[c] = auc_by_class(encoded, (y == c).astype(np.int64), 2)[1]
        if len(present) == 2:  # binary: AUC for the second class, as scikit-learn's roc_auc_score
            c = present[1]
        else:
            c = int(np.nanargmax(np.maximum(aucs, 1 - aucs)))
        auc = float(aucs[c])
        scored.append((max(auc, 1 - auc), str(feature), auc, classes[c], numeric))
    if not scored:
        notes.append("label leakage: no feature could be scored against the target")
        return None
    scored.sort(key=lambda s: -s[0])
    value, worst, auc, positive_class, _ = scored[0]
    above = [s[1] for s in scored if s[0] > threshold]
    message = (f"feature {worst!r} predicts target {target!r} almost perfectly on its own: "
               f"AUC {auc:.4g} for class {show(positive_class)} (max(AUC, 1-AUC) = {value:.4g}), "
               f"above max_leakage_auc={threshold:g}; check how it is computed, or drop it")
    if len(above) > 1:
        message += f"; {len(above)} features above it: {_names(above)}"
    return QualityCheck("label_leakage_auc", value, threshold, "lower", message, {
        "worst_feature": worst,
        "features_scored": len(scored),
        "features": [{"feature": name, "auc": a, "score": s, "class": jsonable(k),
                      "encoding": "values" if num else "out-of-fold target mean"}
                     for s, name, a, k, num in scored[:MAX_LISTED]],
    })


# -- the entry point ----------------------------------------------------------------------------

def quality(
    frame: Any,
    *,
    target: str | None = None,
    test: Any = None,
    features: list[str] | None = None,
    ranges: dict[str, tuple[Any, Any]] | None = None,
    max_null_share: float | None = 0.0,
    max_duplicate_share: float | None = 0.0,
    max_constant_columns: float | None = 0,
    max_out_of_range_share: float | None = 0.0,
    min_class_share: float | None = 0.05,
    max_overlap_share: float | None = 0.0,
    max_leakage_auc: float | None = 0.99,
    max_classes: int = 50,
    name: str = "quality",
) -> QualityResult:
    """Run the quality checks on ``frame`` (pandas, or polars: converted with ``to_pandas()``).

    ``target``: the label column (class imbalance, label leakage). ``test``: the test split
    (train/test overlap: its rows compared with ``frame``'s on the ``features``). ``features``:
    the columns used for overlap and leakage (default: every column but ``target``).
    ``ranges``: ``{column: (low, high)}`` (``None`` for an open end; bounds included).
    A threshold of ``None`` skips its check. An empty frame, a missing column, or a range that
    cannot be compared raise :class:`mlgate.errors.InputError`; data problems (all-null columns,
    a single class) are failed checks."""
    frame = _as_pandas(frame, "the data")
    _check_frame(frame, "the data")
    if target is not None and target not in frame.columns:
        raise InputError(f"target column {target!r} is not in the data", key="target",
                         fix="pass target= one of: " + _names(list(frame.columns)))
    if features is None:
        features = [c for c in frame.columns if c != target]
    else:
        missing = [c for c in features if c not in frame.columns]
        if missing:
            raise InputError(f"features not in the data: {_names(missing)}", key="features")
    checks: list[QualityCheck] = []
    notes: list[str] = []
    if max_null_share is not None:
        checks.append(_nulls(frame, max_null_share))
    if max_duplicate_share is not None:
        checks.append(_duplicates(frame, _row_hashes(frame, "the data"), max_duplicate_share))
    if max_constant_columns is not None:
        checks.append(_constants(frame, max_constant_columns))
    if ranges and max_out_of_range_share is not None:
        checks.append(_ranges(frame, ranges, max_out_of_range_share))
    if test is not None and max_overlap_share is not None:
        test = _as_pandas(test, "the test data")
        _check_frame(test, "the test data")
        if features:
            checks.append(_overlap(frame, test, features, max_overlap_share))
    if target is not None and (min_class_share is not None or max_leakage_auc is not None):
        y = frame[target]
        codes, classes = _classes(y)
        if len(classes) > max_classes:
            notes.append(f"target {target!r} has {len(classes)} distinct values, more than "
                         f"max_classes={max_classes}: taken for a regression target, so class "
                         "imbalance and label leakage were not checked")
        else:
            if min_class_share is not None:
                checks.append(_imbalance(y, codes, classes, target, min_class_share))
            if max_leakage_auc is not None and len(classes) >= 2 and features:
                leak = _leakage(frame, codes, classes, target, features, max_leakage_auc, notes)
                if leak is not None:
                    checks.append(leak)
    return QualityResult(tuple(checks), rows=int(frame.shape[0]), columns=int(frame.shape[1]),
                         notes=tuple(notes), name=name)
