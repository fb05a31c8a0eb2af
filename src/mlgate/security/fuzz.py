"""Input fuzzing of a predict function or a served model, from a pandera schema.

Hypothesis draws batches that the schema accepts (pandera's strategies, through
:func:`mlgate.data.schema.strategy`) and then, in most draws, breaks them on purpose
(:data:`MUTATIONS`): a string in a numeric column (``wrong_dtype``), ``nan``, ``inf``,
``-inf``, ``extreme`` values (``1e308``, ``-1e308``, ``2**63 - 1``, ``5e-324``), ``none``, a
``missing_column``, an ``extra_column``, an ``empty`` batch (0 rows); one ``huge`` batch of
``huge_rows`` valid rows is sent once. Every call is classified:

- ``ok``: the call returned, with one prediction per row (and, for valid input, no NaN);
- ``error``: a *well-formed* refusal of invalid input: an exception of the ``well_formed`` types
  (``ValueError``, ``TypeError``, ``KeyError``, pandera's ``SchemaError(s)``, MLflow's
  ``MlflowException`` when MLflow is loaded, by default) with a message; over HTTP a 4xx
  answer whose body says why (a JSON object with ``message``/``error``/``detail``, or text);
- ``crash``: anything else: an unexpected exception type (``IndexError``, ``ZeroDivisionError``,
  ``RecursionError``, ``MemoryError``…), an error without a message, the wrong number of
  predictions, a NaN prediction for valid input, valid input refused; over HTTP any 5xx, a
  timeout, a dropped connection, a 2xx whose body is not the predictions.

The crash rate (with its Wilson interval) is the metric ``fuzz.crash_rate``, threshold
``max_crash_rate`` (0), lower is better. When a call crashed, Hypothesis is run a second time to
*shrink* the failure, and the smallest failing input found is kept in the evidence (a few rows,
the mutation, the error; the request body for HTTP)::

    import pytest
    from mlgate.security.fuzz import fuzz, fuzz_http

    @pytest.mark.security
    def test_predict_survives_hostile_input(mlgate, model):
        mlgate.check(fuzz(model.predict_proba, "schema.yaml", exclude=["target"],
                          max_examples=200, seed=1))

    @pytest.mark.security
    def test_served_model_survives_hostile_input(mlgate, served_url):
        # `mlflow models serve -m models:/breast-cancer/2 -p 5001` speaks /invocations
        mlgate.check(fuzz_http(served_url + "/invocations", "schema.yaml", exclude=["target"]))

Runs are reproducible: Hypothesis is seeded with ``seed`` and keeps no example database.
Warnings raised by the model (overflow in ``exp``…) are counted, never turned into crashes.
"""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Interval, Metric

from .redact import redact

#: the deliberate breakages, drawn with the valid batches (``valid``)
MUTATIONS: tuple[str, ...] = ("wrong_dtype", "nan", "inf", "-inf", "extreme", "none",
                              "missing_column", "extra_column", "empty")
#: kinds whose input is valid: they must be answered with predictions
VALID_KINDS = ("valid", "huge")
#: exception types that are a well-formed refusal of invalid input
WELL_FORMED: tuple[type[BaseException], ...] = (ValueError, TypeError, KeyError)
#: the extreme values tried (as floats, or ints in integer columns)
EXTREME_FLOATS = (1e308, -1e308, 5e-324, -5e-324)
EXTREME_INTS = (2**63 - 1, -(2**63), 2**64)
#: name of the column the ``extra_column`` mutation adds
EXTRA_COLUMN = "mlgate_extra_column"
#: characters of an error message or a request body kept in the evidence
MAX_TEXT = 300
#: rows of the minimal failing input kept in the evidence
MAX_ROWS_SHOWN = 5


@dataclass(frozen=True)
class Outcome:
    """How one call went: ``outcome`` is ``ok``, ``error`` or ``crash``; ``reason`` says why
    (an exception's type and message, an HTTP status…); ``status`` is the HTTP status (or None)."""

    outcome: str
    reason: str = ""
    status: int | None = None
    body: str | None = None  # the request body, HTTP only


@dataclass(frozen=True)
class Case:
    """One fuzzing input: its ``kind`` (``valid``, ``huge`` or a mutation), the frame and a line
    saying what was changed."""

    kind: str
    frame: Any
    detail: str = ""

    @property
    def size(self) -> tuple[int, int, int]:
        """How big the case is, for picking the smallest failing one."""
        rows, columns = self.frame.shape
        return int(rows), int(columns), len(self.detail)


