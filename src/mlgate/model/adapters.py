"""Any model behind one protocol, and predictions computed once per session.

:func:`as_model` wraps what a test has into a :class:`ModelAdapter`:

- a scikit-learn estimator or pipeline (or anything with ``predict``, e.g. XGBoost's and
  LightGBM's scikit-learn API): ``predict``, and ``predict_proba`` when the model has it;
- a PyTorch ``nn.Module`` (torch is imported only when such an object is given): eval mode,
  ``torch.no_grad()``, inputs as float32 tensors on the module's device, in batches; the
  outputs are ``output="logits"`` (softmax for several columns, sigmoid for one) or
  ``output="probs"``; ``task="regression"`` takes them as values;
- an MLflow pyfunc model, or a registry URI ``models:/name/3`` / ``models:/name@alias``, loaded
  from an explicit registry (``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the embedded
  registry in ``<project_dir>/.mlgate/``; needs the ``mlflow`` extra);
- a plain callable ``f(X) -> predictions`` (with ``scores=g`` for ``g(X) -> scores``).

Every adapter answers ``predict(X)`` (labels or values, a 1-d array) and ``predict_scores(X)``:
the probability of the positive class for a binary classifier (1-d), the class-probability
matrix for a multiclass one (n x k), ``None`` for a regressor or a model without scores.

:class:`PredictionCache` computes a model's predictions and scores on an evaluation set once,
keyed by the model's identity and the data's content digest, and hands the same arrays to every
test that asks (use it through a session-scoped fixture)::

    @pytest.fixture(scope="session")
    def predictions(mlgate_predictions, model, X_test):
        return mlgate_predictions.get(model, X_test)   # .labels, .scores
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import threading
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from mlgate.errors import InputError, MissingExtraError, RegistryError
from mlgate.record import fingerprint

if TYPE_CHECKING:
    import numpy as np

Task = Literal["classification", "regression"]
TASKS: tuple[str, ...] = ("classification", "regression")
OUTPUTS: tuple[str, ...] = ("logits", "probs")

ACCEPTED = (
    "a scikit-learn estimator or pipeline (any object with .predict), a PyTorch nn.Module, an "
    "MLflow pyfunc model, a registry URI 'models:/NAME/VERSION' or 'models:/NAME@ALIAS', or a "
    "callable f(X) -> predictions"
)
_URI = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>\d+)|@(?P<alias>[^/@]+))/?$")


@runtime_checkable
class ModelAdapter(Protocol):
    """What mlgate's model checks need from a model.

    ``identity`` is stable for the life of the adapter and distinct between models: the
    prediction cache keys on it."""

    name: str
    task: Task | None
    identity: str

    def predict(self, X: Any) -> np.ndarray:
        """Labels (classifier) or values (regressor): a 1-d array of ``len(X)``."""

    def predict_scores(self, X: Any) -> np.ndarray | None:
        """Positive-class probability (binary, 1-d), class probabilities (multiclass, n x k),
        or ``None`` (a regressor, or a model without scores)."""

    def describe(self) -> dict[str, Any]:
        """JSON-able facts about the model for evidence: kind, name, task, classes, source."""


def n_rows(X: Any) -> int:
    """Rows in an evaluation set: a DataFrame, an array, a tensor or a list (of texts)."""
    if isinstance(X, (str, bytes)):
        raise InputError(f"the evaluation set is a single {type(X).__name__}, not a collection "
                         "of rows", fix="pass a list of texts, an array or a DataFrame")
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    try:
        return len(X)
    except TypeError:
        raise InputError(f"the evaluation set ({type(X).__name__}) has no length",
                         fix="pass a pandas DataFrame, a NumPy array or a list of rows") from None


def data_fingerprint(X: Any) -> str:
    """The content digest of an evaluation set (lists, e.g. of texts, included)."""
    if isinstance(X, (list, tuple)):
        import numpy as np

        arr = np.empty(len(X), dtype=object)
        arr[:] = list(X)
        return fingerprint(arr)
    module = type(X).__module__
    if module.startswith("torch"):
        return fingerprint(X.detach().cpu().numpy())
    if module.startswith("polars") and hasattr(X, "to_pandas"):
        return fingerprint(X.to_pandas())
    return fingerprint(X)


def _check_length(values: np.ndarray, rows: int, what: str, model: str) -> np.ndarray:
    if values.ndim == 0 or values.shape[0] != rows:
        got = "a scalar" if values.ndim == 0 else f"{values.shape[0]} rows"
        raise InputError(f"{model}: {what} gave {got} for {rows} input rows",
                         fix="the model must return one prediction per input row")
    return values


def _to_1d(values: Any) -> np.ndarray:
    """Predictions as a 1-d array: a Series/DataFrame with one column, an (n, 1) array."""
    import numpy as np

    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    return arr


def _binary_or_matrix(proba: np.ndarray) -> np.ndarray:
    """Two class columns become the positive class's column; more stay a matrix."""
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 2 and proba.shape[1] == 2:
        return proba[:, 1]
    if proba.ndim == 2 and proba.shape[1] == 1:
        return proba[:, 0]
    return proba


