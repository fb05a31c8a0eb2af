"""Data checks: what the model is trained and evaluated on."""

from __future__ import annotations

import pytest


@pytest.mark.data
def test_no_missing_values(mlgate, split):
    X_train, X_test, _, _ = split
    ratio = float(max(X_train.isna().mean().max(), X_test.isna().mean().max()))
    mlgate.metric("missing_ratio", ratio, threshold=0.0, direction="lower")


@pytest.mark.data
def test_no_train_test_overlap(mlgate, split):
    """No evaluation row also appears in training (that would inflate every metric)."""
    X_train, X_test, _, _ = split
    mlgate.fingerprint("train", X_train)
    mlgate.fingerprint("test", X_test)
    overlap = len(X_test.merge(X_train.drop_duplicates(), how="inner"))
    mlgate.metric("train_test_overlap_rows", overlap, threshold=0, direction="lower")


@pytest.mark.data
def test_minority_class_share(mlgate, split):
    _, _, y_train, _ = split
    share = float(y_train.value_counts(normalize=True).min())
    mlgate.metric("minority_class_share", share, threshold=0.2, direction="higher")
