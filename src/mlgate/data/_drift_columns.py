"""Reading one column at a time from a pandas / polars frame, a pyarrow Table or a Parquet file,
and turning it into what the drift statistics need: sorted finite values (numeric) or category
counts (categorical), or a :class:`ColumnProblem` that says why a column cannot be tested."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np  # noqa: TID253 - imported only when a drift check runs, never by the plugin
import pandas as pd  # noqa: TID253 - as numpy

from mlgate.errors import InputError

NUMERIC = "numeric"
CATEGORICAL = "categorical"


@dataclass(frozen=True)
class ColumnProblem:
    """Why a column cannot be tested (kept in the report as a failed column check)."""

    message: str
    kind: str | None = None


@dataclass(frozen=True)
class NumericColumn:
    """The finite values of one numeric column, sorted; ``n_null`` counts NaN and infinities."""

    values: np.ndarray
    n_rows: int
    n_null: int
    dtype: str


@dataclass(frozen=True)
class CategoricalColumn:
    """The categories of one column (JSON-able labels, each with a count > 0)."""

    labels: tuple[Any, ...]
    counts: np.ndarray
    n_rows: int
    n_null: int
    dtype: str


Column = NumericColumn | CategoricalColumn | ColumnProblem


@dataclass(frozen=True)
class Source:
    """One side (reference or current) of a drift check, read column by column."""

    side: str
    columns: tuple[Any, ...]
    n_rows: int
    get: Callable[[Any], pd.Series]


def open_source(data: Any, side: str) -> Source:
    """A pandas DataFrame, a polars DataFrame, a pyarrow Table, or a Parquet file path; its
    ``get`` may be called from several threads (reads are serialised: a ParquetFile is not
    thread-safe, and reading is cheap next to the statistics)."""
    source = _open_source(data, side)
    lock = threading.Lock()
    get = source.get

    def locked(name: Any) -> pd.Series:
        with lock:
            return get(name)

    return Source(source.side, source.columns, source.n_rows, locked)


def _open_source(data: Any, side: str) -> Source:
    if isinstance(data, pd.DataFrame):
        if data.columns.has_duplicates:
            dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
            raise InputError(f"the {side} frame has duplicate column names: {dup}",
                             fix="rename the columns so each name is unique")
        return Source(side, tuple(data.columns), len(data), lambda c: data[c])
    if isinstance(data, (str, os.PathLike)):
        return _parquet_source(data, side)
    module = type(data).__module__
    if module.startswith("polars"):
        return Source(side, tuple(data.columns), data.height,
                      lambda c: data.get_column(c).to_pandas())
    if module.startswith("pyarrow"):
        return Source(side, tuple(data.column_names), data.num_rows,
                      lambda c: data.column(c).to_pandas())
    raise InputError(
        f"the {side} data is a {type(data).__name__}; drift() takes a pandas or polars DataFrame "
        "(or a ReferenceProfile as the reference); drift_parquet() takes Parquet file paths",
        fix="pass a DataFrame, e.g. pd.DataFrame(array, columns=names)")


def _parquet_source(path: Any, side: str) -> Source:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(f"the {side} Parquet file does not exist", file=str(path),
                         fix="check the path") from None
    except Exception as exc:  # pyarrow raises ArrowInvalid and OSError for non-Parquet files
        raise InputError(f"the {side} file cannot be read as Parquet: {exc}", file=str(path),
                         fix="write it with DataFrame.to_parquet(path)") from None
    names = tuple(pf.schema_arrow.names)

    def get(name: Any) -> pd.Series:
        table = pf.read(columns=[name])
        return table.column(0).to_pandas()

    return Source(side, names, pf.metadata.num_rows, get)


def kind_of(series: pd.Series) -> str | None:
    """numeric, categorical, or None for a dtype the drift checks do not handle."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return CATEGORICAL
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(dtype) \
            or pd.api.types.is_object_dtype(dtype):
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return NUMERIC
    return None


def read_column(series: pd.Series, kind: str | None, name: Any, side: str) -> Column:
    """Summarise one column as ``kind`` (None: from its dtype)."""
    kind = kind or kind_of(series)
    dtype = str(series.dtype)
    if kind is None:
        return ColumnProblem(
            f"{side} column {name!r} has dtype {dtype}, which the drift checks do not handle",
            None)
    if kind == NUMERIC:
        return _numeric(series, name, side, dtype)
    return _categorical(series, name, side, dtype)


def _numeric(series: pd.Series, name: Any, side: str, dtype: str) -> Column:
    if kind_of(series) != NUMERIC:
        return ColumnProblem(f"{side} column {name!r} has dtype {dtype}, not a number", NUMERIC)
    try:
        arr = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:  # pragma: no cover - extension dtypes
        return ColumnProblem(f"{side} column {name!r} ({dtype}) cannot be read as numbers: {exc}",
                             NUMERIC)
    finite = np.isfinite(arr)
    n_finite = int(np.count_nonzero(finite))
    values = np.sort(arr) if n_finite == arr.size else np.sort(arr[finite])
    if n_finite == 0:
        return ColumnProblem(f"{side} column {name!r} has no finite values "
                             f"({arr.size} rows, all missing or infinite)", NUMERIC)
    return NumericColumn(values, int(arr.size), int(arr.size - n_finite), dtype)


def canonical_label(value: Any) -> Any:
    """A category label as JSON can hold it: bool, int, finite float or str."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return value
    return str(value)


def label_group(labels: Sequence[Any]) -> str | set[str]:
    """'bool', 'number' or 'str' when all labels are of one kind, else the set of type names."""
    groups = set()
    for label in labels:
        if isinstance(label, bool):
            groups.add("bool")
        elif isinstance(label, (int, float)):
            groups.add("number")
        else:
            groups.add("str")
    if len(groups) <= 1:
        return groups.pop() if groups else "str"
    return groups


def _categorical(series: pd.Series, name: Any, side: str, dtype: str) -> Column:
    n_rows = len(series)
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        valid = codes >= 0
        counts = np.bincount(codes[valid], minlength=len(series.cat.categories))
        keep = counts > 0
        labels_raw = series.cat.categories[keep]
        counts = counts[keep]
        n_null = int(n_rows - np.count_nonzero(valid))
    else:
        vc = series.value_counts(dropna=True, sort=False)
        labels_raw = vc.index
        counts = vc.to_numpy(dtype=np.int64)
        n_null = int(n_rows - counts.sum())
    labels = tuple(canonical_label(v) for v in labels_raw)
    if len(labels) == 0:
        return ColumnProblem(f"{side} column {name!r} has no values ({n_rows} rows, all missing)",
                             CATEGORICAL)
    group = label_group(labels)
    if isinstance(group, set):
        return ColumnProblem(
            f"{side} column {name!r} mixes types ({', '.join(sorted(group))}) in one column",
            CATEGORICAL)
    if len(set(labels)) != len(labels):  # e.g. 1 and 1.0, or values that print alike
        merged: dict[Any, int] = {}
        for label, count in zip(labels, counts.tolist(), strict=True):
            merged[label] = merged.get(label, 0) + count
        labels = tuple(merged)
        counts = np.fromiter(merged.values(), dtype=np.int64, count=len(merged))
    return CategoricalColumn(labels, np.asarray(counts, dtype=np.int64), n_rows, n_null, dtype)
