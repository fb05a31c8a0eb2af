"""Fixtures of the example: the model version under test and the evaluation data."""

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
def scores(model, split):
    """Predicted probabilities of the positive class on the test rows, computed once."""
    _, X_test, _, _ = split
    return model.predict_proba(X_test)[:, 1]
