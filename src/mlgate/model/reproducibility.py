"""Reproducibility and serving parity: the same model, predicting the same, twice.

- :func:`retrain_reproducibility`: train twice (or ``runs`` times) with the same seed; the
  predictions on an evaluation set must agree within a stated tolerance.
- :func:`serving_parity`: a save/load round trip through MLflow (a temporary folder, or the
  registry) must give the same predictions as the model in memory.

Both return a :class:`ParityResult` (a :class:`mlgate.record.CheckResult`) with the metrics
``<name>.max_abs_diff`` (the largest absolute difference of scores: positive-class or class
probabilities, or a regressor's values; lower is better, threshold ``tolerance``) and, for
classifiers, ``<name>.label_agreement`` (the share of rows with the same label; higher is better,
threshold ``min_label_agreement``, 1.0 by default). NaN or infinite predictions make
``max_abs_diff`` NaN, which fails. Up to :data:`MAX_EXAMPLES` differing rows are kept as evidence.

::

    @pytest.mark.model
    def test_training_is_reproducible(mlgate, X_train, y_train, X_test):
        def train(seed):
            return RandomForestClassifier(n_estimators=50, random_state=seed).fit(X_train, y_train)
        mlgate.check(retrain_reproducibility(train, X_test, seed=42))

    @pytest.mark.model
    def test_serving_parity(mlgate, model, X_test):
        mlgate.check(serving_parity(model, X_test))   # save, load as pyfunc, compare
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlgate.data.schema import jsonable
from mlgate.errors import InputError, MissingExtraError
from mlgate.model.adapters import Predictions, as_model, load_registered, predict_all
from mlgate.record import Metric, encode_float

#: differing rows kept as evidence
MAX_EXAMPLES = 10


@dataclass(frozen=True)
class ParityResult:
    """Predictions of two (or more) models that should be the same, compared."""

    name: str
    description: str
    rows: int
    max_abs_diff: float | None  # None: neither scores nor numeric predictions to compare
    label_agreement: float | None  # None: a regressor
    tolerance: float
    min_label_agreement: float
    examples: tuple[dict[str, Any], ...] = ()
    details: dict[str, Any] = field(default_factory=dict)  # JSON-able: runs, versions, paths

    def metrics(self) -> list[Metric]:
        out = []
        if self.max_abs_diff is not None:
            out.append(Metric(f"{self.name}.max_abs_diff", self.max_abs_diff, self.tolerance, "lower"))
        if self.label_agreement is not None:
            out.append(Metric(f"{self.name}.label_agreement", self.label_agreement,
                              self.min_label_agreement, "higher"))
        return out

    def evidence(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "rows": self.rows,
            "max_abs_diff": None if self.max_abs_diff is None else encode_float(self.max_abs_diff),
            "tolerance": encode_float(self.tolerance),
            "label_agreement": (None if self.label_agreement is None
                                else encode_float(self.label_agreement)),
            "min_label_agreement": encode_float(self.min_label_agreement),
            "examples": list(self.examples),
            **self.details,
        }

    def failures(self) -> list[str]:
        out = []
        d = self.max_abs_diff
        if d is not None and not d <= self.tolerance:
            shown = "NaN or infinite predictions" if not math.isfinite(d) else f"{d:.3g}"
            out.append(f"{self.name} ({self.description}): the largest difference of scores is "
                       f"{shown}, the tolerance is {self.tolerance:g}")
        a = self.label_agreement
        if a is not None and not a >= self.min_label_agreement:
            out.append(f"{self.name} ({self.description}): labels agree on {100 * a:.4g}% of "
                       f"{self.rows} rows, at least {100 * self.min_label_agreement:.4g}% required")
        return out


def compare(reference: Predictions, other: Predictions, *, name: str, description: str,
            tolerance: float, min_label_agreement: float = 1.0,
            regression: bool = False, details: dict[str, Any] | None = None) -> ParityResult:
    """Compare two models' predictions on the same rows (see the module docstring)."""
    import numpy as np

    _check_tolerance(tolerance, min_label_agreement, name)
    if reference.rows != other.rows:
        raise InputError(f"{name}: the predictions to compare have {reference.rows} and "
                         f"{other.rows} rows", fix="predict both models on the same rows")
    a_lab, b_lab = reference.labels, other.labels
    if a_lab.shape != b_lab.shape:
        raise InputError(f"{name}: the predictions have shapes {a_lab.shape} and {b_lab.shape}")
    same_label = (a_lab == b_lab)
    same_label = same_label.reshape(same_label.shape[0], -1).all(axis=1)
    a_val, b_val = _numeric(reference), _numeric(other)
    diff_rows = None
    max_abs = None
    if a_val is not None and b_val is not None:
        if a_val.shape != b_val.shape:
            raise InputError(f"{name}: the scores have shapes {a_val.shape} and {b_val.shape}",
                             fix="both models must predict the same classes")
        with np.errstate(invalid="ignore"):
            diff = np.abs(a_val - b_val)
        diff_rows = diff.reshape(diff.shape[0], -1).max(axis=1) if diff.ndim > 1 else diff
        bad = ~np.isfinite(a_val) | ~np.isfinite(b_val)
        bad = bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad
        max_abs = math.nan if bad.any() else float(diff_rows.max())
    agreement = None if regression else float(same_label.mean())
    differs = ~same_label if diff_rows is None else (~same_label | ~(diff_rows <= tolerance))
    examples = []
    for i in [int(j) for j in differs.nonzero()[0][:MAX_EXAMPLES]]:
        ex: dict[str, Any] = {"row": i, "labels": [jsonable(a_lab[i]), jsonable(b_lab[i])]}
        if diff_rows is not None:
            ex["abs_diff"] = jsonable(float(diff_rows[i]))
        examples.append(ex)
    return ParityResult(name, description, reference.rows, max_abs, agreement, float(tolerance),
                        float(min_label_agreement), tuple(examples), dict(details or {}))


