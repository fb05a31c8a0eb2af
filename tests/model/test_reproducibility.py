"""Reproducibility (train twice with one seed) and serving parity (an MLflow save/load round
trip, in a temporary folder or through the embedded registry) on real scikit-learn models."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_regression
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from mlgate.errors import InputError
from mlgate.model.reproducibility import ParityResult, retrain_reproducibility, serving_parity
from mlgate.record import CheckResult


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    return X, y


@pytest.fixture(scope="module")
def clf(cancer):
    X, y = cancer
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


@pytest.fixture
def mlflow_extra():
    pytest.importorskip("mlgate_mlflow", reason="the mlflow extra is not installed here")


@pytest.fixture
def no_env(mlflow_extra, monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)  # nothing may land in the current folder
    yield
    assert list(cwd.iterdir()) == []


def metrics(result: ParityResult) -> dict[str, tuple[float, float | None, str]]:
    assert isinstance(result, CheckResult)
    json.dumps(result.evidence(), allow_nan=False)
    return {m.name: (m.value, m.threshold, m.direction) for m in result.metrics()}


# -- retraining ---------------------------------------------------------------------------------


def test_seeded_forest_is_reproducible(cancer):
    X, y = cancer

    def train(seed):
        return RandomForestClassifier(n_estimators=10, random_state=seed).fit(X, y)

    result = retrain_reproducibility(train, X, seed=42, runs=3)
    assert metrics(result) == {"reproducibility.max_abs_diff": (0.0, 0.0, "lower"),
                               "reproducibility.label_agreement": (1.0, 1.0, "higher")}
    assert result.failures() == []
    assert result.details["per_run"] == [
        {"run": 2, "max_abs_diff": 0.0, "label_agreement": 1.0},
        {"run": 3, "max_abs_diff": 0.0, "label_agreement": 1.0}]


def test_a_seed_that_is_ignored_is_caught(cancer):
    X, y = cancer
    states = itertools.count()

    def train(seed):  # ignores the seed: every run differs
        return RandomForestClassifier(n_estimators=5, random_state=next(states)).fit(X, y)

    result = retrain_reproducibility(train, X, seed=0)
    first = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y).predict_proba(X)[:, 1]
    second = RandomForestClassifier(n_estimators=5, random_state=1).fit(X, y).predict_proba(X)[:, 1]
    assert result.max_abs_diff == np.abs(first - second).max() > 0
    messages = result.failures()
    assert messages[0].startswith("reproducibility (2 trainings with seed 0): the largest "
                                  "difference of scores is")
    assert messages[0].endswith("the tolerance is 0")
    assert 0 < len(result.examples) <= 10
    # the same runs within a stated tolerance pass
    states = itertools.count()
    loose = retrain_reproducibility(train, X, seed=0, tolerance=1.0, min_label_agreement=0.5)
    assert loose.failures() == []


def test_regressor_has_no_label_agreement():
    X, y = make_regression(n_samples=100, n_features=4, noise=1.0, random_state=0)
    result = retrain_reproducibility(lambda seed: LinearRegression().fit(X, y), X, seed=1,
                                     tolerance=1e-9)
    assert set(metrics(result)) == {"reproducibility.max_abs_diff"}
    assert result.failures() == []


def test_nan_predictions_fail(cancer):
    X, _ = cancer
    result = retrain_reproducibility(lambda seed: (lambda a: np.full(len(a), np.nan)), X, seed=0,
                                     tolerance=1.0)
    assert np.isnan(result.max_abs_diff)
    assert "NaN or infinite predictions" in result.failures()[0]
    assert metrics(result)["reproducibility.max_abs_diff"][0] != 0  # NaN, kept


@pytest.mark.parametrize("kwargs, message", [
    ({"runs": 1}, "runs=1; comparing needs at least 2 runs"),
    ({"tolerance": -0.1}, "tolerance=-0.1 must be a number >= 0"),
    ({"min_label_agreement": 2}, "min_label_agreement=2 must be in [0, 1]"),
])
def test_bad_arguments(cancer, clf, kwargs, message):
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        retrain_reproducibility(lambda seed: clf, cancer[0], seed=0, **kwargs)


def test_the_same_object_twice_is_not_a_retraining(cancer, clf):
    with pytest.raises(InputError, match="returned the same object twice") as err:
        retrain_reproducibility(lambda seed: clf, cancer[0], seed=0)
    assert "fresh estimator" in err.value.fix
    with pytest.raises(InputError, match="train_fn must be a function"):
        retrain_reproducibility(clf, cancer[0], seed=0)


def test_empty_evaluation_set(cancer):
    X, y = cancer
    with pytest.raises(InputError, match="the evaluation set is empty"):
        retrain_reproducibility(lambda s: DecisionTreeClassifier(random_state=s).fit(X, y),
                                X.iloc[:0], seed=0)


# -- serving parity -----------------------------------------------------------------------------


def test_round_trip_in_a_temporary_folder(cancer, clf, no_env):
    X, _ = cancer
    result = serving_parity(clf, X)
    assert metrics(result) == {"serving_parity.max_abs_diff": (0.0, 1e-12, "lower"),
                               "serving_parity.label_agreement": (1.0, 1.0, "higher")}
    assert result.description == "in-memory model against its MLflow save/load round trip (pyfunc)"
    assert result.failures() == []


def test_tree_models_round_trip_in_a_temporary_folder(cancer, no_env):
    X, y = cancer
    tree = DecisionTreeClassifier(max_depth=4, random_state=0).fit(X, y)
    assert serving_parity(tree, X).failures() == []


def test_a_different_served_model_fails_parity(cancer, clf):
    X, y = cancer
    other = make_pipeline(StandardScaler(), LogisticRegression(C=0.001, max_iter=1000)).fit(X, y)
    result = serving_parity(clf, X, served=other)
    agree = float((clf.predict(X) == other.predict(X)).mean())
    assert result.label_agreement == agree < 1
    assert len(result.failures()) == 2
    assert result.failures()[1].startswith(
        f"serving_parity (in-memory model against Pipeline): labels agree on {100 * agree:.4g}% "
        f"of {len(X)} rows")


def test_served_of_another_length_is_an_input_error(cancer, clf):
    X, _ = cancer
    with pytest.raises(InputError, match="gave 10 rows for 569 input rows"):
        serving_parity(clf, X, served=lambda a: np.zeros(10))


def test_only_sklearn_style_models_are_saved(cancer):
    X, _ = cancer
    with pytest.raises(InputError, match="can save only scikit-learn-style models") as err:
        serving_parity(lambda a: np.zeros(len(a)), X)
    assert "served='models:/NAME/VERSION'" in err.value.fix


def shared_registry(tmp_path_factory) -> Path:
    """One embedded registry per test process (a new one costs seconds of MLflow migrations);
    under xdist each worker has its own base temp folder. Models here are named 'parity-*'."""
    pytest.importorskip("mlgate_mlflow", reason="the mlflow extra is not installed here")
    from mlgate_mlflow.registry import MlflowRegistry

    path = tmp_path_factory.getbasetemp() / "model-registry"
    path.mkdir(exist_ok=True)
    MlflowRegistry.open(path).client  # noqa: B018 - create the database
    return path


def test_round_trip_through_the_registry(cancer, clf, tmp_path_factory, no_env):
    X, _ = cancer
    project = shared_registry(tmp_path_factory)
    result = serving_parity(clf, X, name="parity-bc", project_dir=project)
    assert result.failures() == []
    version = result.details["registered"]["version"]
    assert result.description == f"in-memory model against models:/parity-bc/{version} loaded " \
                                 "through pyfunc"
    again = serving_parity(clf, X, name="parity-bc", project_dir=project)  # keyed: reused
    assert again.details["registered"]["version"] == version
    served = serving_parity(clf, X, served=f"models:/parity-bc/{version}", project_dir=project)
    assert served.failures() == [] and served.max_abs_diff == 0.0


def test_registry_asks_to_trust_tree_types(cancer, tmp_path_factory, no_env):
    X, y = cancer
    project = shared_registry(tmp_path_factory)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, y)
    with pytest.raises(InputError) as err:
        serving_parity(tree, X, name="parity-tree", project_dir=project)
    assert "sklearn.tree._tree.Tree" in str(err.value)
    assert "skops_trusted_types=['sklearn.tree._tree.Tree']" in err.value.fix
    trusted = serving_parity(tree, X, name="parity-tree", project_dir=project,
                             skops_trusted_types=["sklearn.tree._tree.Tree"])
    assert trusted.failures() == []
