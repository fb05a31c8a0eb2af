"""Behaviour tests in the manner of CheckList (Ribeiro et al., ACL 2020), for tabular and text
models.

Three kinds of test, each a :class:`BehaviourResult` (a :class:`mlgate.record.CheckResult` named
``behaviour.<name>``) for ``mlgate.check``, with the failure rate as the gate metric
``behaviour.<name>.failure_rate`` (lower is better, threshold ``max_failure_rate``) and up to
:data:`MAX_EXAMPLES` failing cases as evidence:

- :func:`invariance`: a change that must not change the prediction (a typo, an irrelevant
  column shuffled, a name swapped);
- :func:`directional`: a change that must move the score one way (more income, no lower credit
  score; "not good" scores less positive than "good");
- :func:`minimum_functionality`: simple cases with a known answer.

::

    import pytest
    from mlgate.model import behaviour as b

    @pytest.mark.model
    def test_typos_do_not_flip_sentiment(mlgate, model, reviews):
        mlgate.check(b.invariance(model, reviews, b.typos(), name="typos", max_failure_rate=0.05))

    @pytest.mark.model
    def test_monotone_in_income(mlgate, model, X_test):
        mlgate.check(b.directional(model, X_test, b.shift_column("income", 1000),
                                   name="more_income", expect="not_decrease"))

A perturbation is a function ``perturb(X)`` or ``perturb(X, rng)`` returning rows in the same
order and number (a DataFrame, an array, or a list of texts); ``rng`` is
``numpy.random.default_rng(seed)``, so the same ``seed`` perturbs the same way on every run.
The helpers below (:func:`typos`, :func:`append_text`, :func:`replace_words`,
:func:`shuffle_column`, :func:`shift_column`, :func:`set_column`, :func:`add_noise`) make such
functions. A case whose prediction or score is NaN or infinite counts as failed, and any such
case fails the check whatever ``max_failure_rate`` allows.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlgate.data.schema import jsonable
from mlgate.errors import InputError
from mlgate.model.adapters import ModelAdapter, as_model, n_rows
from mlgate.record import Metric, encode_float

if TYPE_CHECKING:
    import numpy as np

    from mlgate.model.adapters import PredictionCache

#: failing cases kept as evidence
MAX_EXAMPLES = 10
EXPECTATIONS: tuple[str, ...] = ("increase", "decrease", "not_decrease", "not_increase")
ON: tuple[str, ...] = ("score", "prediction")


@dataclass(frozen=True)
class BehaviourResult:
    """What one behaviour test found: a :class:`mlgate.record.CheckResult`."""

    name: str  # behaviour.<name>
    kind: str  # invariance | directional | minimum_functionality
    cases: int
    failed: int
    max_failure_rate: float
    description: str
    examples: tuple[dict[str, Any], ...] = ()
    nonfinite: int = 0  # cases whose prediction or score was NaN or infinite

    @property
    def failure_rate(self) -> float:
        return self.failed / self.cases if self.cases else math.nan

    def metrics(self) -> list[Metric]:
        return [Metric(f"{self.name}.failure_rate", self.failure_rate, self.max_failure_rate, "lower")]

    def evidence(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "cases": self.cases,
            "failed": self.failed,
            "failure_rate": encode_float(self.failure_rate),
            "max_failure_rate": encode_float(self.max_failure_rate),
            "nonfinite": self.nonfinite,
            "examples": list(self.examples),
        }

    def failures(self) -> list[str]:
        out = []
        rate = self.failure_rate
        if not rate <= self.max_failure_rate:
            shown = "; ".join(_brief(e) for e in self.examples[:3])
            out.append(
                f"{self.kind} test {self.name!r} ({self.description}): {self.failed} of "
                f"{self.cases} cases failed ({100 * rate:.3g}%), at most "
                f"{100 * self.max_failure_rate:.3g}% allowed (max_failure_rate)"
                + (f"; e.g. {shown}" if shown else ""))
        if self.nonfinite:
            out.append(f"{self.kind} test {self.name!r}: the model gave NaN or infinite "
                       f"predictions for {self.nonfinite} of {self.cases} cases")
        return out


def _brief(example: dict[str, Any]) -> str:
    where = example.get("row", example.get("case"))
    return f"row {where}: {example.get('before', example.get('expected'))!r} -> " \
           f"{example.get('after', example.get('predicted'))!r}"


# -- the tests ----------------------------------------------------------------------------------


def invariance(
    model: Any,
    X: Any,
    perturb: Callable[..., Any],
    *,
    name: str,
    max_failure_rate: float = 0.0,
    tolerance: float | None = None,
    seed: int = 0,
    cache: PredictionCache | None = None,
) -> BehaviourResult:
    """Predictions must not change when ``perturb`` is applied to ``X``.

    ``tolerance=None``: the predicted label (a regressor's value: exactly) must stay the same.
    ``tolerance=t``: the score (the positive-class probability; every class probability of a
    multiclass model; a regressor's value) must not move by more than ``t``. ``cache``: a
    :class:`~mlgate.model.adapters.PredictionCache` that serves the predictions on ``X``."""
    adapter, rows = _prepare(model, X, name, max_failure_rate)
    if tolerance is not None and not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise InputError(f"behaviour {name!r}: tolerance={tolerance!r} must be a number >= 0 or None")
    Xp = _perturb(perturb, X, seed, name, rows)
    import numpy as np

    if tolerance is None:
        before = _labels(adapter, X, cache)
        after = adapter.predict(Xp)
        bad = _nonfinite(before) | _nonfinite(after)
        failed = bad | ~_equal(before, after)
        what = "the predicted label must not change"
    else:
        before = _scores(adapter, X, "score", None, name, cache, matrix_ok=True)
        after = _scores(adapter, Xp, "score", None, name, None, matrix_ok=True)
        bad = _nonfinite(before) | _nonfinite(after)
        diff = np.abs(after - before)
        if diff.ndim == 2:
            diff = diff.max(axis=1)
        failed = bad | ~(diff <= tolerance)
        what = f"the score must not move by more than {tolerance:g}"
    return _result(f"behaviour.{name}", "invariance", what, X, Xp, before, after, failed, bad,
                   max_failure_rate)


def directional(
    model: Any,
    X: Any,
    perturb: Callable[..., Any],
    *,
    name: str,
    expect: str = "increase",
    on: str = "score",
    label: Any = None,
    min_change: float = 0.0,
    tolerance: float = 0.0,
    max_failure_rate: float = 0.0,
    seed: int = 0,
    cache: PredictionCache | None = None,
) -> BehaviourResult:
    """After ``perturb``, the score (``on="score"``) or numeric prediction (``on="prediction"``)
    must move as ``expect`` says:

    - ``"increase"``: up by more than 0 and at least ``min_change``;
    - ``"decrease"``: down by more than 0 and at least ``min_change``;
    - ``"not_decrease"`` / ``"not_increase"``: not the wrong way by more than ``tolerance``
      (monotonicity; a score already at 1.0 may stay there).

    The score is the positive-class probability of a binary classifier or a regressor's value;
    a multiclass model needs ``label`` (a class label, or its column index) to say whose
    probability is meant."""
    adapter, rows = _prepare(model, X, name, max_failure_rate)
    if expect not in EXPECTATIONS:
        raise InputError(f"behaviour {name!r}: expect={expect!r} is not one of {EXPECTATIONS}")
    if on not in ON:
        raise InputError(f"behaviour {name!r}: on={on!r} is not one of {ON}")
    for arg, value in (("min_change", min_change), ("tolerance", tolerance)):
        if not (isinstance(value, (int, float)) and value >= 0):
            raise InputError(f"behaviour {name!r}: {arg}={value!r} must be a number >= 0")
    Xp = _perturb(perturb, X, seed, name, rows)
    before = _scores(adapter, X, on, label, name, cache)
    after = _scores(adapter, Xp, on, label, name, None)
    bad = _nonfinite(before) | _nonfinite(after)
    delta = after - before
    with _quiet():
        if expect == "increase":
            ok = (delta > 0) & (delta >= min_change)
        elif expect == "decrease":
            ok = (delta < 0) & (-delta >= min_change)
        elif expect == "not_decrease":
            ok = delta >= -tolerance
        else:
            ok = delta <= tolerance
    target = "score" if on == "score" else "prediction"
    if label is not None:
        target += f" of {label!r}"
    what = f"the {target} must {expect.replace('_', ' ')}"
    if expect in ("increase", "decrease") and min_change:
        what += f" by at least {min_change:g}"
    elif expect.startswith("not_") and tolerance:
        what += f" (tolerance {tolerance:g})"
    return _result(f"behaviour.{name}", "directional", what, X, Xp, before, after, bad | ~ok, bad,
                   max_failure_rate)


def minimum_functionality(
    model: Any,
    cases: Sequence[tuple[Any, Any]],
    *,
    name: str,
    max_failure_rate: float = 0.0,
    columns: Sequence[str] | None = None,
) -> BehaviourResult:
    """Simple cases with a known answer: ``cases`` is a list of ``(input, expected)``.

    An input is a text, a dict of column -> value (a tabular row; ``columns`` orders them as the
    model expects), a pandas Series, or a sequence of feature values. ``expected`` is a label
    (the prediction must equal it) or a predicate ``f(prediction) -> bool``."""
    _check_name(name, max_failure_rate)
    adapter = as_model(model)
    if isinstance(cases, (str, bytes)) or not isinstance(cases, Sequence):
        raise InputError(f"behaviour {name!r}: cases must be a list of (input, expected) pairs, "
                         f"got {type(cases).__name__}")
    if len(cases) == 0:
        raise InputError(f"behaviour {name!r}: no cases: a minimum-functionality test needs at "
                         "least one (input, expected) pair")
    for i, case in enumerate(cases):
        if not (isinstance(case, (tuple, list)) and len(case) == 2):
            raise InputError(f"behaviour {name!r}: case {i} is {case!r}, not an (input, expected) pair")
    inputs = [c[0] for c in cases]
    X = _batch(inputs, columns, name)
    predicted = adapter.predict(X)
    bad = _nonfinite(predicted)
    failed = bad.copy()
    for i, (_, expected) in enumerate(cases):
        if bad[i]:
            continue
        got = predicted[i]
        try:
            ok = bool(expected(got)) if callable(expected) else bool(got == expected)
        except Exception as exc:  # noqa: BLE001 - a user's predicate: its error is the failure
            raise InputError(f"behaviour {name!r}: the predicate of case {i} raised "
                             f"{type(exc).__name__}: {exc}") from None
        failed[i] = not ok
    examples = []
    for i in [int(j) for j in failed.nonzero()[0][:MAX_EXAMPLES]]:
        expected = cases[i][1]
        examples.append({
            "case": i,
            "input": _jsonable_input(inputs[i]),
            "expected": (getattr(expected, "__name__", "predicate") if callable(expected)
                         else jsonable(expected)),
            "predicted": jsonable(predicted[i]),
        })
    return BehaviourResult(name=f"behaviour.{name}", kind="minimum_functionality",
                           description="each case must get its expected prediction",
                           cases=len(cases), failed=int(failed.sum()),
                           max_failure_rate=float(max_failure_rate), examples=tuple(examples),
                           nonfinite=int(bad.sum()))


# -- perturbations ------------------------------------------------------------------------------


def typos(n: int = 1) -> Callable[[Any, Any], list[str]]:
    """Swap two adjacent, different characters ``n`` times at random places in each text's words
    of 3 or more characters, as CheckList's ``add_typos`` does."""

    def perturb(texts: Any, rng: Any) -> list[str]:
        out = []
        for text in _texts(texts, "typos"):
            words = re.split(r"(\s+)", text)
            for _ in range(n):
                # (word, position) pairs whose swap changes the text: "ll" swapped is no typo
                spots = [(i, j) for i, w in enumerate(words) if len(w) >= 3 and not w.isspace()
                         for j in range(len(w) - 1) if w[j] != w[j + 1]]
                if not spots:
                    break
                i, j = spots[int(rng.integers(len(spots)))]
                w = words[i]
                words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
            out.append("".join(words))
        return out

    perturb.__name__ = f"typos(n={n})"
    return perturb


def append_text(suffix: str) -> Callable[[Any], list[str]]:
    """Append ``suffix`` (something irrelevant: ``" Thanks."``, a URL) to each text."""

    def perturb(texts: Any) -> list[str]:
        return [t + suffix for t in _texts(texts, "append_text")]

    perturb.__name__ = f"append_text({suffix!r})"
    return perturb


def replace_words(mapping: dict[str, str | Sequence[str]]) -> Callable[[Any, Any], list[str]]:
    """Replace whole words (case-sensitive): ``{"good": "great"}``, or a list of alternatives
    picked at random per occurrence (``{"John": ["Maria", "Wei", "Ahmed"]}``)."""
    if not mapping:
        raise InputError("replace_words needs at least one word to replace")
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in sorted(mapping, key=len,
                                                                            reverse=True)) + r")\b")

    def perturb(texts: Any, rng: Any) -> list[str]:
        def pick(m: re.Match[str]) -> str:
            choice = mapping[m.group(0)]
            if isinstance(choice, str):
                return choice
            return str(choice[int(rng.integers(len(choice)))])

        return [pattern.sub(pick, t) for t in _texts(texts, "replace_words")]

    perturb.__name__ = f"replace_words({sorted(mapping)})"
    return perturb