# -- adapters ------------------------------------------------------------------------------------


@dataclass(eq=False)
class EstimatorAdapter:
    """A scikit-learn estimator or pipeline, or anything with ``predict`` (and maybe
    ``predict_proba``)."""

    model: Any
    task: Task | None = None
    name: str = ""
    identity: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or type(self.model).__name__
        self.identity = self.identity or f"estimator:{type(self.model).__qualname__}:{id(self.model)}"
        if self.task is None:
            self.task = _sklearn_task(self.model)

    @property
    def classes(self) -> list[Any] | None:
        classes = getattr(self.model, "classes_", None)
        return None if classes is None else list(classes)

    def predict(self, X: Any) -> np.ndarray:
        return _check_length(_to_1d(self.model.predict(X)), n_rows(X), "predict", self.name)

    def predict_scores(self, X: Any) -> np.ndarray | None:
        if self.task == "regression" or not hasattr(self.model, "predict_proba"):
            return None
        return _check_length(_binary_or_matrix(self.model.predict_proba(X)), n_rows(X),
                             "predict_proba", self.name)

    def describe(self) -> dict[str, Any]:
        from mlgate.data.schema import jsonable

        classes = self.classes
        return {"kind": "estimator", "name": self.name, "task": self.task,
                "type": f"{type(self.model).__module__}.{type(self.model).__qualname__}",
                "classes": None if classes is None else [jsonable(c) for c in classes]}


def _sklearn_task(model: Any) -> Task | None:
    kind = getattr(model, "_estimator_type", None)
    if kind is None and type(model).__module__.startswith("sklearn"):
        try:
            from sklearn.base import is_classifier, is_regressor

            kind = "classifier" if is_classifier(model) else "regressor" if is_regressor(model) else None
        except Exception:  # noqa: BLE001 - an estimator sklearn cannot tag: undecided
            kind = None
    if kind == "classifier" or hasattr(model, "predict_proba") or hasattr(model, "classes_"):
        return "classification"
    if kind == "regressor":
        return "regression"
    return None


