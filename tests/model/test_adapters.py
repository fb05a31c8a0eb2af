"""The model adapters (scikit-learn, PyTorch, MLflow pyfunc and registry URIs, callables) and the
prediction cache, on real models and scikit-learn's bundled data."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from mlgate.errors import InputError, RegistryError
from mlgate.model.adapters import (
    ACCEPTED,
    CallableAdapter,
    EstimatorAdapter,
    ModelAdapter,
    PredictionCache,
    PyfuncAdapter,
    as_model,
    data_fingerprint,
    parse_model_uri,
    predict_all,
)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def clf(cancer):
    X, y = cancer
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y, LogisticRegression(max_iter=1000).fit(X, y)


# -- scikit-learn ---------------------------------------------------------------------------------


def test_binary_classifier_labels_and_positive_class_scores(cancer, clf):
    X, _ = cancer
    model = as_model(clf)
    assert isinstance(model, EstimatorAdapter) and isinstance(model, ModelAdapter)
    assert model.task == "classification"
    np.testing.assert_array_equal(model.predict(X), clf.predict(X))
    scores = model.predict_scores(X)
    assert scores.shape == (len(X),)
    np.testing.assert_array_equal(scores, clf.predict_proba(X)[:, 1])
    assert model.describe() == {"kind": "estimator", "name": "Pipeline", "task": "classification",
                                "type": "sklearn.pipeline.Pipeline", "classes": [0, 1]}


def test_multiclass_scores_are_the_probability_matrix(iris):
    X, _, lr = iris
    scores = as_model(lr).predict_scores(X)
    assert scores.shape == (150, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)


def test_regressor_has_no_scores():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    model = as_model(LinearRegression().fit(X, y))
    assert model.task == "regression"
    assert model.predict_scores(X) is None
    assert model.predict(X).shape == (50,)


def test_classifier_without_predict_proba_has_no_scores(cancer):
    X, y = cancer
    model = as_model(make_pipeline(StandardScaler(), LinearSVC()).fit(X, y))
    assert model.task == "classification"
    assert model.predict_scores(X.iloc[:5]) is None


def test_task_given_overrides_the_inferred_one(cancer, clf):
    assert as_model(clf, task="regression").predict_scores(cancer[0].iloc[:3]) is None
    with pytest.raises(InputError, match="task='ranking' is not one of"):
        as_model(clf, task="ranking")


# -- callables and bad input ----------------------------------------------------------------------


def test_plain_callable_with_a_scores_function():
    X = np.arange(10.0).reshape(5, 2)
    model = as_model(lambda a: (a[:, 0] > 3).astype(int), scores=lambda a: a[:, 0] / 10,
                     name="threshold")
    assert isinstance(model, CallableAdapter) and model.name == "threshold"
    np.testing.assert_array_equal(model.predict(X), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(model.predict_scores(X), [0, 0.2, 0.4, 0.6, 0.8])
    assert as_model(model) is model  # an adapter is returned as is


@pytest.mark.parametrize("obj, what", [
    (object(), "builtins.object"),
    (42, "builtins.int"),
    (LogisticRegression, "a class (LogisticRegression), not a fitted instance"),
    ("model.pkl", "'model.pkl' is not a model"),
])
def test_not_a_model_names_what_is_accepted(obj, what):
    with pytest.raises(InputError) as err:
        as_model(obj)
    assert what in str(err.value)
    assert ACCEPTED in str(err.value)


def test_predictions_of_another_length_are_an_input_error():
    model = as_model(lambda a: np.zeros(len(a) - 1), name="short")
    with pytest.raises(InputError, match="short: the function gave 9 rows for 10 input rows"):
        model.predict(np.zeros((10, 2)))
    with pytest.raises(InputError, match="gave a scalar"):
        as_model(lambda a: 1.0).predict(np.zeros((3, 1)))


def test_empty_evaluation_set_is_an_input_error(clf, cancer):
    with pytest.raises(InputError, match="the evaluation set is empty"):
        predict_all(clf, cancer[0].iloc[:0])
    with pytest.raises(InputError, match="single str"):
        predict_all(clf, "not rows")


def test_nan_predictions_are_counted():
    preds = predict_all(lambda a: np.where(a[:, 0] > 2, np.nan, 1.0), np.arange(5.0)[:, None])
    assert preds.nonfinite == 2
    assert not preds.labels.flags.writeable  # shared arrays are read-only


# -- the prediction cache -------------------------------------------------------------------------


class Counting:
    """A model that counts how often it is asked."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def predict(self, X):
        with self.lock:
            self.calls += 1
        return np.asarray(X)[:, 0] > 0

    def predict_proba(self, X):
        p = 1 / (1 + np.exp(-np.asarray(X, dtype=float)[:, 0]))
        return np.column_stack([1 - p, p])