def shuffle_column(column: Any) -> Callable[[Any, Any], Any]:
    """Permute one column across rows (for a column the model must not depend on)."""

    def perturb(X: Any, rng: Any) -> Any:
        out, values = _column(X, column)
        _assign(out, column, values[rng.permutation(len(values))])
        return out

    perturb.__name__ = f"shuffle_column({column!r})"
    return perturb


def shift_column(column: Any, by: float) -> Callable[[Any], Any]:
    """Add ``by`` to a numeric column (directional tests: more income, more risk)."""

    def perturb(X: Any) -> Any:
        out, values = _column(X, column)
        _assign(out, column, values + by)
        return out

    perturb.__name__ = f"shift_column({column!r}, {by!r})"
    return perturb


def set_column(column: Any, value: Any) -> Callable[[Any], Any]:
    """Set a column to one value in every row."""

    def perturb(X: Any) -> Any:
        out, values = _column(X, column)
        import numpy as np

        _assign(out, column, np.full(len(values), value, dtype=object if isinstance(value, str) else None))
        return out

    perturb.__name__ = f"set_column({column!r}, {value!r})"
    return perturb


def add_noise(column: Any, scale: float) -> Callable[[Any, Any], Any]:
    """Add Gaussian noise of standard deviation ``scale`` to a numeric column (invariance with
    a ``tolerance``: measurement noise must not move the score much)."""

    def perturb(X: Any, rng: Any) -> Any:
        out, values = _column(X, column)
        _assign(out, column, values + rng.normal(0.0, scale, len(values)))
        return out

    perturb.__name__ = f"add_noise({column!r}, {scale!r})"
    return perturb