@dataclass(frozen=True)
class FuzzResult:
    """What :func:`fuzz` or :func:`fuzz_http` found: a :class:`mlgate.record.CheckResult`.

    Metrics: ``<name>.crash_rate`` (crashed calls / calls, with its Wilson interval; threshold
    ``max_crash_rate``, lower is better) and ``<name>.calls``."""

    target: str
    calls: int
    crashes: int
    errors: int
    by_kind: dict[str, dict[str, int]]
    reasons: tuple[tuple[str, int], ...] = ()
    statuses: dict[str, int] = field(default_factory=dict)
    minimal: dict[str, Any] | None = None
    interval: tuple[float, float] = (math.nan, math.nan)
    seed: int = 0
    max_examples: int = 0
    max_crash_rate: float = 0.0
    warnings: int = 0
    name: str = "fuzz"

    @property
    def crash_rate(self) -> float:
        return self.crashes / self.calls if self.calls else math.nan

    @property
    def passed(self) -> bool:
        return self.calls > 0 and self.crash_rate <= self.max_crash_rate

    def metrics(self) -> list[Metric]:
        iv = None if math.isnan(self.interval[0]) else Interval(*self.interval)
        return [Metric(f"{self.name}.crash_rate", self.crash_rate, self.max_crash_rate, "lower",
                       iv),
                Metric(f"{self.name}.calls", float(self.calls), None, "higher")]

    def evidence(self) -> dict[str, Any]:
        return {
            "target": self.target, "calls": self.calls, "crashes": self.crashes,
            "errors": self.errors, "crash_rate": None if not self.calls else self.crash_rate,
            "interval": None if math.isnan(self.interval[0]) else list(self.interval),
            "by_kind": self.by_kind, "reasons": [list(r) for r in self.reasons],
            "statuses": self.statuses, "minimal_failing_input": self.minimal, "seed": self.seed,
            "max_examples": self.max_examples, "warnings": self.warnings,
        }

    def failures(self) -> list[str]:
        if self.calls == 0:
            return [f"no call reached {self.target}: nothing was fuzzed (raise max_examples)"]
        if self.passed:
            return []
        low, high = self.interval
        out = [f"{self.crashes} of {self.calls} calls to {self.target} crashed (rate "
               f"{self.crash_rate:.3g}, 95% interval [{low:.3g}, {high:.3g}], allowed "
               f"{self.max_crash_rate:.3g}); refuse invalid input with a ValueError/TypeError "
               "(HTTP: a 4xx with a message) and answer every valid row"]
        crashed = {k: v["crash"] for k, v in self.by_kind.items() if v.get("crash")}
        out.append("crashes by input kind: " + ", ".join(f"{k} {n}" for k, n in crashed.items()))
        for reason, count in self.reasons[:5]:
            out.append(f"{count}x {reason}")
        if self.minimal:
            m = self.minimal
            out.append(f"minimal failing input: {m['kind']} batch of {m['rows']} row(s) x "
                       f"{m['columns']} column(s){'; ' + m['detail'] if m['detail'] else ''}: "
                       f"{m['reason']}")
        return out


# -- drawing cases ------------------------------------------------------------------------------

def _feature_schema(schema: Any, exclude: Iterable[str]) -> Any:
    from mlgate.data.schema import _resolve

    resolved, _ = _resolve(schema)
    exclude = list(exclude)
    unknown = [c for c in exclude if c not in resolved.columns]
    if unknown:
        raise InputError(f"exclude names columns not in the schema: {', '.join(unknown)}",
                         fix=f"choose among {', '.join(map(str, resolved.columns))}")
    if exclude:
        resolved = resolved.remove_columns(exclude)
    if not resolved.columns:
        raise InputError("the schema has no columns left to fuzz",
                         fix="pass the schema of the model's input features")
    return resolved