def test_cache_computes_once_per_model_and_data():
    model = Counting()
    cache = PredictionCache()
    X = np.random.default_rng(0).normal(size=(100, 3))
    first = cache.get(model, X)
    again = cache.get(model, X.copy())  # same content, another object: same fingerprint
    assert again is first and model.calls == 1 and cache.computed == 1
    assert first.rows == 100 and first.scores.shape == (100,)
    cache.get(model, X[:50])
    assert model.calls == 2 and len(cache) == 2
    other = Counting()
    cache.get(other, X)
    assert other.calls == 1 and cache.computed == 3


def test_cache_shares_one_computation_between_threads():
    model = Counting()
    cache = PredictionCache()
    X = np.ones((1000, 2))
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: cache.get(model, X), range(32)))
    assert model.calls == 1
    assert all(r is results[0] for r in results)


def test_cache_keys_texts_by_content():
    texts = ["a good film", "a bad film"]
    assert data_fingerprint(texts) == data_fingerprint(list(texts))
    assert data_fingerprint(texts) != data_fingerprint(texts[::-1])
    calls = []
    cache = PredictionCache()
    fn = lambda t: calls.append(1) or np.array([len(s) for s in t])  # noqa: E731
    cache.get(fn, texts)
    cache.get(fn, list(texts))
    assert len(calls) == 1