# -- helpers ------------------------------------------------------------------------------------


def _check_name(name: Any, max_failure_rate: Any) -> None:
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"a behaviour test needs a name, got {name!r}", fix='pass name="typos"')
    if not (isinstance(max_failure_rate, (int, float)) and 0 <= max_failure_rate <= 1):
        raise InputError(f"behaviour {name!r}: max_failure_rate={max_failure_rate!r} must be in [0, 1]")


def _prepare(model: Any, X: Any, name: str, max_failure_rate: float) -> tuple[ModelAdapter, int]:
    _check_name(name, max_failure_rate)
    adapter = as_model(model)
    rows = n_rows(X)
    if rows == 0:
        raise InputError(f"behaviour {name!r}: the evaluation set is empty (0 rows): a behaviour "
                         "test on no cases cannot pass", fix="pass the rows to perturb")
    return adapter, rows


def _perturb(perturb: Any, X: Any, seed: int, name: str, rows: int) -> Any:
    import numpy as np

    if not callable(perturb):
        raise InputError(f"behaviour {name!r}: perturb must be a function perturb(X) or "
                         f"perturb(X, rng), got {type(perturb).__name__}")
    rng = np.random.default_rng(seed)
    source = X.copy() if hasattr(X, "copy") and not isinstance(X, list) else list(X) \
        if isinstance(X, (list, tuple)) else X
    Xp = perturb(source, rng) if _takes_rng(perturb) else perturb(source)
    got = n_rows(Xp)
    if got != rows:
        raise InputError(f"behaviour {name!r}: the perturbation returned {got} rows for {rows}",
                         fix="return the perturbed rows in the same order and number")
    return Xp