def _numeric(p: Predictions) -> Any:
    """Scores, else numeric predictions (a regressor), as floats; ``None`` if neither."""
    import numpy as np

    if p.scores is not None:
        return np.asarray(p.scores, dtype=float)
    if p.labels.dtype.kind in "fiub":
        return np.asarray(p.labels, dtype=float)
    return None


def _check_tolerance(tolerance: Any, min_label_agreement: Any, name: str) -> None:
    if not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise InputError(f"{name}: tolerance={tolerance!r} must be a number >= 0")
    if not (isinstance(min_label_agreement, (int, float)) and 0 <= min_label_agreement <= 1):
        raise InputError(f"{name}: min_label_agreement={min_label_agreement!r} must be in [0, 1]")


def _is_regression(*models: Any) -> bool:
    return any(getattr(m, "task", None) == "regression" for m in models)


# -- retraining ---------------------------------------------------------------------------------


def retrain_reproducibility(
    train_fn: Callable[[int], Any],
    X_eval: Any,
    *,
    seed: int,
    tolerance: float = 0.0,
    runs: int = 2,
    min_label_agreement: float = 1.0,
    name: str = "reproducibility",
) -> ParityResult:
    """Train ``runs`` times with ``train_fn(seed)`` (a function that trains and returns a new
    model, any kind :func:`~mlgate.model.adapters.as_model` accepts) and compare every run's
    predictions on ``X_eval`` with the first run's: ``max_abs_diff`` must be at most
    ``tolerance`` (0.0: bit-identical scores) and the labels must agree on at least
    ``min_label_agreement`` of the rows. The worst run is reported."""
    if not callable(train_fn):
        raise InputError(f"{name}: train_fn must be a function train_fn(seed) -> model, "
                         f"got {type(train_fn).__name__}")
    if not isinstance(runs, int) or runs < 2:
        raise InputError(f"{name}: runs={runs!r}; comparing needs at least 2 runs")
    _check_tolerance(tolerance, min_label_agreement, name)
    models = []
    for _ in range(runs):
        model = train_fn(seed)
        if any(model is m for m in models):
            raise InputError(f"{name}: train_fn returned the same object twice; it must train a "
                             "new model on every call", fix="fit a fresh estimator inside train_fn")
        models.append(model)
    adapters = [as_model(m) for m in models]
    preds = [predict_all(a, X_eval) for a in adapters]
    regression = _is_regression(*adapters)
    results = [compare(preds[0], p, name=name, tolerance=tolerance,
                       min_label_agreement=min_label_agreement, regression=regression,
                       description=f"{runs} trainings with seed {seed}")
               for p in preds[1:]]
    worst = max(results, key=lambda r: (len(r.failures()), _badness(r)))
    per_run = [{"run": i + 2,
                "max_abs_diff": None if r.max_abs_diff is None else encode_float(r.max_abs_diff),
                "label_agreement": None if r.label_agreement is None else r.label_agreement}
               for i, r in enumerate(results)]
    return ParityResult(worst.name, worst.description, worst.rows, worst.max_abs_diff,
                        worst.label_agreement, worst.tolerance, worst.min_label_agreement,
                        worst.examples, {"seed": seed, "runs": runs, "per_run": per_run,
                                         "model": adapters[0].describe()})


