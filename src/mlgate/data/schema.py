"""Schemas with pandera: validate a frame, generate valid frames, infer a starting schema.

Validation is lazy (every failure is collected) and its result is a :class:`SchemaResult`, a
:class:`mlgate.record.CheckResult`: hand it to ``mlgate.check`` and the bundle gets the metrics
``schema_failures`` (failed checks; threshold 0) and ``schema_failing_rows``, the evidence (one
entry per failed check: column, check, failing rows, a few example values) and the test fails
with one readable line per failed check::

    import pytest
    from mlgate.data.schema import validate

    @pytest.mark.data
    def test_training_data_schema(mlgate, train_df):
        mlgate.check(validate(train_df, "schemas/train.yaml"))

    # FAILED ... mlgate schema check failed:
    #   column 'age': check greater_than_or_equal_to(0) failed on 3 rows, e.g. -1, -5, -7
    #   column 'income': missing from the data (the schema requires it)

A schema is a pandera ``DataFrameSchema`` (``pandera.pandas`` for pandas frames,
``pandera.polars`` for polars frames) or the path of a YAML/JSON file that pandera's
``to_yaml``/``to_json`` wrote (``mlgate schema infer DATA -o schema.yaml`` writes a first one
from a reference data set; edit it and commit it).

numpy, pandas, pandera and polars are imported inside the functions that use them, so importing
this module is cheap.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Metric, encode_float

#: example values kept per failed check
MAX_EXAMPLES = 5
#: strings longer than this are cut in evidence and messages
MAX_TEXT = 80
#: failed checks kept in the evidence (the metrics count all of them)
MAX_EVIDENCE_CHECKS = 100
#: categorical columns with more levels than this get no ``isin`` check from :func:`infer_schema`
MAX_INFERRED_LEVELS = 100

#: keys of a column in pandera's YAML/JSON that are properties, not check names
#: (the same set as ``pandera.io._flat_checks.COMPONENT_RESERVED_KEYS``)
COLUMN_PROPERTIES = frozenset({
    "title", "description", "dtype", "nullable", "checks", "name", "unique", "coerce",
    "required", "regex", "default", "report_duplicates", "drop_invalid_rows", "dims", "alias",
    "ordered_dims", "sizes", "shape", "coords", "schema_type", "version",
})

_STRUCTURE_CHECKS = {"column_in_dataframe", "column_in_schema"}
_ERROR = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception)\(")


# -- JSON-safe values ---------------------------------------------------------------------------

def _truncate(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def is_missing(value: Any) -> bool:
    """None, NaN, ``pd.NA`` or ``NaT``, without importing pandas when it is not loaded."""
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    pd = sys.modules.get("pandas")
    if pd is not None and (value is pd.NA or value is pd.NaT):
        return True
    np = sys.modules.get("numpy")
    if np is not None and isinstance(value, (np.datetime64, np.timedelta64)):
        return bool(np.isnat(value))
    return False


def jsonable(value: Any) -> Any:
    """One value from a frame as JSON can hold it: numpy and pandas scalars become Python ones,
    NaN and infinities the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (as in the bundle),
    ``None``/``pd.NA``/``NaT`` ``None``, times ISO strings, long strings are cut at
    :data:`MAX_TEXT` characters and anything else is its (cut) ``repr``."""
    if isinstance(value, float):  # numpy.float64 too
        return encode_float(float(value))
    if is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return _truncate(value)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, (np.datetime64, np.timedelta64)):
            return str(value)
        if isinstance(value, np.generic):
            return jsonable(value.item())
    if hasattr(value, "isoformat"):
        return _truncate(value.isoformat())
    return _truncate(repr(value))


def show(value: Any) -> str:
    """How a value reads in a failure message: numbers plain, strings quoted, nulls ``null``."""
    if is_missing(value) and not isinstance(value, float):
        return "null"
    as_json = jsonable(value)
    if isinstance(as_json, str) and not isinstance(value, float):
        return repr(as_json)
    return str(as_json)


# -- the result ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class FailedCheck:
    """One failed schema check.

    ``kind``: ``"rows"`` (an element-wise check on a column: ``failing_rows`` rows failed),
    ``"frame"`` (a check over whole rows: ``examples`` are row labels), ``"column"`` (about the
    column as a whole: wrong dtype, a check that could not run; ``examples`` holds what was
    found), ``"missing"`` (a column the schema requires is absent), ``"extra"`` (a column the
    strict schema does not know) or ``"size"`` (too few rows).
    """

    kind: str
    check: str
    column: str | None = None
    failing_rows: int | None = None
    examples: tuple[Any, ...] = ()  # raw values; :func:`jsonable` in the evidence

    @property
    def message(self) -> str:
        where = f"column {self.column!r}: " if self.column is not None else ""
        shown = ", ".join(show(v) for v in self.examples)
        if self.kind == "missing":
            return f"{where}missing from the data (the schema requires it)"
        if self.kind == "extra":
            return (f"{where}not in the schema, which is strict (drop the column, or add it to "
                    "the schema)")
        if self.kind == "size":
            return f"the data has {self.failing_rows} rows, fewer than {self.check}"
        if self.kind == "column":
            found = ", ".join(str(jsonable(v)) for v in self.examples)
            if _ERROR.match(found):
                return f"{where}check {self.check} could not run: {found}"
            return f"{where}check {self.check} failed: {found}"
        rows = f"{self.failing_rows} row{'' if self.failing_rows == 1 else 's'}"
        if self.kind == "frame":
            labels = ", ".join(str(jsonable(v)) for v in self.examples)
            return f"check {self.check} failed on {rows}, e.g. rows {labels}"
        if self.check == "not_nullable":  # the examples are all nulls
            return f"{where}check not_nullable failed on {rows} (null values)"
        return f"{where}check {self.check} failed on {rows}, e.g. {shown}"

    def to_json(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "check": _truncate(self.check),
            "kind": self.kind,
            "failing_rows": self.failing_rows,
            "examples": [jsonable(v) for v in self.examples],
        }


@dataclass(frozen=True)
class SchemaResult:
    """What :func:`validate` found: a :class:`mlgate.record.CheckResult`.

    Metrics: ``<name>_failures`` (failed checks, threshold 0, lower is better) and
    ``<name>_failing_rows`` (distinct rows with at least one failure; no threshold).
    """

    failed: tuple[FailedCheck, ...]
    rows: int
    columns: int
    failing_rows: int
    schema: str | None = None  # the schema's name or file
    name: str = "schema"

    @property
    def passed(self) -> bool:
        return not self.failed

    def metrics(self) -> list[Metric]:
        return [
            Metric(f"{self.name}_failures", float(len(self.failed)), threshold=0.0,
                   direction="lower"),
            Metric(f"{self.name}_failing_rows", float(self.failing_rows), direction="lower"),
        ]

    def evidence(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "rows": self.rows,
            "columns": self.columns,
            "failed_checks": len(self.failed),
            "failing_rows": self.failing_rows,
            "failures": [f.to_json() for f in self.failed[:MAX_EVIDENCE_CHECKS]],
            "omitted": max(0, len(self.failed) - MAX_EVIDENCE_CHECKS),
        }

    def failures(self) -> list[str]:
        return [f.message for f in self.failed]


# -- loading a schema ---------------------------------------------------------------------------

def _frame_api(frame: Any) -> str:
    module = type(frame).__module__
    if module.startswith("pandas") and hasattr(frame, "columns"):
        return "pandas"
    if module.startswith("polars") and type(frame).__name__ in ("DataFrame", "LazyFrame"):
        return "polars"
    raise InputError(
        f"expected a pandas or polars DataFrame, got {type(frame).__module__}."
        f"{type(frame).__name__}",
        fix="pass a pandas.DataFrame (or a polars.DataFrame with a pandera.polars schema)")


def _schema_api(schema: Any) -> str | None:
    module = type(schema).__module__
    if module.startswith("pandera.api.polars"):
        return "polars"
    if module.startswith("pandera.api.pandas"):
        return "pandas"
    return None


def load_schema(path: str | Path) -> Any:
    """Read a pandera schema from a YAML (``.yaml``/``.yml``) or JSON file written by pandera's
    ``to_yaml``/``to_json`` (a pandas or a polars schema, as the file's ``schema_type`` says).

    Unlike pandera, a column key that is neither a column property nor a pandera check (a typo
    such as ``greater_than_or_equal: 0``, which pandera would silently drop) is an error.
    Raises :class:`mlgate.errors.InputError` naming the file, the key and the fix."""
    import json

    path = Path(path)
    fix_generic = ("write the file with pandera's schema.to_yaml() / to_json(), or `mlgate schema "
                   "infer DATA -o schema.yaml`, and edit it")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("schema file not found", file=str(path),
                         fix="check the path, or create it with `mlgate schema infer DATA "
                         "-o schema.yaml`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the schema file: {exc}", file=str(path)) from None
    is_json = path.suffix.lower() == ".json"
    if not is_json and path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"unknown schema file type {path.suffix!r}", file=str(path),
                         fix="use a .yaml, .yml or .json file written by pandera")
    try:
        if is_json:
            data = json.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # yaml.YAMLError, json.JSONDecodeError
        detail = " ".join(str(exc).split())
        raise InputError(f"does not parse as {'JSON' if is_json else 'YAML'}: {detail}",
                         file=str(path), fix=fix_generic) from None
    if not isinstance(data, dict):
        raise InputError(f"a schema file holds a mapping (schema_type, columns, …), got "
                         f"{type(data).__name__}", file=str(path), fix=fix_generic)
    _check_keys(data, path)
    polars = data.get("schema_type") == "polars_dataframe" or data.get("api") == "polars"
    try:
        if polars:
            import pandera.polars as pa
        else:
            import pandera.pandas as pa
        if is_json:
            return pa.DataFrameSchema.from_json(text)
        return pa.DataFrameSchema.from_yaml(text)
    except Exception as exc:  # pandera raises TypeError, ValueError, KeyError, SchemaDefinitionError
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"not a valid pandera schema: {detail}", file=str(path),
                         fix=fix_generic) from None


def _check_keys(data: dict[str, Any], path: Path) -> None:
    from pandera.api.checks import Check

    columns = data.get("columns")
    if columns is None:
        return
    if not isinstance(columns, dict):
        raise InputError(f"columns must be a mapping of column name to its spec, got "
                         f"{type(columns).__name__}", file=str(path), key="columns",
                         fix="write columns:\n  name:\n    dtype: int64\n    ... (see pandera's "
                         "to_yaml output)")
    for column, spec in columns.items():
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise InputError(f"a column spec is a mapping (dtype, nullable, checks…), got "
                             f"{type(spec).__name__}", file=str(path), key=f"columns.{column}",
                             fix="give the column a mapping such as {dtype: int64, nullable: false}")
        if spec.get("checks") is not None:
            continue  # the list form: pandera validates the names
        for key in spec:
            if key in COLUMN_PROPERTIES or callable(getattr(Check, str(key), None)):
                continue
            raise InputError(
                f"unknown key {key!r}: neither a column property nor a pandera check, and "
                "pandera would silently ignore it", file=str(path), key=f"columns.{column}.{key}",
                fix="use a check name such as greater_than_or_equal_to, less_than_or_equal_to, "
                "in_range, isin, str_matches, str_length, or a property: "
                + ", ".join(sorted(COLUMN_PROPERTIES - {"dims", "ordered_dims", "sizes", "shape",
                                                        "coords", "schema_type", "version"})))


def _resolve(schema: Any) -> tuple[Any, str | None]:
    """The schema object and a label for it (its file or its name)."""
    if isinstance(schema, (str, Path)):
        return load_schema(schema), str(schema)
    if _schema_api(schema) is None:
        raise InputError(
            f"expected a pandera DataFrameSchema or the path of a schema file, got "
            f"{type(schema).__module__}.{type(schema).__name__}",
            fix="pass pandera.pandas.DataFrameSchema(...) (a DataFrameModel: MyModel.to_schema())")
    return schema, getattr(schema, "name", None)


# -- validation ---------------------------------------------------------------------------------

def validate(frame: Any, schema: Any, *, name: str = "schema", min_rows: int = 1) -> SchemaResult:
    """Validate ``frame`` against ``schema`` lazily (every failure collected) and return a
    :class:`SchemaResult` for ``mlgate.check``.

    ``frame``: a pandas DataFrame, or a polars DataFrame with a ``pandera.polars`` schema (a
    schema file says which it is). ``schema``: a pandera ``DataFrameSchema`` or a path to its
    YAML/JSON. Wrong dtypes, missing columns and (with ``strict=True``) extra columns are failed
    checks like any other. A frame with fewer than ``min_rows`` rows (default 1: an empty frame
    is a failure, not a pass) fails too. ``name`` prefixes the metric names and keys the
    evidence: use e.g. ``name="test_schema"`` to validate two frames in one test.

    Examples of polars failures are the strings pandera reports (it casts them to text).
    """
    schema, label = _resolve(schema)
    data_api = _frame_api(frame)
    schema_api = _schema_api(schema)
    if data_api != schema_api:
        raise InputError(
            f"the data is a {data_api} DataFrame but the schema is a {schema_api} schema",
            key=label,
            fix=("use pandera.polars.DataFrameSchema for polars data (or frame.to_pandas())"
                 if data_api == "polars" else
                 "use pandera.pandas.DataFrameSchema for pandas data (or polars.from_pandas(frame))"))
    from pandera.errors import SchemaDefinitionError, SchemaError, SchemaErrors

    if data_api == "polars" and type(frame).__name__ == "LazyFrame":
        frame = frame.collect()
    rows, columns = int(frame.shape[0]), int(frame.shape[1])
    failed: list[FailedCheck] = []
    if rows < min_rows:
        failed.append(FailedCheck("size", f"min_rows={min_rows}",
                                  failing_rows=rows))
    failing_rows = 0
    try:
        schema.validate(frame, lazy=True)
    except SchemaErrors as exc:
        found, failing_rows = _collect(exc.failure_cases,
                                       frame if data_api == "polars" else None)
        failed.extend(found)
    except SchemaError as exc:  # raised even under lazy=True for some definition problems
        failed.append(FailedCheck("column", str(getattr(exc, "check", None) or "schema"),
                                  column=_column_of(exc), examples=(" ".join(str(exc).split()),)))
    except SchemaDefinitionError as exc:
        raise InputError(f"the schema cannot be applied: {' '.join(str(exc).split())}", key=label,
                         fix="fix the schema definition (see pandera's DataFrameSchema docs)") from None
    return SchemaResult(tuple(failed), rows=rows, columns=columns, failing_rows=failing_rows,
                        schema=label, name=name)


def _column_of(exc: Any) -> str | None:
    column = getattr(exc, "column_name", None)
    return None if column is None else str(column)


def _records(failure_cases: Any) -> Iterable[dict[str, Any]]:
    if type(failure_cases).__module__.startswith("polars"):
        return failure_cases.to_dicts()
    if "index" in failure_cases.columns:
        # the order pandera reports failure cases in differs between pandas versions (seen on
        # pandas 2.3): examples in row order are the same everywhere, and easier to read
        # (failed checks keep the order pandera reports them in; rows within a check are sorted)
        keys = [c for c in ("schema_context", "column", "check") if c in failure_cases.columns]
        first = failure_cases.groupby(keys, sort=False, dropna=False).ngroup()
        try:
            failure_cases = (failure_cases.assign(_group=first)
                             .sort_values(["_group", "index"], kind="stable", na_position="last")
                             .drop(columns="_group"))
        except TypeError:  # row labels of mixed types: keep pandera's order
            pass
    return failure_cases.to_dict("records")


def _collect(failure_cases: Any, polars_frame: Any = None) -> tuple[list[FailedCheck], int]:
    """Group pandera's failure-case table (one row per failing element) into failed checks.

    pandera's polars backend reports failure cases as text; with ``polars_frame`` the examples
    are read back from the frame by row number, with their own types."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    all_rows: set[Any] = set()
    for rec in _records(failure_cases):
        check = str(rec.get("check"))
        context = rec.get("schema_context")
        column = None if is_missing(rec.get("column")) else str(rec.get("column"))
        case = rec.get("failure_case")
        index = rec.get("index")
        if check in _STRUCTURE_CHECKS:
            kind = "missing" if check == "column_in_dataframe" else "extra"
            key: tuple[Any, ...] = (kind, str(case))
            column = str(case)
        elif is_missing(index):
            kind, key = "column", ("column", column, check, rec.get("check_number"))
        elif context == "DataFrameSchema":
            kind, key = "frame", ("frame", check, rec.get("check_number"))
            column = None
        else:
            kind, key = "rows", ("rows", context, column, check, rec.get("check_number"))
            if context == "Index" and column is None:
                column = "index"
        group = groups.get(key)
        if group is None:
            group = groups[key] = {"kind": kind, "check": check, "column": column,
                                   "count": 0, "rows": set(), "examples": []}
        group["count"] += 1
        if kind in ("rows", "frame"):
            index = _hashable(index)
            group["rows"].add(index)
            all_rows.add(index)
            sample = index if kind == "frame" else case
            if kind == "rows" and polars_frame is not None and column in polars_frame.columns:
                try:
                    sample = polars_frame.get_column(column)[int(index)]
                except (TypeError, ValueError, IndexError):
                    pass
            if len(group["examples"]) < MAX_EXAMPLES and not _seen(group["examples"], sample):
                group["examples"].append(sample)
        elif kind == "column" and len(group["examples"]) < MAX_EXAMPLES:
            group["examples"].append(case)
    found = []
    for group in groups.values():
        kind = group["kind"]
        count = {"rows": group["count"], "frame": len(group["rows"])}.get(kind)
        found.append(FailedCheck(kind, group["check"], column=group["column"], failing_rows=count,
                                 examples=tuple(group["examples"])))
    order = {"missing": 0, "extra": 1, "column": 2, "rows": 3, "frame": 4}
    found.sort(key=lambda f: order[f.kind])  # stable: pandera's order within a kind
    return found, len(all_rows)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _seen(examples: list[Any], value: Any) -> bool:
    for seen in examples:
        if seen is value or (is_missing(seen) and is_missing(value)):
            return True
        try:
            if type(seen) is type(value) and bool(seen == value):
                return True
        except (TypeError, ValueError):
            continue
    return False


# -- strategies ---------------------------------------------------------------------------------

def strategy(schema: Any, *, size: int | None = None) -> Any:
    """A Hypothesis strategy of pandas DataFrames valid against ``schema`` (pandera's
    ``schema.strategy(size=size)``; ``size`` rows, or a size Hypothesis chooses).

    Property-test that the model accepts every valid row and returns valid output::

        from hypothesis import given, settings
        from mlgate.data.schema import strategy

        SCHEMA = "schemas/features.yaml"

        @settings(max_examples=50, deadline=None)
        @given(strategy(SCHEMA, size=20))
        def test_predict_accepts_every_valid_row(frame):
            proba = model.predict_proba(frame)
            assert proba.shape == (len(frame), 2)
            assert ((proba >= 0) & (proba <= 1)).all()

    Limits (pandera's, not mlgate's):

    - pandas schemas only: pandera cannot synthesise polars data (``InputError`` here).
    - Only built-in checks generate data directly (``in_range``, ``greater_than``…, ``isin``,
      ``notin``, ``str_matches``, ``str_length``, ``eq``…). A custom check, or a second check on
      the same column, becomes a *filter*: draws that fail it are discarded, and a restrictive
      one makes Hypothesis give up (``Unsatisfiable`` / ``FailedHealthCheck``).
    - Frame-wide checks (across columns) are filters too; ``unique`` columns may draw slowly.
    - Values hug the bounds (0, tiny floats such as ``2.2e-308``, the minimum and maximum), on
      purpose: that is where models break.
    """
    schema, label = _resolve(schema)
    if _schema_api(schema) != "pandas":
        raise InputError("pandera cannot generate data from a polars schema", key=label,
                         fix="write the schema with pandera.pandas (the YAML's schema_type "
                         "'dataframe') to property-test with it")
    return schema.strategy(size=size)


# -- inference ----------------------------------------------------------------------------------

def infer_schema(frame: Any, *, max_levels: int = MAX_INFERRED_LEVELS) -> Any:
    """A starting pandera schema inferred from a reference pandas DataFrame (pandera's
    ``infer_schema``): each column's dtype and nullability, numeric and time ranges seen, and
    the levels of categorical columns.

    Adjusted for gating: the index is dropped (data checks are about columns), and a categorical
    column with more than ``max_levels`` levels gets no ``isin`` check (100,000 levels would be
    a megabyte of YAML nobody reviews). Review the result: the ranges are those *seen*, not
    those that are *valid*."""
    if _frame_api(frame) == "polars":
        frame = frame.to_pandas()
    if frame.shape[1] == 0:
        raise InputError("cannot infer a schema from a frame with no columns",
                         fix="pass the reference data set the model is trained on")
    if frame.shape[0] == 0:
        raise InputError("cannot infer a schema from a frame with no rows (dtypes only, no ranges "
                         "or levels to learn)", fix="pass the reference data set, not an empty one")
    if not frame.columns.is_unique:
        dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
        raise InputError(f"duplicate column names: {', '.join(dupes)}",
                         fix="rename the columns so that each name is unique")
    import pandera.pandas as pa

    schema = pa.infer_schema(frame).reset_index(drop=True)
    for column_name, column in schema.columns.items():
        kept = []
        for check in column.checks:
            values = check.statistics.get("allowed_values") if check.statistics else None
            if check.name == "isin" and values is not None and len(values) > max_levels:
                continue
            kept.append(check)
        if len(kept) != len(column.checks):
            schema = schema.update_column(column_name, checks=kept)
    return schema


def write_schema(schema: Any, path: str | Path) -> Path:
    """Write ``schema`` as pandera YAML (JSON if ``path`` ends in ``.json``); returns the path."""
    path = Path(path)
    text = schema.to_json(indent=2) if path.suffix.lower() == ".json" else schema.to_yaml()
    if path.parent != Path():
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def read_frame(path: str | Path) -> Any:
    """Read a CSV or Parquet file into a pandas DataFrame (``InputError`` when it cannot)."""
    import pandas as pd

    path = Path(path)
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError("data file not found", file=str(path), fix="check the path")
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".tsv", ".txt") or path.name.endswith((".csv.gz", ".csv.zip")):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",", low_memory=False)
    except Exception as exc:  # pandas' and pyarrow's parser errors
        raise InputError(f"cannot read the data: {' '.join(str(exc).split())}", file=str(path),
                         fix="check that the file is a valid CSV or Parquet file") from None
    raise InputError(f"unknown data file type {suffix!r}", file=str(path),
                     fix="use a .csv, .tsv or .parquet file")


def infer_command(data_path: str, output: str | None = None) -> int:
    """``mlgate schema infer DATA [-o schema.yaml]``: infer a schema from a CSV or Parquet file
    and write it as YAML (to stdout without ``-o``), then say what to do next (on stderr).
    Raises :class:`mlgate.errors.InputError` (exit code 2) on a file it cannot use."""
    frame = read_frame(data_path)
    schema = infer_schema(frame)
    if output is None:
        sys.stdout.write(schema.to_yaml())
        target = "the schema above"
    else:
        write_schema(schema, output)
        target = output
        print(f"wrote {output}: {len(schema.columns)} columns inferred from {data_path} "
              f"({frame.shape[0]} rows)", file=sys.stderr)
    print(
        f"next: review {target} (the ranges are those seen in {data_path}, not necessarily the "
        "valid ones; add `strict: true` to refuse unknown columns), commit it, and validate with\n"
        f"  mlgate.check(mlgate.data.schema.validate(frame, {output or 'schema.yaml'!r}))",
        file=sys.stderr)
    return 0
