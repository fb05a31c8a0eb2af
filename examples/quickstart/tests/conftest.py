"""Fixtures of the example: the model version under test, the champion, the evaluation data."""

from __future__ import annotations

import pipeline
import pytest


@pytest.fixture(scope="session")
def split():
    return pipeline.load_split()


@pytest.fixture(scope="session")
def model(mlgate_model):
    """The registered version named by --mlgate-model / --mlgate-model-version."""
    if mlgate_model.version is None:
        pytest.fail("pass --mlgate-model-version: which registered version to test", pytrace=False)
    from mlgate_mlflow import load_model

    # the embedded registry in .mlgate/ of this project, or $MLFLOW_TRACKING_URI when set
    return load_model(mlgate_model.name, mlgate_model.version, project_dir=pipeline.HERE)


@pytest.fixture(scope="session")
def champion_ref(mlgate_model):
    """The current champion's name and version (the registry's ``champion`` alias), or None
    when there is none yet (the first promotion)."""
    from mlgate_mlflow import MlflowRegistry

    return MlflowRegistry.open(pipeline.HERE).champion(mlgate_model.name, "champion").model


@pytest.fixture(scope="session")
def champion(champion_ref):
    """The current champion as a model, or None when there is none yet."""
    from mlgate_mlflow import load_model

    if champion_ref is None:
        return None
    return load_model(champion_ref.name, champion_ref.version, project_dir=pipeline.HERE)


@pytest.fixture(scope="session")
def scores(model, split, mlgate_predictions):
    """Predicted probabilities of the positive class on the test rows, computed once."""
    _, X_test, _, _ = split
    return mlgate_predictions.get(model, X_test).scores


@pytest.fixture(scope="session")
def champion_scores(champion, split, mlgate_predictions):
    _, X_test, _, _ = split
    return None if champion is None else mlgate_predictions.get(champion, X_test).scores
