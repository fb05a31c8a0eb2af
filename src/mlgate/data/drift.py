"""Drift between a reference data set and a current one, column by column, as gate evidence.

``drift(reference, current)`` tests every column of the reference:

* **numeric** columns: two-sample Kolmogorov-Smirnov (statistic and p-value, exact on every row:
  no sampling), Wasserstein-1 distance and PSI on bins from the reference's quantiles;
* **categorical** columns (object, string, category or bool dtype, or named in ``categorical``):
  chi-square test of homogeneity on the 2 x k table of counts, Jensen-Shannon distance (base 2),
  PSI, and the categories that are new in current or missing from it.

p-values are corrected for the number of columns tested (Benjamini-Hochberg by default); a column
drifts when its corrected p-value is below ``alpha``. The result is a :class:`DriftReport`, a
:class:`mlgate.record.CheckResult`: ``mlgate.check(drift(ref, cur))`` records ``drift_share``
(threshold ``max_drift_share``, lower is better), a p-value and PSI per column, and histograms of
both sides as evidence, and fails the test when too many columns drift or a column cannot be tested.

Agreement with SciPy: statistics equal ``scipy.stats.ks_2samp(a, b)`` (``method="auto"``),
``scipy.stats.wasserstein_distance`` and ``scipy.stats.chi2_contingency(table)`` (its default
``correction=True``: Yates' correction when a column has exactly two categories; pass
``yates=False`` for ``correction=False``); p-values agree to 1e-9 (see ``exact_tail``).

Speed: each column is sorted once per side and the two sorted samples are merged in linear time;
a :class:`ReferenceProfile` keeps the sorted reference so a gate run only sorts the current data.
Columns are processed a few at a time (``n_jobs`` threads: NumPy releases the GIL), so the memory
used beyond the two frames is bounded by ``n_jobs`` columns' work buffers (about 32 bytes per row
of both sides per numeric column), not by the frames.

Missing values (NaN, None, NaT) and infinities are left out of the statistics; their share is in
the evidence (``null_share``).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np  # noqa: TID253 - imported only when a drift check runs, never by the plugin

from mlgate.errors import InputError
from mlgate.record import Metric

from . import _drift_stats as st
from ._drift_columns import (
    CATEGORICAL,
    NUMERIC,
    CategoricalColumn,
    Column,
    ColumnProblem,
    NumericColumn,
    Source,
    label_group,
    open_source,
    read_column,
)

__all__ = ["ColumnDrift", "DriftReport", "ReferenceProfile", "drift", "drift_parquet"]

CORRECTIONS = ("bh", "bonferroni", "none")
PROFILE_SCHEMA = "mlgate.drift-profile/1"
#: categories listed by name in the evidence (the rest are summed as "other")
TOP_CATEGORIES = 20
#: new / missing categories listed by name in the evidence and messages
LIST_CATEGORIES = 10


# -- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnDrift:
    """The drift test of one column.

    ``status``: ``"ok"`` (tested, no drift), ``"drift"`` (corrected p-value below alpha) or
    ``"error"`` (not tested; ``message`` says why and how to fix it)."""

    column: Any
    kind: str | None  # "numeric", "categorical", or None when the column could not be read
    status: str
    message: str | None = None
    test: str | None = None  # "ks" or "chi2"
    statistic: float = math.nan
    p_value: float = math.nan
    p_value_corrected: float = math.nan
    method: str | None = None  # KS: "exact" or "asymp"; chi2: "yates" or "pearson"
    dof: int | None = None
    wasserstein: float | None = None
    js_distance: float | None = None
    psi: float = math.nan
    n_reference: int = 0
    n_current: int = 0
    null_share_reference: float | None = None
    null_share_current: float | None = None
    new_categories: tuple[Any, ...] = ()
    missing_categories: tuple[Any, ...] = ()
    n_new_categories: int = 0
    n_missing_categories: int = 0
    histogram: Mapping[str, Any] = field(default_factory=dict)

    @property
    def drifted(self) -> bool:
        return self.status == "drift"

    @property
    def tested(self) -> bool:
        return self.status != "error"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column": _json_name(self.column), "kind": self.kind,
                               "status": self.status}
        if self.status == "error":
            out["message"] = self.message
            return out
        out.update({
            "test": self.test, "statistic": _num(self.statistic), "p_value": _num(self.p_value),
            "p_value_corrected": _num(self.p_value_corrected), "method": self.method,
        })
        if self.kind == NUMERIC:
            out["wasserstein"] = _num(self.wasserstein)
        else:
            out.update({
                "dof": self.dof, "js_distance": _num(self.js_distance),
                "new_categories": list(self.new_categories), "n_new_categories": self.n_new_categories,
                "missing_categories": list(self.missing_categories),
                "n_missing_categories": self.n_missing_categories,
            })
        out.update({
            "psi": _num(self.psi),
            "n": {"reference": self.n_reference, "current": self.n_current},
            "null_share": {"reference": _num(self.null_share_reference),
                           "current": _num(self.null_share_current)},
            "histogram": dict(self.histogram),
        })
        return out

    def describe(self) -> str:
        if self.status == "error":
            return f"{self.column!r}: not tested: {self.message}"
        name = "KS D" if self.test == "ks" else "chi2"
        text = (f"{self.column!r}: {name}={self.statistic:.4g}, p={self.p_value:.3g} "
                f"(corrected {self.p_value_corrected:.3g}), PSI={self.psi:.3g}")
        if self.kind == NUMERIC:
            text += f", Wasserstein={self.wasserstein:.4g}"
        else:
            text += f", JS={self.js_distance:.3g}"
            if self.n_new_categories:
                text += f", {self.n_new_categories} new categories {list(self.new_categories)}"
        return text


@dataclass(frozen=True)
class DriftReport:
    """Drift of every tested column, and the share of columns that drifted (the gate metric).

    Implements :class:`mlgate.record.CheckResult`. ``drift_share`` is drifted / tested columns
    (NaN, a failure, when no column could be tested)."""

    name: ClassVar[str] = "drift"

    columns: tuple[ColumnDrift, ...]
    alpha: float
    correction: str
    max_drift_share: float
    n_reference: int
    n_current: int
    extra_columns: tuple[Any, ...] = ()

    @property
    def tested(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if c.tested)

    @property
    def drifted(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if c.drifted)

    @property
    def errors(self) -> tuple[ColumnDrift, ...]:
        return tuple(c for c in self.columns if not c.tested)

    @property
    def drift_share(self) -> float:
        tested = len(self.tested)
        return len(self.drifted) / tested if tested else math.nan

    def __getitem__(self, column: Any) -> ColumnDrift:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(column)

    def metrics(self) -> list[Metric]:
        out = [Metric("drift_share", self.drift_share, threshold=self.max_drift_share,
                      direction="lower")]
        for c in self.tested:
            out.append(Metric(f"drift.{c.column}.p_value", c.p_value_corrected, direction="higher"))
            out.append(Metric(f"drift.{c.column}.psi", c.psi, direction="lower"))
        return out

    def evidence(self) -> dict[str, Any]:
        return {
            "drift_share": _num(self.drift_share),
            "max_drift_share": self.max_drift_share,
            "alpha": self.alpha,
            "correction": self.correction,
            "n": {"reference": self.n_reference, "current": self.n_current},
            "drifted": [_json_name(c.column) for c in self.drifted],
            "errors": [_json_name(c.column) for c in self.errors],
            "extra_columns": [_json_name(c) for c in self.extra_columns],
            "columns": [c.to_json() for c in self.columns],
        }

    def failures(self) -> list[str]:
        out = [f"column {c.column!r} could not be tested: {c.message}" for c in self.errors]
        share, tested = self.drift_share, len(self.tested)
        if math.isnan(share):
            out.append("no column could be tested, so drift is unknown (a gate never passes it)")
        elif share > self.max_drift_share:
            drifted = self.drifted
            out.append(
                f"drift in {len(drifted)} of {tested} columns: drift_share {share:.3g} > "
                f"max_drift_share {self.max_drift_share:.3g} (corrected p < alpha={self.alpha:g}, "
                f"correction={self.correction!r}); raise max_drift_share to accept")
            out.extend("  " + c.describe() for c in drifted)
        return out


def _num(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _json_name(name: Any) -> Any:
    return name if isinstance(name, (str, int)) and not isinstance(name, bool) else str(name)


# -- the reference profile -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceProfile:
    """What the reference side of a drift check needs, computed once: per numeric column its
    sorted finite values (exact KS needs every value) and PSI bin edges, per categorical column
    its category counts; columns that cannot be tested keep their reason.

    ``drift(profile, current)`` gives the same report as ``drift(reference, current)`` and only
    sorts the current data. ``save(path)`` writes one ``.npz`` file (arrays plus a JSON header;
    no pickle), ``load(path)`` reads it back."""

    columns: Mapping[Any, Column]
    n_rows: int
    psi_bins: int = 10
    psi_edges: Mapping[Any, np.ndarray] = field(default_factory=dict)

    @classmethod
    def from_frame(
        cls,
        reference: Any,
        *,
        columns: Sequence[Any] | None = None,
        categorical: Iterable[Any] = (),
        psi_bins: int = 10,
        n_jobs: int | None = None,
    ) -> ReferenceProfile:
        """Profile a pandas / polars DataFrame, a pyarrow Table or a Parquet file path."""
        source = open_source(reference, "reference")
        _check_rows(source)
        names = _select(source, columns)
        forced = _forced(categorical, names)

        def job(name: Any) -> Column:
            return read_column(source.get(name), CATEGORICAL if name in forced else None, name,
                               "reference")

        cols = dict(zip(names, _run(names, job, n_jobs), strict=True))
        edges = {n: st.psi_edges(c.values, psi_bins) for n, c in cols.items()
                 if isinstance(c, NumericColumn)}
        return cls(cols, source.n_rows, psi_bins, edges)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the profile to ``path`` (one ``.npz`` file, written exactly there)."""
        arrays: dict[str, np.ndarray] = {}
        meta_cols = []
        for i, (name, col) in enumerate(self.columns.items()):
            entry: dict[str, Any] = {"name": name}
            if isinstance(col, NumericColumn):
                arrays[f"values_{i}"] = col.values
                arrays[f"edges_{i}"] = np.asarray(self.psi_edges[name])
                entry.update(kind=NUMERIC, n_rows=col.n_rows, n_null=col.n_null, dtype=col.dtype)
            elif isinstance(col, CategoricalColumn):
                arrays[f"counts_{i}"] = col.counts
                entry.update(kind=CATEGORICAL, n_rows=col.n_rows, n_null=col.n_null,
                             dtype=col.dtype, labels=list(col.labels))
            else:
                entry.update(kind="problem", message=col.message, problem_kind=col.kind)
            meta_cols.append(entry)
        meta = {"schema": PROFILE_SCHEMA, "n_rows": self.n_rows, "psi_bins": self.psi_bins,
                "columns": meta_cols}
        try:
            header = json.dumps(meta, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise InputError(f"the profile cannot be saved: a column name or label is not "
                             f"JSON-able ({exc})", fix="use str column names") from None
        arrays["__meta__"] = np.frombuffer(header, dtype=np.uint8)
        path = Path(path)
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ReferenceProfile:
        """Read a profile written by :meth:`save` (never unpickles anything)."""
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(bytes(npz["__meta__"]).decode())
                if meta.get("schema") != PROFILE_SCHEMA:
                    raise InputError(f"not a drift profile of schema {PROFILE_SCHEMA} "
                                     f"(found {meta.get('schema')!r})", file=str(path),
                                     fix="write it with ReferenceProfile.save()")
                cols: dict[Any, Column] = {}
                edges: dict[Any, np.ndarray] = {}
                for i, e in enumerate(meta["columns"]):
                    name = e["name"]
                    if e["kind"] == NUMERIC:
                        cols[name] = NumericColumn(npz[f"values_{i}"], e["n_rows"], e["n_null"],
                                                   e["dtype"])
                        edges[name] = npz[f"edges_{i}"]
                    elif e["kind"] == CATEGORICAL:
                        cols[name] = CategoricalColumn(tuple(e["labels"]), npz[f"counts_{i}"],
                                                       e["n_rows"], e["n_null"], e["dtype"])
                    else:
                        cols[name] = ColumnProblem(e["message"], e.get("problem_kind"))
        except InputError:
            raise
        except FileNotFoundError:
            raise InputError("the drift profile does not exist", file=str(path),
                             fix="write it with ReferenceProfile.save(path)") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise InputError(f"the drift profile cannot be read: {exc}", file=str(path),
                             fix="write it again with ReferenceProfile.save(path)") from None
        return cls(cols, int(meta["n_rows"]), int(meta["psi_bins"]), edges)


# -- the checks ----------------------------------------------------------------------------------


def drift(
    reference: Any,
    current: Any,
    *,
    columns: Sequence[Any] | None = None,
    categorical: Iterable[Any] = (),
    alpha: float = 0.05,
    correction: str = "bh",
    psi_bins: int = 10,
    max_drift_share: float = 0.2,
    hist_bins: int = 20,
    yates: bool = True,
    exact_tail: bool = False,
    n_jobs: int | None = None,
) -> DriftReport:
    """Test every column of ``reference`` (or ``columns``) for drift in ``current``.

    ``reference``: a pandas or polars DataFrame, or a :class:`ReferenceProfile` (then
    ``columns``, ``categorical`` and ``psi_bins`` come from the profile unless ``columns`` names a
    subset). ``current``: a pandas or polars DataFrame.

    ``alpha``: significance level of the corrected p-values. ``correction``: ``"bh"``
    (Benjamini-Hochberg, the default), ``"bonferroni"`` or ``"none"``. ``max_drift_share``: the
    most columns (as a share of those tested) that may drift before the check fails.
    ``hist_bins``: histogram bins kept as evidence (at most 30). ``yates``: chi-square with Yates'
    correction for two categories, as ``chi2_contingency``'s default. ``exact_tail``: compute KS
    p-values below 3e-11 with SciPy's exact series too (slow; by default they come from the
    Kolmogorov limit, within 3e-11 of SciPy's). ``n_jobs``: columns processed at a time
    (default: the number of CPUs, at most 4).

    A column missing in current, without any finite value, of mixed types, of an unsupported
    dtype, or numeric on one side and not on the other is kept as a failed column check
    (``status="error"``); an empty frame or a bad argument raises :class:`mlgate.errors.InputError`.
    """
    _check_args(alpha, correction, psi_bins, max_drift_share, hist_bins)
    cur = open_source(current, "current")
    return _drift(reference, cur, columns=columns, categorical=categorical, alpha=alpha,
                  correction=correction, psi_bins=psi_bins, max_drift_share=max_drift_share,
                  hist_bins=hist_bins, yates=yates, exact_tail=exact_tail, n_jobs=n_jobs)


def drift_parquet(
    reference: str | os.PathLike[str] | ReferenceProfile,
    current: str | os.PathLike[str],
    **options: Any,
) -> DriftReport:
    """:func:`drift` over Parquet files, read one column at a time (Parquet is columnar).

    ``reference`` is a Parquet path or a :class:`ReferenceProfile`; ``current`` a Parquet path;
    ``options`` are those of :func:`drift`. The results are the same as ``drift()`` on the frames
    the files hold.

    Memory: the frames are never loaded. Each of the ``n_jobs`` columns in flight holds that one
    column of both sides: for a numeric column of ``n`` + ``m`` rows, the values read (8 bytes a
    row), their sorted copies (8), the merged copy and the merge order (16), so peak memory is
    about ``n_jobs * 40 * (n + m)`` bytes (``n_jobs=1``: ~80 MB for a million rows a side; with
    a profile as the reference, its sorted values add 8 bytes per reference row and column),
    whatever the number of columns. A categorical column holds its values while counting (as
    pandas strings: larger than 8 bytes a row). A single column larger than memory is not
    supported.
    """
    _check_args(options.get("alpha", 0.05), options.get("correction", "bh"),
                options.get("psi_bins", 10), options.get("max_drift_share", 0.2),
                options.get("hist_bins", 20))
    if not isinstance(current, (str, os.PathLike)):
        raise InputError("drift_parquet() takes the current data as a Parquet file path",
                         fix="use drift() for DataFrames")
    if not isinstance(reference, (str, os.PathLike, ReferenceProfile)):
        raise InputError("drift_parquet() takes the reference as a Parquet file path or a "
                         "ReferenceProfile", fix="use drift() for DataFrames")
    defaults = dict(columns=None, categorical=(), alpha=0.05, correction="bh", psi_bins=10,
                    max_drift_share=0.2, hist_bins=20, yates=True, exact_tail=False, n_jobs=None)
    unknown = set(options) - set(defaults)
    if unknown:
        raise TypeError(f"drift_parquet() got unexpected options {sorted(unknown)}")
    return _drift(reference, open_source(current, "current"), **{**defaults, **options})


def _check_args(alpha: float, correction: str, psi_bins: int, max_drift_share: float,
                hist_bins: int) -> None:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise InputError(f"alpha={alpha!r} must be a number in (0, 1)", key="alpha",
                         fix="use e.g. alpha=0.05")
    if correction not in CORRECTIONS:
        raise InputError(f"correction={correction!r} is not one of {CORRECTIONS}", key="correction",
                         fix='use "bh" (Benjamini-Hochberg), "bonferroni" or "none"')
    if not (isinstance(psi_bins, int) and psi_bins >= 2):
        raise InputError(f"psi_bins={psi_bins!r} must be an integer >= 2", key="psi_bins",
                         fix="use e.g. psi_bins=10")
    if not (isinstance(max_drift_share, (int, float)) and 0 <= max_drift_share <= 1):
        raise InputError(f"max_drift_share={max_drift_share!r} must be in [0, 1]",
                         key="max_drift_share", fix="use e.g. max_drift_share=0.2")
    if not (isinstance(hist_bins, int) and 1 <= hist_bins <= 30):
        raise InputError(f"hist_bins={hist_bins!r} must be an integer in [1, 30]", key="hist_bins",
                         fix="keep the evidence small, e.g. hist_bins=20")


def _check_rows(source: Source) -> None:
    if source.n_rows == 0:
        raise InputError(f"the {source.side} data has no rows", key=source.side,
                         fix=f"pass a non-empty {source.side} data set")
    if not source.columns:
        raise InputError(f"the {source.side} data has no columns", key=source.side,
                         fix=f"pass the {source.side} data set with its columns")


def _select(source: Source, columns: Sequence[Any] | None) -> list[Any]:
    if columns is None:
        return list(source.columns)
    if isinstance(columns, str):
        columns = [columns]
    names = list(columns)
    if not names:
        raise InputError("columns=[] selects nothing", key="columns",
                         fix="name the columns to test, or leave columns=None for all")
    missing = [c for c in names if c not in source.columns]
    if missing:
        raise InputError(f"columns {missing} are not in the {source.side} data "
                         f"(it has {list(source.columns)[:20]})", key="columns",
                         fix="name columns of the reference data")
    return names


def _forced(categorical: Iterable[Any], names: Sequence[Any]) -> set[Any]:
    if isinstance(categorical, str):
        categorical = [categorical]
    forced = set(categorical or ())
    unknown = forced - set(names)
    if unknown:
        raise InputError(f"categorical names columns that are not tested: {sorted(map(str, unknown))}",
                         key="categorical", fix="name columns of the reference data")
    return forced


def _run(names: Sequence[Any], job: Callable[[Any], Any], n_jobs: int | None) -> list[Any]:
    """``job(name)`` for every name, at most ``n_jobs`` at a time, results in order."""
    n_jobs = n_jobs or min(os.cpu_count() or 1, 4)
    if n_jobs <= 1 or len(names) <= 1:
        return [job(n) for n in names]
    results: list[Any] = [None] * len(names)
    pending: dict[Future[Any], int] = {}
    with ThreadPoolExecutor(max_workers=n_jobs) as pool:
        for i, name in enumerate(names):
            if len(pending) >= n_jobs:  # bounded: never more than n_jobs columns in memory
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    results[pending.pop(f)] = f.result()
            pending[pool.submit(job, name)] = i
        for f, i in pending.items():
            results[i] = f.result()
    return results


@dataclass(frozen=True)
class _Raw:
    """One column's statistics before the p-values are corrected."""

    column: Any
    kind: str | None
    problem: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


def _drift(reference: Any, cur: Source, *, columns: Sequence[Any] | None, categorical: Iterable[Any],
           alpha: float, correction: str, psi_bins: int, max_drift_share: float, hist_bins: int,
           yates: bool, exact_tail: bool, n_jobs: int | None) -> DriftReport:
    _check_rows(cur)
    if isinstance(reference, ReferenceProfile):
        profile = reference
        if columns is not None:
            missing = [c for c in ([columns] if isinstance(columns, str) else columns)
                       if c not in profile.columns]
            if missing:
                raise InputError(f"columns {missing} are not in the reference profile",
                                 key="columns", fix="profile them with ReferenceProfile.from_frame")
        names = list(profile.columns) if columns is None else list(
            [columns] if isinstance(columns, str) else columns)
        forced = _forced(categorical, names)
        n_ref = profile.n_rows
        psi_bins = profile.psi_bins

        def ref_column(name: Any) -> Column:
            col = profile.columns[name]
            if name in forced and isinstance(col, NumericColumn):
                raise InputError(f"column {name!r} is numeric in the reference profile",
                                 key="categorical",
                                 fix="profile it with ReferenceProfile.from_frame(..., categorical=[...])")
            return col

        def ref_edges(name: Any, col: NumericColumn) -> np.ndarray:
            return np.asarray(profile.psi_edges.get(name, st.psi_edges(col.values, psi_bins)))
    else:
        ref = open_source(reference, "reference")
        _check_rows(ref)
        names = _select(ref, columns)
        forced = _forced(categorical, names)
        n_ref = ref.n_rows

        def ref_column(name: Any) -> Column:
            return read_column(ref.get(name), CATEGORICAL if name in forced else None, name, "reference")

        def ref_edges(name: Any, col: NumericColumn) -> np.ndarray:
            return st.psi_edges(col.values, psi_bins)

    present = set(cur.columns)

    def job(name: Any) -> _Raw:
        if name not in present:
            return _Raw(name, None, "the column is in the reference but not in the current data "
                        "(fix: add it, or leave it out with columns=[...])")
        rcol = ref_column(name)
        if isinstance(rcol, ColumnProblem):
            return _Raw(name, rcol.kind, rcol.message + _fix(name, rcol))
        kind = NUMERIC if isinstance(rcol, NumericColumn) else CATEGORICAL
        series = cur.get(name)
        ccol = read_column(series, CATEGORICAL if kind == CATEGORICAL else NUMERIC, name, "current")
        del series
        if isinstance(ccol, ColumnProblem):
            if kind == NUMERIC and ccol.kind == NUMERIC and "not a number" in ccol.message:
                msg = (f"the reference column is numeric ({rcol.dtype}) but the current one is not "
                       f"({ccol.message.split('dtype ')[-1].split(',')[0]}): cast the current column "
                       f"with pd.to_numeric, or test both as categories with "
                       f"categorical=[{name!r}]")
                return _Raw(name, kind, msg)
            return _Raw(name, kind, ccol.message + _fix(name, ccol))
        if kind == NUMERIC:
            return _numeric(name, rcol, ccol, ref_edges(name, rcol), hist_bins, exact_tail)
        return _categorical(name, rcol, ccol, yates)

    raws = _run(names, job, n_jobs)
    tested = [r for r in raws if r.problem is None]
    p_raw = np.array([r.fields["p_value"] for r in tested], dtype=np.float64)
    p_adj = st.correct_pvalues(p_raw, correction)
    adjusted = {id(r): float(p) for r, p in zip(tested, p_adj, strict=True)}
    results = []
    for r in raws:
        if r.problem is not None:
            results.append(ColumnDrift(r.column, r.kind, "error", r.problem))
            continue
        p = adjusted[id(r)]
        results.append(ColumnDrift(r.column, r.kind, "drift" if p < alpha else "ok",
                                   p_value_corrected=p, **r.fields))
    extra = tuple(c for c in cur.columns if c not in set(names))
    return DriftReport(tuple(results), float(alpha), correction, float(max_drift_share), n_ref,
                       cur.n_rows, extra)


def _fix(name: Any, problem: ColumnProblem) -> str:
    msg = problem.message
    if "mixes types" in msg:
        return (f" (fix: make it one type, e.g. df[{name!r}] = df[{name!r}].astype(str), or leave "
                "it out with columns=[...])")
    if "do not handle" in msg:
        return (" (fix: convert it to numbers or categories, or leave it out with columns=[...])")
    return " (fix: check the data pipeline that fills it, or leave it out with columns=[...])"


def _numeric(name: Any, ref: NumericColumn, cur: NumericColumn, edges: np.ndarray, hist_bins: int,
             exact_tail: bool) -> _Raw:
    a, b = ref.values, cur.values
    n, m = a.size, b.size
    d, wasserstein = st.ks_wasserstein(a, b)
    d, p, method = st.ks_pvalue(d, n, m, a, b, exact_tail=exact_tail)
    psi = st.psi(st.bin_counts_sorted(a, edges), st.bin_counts_sorted(b, edges))
    return _Raw(name, NUMERIC, None, {
        "test": "ks", "statistic": d, "p_value": p, "method": method, "wasserstein": wasserstein,
        "psi": psi, "n_reference": n, "n_current": m,
        "null_share_reference": ref.n_null / ref.n_rows,
        "null_share_current": cur.n_null / cur.n_rows,
        "histogram": _numeric_histogram(a, b, hist_bins),
    })


def _numeric_histogram(a: np.ndarray, b: np.ndarray, bins: int) -> dict[str, Any]:
    """Counts of both sides on shared, equal-width edges spanning the 0.5%..99.5% quantiles of
    the two sides; values outside are counted in ``below`` / ``above``. Bins are [e_i, e_i+1),
    the last one closed."""
    q = np.array([0.005, 0.995])
    qa, qb = st.quantiles_sorted(a, q), st.quantiles_sorted(b, q)
    lo, hi = float(min(qa[0], qb[0])), float(max(qa[1], qb[1]))
    if not hi > lo:
        lo, hi, bins = lo - 0.5, lo + 0.5, 1
    edges = np.linspace(lo, hi, bins + 1)

    def counts(x: np.ndarray) -> tuple[list[int], int, int]:
        left = np.searchsorted(x, edges[:-1], side="left")
        end = int(np.searchsorted(x, edges[-1], side="right"))
        return np.diff(np.append(left, end)).tolist(), int(left[0]), int(x.size - end)

    ra, below_a, above_a = counts(a)
    rb, below_b, above_b = counts(b)
    return {"edges": edges.tolist(), "reference": ra, "current": rb,
            "below": {"reference": below_a, "current": below_b},
            "above": {"reference": above_a, "current": above_b}}


def _categorical(name: Any, ref: CategoricalColumn, cur: CategoricalColumn, yates: bool) -> _Raw:
    g_ref, g_cur = label_group(ref.labels), label_group(cur.labels)
    if g_ref != g_cur:
        return _Raw(name, CATEGORICAL, (
            f"the reference categories are {g_ref} values but the current ones are {g_cur} values "
            f"(fix: cast both sides to one type, e.g. .astype(str))"))
    index = {label: i for i, label in enumerate(ref.labels)}
    k_ref = len(ref.labels)
    new_labels: list[Any] = []
    cur_pos = np.empty(len(cur.labels), dtype=np.int64)
    for j, label in enumerate(cur.labels):
        i = index.get(label)
        if i is None:
            i = k_ref + len(new_labels)
            new_labels.append(label)
        cur_pos[j] = i
    k = k_ref + len(new_labels)
    rc = np.zeros(k, dtype=np.int64)
    rc[:k_ref] = ref.counts
    cc = np.zeros(k, dtype=np.int64)
    cc[cur_pos] = cur.counts
    labels = list(ref.labels) + new_labels
    chi = st.chi2_homogeneity(rc, cc, yates=yates)
    missing_idx = np.flatnonzero(cc[:k_ref] == 0)
    new_idx = np.arange(k_ref, k)
    # new categories by current count, missing ones by reference count, the largest first
    new_sorted = new_idx[np.argsort(-cc[new_idx], kind="stable")][:LIST_CATEGORIES]
    missing_sorted = missing_idx[np.argsort(-rc[missing_idx], kind="stable")][:LIST_CATEGORIES]
    return _Raw(name, CATEGORICAL, None, {
        "test": "chi2", "statistic": chi.statistic, "p_value": chi.p_value, "dof": chi.dof,
        "method": "yates" if (yates and chi.dof == 1) else "pearson",
        "js_distance": st.js_distance(rc, cc), "psi": st.psi(rc, cc),
        "n_reference": int(rc.sum()), "n_current": int(cc.sum()),
        "null_share_reference": ref.n_null / ref.n_rows,
        "null_share_current": cur.n_null / cur.n_rows,
        "new_categories": tuple(labels[i] for i in new_sorted),
        "missing_categories": tuple(labels[i] for i in missing_sorted),
        "n_new_categories": int(new_idx.size), "n_missing_categories": int(missing_idx.size),
        "histogram": _categorical_histogram(labels, rc, cc),
    })


def _categorical_histogram(labels: list[Any], rc: np.ndarray, cc: np.ndarray) -> dict[str, Any]:
    """The top categories by combined share, with both sides' counts; the rest summed."""
    share = rc / max(rc.sum(), 1) + cc / max(cc.sum(), 1)
    top = np.argsort(-share, kind="stable")[:TOP_CATEGORIES]
    rest = np.ones(len(labels), dtype=bool)
    rest[top] = False
    return {"categories": [labels[i] for i in top], "reference": rc[top].tolist(),
            "current": cc[top].tolist(),
            "other": {"reference": int(rc[rest].sum()), "current": int(cc[rest].sum()),
                      "n_categories": int(rest.sum())}}
