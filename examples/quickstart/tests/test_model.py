"""Model checks: every number comes with its uncertainty (the test set has 171 rows)."""

from __future__ import annotations

import numpy as np
import pytest

from mlgate.model.calibration import calibration
from mlgate.model.compare import compare
from mlgate.model.metrics import classification_metrics


@pytest.mark.model
@pytest.mark.mltest("Infra 4")
def test_metrics(mlgate, split, scores):
    """Accuracy (Wilson interval), ROC AUC (DeLong), log loss and Brier (seeded bootstrap)."""
    _, _, _, y_test = split
    mlgate.check(classification_metrics(
        y_test.to_numpy(), scores, metrics=("accuracy", "roc_auc", "log_loss", "brier"),
        thresholds={"accuracy": 0.85, "roc_auc": 0.85}))


@pytest.mark.model
@pytest.mark.mltest("Monitor 7")
def test_vs_champion(mlgate, split, scores, champion_scores):
    """Paired, on the same rows: candidate minus champion, with intervals (the policy's
    noninferiority rules read them). With no champion yet there is nothing to compare."""
    if champion_scores is None:
        return
    _, _, _, y_test = split
    mlgate.check(compare(y_test.to_numpy(), scores, champion_scores,
                         metrics=("accuracy", "roc_auc"), margin={"accuracy": 0.02, "roc_auc": 0.01}))


@pytest.mark.model
def test_calibration(mlgate, split, scores):
    _, _, _, y_test = split
    mlgate.check(calibration(y_test.to_numpy(), scores, max_ece=0.15))


@pytest.mark.model
def test_outputs_are_probabilities(scores):
    assert np.isfinite(scores).all() and ((scores >= 0) & (scores <= 1)).all()


@pytest.mark.performance
@pytest.mark.mltest("Monitor 6")
def test_batch_latency(mlgate, model, split):
    """p95 latency of one predict call on the whole test set (the policy bounds it)."""
    import time

    _, X_test, _, _ = split
    model.predict(X_test)  # warm-up
    times = []
    for _ in range(30):
        start = time.perf_counter()
        model.predict(X_test)
        times.append((time.perf_counter() - start) * 1000)
    mlgate.metric("latency_p95_ms", float(np.percentile(times, 95)), direction="lower", unit="ms")