def _badness(r: ParityResult) -> tuple[float, float]:
    d = r.max_abs_diff if r.max_abs_diff is not None else 0.0
    a = r.label_agreement if r.label_agreement is not None else 1.0
    return (math.inf if math.isnan(d) else d, -a)


# -- serving parity -----------------------------------------------------------------------------


def serving_parity(
    model: Any,
    X_eval: Any,
    *,
    served: Any = None,
    name: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
    key: str | None = None,
    tolerance: float = 1e-12,
    min_label_agreement: float = 1.0,
    pip_requirements: list[str] | None = None,
    skops_trusted_types: list[str] | None = None,
    input_example: Any = None,
    check_name: str = "serving_parity",
) -> ParityResult:
    """The in-memory ``model`` against what MLflow serves of it, on ``X_eval``.

    - ``served`` given (a pyfunc model, a ``models:/name/3`` or ``models:/name@alias`` URI, any
      model): compare with it (URIs are loaded from ``tracking_uri`` / ``project_dir``);
    - else ``name`` given: register ``model`` as a version of ``name`` in the registry
      (``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the embedded registry of
      ``project_dir``), keyed by ``key`` (default: a digest of the pickled model, so a re-run
      reuses the version), load it back through ``mlflow.pyfunc`` and compare;
    - else: save ``model`` with ``mlflow.sklearn.save_model`` to a temporary folder, load it with
      ``mlflow.pyfunc.load_model`` and compare (nothing is written elsewhere).

    Predictions go through pyfunc (as a served model answers); scores through the loaded
    scikit-learn model's ``predict_proba``. ``pip_requirements`` default to the installed
    scikit-learn, skops, cloudpickle and numpy (so MLflow does not spend seconds inferring them).

    MLflow 3 saves scikit-learn models with skops and refuses types it does not trust (trees
    among them). In a temporary folder, the types of the model given are trusted: the file is
    the one just written from it. For the registry, name them in ``skops_trusted_types`` (e.g.
    ``["sklearn.tree._tree.Tree"]``), because the list is stored with the version and trusted
    by everyone who loads it later; without it the error names the types to list."""
    _check_tolerance(tolerance, min_label_agreement, check_name)
    adapter = as_model(model)
    reference = predict_all(adapter, X_eval)  # an empty or bad evaluation set fails before saving
    details: dict[str, Any] = {"model": adapter.describe()}
    if served is not None:
        loaded = as_model(served, project_dir=project_dir, tracking_uri=tracking_uri)
        description = f"in-memory model against {loaded.name}"
    elif name is not None:
        loaded, version = _round_trip_registry(model, name, key, project_dir, tracking_uri,
                                               pip_requirements, skops_trusted_types, input_example)
        description = f"in-memory model against models:/{name}/{version} loaded through pyfunc"
        details["registered"] = {"name": name, "version": version}
    else:
        loaded, keep = _round_trip_folder(model, pip_requirements, skops_trusted_types,
                                          input_example)
        description = "in-memory model against its MLflow save/load round trip (pyfunc)"
        try:
            other = predict_all(loaded, X_eval)
        finally:
            keep.cleanup()
        return compare(reference, other, name=check_name, description=description,
                       tolerance=tolerance, min_label_agreement=min_label_agreement,
                       regression=_is_regression(adapter, loaded), details=details)
    other = predict_all(loaded, X_eval)
    return compare(reference, other, name=check_name, description=description, tolerance=tolerance,
                   min_label_agreement=min_label_agreement,
                   regression=_is_regression(adapter, loaded), details=details)