def _takes_rng(fn: Any) -> bool:
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2


def _labels(adapter: ModelAdapter, X: Any, cache: PredictionCache | None) -> np.ndarray:
    if cache is not None:
        return cache.get(adapter, X).labels
    return adapter.predict(X)


def _scores(adapter: ModelAdapter, X: Any, on: str, label: Any, name: str,
            cache: PredictionCache | None, *, matrix_ok: bool = False) -> np.ndarray:
    import numpy as np

    cached = cache.get(adapter, X) if cache is not None else None
    if on == "score":
        scores = cached.scores if cached is not None else adapter.predict_scores(X)
        if scores is None:
            if adapter.task == "classification":
                raise InputError(f"behaviour {name!r}: {adapter.name} gives no scores (no "
                                 "predict_proba)", fix="compare labels instead (tolerance=None, "
                                 "or on='prediction' with numeric labels)")
            scores = cached.labels if cached is not None else adapter.predict(X)
    else:
        scores = cached.labels if cached is not None else adapter.predict(X)
    try:
        values = np.asarray(scores, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"behaviour {name!r}: the model's {on}s are not numbers "
                         f"(e.g. {jsonable(np.asarray(scores).ravel()[0])!r})",
                         fix="use on='score' with a model that has predict_proba, or an "
                             "invariance test") from None
    if values.ndim == 2:
        if label is not None:
            return values[:, _class_column(adapter, label, values.shape[1], name)]
        if not matrix_ok:
            raise InputError(f"behaviour {name!r}: {adapter.name} has {values.shape[1]} classes",
                             fix="say whose probability must move: label=<a class label>")
    elif label is not None and on == "score":
        classes = getattr(adapter, "classes", None)
        if classes is not None and len(classes) == 2 and label == classes[0]:
            return 1.0 - values  # the negative class of a binary model
    return values