def _mutate(frame: Any, kind: str, column: str, row: int, pick: int) -> tuple[Any, str]:
    """``frame`` broken by ``kind`` at ``column`` and ``row`` (``pick`` chooses an extreme)."""
    import numpy as np
    import pandas as pd

    frame = frame.copy()
    if kind == "missing_column":
        return frame.drop(columns=[column]), f"column {column!r} dropped"
    if kind == "extra_column":
        frame[EXTRA_COLUMN] = np.linspace(0.0, 1.0, len(frame))
        return frame, f"column {EXTRA_COLUMN!r} added"
    if kind == "empty":
        return frame.iloc[:0], "0 rows"
    numeric = pd.api.types.is_numeric_dtype(frame[column].dtype) and \
        not pd.api.types.is_bool_dtype(frame[column].dtype)
    if kind == "wrong_dtype":
        value: Any = "not a number" if numeric else 12345.678
    elif kind == "nan":
        value = math.nan
    elif kind == "inf":
        value = math.inf
    elif kind == "-inf":
        value = -math.inf
    elif kind == "extreme":
        if pd.api.types.is_integer_dtype(frame[column].dtype):
            value = EXTREME_INTS[pick % len(EXTREME_INTS)]
        else:
            value = EXTREME_FLOATS[pick % len(EXTREME_FLOATS)]
    elif kind == "none":
        value = None
    else:
        raise ValueError(f"unknown mutation {kind!r}")
    cells = frame[column].astype(object)
    cells.iloc[row] = value
    try:  # keep a numeric dtype where the value fits one (nan, inf, 1e308 in a float column)
        converted = pd.to_numeric(cells) if numeric and kind not in ("wrong_dtype", "none") \
            else cells
    except (ValueError, TypeError, OverflowError):
        converted = cells
    frame[column] = converted
    return frame, f"column {column!r}, row {row} := {value!r}"


def _cases(schema: Any, batch_sizes: tuple[int, ...]) -> Callable[[str], Any]:
    """``kind -> `` a Hypothesis strategy of :class:`Case` of that kind."""
    from hypothesis import strategies as st

    from mlgate.data.schema import strategy

    frames = {n: strategy(schema, size=n) for n in batch_sizes}
    columns = list(schema.columns)

    @st.composite
    def case(draw: Any, kind: str) -> Case:
        n = draw(st.sampled_from(batch_sizes))
        frame = draw(frames[n]).reset_index(drop=True)
        if kind == "valid":
            return Case("valid", frame)
        column = draw(st.sampled_from(columns))
        row = draw(st.integers(0, n - 1))
        pick = draw(st.integers(0, 3))
        mutated, detail = _mutate(frame, kind, column, row, pick)
        return Case(kind, mutated, detail)

    cache: dict[str, Any] = {}

    def case_of(kind: str) -> Any:
        if kind not in cache:
            cache[kind] = case(kind)
        return cache[kind]

    return case_of


def well_formed_errors() -> tuple[type[BaseException], ...]:
    """The default well-formed refusals: :data:`WELL_FORMED`, pandera's ``SchemaError`` and
    ``SchemaErrors`` (a predict that validates its input with the schema) and, when MLflow is
    already imported, ``MlflowException`` (a pyfunc enforcing its signature)."""
    import sys

    from pandera.errors import SchemaError, SchemaErrors

    out: tuple[type[BaseException], ...] = (*WELL_FORMED, SchemaError, SchemaErrors)
    mlflow_errors = sys.modules.get("mlflow.exceptions")
    if mlflow_errors is not None:
        out += (mlflow_errors.MlflowException,)
    return out


# -- classifying calls --------------------------------------------------------------------------

def _text(exc: BaseException) -> str:
    message = " ".join(str(exc).split())
    return redact(f"{type(exc).__name__}: {message}"[:MAX_TEXT])


def _check_predictions(out: Any, case: Case) -> Outcome:
    import numpy as np

    rows = case.frame.shape[0]
    try:
        arr = np.asarray(out)
    except Exception as exc:  # a ragged or exotic output
        return Outcome("crash", f"output is not array-like: {_text(exc)}")
    length = arr.shape[0] if arr.ndim else None
    if length != rows:
        return Outcome("crash", f"{length} predictions for {rows} rows "
                       f"(output of type {type(out).__name__}, shape {arr.shape})")
    if case.kind in VALID_KINDS and arr.dtype.kind in "fc" and np.isnan(arr).any():
        return Outcome("crash", f"NaN prediction for valid input ({int(np.isnan(arr).sum())} "
                       "values)")
    return Outcome("ok")