def test_adapters_module_imports_no_heavy_library():
    code = ("import sys, mlgate.model.adapters, mlgate.model.behaviour, "
            "mlgate.model.reproducibility\n"
            "heavy = [m for m in ('torch', 'mlflow', 'sklearn', 'numpy', 'pandas', 'skops') "
            "if m in sys.modules]\n"
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- registry URIs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("uri, parsed", [
    ("models:/churn/3", ("churn", "3", None)),
    ("models:/churn@champion", ("churn", None, "champion")),
])
def test_model_uris(uri, parsed):
    assert parse_model_uri(uri) == parsed


@pytest.mark.parametrize("uri", ["models:/churn", "models:/churn/latest", "models:/a/b/c"])
def test_bad_model_uri_says_how_to_write_one(uri):
    with pytest.raises(InputError, match="models:/NAME/VERSION"):
        as_model(uri)


def shared_registry(tmp_path_factory) -> Path:
    """One embedded registry per test process (a new one costs seconds of MLflow migrations):
    under xdist every worker has its own base temp folder, so its own registry. Each test file
    registers models under its own names."""
    pytest.importorskip("mlgate_mlflow", reason="the mlflow extra is not installed here")
    from mlgate_mlflow.registry import MlflowRegistry

    path = tmp_path_factory.getbasetemp() / "model-registry"
    path.mkdir(exist_ok=True)
    MlflowRegistry.open(path).client  # noqa: B018 - create the database
    return path


@pytest.fixture(scope="module")
def project(tmp_path_factory, clf):
    """The embedded registry with one registered version of the breast-cancer pipeline."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        path = shared_registry(tmp_path_factory)
        from mlgate_mlflow import register_model

        version = register_model(clf, "bc", key="adapters-test", project_dir=path)
    return path, version


@pytest.fixture
def no_env(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)  # nothing may land in the current folder
    yield
    assert list(tmp_path.iterdir()) == []


def test_registered_version_and_alias_predict_like_the_model(project, cancer, clf, no_env):
    from mlgate_mlflow.registry import MlflowRegistry

    path, version = project
    X, _ = cancer
    model = as_model(f"models:/bc/{version}", project_dir=path)
    assert isinstance(model, PyfuncAdapter)
    assert model.name == f"bc v{version}" and model.task == "classification"
    np.testing.assert_array_equal(model.predict(X), clf.predict(X))
    np.testing.assert_array_equal(model.predict_scores(X), clf.predict_proba(X)[:, 1])
    assert model.describe()["source"].startswith(f"models:/bc/{version} in sqlite:///")

    MlflowRegistry.open(path).client.set_registered_model_alias("bc", "champion", version)
    champion = as_model("models:/bc@champion", project_dir=path)
    assert champion.identity == model.identity  # the same version: one cache entry
    cache = PredictionCache()
    cache.get(model, X)
    cache.get(champion, X)
    assert cache.computed == 1


def test_a_loaded_pyfunc_model_is_accepted(project, cancer, no_env):
    path, version = project
    pyfunc = as_model(f"models:/bc/{version}", project_dir=path).model
    again = as_model(pyfunc)
    assert isinstance(again, PyfuncAdapter)
    assert again.predict(cancer[0].iloc[:5]).shape == (5,)


@pytest.mark.parametrize("uri, message", [
    ("models:/nope/1", "'nope'"),
    ("models:/bc/99", "model 'bc' has no version 99"),
    ("models:/bc@nowhere", "model 'bc' has no alias 'nowhere'"),
])
def test_missing_model_version_or_alias_is_a_registry_error(project, uri, message, no_env):
    path, _ = project
    with pytest.raises(RegistryError) as err:
        as_model(uri, project_dir=path)
    assert message in str(err.value)
    assert err.value.fix


def test_tracking_uri_wins_over_project_dir(project, cancer, tmp_path, no_env):
    path, version = project
    uri = f"sqlite:///{path.resolve()}/.mlgate/mlflow.db"
    model = as_model(f"models:/bc/{version}", tracking_uri=uri, project_dir=tmp_path / "elsewhere")
    assert model.predict(cancer[0].iloc[:1]).shape == (1,)


# -- PyTorch ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch is not installed (optional: pip install torch)")


def _mlp(torch, n_in: int, n_out: int, *, dropout: float = 0.0):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(n_in, 8), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                               torch.nn.Linear(8, n_out))


def test_torch_multiclass_softmax_in_batches(torch, iris):
    X, _, _ = iris
    net = _mlp(torch, 4, 3, dropout=0.5)
    net.train()
    model = as_model(net, batch_size=7, classes=["setosa", "versicolor", "virginica"])
    scores = model.predict_scores(X)
    assert scores.shape == (150, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    with torch.no_grad():
        net.eval()
        expected = torch.softmax(net(torch.tensor(X, dtype=torch.float32)), dim=1).numpy()
        net.train()
    np.testing.assert_allclose(scores, expected, rtol=1e-6)  # eval mode: dropout off, batches agree
    assert net.training  # the module's mode is restored
    labels = model.predict(X)
    assert set(labels) <= {"setosa", "versicolor", "virginica"}
    np.testing.assert_array_equal(labels, np.array(model.classes)[expected.argmax(axis=1)])


def test_torch_single_logit_binary_from_a_dataframe(torch, cancer):
    X, _ = cancer
    net = _mlp(torch, 30, 1)
    model = as_model(net)
    scores = model.predict_scores(X)
    assert scores.shape == (len(X),) and ((scores >= 0) & (scores <= 1)).all()
    np.testing.assert_array_equal(model.predict(X), (scores >= 0.5).astype(int))
    assert model.describe()["kind"] == "torch"


def test_torch_probs_and_regression_outputs(torch):
    X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
    probs_net = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.Softmax(dim=1))
    model = as_model(probs_net, output="probs")
    np.testing.assert_allclose(model.predict_scores(X),
                               probs_net(torch.from_numpy(X)).detach().numpy()[:, 1], rtol=1e-6)
    reg = as_model(torch.nn.Linear(4, 1), task="regression")
    assert reg.predict(X).shape == (20,) and reg.predict_scores(X) is None
    with pytest.raises(InputError, match="output='raw' is not one of"):
        as_model(torch.nn.Linear(4, 1), output="raw")


def test_torch_is_not_imported_for_other_models():
    code = ("import sys\nfrom mlgate.model.adapters import as_model\n"
            "class Estimator:\n    def predict(self, X): return X\n"
            "assert as_model(Estimator()).describe()['kind'] == 'estimator'\n"
            "assert as_model(lambda x: x).describe()['kind'] == 'callable'\n"
            "assert 'torch' not in sys.modules and 'mlflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_torch_non_numeric_input_is_an_input_error(torch):
    model = as_model(torch.nn.Linear(1, 1))
    with pytest.raises(InputError, match="cannot be made a float32 tensor"):
        model.predict(pd.DataFrame({"a": ["x", "y"]}))