def _class_column(adapter: ModelAdapter, label: Any, k: int, name: str) -> int:
    classes = getattr(adapter, "classes", None)
    if classes is not None and label in list(classes):
        return list(classes).index(label)
    if isinstance(label, int) and not isinstance(label, bool) and 0 <= label < k:
        return label
    raise InputError(f"behaviour {name!r}: label={label!r} is not a class of {adapter.name}",
                     fix=f"use one of {classes if classes is not None else list(range(k))}")


def _nonfinite(values: np.ndarray) -> np.ndarray:
    import numpy as np

    arr = np.asarray(values)
    if arr.dtype.kind in "fc":
        bad = ~np.isfinite(arr)
    elif arr.dtype.kind == "O":
        bad = np.array([isinstance(v, float) and not math.isfinite(v) for v in arr.ravel()],
                       dtype=bool).reshape(arr.shape)
    else:
        return np.zeros(arr.shape[0], dtype=bool)
    return bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad


def _equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    import numpy as np

    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise InputError(f"predictions before and after the perturbation differ in shape: "
                         f"{a.shape} against {b.shape}")
    eq = a == b
    return eq.reshape(eq.shape[0], -1).all(axis=1) if eq.ndim > 1 else np.asarray(eq, dtype=bool)


class _quiet:
    """NaN comparisons without numpy's 'invalid value' warnings (NaN rows are failed anyway)."""

    def __enter__(self) -> None:
        import numpy as np

        self._old = np.seterr(invalid="ignore")

    def __exit__(self, *exc: object) -> None:
        import numpy as np

        np.seterr(**self._old)


