"""Data checks: what the model is trained and evaluated on."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgate.data.quality import quality
from mlgate.data.schema import validate

SCHEMA = Path(__file__).resolve().parents[1] / "schema.yaml"


@pytest.mark.data
@pytest.mark.mltest("Data 1", "Monitor 2")
@pytest.mark.parametrize("part", ["train", "test"])
def test_schema(mlgate, split, part):
    """Both splits meet the data contract in schema.yaml (all failures listed at once)."""
    X_train, X_test, y_train, y_test = split
    frame = X_train.assign(target=y_train) if part == "train" else X_test.assign(target=y_test)
    mlgate.check(validate(frame, SCHEMA, name=f"{part}_schema"))


@pytest.mark.data
def test_quality(mlgate, split):
    """Nulls, duplicates, constant columns, class balance, train/test overlap, label leakage."""
    X_train, X_test, y_train, _ = split
    mlgate.fingerprint("train", X_train)  # binds the bundle to the data it was computed on
    mlgate.fingerprint("test", X_test)
    mlgate.check(quality(X_train.assign(target=y_train), target="target", test=X_test,
                         min_class_share=0.2))