@dataclass(eq=False)
class TorchAdapter:
    """A PyTorch ``nn.Module``: eval mode, no gradients, float32 inputs in batches.

    Outputs with several columns are class logits (or probabilities with ``output="probs"``);
    one column is a binary classifier's logit (probability), or a value with
    ``task="regression"``. ``classes`` maps the argmax (or 0/1) to labels."""

    model: Any
    task: Task | None = None
    output: str = "logits"
    batch_size: int = 1024
    threshold: float = 0.5
    classes: list[Any] | None = None
    name: str = ""
    identity: str = ""

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise InputError(f"output={self.output!r} is not one of {OUTPUTS}",
                             fix="say whether the module returns 'logits' or 'probs'")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise InputError(f"batch_size={self.batch_size!r} must be a positive integer")
        self.name = self.name or type(self.model).__name__
        self.identity = self.identity or f"torch:{type(self.model).__qualname__}:{id(self.model)}"
        if self.task is None:
            self.task = "classification"

    def _outputs(self, X: Any) -> np.ndarray:
        import numpy as np
        import torch

        rows = n_rows(X)
        if rows == 0:
            raise InputError(f"{self.name}: the evaluation set is empty")
        if isinstance(X, torch.Tensor):
            data = X.detach().to(torch.float32)
        else:
            if hasattr(X, "to_numpy"):
                X = X.to_numpy()
            try:
                data = torch.from_numpy(np.ascontiguousarray(np.asarray(X, dtype=np.float32)))
            except (TypeError, ValueError) as exc:
                raise InputError(f"{self.name}: the input cannot be made a float32 tensor: {exc}",
                                 fix="encode the features as numbers before predicting") from None
        try:
            device = next(self.model.parameters()).device
        except StopIteration:
            device = torch.device("cpu")
        was_training = self.model.training
        self.model.eval()
        parts = []
        try:
            with torch.no_grad():
                for start in range(0, rows, self.batch_size):
                    out = self.model(data[start:start + self.batch_size].to(device))
                    parts.append(out.detach().to(torch.float64).cpu().numpy())
        finally:
            self.model.train(was_training)
        out = np.concatenate(parts, axis=0)
        if out.ndim == 1:
            out = out[:, None]
        return _check_length(out, rows, "forward", self.name)

    def _probs(self, out: np.ndarray) -> np.ndarray:
        import numpy as np

        if self.output == "probs":
            return out
        if out.shape[1] == 1:
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp(-out))
        shifted = out - out.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        import numpy as np

        out = self._outputs(X)
        if self.task == "regression":
            return out[:, 0] if out.shape[1] == 1 else out
        probs = self._probs(out)
        if probs.shape[1] == 1:
            idx = (probs[:, 0] >= self.threshold).astype(int)
        else:
            idx = np.argmax(probs, axis=1)
        if self.classes is None:
            return idx
        return np.asarray(self.classes, dtype=object if not _numeric(self.classes) else None)[idx]

    def predict_scores(self, X: Any) -> np.ndarray | None:
        if self.task == "regression":
            return None
        return _binary_or_matrix(self._probs(self._outputs(X)))

    def describe(self) -> dict[str, Any]:
        from mlgate.data.schema import jsonable

        return {"kind": "torch", "name": self.name, "task": self.task, "output": self.output,
                "type": f"{type(self.model).__module__}.{type(self.model).__qualname__}",
                "classes": None if self.classes is None else [jsonable(c) for c in self.classes]}


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


@dataclass(eq=False)
class PyfuncAdapter:
    """An MLflow pyfunc model: ``predict`` through pyfunc (as it is served); scores through
    the raw model's ``predict_proba`` when the flavor exposes one (scikit-learn does)."""

    model: Any
    task: Task | None = None
    name: str = ""
    identity: str = ""
    source: str | None = None  # the registry URI and registry it was loaded from

    def __post_init__(self) -> None:
        self.name = self.name or "pyfunc"
        self.identity = self.identity or f"pyfunc:{id(self.model)}"
        raw = self.raw
        if self.task is None and raw is not None:
            self.task = _sklearn_task(raw)

    @property
    def raw(self) -> Any:
        try:
            return self.model.get_raw_model()
        except Exception:  # noqa: BLE001 - a flavor without a raw model (NotImplementedError)
            return None

    def predict(self, X: Any) -> np.ndarray:
        return _check_length(_to_1d(self.model.predict(X)), n_rows(X), "pyfunc predict", self.name)

    def predict_scores(self, X: Any) -> np.ndarray | None:
        raw = self.raw
        if self.task == "regression" or raw is None or not hasattr(raw, "predict_proba"):
            return None
        return _check_length(_binary_or_matrix(raw.predict_proba(X)), n_rows(X),
                             "predict_proba", self.name)

    def describe(self) -> dict[str, Any]:
        return {"kind": "mlflow-pyfunc", "name": self.name, "task": self.task, "source": self.source}