def _result(name: str, kind: str, what: str, X: Any, Xp: Any, before: np.ndarray,
            after: np.ndarray, failed: np.ndarray, bad: np.ndarray,
            max_failure_rate: float) -> BehaviourResult:
    examples = tuple(_example(X, Xp, int(i), before, after)
                     for i in failed.nonzero()[0][:MAX_EXAMPLES])
    return BehaviourResult(name=name, kind=kind, description=what, cases=int(failed.shape[0]),
                           failed=int(failed.sum()), max_failure_rate=float(max_failure_rate),
                           examples=examples, nonfinite=int(bad.sum()))


def _value(v: Any) -> Any:
    import numpy as np

    arr = np.asarray(v)
    if arr.ndim:
        return [jsonable(x) for x in arr.tolist()]
    return jsonable(arr.item() if hasattr(arr, "item") else v)


def _example(X: Any, Xp: Any, i: int, before: np.ndarray, after: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"row": i}
    if hasattr(X, "iloc"):
        out["row"] = jsonable(X.index[i])
        a, b = X.iloc[i], Xp.iloc[i]
        out["changed"] = {str(c): [jsonable(a[c]), jsonable(b[c])] for c in X.columns
                          if c in b.index and not _same(a[c], b[c])}
    elif isinstance(X, (list, tuple)):
        out["input"] = jsonable(X[i])
        out["perturbed"] = jsonable(Xp[i])
    else:
        import numpy as np

        a = np.asarray(X[i]).ravel()
        b = np.asarray(Xp[i]).ravel()
        if a.shape == b.shape:
            out["changed"] = {str(j): [jsonable(a[j]), jsonable(b[j])]
                              for j in range(a.shape[0]) if not _same(a[j], b[j])}
    out["before"] = _value(before[i])
    out["after"] = _value(after[i])
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        if a == b:
            return True
        return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
    except (TypeError, ValueError):
        return a is b


def _texts(texts: Any, what: str) -> list[str]:
    if isinstance(texts, str):
        raise InputError(f"{what}: expected a list of texts, got one string", fix="wrap it: [text]")
    out = list(texts.tolist() if hasattr(texts, "tolist") else texts)
    for t in out:
        if not isinstance(t, str):
            raise InputError(f"{what}: expected texts, got a {type(t).__name__} ({t!r})",
                             fix="text perturbations take a list (or Series) of strings")
    return out


def _column(X: Any, column: Any) -> tuple[Any, Any]:
    """A copy of ``X`` and the values of ``column`` (a name, or an index of an array)."""
    import numpy as np

    if hasattr(X, "columns"):
        if column not in X.columns:
            raise InputError(f"column {column!r} is not in the data",
                             fix=f"use one of {[str(c) for c in X.columns][:20]}")
        out = X.copy()
        return out, out[column].to_numpy()
    arr = np.array(X, copy=True)
    if arr.ndim != 2 or not isinstance(column, int) or not -arr.shape[1] <= column < arr.shape[1]:
        raise InputError(f"column {column!r}: an array needs an integer column index within its "
                         f"{arr.shape[1] if arr.ndim == 2 else 0} columns")
    if arr.dtype.kind in "iub":
        arr = arr.astype(float)
    return arr, arr[:, column]


def _assign(out: Any, column: Any, values: Any) -> None:
    if hasattr(out, "columns"):
        out[column] = values
    else:
        out[:, column] = values


def _batch(inputs: list[Any], columns: Sequence[str] | None, name: str) -> Any:
    import numpy as np

    if all(isinstance(x, str) for x in inputs):
        return list(inputs)
    if all(isinstance(x, dict) or type(x).__module__.startswith("pandas") for x in inputs):
        import pandas as pd

        frame = pd.DataFrame([dict(x) for x in inputs])
        if columns is not None:
            missing = [c for c in columns if c not in frame.columns]
            if missing:
                raise InputError(f"behaviour {name!r}: the cases lack columns {missing}")
            frame = frame[list(columns)]
        return frame
    try:
        return np.asarray(inputs, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"behaviour {name!r}: the case inputs mix kinds or are not numeric",
                         fix="give every case as a text, a dict of column -> value, or a sequence "
                             "of numbers") from None


def _jsonable_input(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if type(x).__module__.startswith("pandas") and hasattr(x, "items"):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, str):
        return jsonable(x)
    try:
        return [jsonable(v) for v in x]
    except TypeError:
        return jsonable(x)