def _call_predict(predict: Callable[[Any], Any], well_formed: tuple[type[BaseException], ...],
                  caught: list[int]) -> Callable[[Case], Outcome]:
    def call(case: Case) -> Outcome:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                out = predict(case.frame.copy())
            except well_formed as exc:
                caught[0] += len(seen)
                if case.kind in VALID_KINDS:
                    return Outcome("crash", f"valid input refused: {_text(exc)}")
                if not str(exc).strip() or str(exc).strip() in ("''", '""'):
                    return Outcome("crash", f"{type(exc).__name__} without a message")
                return Outcome("error", _text(exc))
            except Exception as exc:  # the crash we are looking for (RecursionError too)
                caught[0] += len(seen)
                return Outcome("crash", _text(exc))
        caught[0] += len(seen)
        return _check_predictions(out, case)

    return call


# -- HTTP ---------------------------------------------------------------------------------------

def _json_default(value: Any) -> Any:
    if type(value).__name__ in ("NAType", "NaTType"):
        return None
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def request_body(frame: Any, protocol: str) -> bytes:
    """The JSON body that sends ``frame``: ``mlflow`` (``{"dataframe_split": {"columns", "data"}}``,
    what ``mlflow models serve`` reads on ``/invocations``), ``mlflow-records``
    (``{"dataframe_records": [...]}``) or ``records`` (a plain list of row objects). NaN and
    infinities are sent as ``NaN``/``Infinity``, as Python's and MLflow's JSON parsers read them."""
    columns = [str(c) for c in frame.columns]
    rows = frame.astype(object).to_numpy().tolist()  # NaN stays NaN, None null
    if protocol == "mlflow":
        payload: Any = {"dataframe_split": {"columns": columns, "data": rows}}
    elif protocol in ("mlflow-records", "records"):
        records = [dict(zip(columns, r, strict=True)) for r in rows]
        payload = {"dataframe_records": records} if protocol == "mlflow-records" else records
    else:
        raise InputError(f"unknown protocol {protocol!r}",
                         fix="use 'mlflow' (dataframe_split), 'mlflow-records' or 'records'")
    return json.dumps(payload, default=_json_default).encode("utf-8")


def _predictions_of(body: bytes) -> Any:
    data = json.loads(body)
    if isinstance(data, dict):
        for key in ("predictions", "outputs", "prediction"):
            if key in data:
                return data[key]
        raise ValueError(f"a JSON object without 'predictions' (keys: {sorted(data)[:5]})")
    if isinstance(data, list):
        return data
    raise ValueError(f"JSON {type(data).__name__}, not a list of predictions")