@dataclass(eq=False)
class CallableAdapter:
    """A plain function ``f(X) -> predictions``; ``scores``: an optional ``g(X) -> scores``."""

    fn: Any
    scores: Any = None
    task: Task | None = None
    name: str = ""
    identity: str = ""

    def __post_init__(self) -> None:
        self.name = self.name or getattr(self.fn, "__name__", type(self.fn).__name__)
        self.identity = self.identity or f"callable:{id(self.fn)}:{id(self.scores)}"

    def predict(self, X: Any) -> np.ndarray:
        return _check_length(_to_1d(self.fn(X)), n_rows(X), "the function", self.name)

    def predict_scores(self, X: Any) -> np.ndarray | None:
        if self.scores is None:
            return None
        import numpy as np

        return _check_length(_binary_or_matrix(np.asarray(self.scores(X))), n_rows(X),
                             "the scores function", self.name)

    def describe(self) -> dict[str, Any]:
        return {"kind": "callable", "name": self.name, "task": self.task}


# -- as_model --------------------------------------------------------------------------------------


def as_model(
    obj: Any,
    *,
    task: Task | None = None,
    output: str = "logits",
    batch_size: int = 1024,
    threshold: float = 0.5,
    classes: list[Any] | None = None,
    scores: Any = None,
    name: str | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
) -> ModelAdapter:
    """Wrap ``obj`` in a :class:`ModelAdapter` (see the module docstring for what is accepted).

    ``task`` (``"classification"`` / ``"regression"``) overrides what is inferred. Torch only:
    ``output``, ``batch_size``, ``threshold`` (a single-logit binary classifier) and ``classes``
    (labels for the class indices). Callables only: ``scores``. Registry URIs only:
    ``project_dir`` and ``tracking_uri`` (the registry; see :func:`load_registered`).

    An adapter given is returned as is. Anything else raises :class:`InputError` naming what is
    accepted."""
    if task is not None and task not in TASKS:
        raise InputError(f"task={task!r} is not one of {TASKS}")
    if isinstance(obj, (EstimatorAdapter, TorchAdapter, PyfuncAdapter, CallableAdapter)):
        return obj
    if isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if text.startswith("models:/"):
            return load_registered(text, project_dir=project_dir, tracking_uri=tracking_uri,
                                   task=task)
        raise InputError(f"{text!r} is not a model", fix=f"pass {ACCEPTED}")
    module = type(obj).__module__
    if _is_torch_module(obj):
        return TorchAdapter(obj, task=task, output=output, batch_size=batch_size,
                            threshold=threshold, classes=classes, name=name or "")
    if module.startswith("mlflow") and hasattr(obj, "predict") and hasattr(obj, "metadata"):
        return PyfuncAdapter(obj, task=task, name=name or "")
    if callable(getattr(obj, "predict", None)) and not isinstance(obj, type):
        return EstimatorAdapter(obj, task=task, name=name or "")
    if callable(obj) and not isinstance(obj, type):
        return CallableAdapter(obj, scores=scores, task=task, name=name or "")
    what = f"a class ({obj.__name__}), not a fitted instance" if isinstance(obj, type) \
        else f"{module}.{type(obj).__qualname__}"
    raise InputError(f"cannot use {what} as a model: it has no predict method and is not callable",
                     fix=f"pass {ACCEPTED}")


def _is_torch_module(obj: Any) -> bool:
    """An instance of ``torch.nn.Module`` (or of a user's subclass): torch is imported only when
    a class in the object's type hierarchy comes from it."""
    if not any(c.__module__.split(".")[0] == "torch" for c in type(obj).__mro__):
        return False
    import torch

    return isinstance(obj, torch.nn.Module)


