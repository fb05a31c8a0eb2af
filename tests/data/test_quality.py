"""mlgate.data.quality: each check's number and message on small hand-made frames, the label-
leakage AUC against scikit-learn, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from mlgate.data.quality import QualityResult, auc_by_class, quality
from mlgate.errors import InputError
from mlgate.record import CheckResult


def clean(n: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"x": rng.normal(size=n), "k": np.arange(n) % 3, "y": np.arange(n) % 2})


def test_clean_data_passes_every_check() -> None:
    result = quality(clean(), target="y", test=clean(10) + 100)
    assert isinstance(result, CheckResult) and result.failures() == []
    assert [m.name for m in result.metrics()] == [
        "quality_null_share", "quality_duplicate_row_share", "quality_constant_columns",
        "quality_train_test_overlap_share", "quality_minority_class_share",
        "quality_label_leakage_auc"]
    assert all(m.passed for m in result.metrics())
    json.dumps(result.evidence(), allow_nan=False)


def test_nulls() -> None:
    frame = pd.DataFrame({"a": [1.0, None, None, 4.0, 5.0], "b": [1, 2, 3, 4, 5],
                          "c": ["u", None, "w", "x", "y"]})
    check = quality(frame)["null_share"]
    assert (check.value, check.threshold, check.direction, check.passed) == (0.4, 0.0, "lower", False)
    assert check.message == ("column 'a' is 40% null (2 of 5 rows), above max_null_share=0; "
                             "2 columns above it: 'a', 'c'")
    assert check.details == {"worst_column": "a", "columns_with_nulls": 2,
                             "null_share_by_column": {"a": 0.4, "c": 0.2}}
    assert quality(frame, max_null_share=0.4).failures() == []


def test_duplicate_rows() -> None:
    frame = pd.DataFrame({"a": [1, 2, 1, 1, 3], "b": ["x", "y", "x", "x", "x"]},
                         index=[10, 11, 12, 13, 14])
    check = quality(frame)["duplicate_row_share"]
    assert check.value == 0.4
    assert check.message == ("2 duplicate rows (40% of 5), above max_duplicate_share=0; "
                             "e.g. rows 12, 13 repeat earlier rows")
    assert check.details == {"duplicate_rows": 2, "example_rows": [12, 13]}


def test_constant_columns() -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "same": [7, 7, 7], "empty": [np.nan] * 3})
    check = quality(frame, max_null_share=None)["constant_columns"]
    assert check.value == 2
    assert check.message == ("2 constant columns (one value in every row): 'same' (always 7), "
                             "'empty' (always NaN); max_constant_columns=0")
    assert check.details == {"columns": {"same": 7, "empty": "NaN"}}


def test_out_of_range() -> None:
    frame = pd.DataFrame({"age": [-1, 30, 130, -1, 50], "p": [0.5, 1.5, 0.2, np.nan, 0.1]})
    check = quality(frame, max_null_share=None, ranges={"age": (0, 120), "p": (0, 1)})[
        "out_of_range_share"]
    assert check.value == 0.8
    assert check.message == (
        "4 rows (80% of 5) have a value out of range, above max_out_of_range_share=0: "
        "'age': 3 outside [0, 120], e.g. -1, 130; 'p': 1 outside [0, 1], e.g. 1.5")
    assert check.details["columns"]["age"] == {"rows": 3, "low": 0, "high": 120, "examples": [-1, 130]}
    assert quality(frame, max_null_share=None, ranges={"age": (None, 200)}).failures() == []


def test_class_imbalance() -> None:
    frame = pd.DataFrame({"x": range(100), "y": ["a"] * 97 + ["b"] * 3})
    check = quality(frame, target="y", max_leakage_auc=None)["minority_class_share"]
    assert (check.value, check.threshold, check.direction) == (0.03, 0.05, "higher")
    assert check.message == ("target 'y': minority class 'b' is 3% of rows (3 of 100), below "
                             "min_class_share=0.05")
    assert check.details == {"minority_class": "b", "classes": {"b": 3, "a": 97}}


def test_train_test_overlap_hashes_rows_across_dtypes() -> None:
    train = pd.DataFrame({"a": [1, 2, 3, 4], "b": ["x", "y", "z", "w"], "y": [0, 1, 0, 1]})
    test = pd.DataFrame({"a": [1.0, 9.0, 4.0], "b": ["x", "x", "w"], "y": [1, 0, 1]})
    check = quality(train, target="y", test=test, min_class_share=None, max_leakage_auc=None)[
        "train_test_overlap_share"]
    assert check.value == pytest.approx(2 / 3)
    assert check.message == ("2 test rows (66.7% of 3) also appear in the training data (on 2 "
                             "columns), above max_overlap_share=0; e.g. test rows 0, 2")
    assert check.details == {"overlapping_rows": 2, "test_rows": 3, "columns_compared": 2,
                             "example_test_rows": [0, 2]}


# -- label leakage ------------------------------------------------------------------------------

def test_a_leaking_feature_is_flagged_and_named() -> None:
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({
        "noise": rng.normal(size=n),
        "leak": np.where(y == 1, -1.0, 1.0) * rng.uniform(1, 2, n),  # perfect, inverted
        "id": [f"row{i}" for i in range(n)],  # a level per row: not a leak
        "y": y,
    })
    result = quality(frame, target="y")
    check = result["label_leakage_auc"]
    assert check.value == 1.0
    assert check.message == (
        "feature 'leak' predicts target 'y' almost perfectly on its own: AUC 0 for class 1 "
        "(max(AUC, 1-AUC) = 1), above max_leakage_auc=0.99; check how it is computed, or drop it")
    scores = {f["feature"]: f["score"] for f in check.details["features"]}
    assert scores["id"] == 0.5
    assert scores["noise"] < 0.6
    assert result.failures() == [check.message]


def test_a_categorical_that_gives_the_label_away_is_flagged() -> None:
    y = np.arange(300) % 3
    frame = pd.DataFrame({"status": np.array(["new", "open", "closed"])[y], "y": y,
                          "x": np.random.default_rng(0).normal(size=300)})
    check = quality(frame, target="y")["label_leakage_auc"]
    assert check.details["worst_feature"] == "status" and check.value == 1.0
    assert check.details["features"][0]["encoding"] == "out-of-fold target mean"


def test_leakage_auc_agrees_with_sklearn() -> None:
    rng = np.random.default_rng(42)
    n = 1000
    y = rng.integers(0, 2, n)
    x = np.round(rng.normal(size=n) + 0.8 * y, 1)  # many ties
    frame = pd.DataFrame({"x": x, "y": y})
    check = quality(frame, target="y", max_leakage_auc=1.0)["label_leakage_auc"]
    assert check.details["features"][0]["auc"] == pytest.approx(roc_auc_score(y, x), abs=1e-12)
    # multiclass: one-vs-rest, each class against scikit-learn
    y3 = rng.integers(0, 4, n)
    x3 = np.round(rng.normal(size=n) + y3 * 0.3, 1)
    aucs = auc_by_class(x3, y3, 4)
    for c in range(4):
        assert aucs[c] == pytest.approx(roc_auc_score(y3 == c, x3), abs=1e-12)
    worst = quality(pd.DataFrame({"x": x3, "y": y3}), target="y")["label_leakage_auc"]
    assert worst.value == pytest.approx(max(max(a, 1 - a) for a in aucs), abs=1e-12)


@given(st.lists(st.tuples(st.integers(-3, 3), st.booleans()), min_size=2, max_size=60))
def test_auc_by_class_is_sklearns_roc_auc(pairs) -> None:
    x = np.array([p[0] for p in pairs], dtype=float)
    y = np.array([p[1] for p in pairs], dtype=np.int64)
    aucs = auc_by_class(x, y, 2)
    if y.min() == y.max():
        assert np.isnan(aucs).all()
    else:
        assert aucs[1] == pytest.approx(roc_auc_score(y, x), abs=1e-12)
        assert aucs[0] == pytest.approx(1 - aucs[1], abs=1e-12)


# -- bad input ----------------------------------------------------------------------------------

@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame({"a": pd.Series([], dtype=float)})])
def test_an_empty_frame_is_an_input_error(frame) -> None:
    with pytest.raises(InputError, match=r"the data is empty \(0 rows, [01] columns\): no quality "
                       "check can pass on no data") as info:
        quality(frame)
    assert info.value.fix == "check the step that loads or filters it"
    with pytest.raises(InputError, match="the test data is empty"):
        quality(clean(), test=clean().iloc[:0])


def test_a_missing_target_is_an_input_error() -> None:
    with pytest.raises(InputError) as info:
        quality(clean(), target="label")
    assert str(info.value) == ("target: target column 'label' is not in the data\n"
                               "  fix: pass target= one of: 'x', 'k', 'y'")


def test_all_nan_columns_are_failed_checks_not_crashes() -> None:
    frame = clean().assign(empty=np.nan)
    result = quality(frame, target="y")
    assert result.failures()[:2] == [
        "column 'empty' is 100% null (20 of 20 rows), above max_null_share=0",
        "1 constant column (one value in every row): 'empty' (always NaN); max_constant_columns=0"]
    assert "label leakage: feature 'empty' skipped (no values where the target is known)" in result.notes
    all_null_target = quality(clean().assign(y=np.nan), target="y", max_null_share=None,
                              max_constant_columns=None)
    assert all_null_target.failures() == ["target 'y' is null in every row"]


def test_a_single_class_target_fails_imbalance() -> None:
    result = quality(clean().assign(y=1), target="y", max_constant_columns=None)
    assert result.failures() == ["target 'y' has a single class (1): minority class share 0, "
                                 "below min_class_share=0.05"]


def test_mixed_types_in_an_object_column() -> None:
    values = np.array([1, "a", 2.5, None, "1"], dtype=object)
    frame = clean(60).assign(mixed=values[np.random.default_rng(3).integers(0, 5, 60)])
    result = quality(frame, target="y", max_null_share=None)
    assert result.failures() == []
    assert {f["feature"] for f in result["label_leakage_auc"].details["features"]} >= {"mixed"}
    with pytest.raises(InputError, match=r"column 'mixed' \(object\) cannot be compared with the "
                       r"range \[0, 1\]"):
        quality(frame, ranges={"mixed": (0, 1)})


def test_a_categorical_with_100000_levels() -> None:
    n = 100_000
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"user": pd.Categorical([f"u{i}" for i in range(n)]),
                          "x": rng.normal(size=n), "y": rng.integers(0, 2, n)})
    result = quality(frame, target="y")
    assert result.failures() == []
    scores = {f["feature"]: f["score"] for f in result["label_leakage_auc"].details["features"]}
    assert scores["user"] == 0.5
    assert len(json.dumps(result.evidence())) < 5000


def test_unhashable_cells_are_an_input_error() -> None:
    frame = pd.DataFrame({"a": [1, 2], "tags": [["x"], ["y"]]})
    with pytest.raises(InputError, match=r"the data: column 'tags' holds unhashable values \(list\)"):
        quality(frame)


def test_bad_ranges_and_columns() -> None:
    with pytest.raises(InputError, match="ranges names column 'z', which is not in the data"):
        quality(clean(), ranges={"z": (0, 1)})
    with pytest.raises(InputError, match=r"ranges\['x'\] = 5; give \(low, high\)"):
        quality(clean(), ranges={"x": 5})
    with pytest.raises(InputError, match=r"ranges\['x'\]: low 2 is above high 1"):
        quality(clean(), ranges={"x": (2, 1)})
    with pytest.raises(InputError, match="the test data lacks 1 column"):
        quality(clean(), target="y", test=clean().drop(columns="k"))
    with pytest.raises(InputError, match="features not in the data: 'q'"):
        quality(clean(), features=["q"])
    with pytest.raises(InputError, match="has duplicate column names: a"):
        quality(pd.DataFrame([[1, 2]], columns=["a", "a"]))
    with pytest.raises(InputError, match="expected a pandas or polars DataFrame, got numpy.ndarray"):
        quality(np.zeros((2, 2)))


def test_a_continuous_target_skips_class_checks_with_a_note() -> None:
    frame = clean(100).assign(y=np.linspace(0, 1, 100))
    result = quality(frame, target="y")
    assert [c.metric for c in result.checks] == ["null_share", "duplicate_row_share",
                                                 "constant_columns"]
    assert result.notes == ("target 'y' has 100 distinct values, more than max_classes=50: taken "
                            "for a regression target, so class imbalance and label leakage were "
                            "not checked",)


def test_polars_frames_and_names() -> None:
    frame = pl.DataFrame({"a": [1, 1, 2], "y": [0, 0, 1]})
    result = quality(frame, target="y", name="train_quality", min_class_share=0.5)
    assert isinstance(result, QualityResult)
    assert result.failures()[0] == ("1 duplicate rows (33.3% of 3), above max_duplicate_share=0; "
                                    "e.g. rows 1 repeat earlier rows")
    assert result.metrics()[0].name == "train_quality_null_share"
    with pytest.raises(KeyError, match="no quality check 'out_of_range_share' ran"):
        result["out_of_range_share"]