def _well_formed_error_body(body: bytes) -> str | None:
    """The message of a 4xx body, or None when it says nothing."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "error_message", "errors"):
            if data.get(key):
                return str(data[key])
        return None
    return text if data else None


def _call_http(url: str, protocol: str, timeout: float, headers: dict[str, str],
               statuses: Counter) -> Callable[[Case], Outcome]:
    import http.client
    import urllib.error
    import urllib.request

    def call(case: Case) -> Outcome:
        body = request_body(case.frame, protocol)
        shown = redact(body[:MAX_TEXT].decode("utf-8", "replace"))
        req = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http/https)
                status, answer = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, answer = exc.code, exc.read() or b""
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            statuses["no answer"] += 1
            return Outcome("crash", f"no answer: {_text(exc)}", None, shown)
        statuses[str(status)] += 1
        if status >= 500:
            return Outcome("crash", f"HTTP {status}: "
                           f"{redact(answer[:MAX_TEXT].decode('utf-8', 'replace'))}", status, shown)
        if 400 <= status < 500:
            message = _well_formed_error_body(answer)
            if case.kind in VALID_KINDS:
                return Outcome("crash", f"valid input refused: HTTP {status}: "
                               f"{redact((message or '')[:MAX_TEXT])}", status, shown)
            if message is None:
                return Outcome("crash", f"HTTP {status} without a message", status, shown)
            return Outcome("error", f"HTTP {status}: {redact(message[:MAX_TEXT])}", status,
                           shown)
        if not 200 <= status < 300:
            return Outcome("crash", f"unexpected HTTP {status}", status, shown)
        try:
            predictions = _predictions_of(answer)
        except ValueError as exc:
            return Outcome("crash", f"HTTP {status} but not predictions: {_text(exc)}", status,
                           shown)
        checked = _check_predictions(predictions, case)
        return Outcome(checked.outcome, checked.reason, status, shown)

    return call


# -- the engine ---------------------------------------------------------------------------------

def _minimal(case: Case, outcome: Outcome) -> dict[str, Any]:
    from mlgate.data.schema import jsonable

    head = case.frame.head(MAX_ROWS_SHOWN)
    records = [{str(k): jsonable(v) for k, v in row.items()}
               for row in head.astype(object).to_dict("records")]
    out = {"kind": case.kind, "rows": int(case.frame.shape[0]),
           "columns": int(case.frame.shape[1]), "detail": case.detail, "reason": outcome.reason,
           "head": _redact_records(records)}
    if outcome.status is not None or outcome.body is not None:
        out["status"] = outcome.status
        out["request_body"] = outcome.body
    return out


def _redact_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from .redact import redact_obj

    return redact_obj(records)


def _simplify(case: Case, outcome: Outcome, call: Callable[[Case], Outcome],
              schema: Any) -> tuple[Case, Outcome]:
    """A one-row valid failing input with as many cells as possible set to a plain value (0, 1,
    the column's smallest or largest allowed value…) while it stays valid and still crashes:
    Hypothesis shrinks each drawn value, but seldom all the columns of a wide frame."""
    import pandas as pd

    frame = case.frame
    kept = outcome
    for column in frame.columns:
        for plain in (0, 1, -1, 0.5):
            trial = frame.copy()
            try:
                trial[column] = pd.Series([plain], index=trial.index, dtype=trial[column].dtype)
                schema.validate(trial)
            except Exception:  # not valid with this value (or not a number): try the next
                continue
            if trial.equals(frame):
                break
            result = call(Case("valid", trial))
            if result.outcome == "crash":
                frame, kept = trial, result
                break
    plain_cells = int((frame.to_numpy(dtype=object) != case.frame.to_numpy(dtype=object)).sum())
    detail = f"{plain_cells} cells set to plain values" if plain_cells else ""
    return Case("valid", frame, detail), kept


def _quotas(max_examples: int, mutations: tuple[str, ...], valid_share: float) -> dict[str, int]:
    """Examples per kind: ``valid_share`` of ``max_examples`` for valid batches (one at least),
    the rest shared evenly by the mutations (the first ones get the remainder)."""
    if not mutations:
        return {"valid": max_examples}
    valid = min(max_examples, max(1, round(max_examples * valid_share)))
    rest = max_examples - valid
    share, extra = divmod(rest, len(mutations))
    out = {"valid": valid}
    for i, kind in enumerate(mutations):
        if share + (i < extra):
            out[kind] = share + (i < extra)
    return out


def _run(call: Callable[[Case], Outcome], schema: Any, *, target: str, max_examples: int,
         seed: int, batch_sizes: Iterable[int], huge_rows: int, mutations: Iterable[str],
         valid_share: float, shrink: bool, max_crash_rate: float, name: str,
         statuses: Counter | None = None, caught: list[int] | None = None) -> FuzzResult:
    try:
        from hypothesis import HealthCheck, Phase, given, settings
        from hypothesis import seed as hseed
    except ImportError:  # a dev dependency of mlgate, not a core one
        from mlgate.errors import MissingExtraError

        raise MissingExtraError("hypothesis", "fuzz") from None

    from mlgate.model.intervals import wilson

    sizes = tuple(sorted({int(n) for n in batch_sizes}))
    if not sizes or sizes[0] < 1:
        raise InputError(f"batch_sizes must be positive row counts, got {sizes}",
                         fix="e.g. batch_sizes=(1, 2, 16)")
    chosen = tuple(mutations)
    bad = [m for m in chosen if m not in MUTATIONS]
    if bad:
        raise InputError(f"unknown mutations: {', '.join(bad)}", fix=f"use some of {MUTATIONS}")
    if max_examples < 1:
        raise InputError(f"max_examples must be >= 1, got {max_examples}")
    # valid batches take ``valid_share`` of the draws, the mutations share the rest evenly
    quota = _quotas(max_examples, chosen, valid_share)
    case_of = _cases(schema, sizes)
    by_kind: dict[str, Counter] = {}
    reasons: Counter = Counter()
    examples: dict[str, str] = {}
    best: list[tuple[Case, Outcome]] = []
    biggest_valid: list[Any] = []

    def record(case: Case, outcome: Outcome) -> None:
        if case.kind == "valid" and (not biggest_valid or len(case.frame) > len(biggest_valid[0])):
            biggest_valid[:] = [case.frame]
        by_kind.setdefault(case.kind, Counter())[outcome.outcome] += 1
        if outcome.outcome == "crash":
            key = f"{case.kind}: {outcome.reason.split(':', 1)[0]}"
            reasons[key] += 1
            examples.setdefault(key, outcome.reason)
            keep(case, outcome)

    def keep(case: Case, outcome: Outcome) -> None:
        if not best or case.size < best[0][0].size:
            best[:] = [(case, outcome)]

    base = dict(database=None, deadline=None, derandomize=False, print_blob=False,
                suppress_health_check=list(HealthCheck))

    # one Hypothesis run per kind, each with its quota of examples (drawing the kind inside one
    # run would let Hypothesis skew the mix towards the kinds that draw least data)
    for kind, n in quota.items():

        @hseed(seed)
        @settings(max_examples=n, phases=[Phase.generate], **base)
        @given(case_of(kind))
        def explore(case: Case) -> None:
            record(case, call(case))

        explore()
    # one huge valid batch, once (too costly to draw again and again)
    if huge_rows > 0 and biggest_valid:
        import pandas as pd

        frame = biggest_valid[0]
        reps = -(-huge_rows // max(1, len(frame)))
        huge = pd.concat([frame] * reps, ignore_index=True).iloc[:huge_rows]
        case = Case("huge", huge, f"{huge_rows} valid rows")
        record(case, call(case))
    calls = sum(sum(c.values()) for c in by_kind.values())
    crashes = sum(c["crash"] for c in by_kind.values())
    seen_statuses = dict(statuses or {})  # the shrinking run's calls are not counted
    if shrink and crashes and best and best[0][0].kind != "huge":

        @hseed(seed)
        @settings(max_examples=max_examples, phases=[Phase.generate, Phase.shrink], **base)
        @given(case_of(best[0][0].kind))
        def minimise(case: Case) -> None:
            outcome = call(case)
            if outcome.outcome == "crash":
                keep(case, outcome)
                raise AssertionError(outcome.reason)

        try:
            minimise()
        except Exception:  # the failure we asked for (or a flaky replay): ``best`` holds it
            pass
        if best[0][0].kind == "valid" and len(best[0][0].frame) == 1:
            best[:] = [_simplify(*best[0], call, schema)]
    errors = sum(c["error"] for c in by_kind.values())
    low, high = wilson(crashes, calls) if calls else (math.nan, math.nan)
    top = tuple((examples[k], n) for k, n in reasons.most_common())
    return FuzzResult(
        target=target, calls=calls, crashes=crashes, errors=errors,
        by_kind={k: {o: int(c[o]) for o in ("ok", "error", "crash")}
                 for k, c in sorted(by_kind.items())},
        reasons=top, statuses=dict(sorted(seen_statuses.items())),
        minimal=_minimal(*best[0]) if best else None, interval=(low, high), seed=seed,
        max_examples=max_examples, max_crash_rate=max_crash_rate,
        warnings=caught[0] if caught else 0, name=name)


def fuzz(
    predict: Callable[[Any], Any],
    schema: Any,
    *,
    max_examples: int = 100,
    seed: int = 0,
    batch_sizes: Iterable[int] = (1, 2, 16),
    huge_rows: int = 10_000,
    mutations: Iterable[str] = MUTATIONS,
    exclude: Iterable[str] = (),
    valid_share: float = 0.25,
    well_formed: tuple[type[BaseException], ...] | None = None,
    shrink: bool = True,
    max_crash_rate: float = 0.0,
    name: str = "fuzz",
) -> FuzzResult:
    """Fuzz ``predict`` (a callable taking a pandas DataFrame: ``model.predict``,
    ``model.predict_proba``, a pyfunc's ``predict``) with batches drawn from ``schema`` (a pandera
    ``DataFrameSchema`` or its YAML/JSON file) and their mutations.

    ``max_examples`` draws (plus one ``huge`` batch of ``huge_rows`` rows, 0 to skip) in batches
    of ``batch_sizes`` rows, seeded by ``seed``; ``valid_share`` of the draws are valid batches,
    the rest is shared evenly by ``mutations`` (with fewer draws than mutations, the first ones
    only). In-process calls have no time limit: a predict that hangs hangs the test (use
    pytest-timeout), while :func:`fuzz_http` bounds each request by ``timeout``.
    ``exclude``: schema columns that are not model inputs (the target). ``well_formed``: the
    exception types that count as a clear refusal (``None``: :func:`well_formed_errors`).
    ``shrink``: look for the smallest failing input after a crash (a second Hypothesis run).

    >>> import numpy as np, pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.in_range(0, 1))})
    >>> def predict(frame):
    ...     values = frame[["x"]].to_numpy(dtype=float)  # ValueError on strings, KeyError if missing
    ...     return np.nan_to_num(values[:, 0]) > 0.5
    >>> result = fuzz(predict, schema, max_examples=30, huge_rows=100)
    >>> result.crashes, result.passed
    (0, True)
    """
    caught = [0]
    refusals = well_formed_errors() if well_formed is None else tuple(well_formed)
    call = _call_predict(predict, refusals, caught)
    return _run(call, _feature_schema(schema, exclude), target=_name_of(predict),
                max_examples=max_examples, seed=seed, batch_sizes=batch_sizes,
                huge_rows=huge_rows, mutations=mutations, valid_share=valid_share,
                shrink=shrink, max_crash_rate=max_crash_rate, name=name, caught=caught)


def fuzz_http(
    url: str,
    schema: Any,
    *,
    protocol: str = "mlflow",
    max_examples: int = 100,
    seed: int = 0,
    batch_sizes: Iterable[int] = (1, 2, 16),
    huge_rows: int = 10_000,
    mutations: Iterable[str] = MUTATIONS,
    exclude: Iterable[str] = (),
    valid_share: float = 0.25,
    timeout: float = 10.0,
    headers: dict[str, str] | None = None,
    shrink: bool = True,
    max_crash_rate: float = 0.0,
    name: str = "fuzz",
) -> FuzzResult:
    """Fuzz a served model at ``url`` (``http://127.0.0.1:5001/invocations``) as :func:`fuzz`
    does a function, over HTTP with the standard library.

    ``protocol``: ``mlflow`` (``{"dataframe_split": …}``, what ``mlflow models serve`` reads),
    ``mlflow-records`` (``{"dataframe_records": […]}``) or ``records`` (a plain JSON list of row
    objects); the answer is ``{"predictions": […]}`` or a plain list. No 5xx, no timeout
    (``timeout`` seconds per request), 4xx with a message, 2xx with one prediction per row. The
    evidence adds the histogram of status codes and, for the minimal failing input, its request
    body. ``headers`` (e.g. ``Authorization``) are sent but never recorded.
    An endpoint that refuses connections is an :class:`mlgate.errors.InputError` (start it
    first), not a crash."""
    import urllib.error
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"not an http(s) URL: {redact(url)!r}",
                         fix="pass e.g. http://127.0.0.1:5001/invocations")
    request_body(_empty(), protocol)  # refuses an unknown protocol before any request
    probe = urllib.request.Request(url, data=b"{}", method="POST",
                                   headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(probe, timeout=timeout):  # noqa: S310
            pass
    except urllib.error.HTTPError:
        pass  # it answers: that is all the probe asks
    except (OSError, ValueError) as exc:
        raise InputError(f"the endpoint {redact(url)} does not answer: {_text(exc)}",
                         fix="start the server first (e.g. `mlflow models serve -m "
                         "models:/NAME/VERSION -p 5001 --env-manager local`)") from None
    statuses: Counter = Counter()
    call = _call_http(url, protocol, timeout, dict(headers or {}), statuses)
    return _run(call, _feature_schema(schema, exclude), target=redact(url),
                  max_examples=max_examples, seed=seed, batch_sizes=batch_sizes,
                  huge_rows=huge_rows, mutations=mutations, valid_share=valid_share,
                  shrink=shrink, max_crash_rate=max_crash_rate, name=name, statuses=statuses)


def _empty() -> Any:
    import pandas as pd

    return pd.DataFrame()


def _name_of(predict: Callable[..., Any]) -> str:
    owner = getattr(predict, "__self__", None)
    name = getattr(predict, "__qualname__", None) or type(predict).__name__
    if owner is not None and not isinstance(owner, type):
        return f"{type(owner).__name__}.{getattr(predict, '__name__', name)}"
    return str(name)


__all__ = ["MUTATIONS", "Case", "FuzzResult", "Outcome", "fuzz", "fuzz_http", "request_body"]