def parse_model_uri(uri: str) -> tuple[str, str | None, str | None]:
    """``models:/name/3`` -> ``(name, "3", None)``; ``models:/name@alias`` -> ``(name, None,
    "alias")``."""
    m = _URI.match(uri)
    if not m:
        raise InputError(f"{uri!r} is not a registry model URI",
                         fix="write 'models:/NAME/VERSION' (e.g. models:/churn/3) or "
                             "'models:/NAME@ALIAS' (e.g. models:/churn@champion)")
    return m["name"], m["version"], m["alias"]


def load_registered(
    uri: str,
    *,
    project_dir: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
    task: Task | None = None,
) -> PyfuncAdapter:
    """Load ``models:/name/version`` or ``models:/name@alias`` as a pyfunc model, from an
    explicit registry: ``tracking_uri``, else ``$MLFLOW_TRACKING_URI``, else the embedded SQLite
    registry of ``project_dir`` (default: the current folder). MLflow's global tracking URI is
    never read or set. A missing model, version or alias is a :class:`RegistryError` that says
    so and how to fix it."""
    name, version, alias = parse_model_uri(uri)
    try:
        from mlgate_mlflow.connection import import_mlflow, resolve
        from mlgate_mlflow.registry import MlflowRegistry
    except ModuleNotFoundError:
        raise MissingExtraError("mlgate_mlflow", "mlflow") from None
    if project_dir is None and not tracking_uri and not os.environ.get("MLFLOW_TRACKING_URI"):
        project_dir = Path(".")
    registry = MlflowRegistry(resolve(project_dir or Path("."), tracking_uri))
    import_mlflow("mlflow.artifacts", "mlflow.pyfunc", "mlflow.sklearn")
    import mlflow.artifacts
    import mlflow.pyfunc

    if alias is not None:
        version = _alias_version(registry, name, alias)
    registry._version(name, str(version))  # a missing model or version says so
    folder = tempfile.mkdtemp(prefix="mlgate-model-")
    try:
        with registry._errors(f"download {name} v{version}"):
            download = registry.client.get_model_version_download_uri(name, str(version))
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=download, dst_path=folder,
                tracking_uri=registry.connection.tracking_uri)
        model = mlflow.pyfunc.load_model(local)
    except RegistryError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except Exception as exc:  # noqa: BLE001 - the flavor's own loader: report what failed
        shutil.rmtree(folder, ignore_errors=True)
        raise RegistryError(
            f"could not load {uri} (version {version}) from {registry.describe()}: "
            f"{type(exc).__name__}: {str(exc)[:400]}",
            fix="check that the version was logged with an MLflow flavor installed here") from None
    source = f"models:/{name}/{version} in {registry.describe()}"
    adapter = PyfuncAdapter(model, task=task, name=f"{name} v{version}",
                            identity=f"registry:{registry.connection.tracking_uri}:{name}/{version}",
                            source=source)
    # the downloaded files live as long as the model (a pyfunc flavor may read them lazily)
    weakref.finalize(adapter, shutil.rmtree, folder, ignore_errors=True)
    return adapter


def _alias_version(registry: Any, name: str, alias: str) -> str:
    model = registry._registered(name)  # a missing model says so
    aliases = dict(getattr(model, "aliases", None) or {})
    if alias not in aliases:
        known = ", ".join(sorted(aliases)) or "none"
        raise RegistryError(f"model {name!r} has no alias {alias!r} in {registry.describe()} "
                            f"(its aliases: {known})",
                            fix=f"set the alias (MlflowClient.set_registered_model_alias) or name a "
                                f"version: models:/{name}/VERSION")
    return str(aliases[alias])


