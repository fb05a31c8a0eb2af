"""Model checks: every number comes with its uncertainty (the test set has 171 rows)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

Z95 = 1.959963984540054


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def auc_by_ranks(y, s):
    """ROC AUC as the Mann-Whitney statistic, row-wise over 2-d arrays (ties: mid-ranks)."""
    from scipy.stats import rankdata

    y, s = np.atleast_2d(y), np.atleast_2d(s)
    ranks = rankdata(s, axis=1)
    n_pos = y.sum(axis=1)
    n_neg = y.shape[1] - n_pos
    return ((ranks * y).sum(axis=1) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def bootstrap_auc(y, s, *, rounds: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ROC AUC, seeded, all resamples at once; resamples
    that hold only one class are dropped."""
    rng = np.random.default_rng(seed)
    y, s = np.asarray(y), np.asarray(s)
    idx = rng.integers(0, len(y), (rounds, len(y)))
    yy = y[idx]
    both = (yy.min(axis=1) != yy.max(axis=1))
    values = auc_by_ranks(yy[both], s[idx][both])
    return float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


@pytest.mark.model
@pytest.mark.mltest("Infra 4")
def test_accuracy(mlgate, split, scores):
    _, _, _, y_test = split
    correct = int(((scores >= 0.5).astype(int) == y_test.to_numpy()).sum())
    n = len(y_test)
    mlgate.metric("accuracy", correct / n, threshold=0.85, interval=wilson(correct, n))


@pytest.mark.model
def test_roc_auc(mlgate, split, scores):
    _, _, _, y_test = split
    auc = roc_auc_score(y_test, scores)
    assert abs(auc_by_ranks(y_test.to_numpy(), scores)[0] - auc) < 1e-12  # same statistic
    mlgate.metric("roc_auc", auc, threshold=0.85, interval=bootstrap_auc(y_test, scores))


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
