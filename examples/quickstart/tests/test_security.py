"""Security checks: the registered model's files scanned before anything loads them, personal
data and secrets in the training data, the model fuzzed with valid and broken rows from the data
contract, and how much an attacker learns about who was in the training set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pipeline
import pytest

SCHEMA = Path(__file__).resolve().parents[1] / "schema.yaml"


@pytest.mark.security
def test_model_files_are_safe_to_load(mlgate_scan, mlgate_model, tmp_path):
    """Every import the registered model's files would make is on the allowlist (the model is
    saved with skops, so there is no pickle at all); each file's SHA-256 is in the bundle."""
    from mlgate_mlflow import download_model

    folder = download_model(mlgate_model.name, mlgate_model.version, tmp_path,
                            project_dir=pipeline.HERE)
    mlgate_scan(folder)


@pytest.mark.security
def test_no_personal_data_or_secrets(mlgate_privacy, split):
    """E-mails, phones, cards, IBANs, national ids, IP addresses, API keys: none in the data."""
    import pandas as pd

    X_train, X_test, _, _ = split
    # the features are numbers: scanned as the text a CSV export would hold
    mlgate_privacy(pd.concat([X_train, X_test]).astype(str))


@pytest.mark.security
def test_fuzzed_inputs_do_not_crash_the_model(mlgate_fuzz, model):
    """Valid rows from schema.yaml must get predictions; broken ones (NaN, infinities, wrong
    types, missing or extra columns, empty and huge batches) a clear error, never a crash."""
    mlgate_fuzz(model, SCHEMA, exclude=["target"], max_examples=40, seed=0)


@pytest.mark.security
def test_membership_inference(mlgate_membership, model, split, mlgate_predictions):
    """A loss-threshold attacker tells training rows from held-out ones barely better than
    chance (the advantage's 95% interval is recorded; the test fails above 0.15)."""
    X_train, X_test, y_train, y_test = split

    def probabilities(X):
        p = mlgate_predictions.get(model, X).scores
        return np.column_stack([1 - p, p])

    mlgate_membership(probabilities, X_train, y_train.to_numpy(), X_test, y_test.to_numpy(),
                      max_advantage=0.15, seed=0)