# -- the prediction cache -----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Predictions:
    """A model's predictions on one evaluation set, computed once and shared (read-only)."""

    model: str  # the adapter's name
    identity: str
    data: str  # the evaluation set's fingerprint
    labels: np.ndarray  # what predict gave: labels or values
    scores: np.ndarray | None
    seconds: float  # how long predicting took

    @property
    def rows(self) -> int:
        return int(self.labels.shape[0])

    @property
    def nonfinite(self) -> int:
        """Rows whose prediction or score is NaN or infinite."""
        return int(_nonfinite_rows(self.labels, self.scores).sum())


def _nonfinite_rows(labels: np.ndarray, scores: np.ndarray | None) -> np.ndarray:
    import numpy as np

    bad = np.zeros(labels.shape[0], dtype=bool)
    for arr in (labels, scores):
        if arr is None:
            continue
        if arr.dtype.kind in "fc":
            v = ~np.isfinite(arr)
        elif arr.dtype.kind == "O":
            v = np.array([isinstance(x, float) and not math.isfinite(x) for x in arr.ravel()],
                         dtype=bool).reshape(arr.shape)
        else:
            continue
        bad |= v.reshape(v.shape[0], -1).any(axis=1)
    return bad


def predict_all(model: Any, X: Any) -> Predictions:
    """Predictions and scores of ``model`` on ``X``, with read-only arrays (no cache)."""
    adapter = as_model(model)
    rows = n_rows(X)
    if rows == 0:
        raise InputError(f"{adapter.name}: the evaluation set is empty (0 rows): no prediction "
                         "to check", fix="check the step that loads or filters the evaluation set")
    start = time.perf_counter()
    import numpy as np

    # own copies, read-only: shared between tests, and never a view of the caller's arrays
    labels = np.array(adapter.predict(X), copy=True)
    scores = adapter.predict_scores(X)
    seconds = time.perf_counter() - start
    labels.setflags(write=False)
    if scores is not None:
        scores = np.array(scores, copy=True)
        scores.setflags(write=False)
    return Predictions(adapter.name, adapter.identity, data_fingerprint(X), labels, scores, seconds)


class PredictionCache:
    """Predictions per (model identity, data fingerprint), computed once and shared.

    Thread-safe within one process: two threads that ask for the same pair wait for one
    computation. Under pytest-xdist each worker process has its own cache (a session fixture is
    per worker), so a model predicts at most once per worker. The cache keeps the adapters it
    made, so the identities stay valid (an ``id()`` is never reused while cached).

    ``get(model, X)`` takes any model :func:`as_model` accepts; a registry URI is loaded once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], Predictions] = {}
        self._pending: dict[tuple[str, str], threading.Lock] = {}
        self._adapters: dict[Any, ModelAdapter] = {}
        #: how many times predictions were computed (not served from the cache)
        self.computed = 0

    def adapter(self, model: Any, **options: Any) -> ModelAdapter:
        """The adapter for ``model``, made once (``options`` go to :func:`as_model`)."""
        key = (model if isinstance(model, str) else id(model), repr(sorted(options.items())))
        with self._lock:
            found = self._adapters.get(key)
        if found is not None:
            return found
        made = as_model(model, **options)
        with self._lock:
            return self._adapters.setdefault(key, made)

    def get(self, model: Any, X: Any, *, data_key: str | None = None, **options: Any) -> Predictions:
        """The predictions of ``model`` on ``X``: computed on first use, shared afterwards.

        ``data_key``: a name for ``X`` to skip fingerprinting it on every call (the caller
        promises that the same key means the same rows)."""
        adapter = self.adapter(model, **options)
        data = data_key if data_key is not None else data_fingerprint(X)
        key = (adapter.identity, data)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None:
                return hit
            pending = self._pending.setdefault(key, threading.Lock())
        with pending:
            with self._lock:
                hit = self._entries.get(key)
            if hit is not None:
                return hit
            result = predict_all(adapter, X)
            with self._lock:
                self._entries[key] = result
                self._pending.pop(key, None)
                self.computed += 1
            return result

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._adapters.clear()