def _mlflow() -> Any:
    try:
        from mlgate_mlflow.connection import import_mlflow
    except ModuleNotFoundError:
        raise MissingExtraError("mlgate_mlflow", "mlflow") from None
    import_mlflow("mlflow.pyfunc", "mlflow.sklearn")
    import mlflow

    return mlflow


def _require_sklearn_like(model: Any) -> None:
    if not callable(getattr(model, "predict", None)) or not callable(getattr(model, "fit", None)):
        raise InputError(
            f"serving_parity can save only scikit-learn-style models (fit and predict), got "
            f"{type(model).__module__}.{type(model).__qualname__}",
            fix="log the model with its own MLflow flavor and pass served='models:/NAME/VERSION'")


def _requirements(pip_requirements: list[str] | None) -> list[str]:
    if pip_requirements is not None:
        return list(pip_requirements)
    from mlgate_mlflow.register import default_pip_requirements

    return default_pip_requirements()


def _own_types(model: Any) -> list[str]:
    """The types skops would refuse in ``model``'s own serialisation."""
    import skops.io

    return list(skops.io.get_untrusted_types(data=skops.io.dumps(model)))


def _round_trip_folder(model: Any, pip_requirements: list[str] | None,
                       skops_trusted_types: list[str] | None, input_example: Any) -> tuple[Any, Any]:
    _require_sklearn_like(model)
    mlflow = _mlflow()
    trusted = skops_trusted_types if skops_trusted_types is not None else _own_types(model)
    keep = tempfile.TemporaryDirectory(prefix="mlgate-parity-")
    path = Path(keep.name) / "model"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            mlflow.sklearn.save_model(model, str(path), input_example=input_example,
                                      pip_requirements=_requirements(pip_requirements),
                                      skops_trusted_types=trusted or None)
        loaded = mlflow.pyfunc.load_model(str(path))
    except Exception as exc:
        keep.cleanup()
        if isinstance(exc, InputError):
            raise
        raise InputError(f"serving_parity: MLflow could not save and load the model: "
                         f"{type(exc).__name__}: {str(exc)[:400]}",
                         fix="check that the model can be saved with mlflow.sklearn.save_model") \
            from None
    return as_model(loaded), keep


def _round_trip_registry(model: Any, name: str, key: str | None, project_dir: Any,
                         tracking_uri: str | None, pip_requirements: list[str] | None,
                         skops_trusted_types: list[str] | None, input_example: Any) -> tuple[Any, str]:
    _require_sklearn_like(model)
    _mlflow()
    from mlgate_mlflow.register import register_model

    if key is None:
        import pickle

        try:
            key = "sha256:" + hashlib.sha256(pickle.dumps(model, protocol=4)).hexdigest()
        except Exception as exc:  # noqa: BLE001 - an unpicklable model: ask for a key
            raise InputError(f"serving_parity: the model cannot be pickled to key its "
                             f"registration ({type(exc).__name__})",
                             fix="pass key=<a digest of the training parameters and data>") from None
    try:
        version = register_model(model, name, key=key, tracking_uri=tracking_uri,
                                 project_dir=project_dir if project_dir is not None else Path("."),
                                 input_example=input_example,
                                 pip_requirements=_requirements(pip_requirements),
                                 skops_trusted_types=skops_trusted_types)
    except InputError:
        raise
    except Exception as exc:
        if "untrusted types" in str(exc):
            types = _own_types(model)
            raise InputError(
                f"serving_parity: MLflow saves scikit-learn models with skops, which does not "
                f"trust the types {types} of this model",
                fix=f"if the model is yours, pass skops_trusted_types={types!r} (the list is "
                    "stored with the registered version)") from None
        raise
    loaded = load_registered(f"models:/{name}/{version}", project_dir=project_dir,
                             tracking_uri=tracking_uri)
    return loaded, version
