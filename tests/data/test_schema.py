"""mlgate.data.schema: lazy pandera validation as a CheckResult, strategies, inference."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pandera.polars as pap
import polars as pl
import pytest
from hypothesis import given, settings

from mlgate.bundle import Bundle
from mlgate.data.schema import (
    SchemaResult,
    infer_command,
    infer_schema,
    jsonable,
    load_schema,
    strategy,
    validate,
    write_schema,
)
from mlgate.errors import InputError
from mlgate.record import CheckResult

pytest_plugins = ["pytester"]

SCHEMA = pa.DataFrameSchema(
    {
        "age": pa.Column("int64", pa.Check.ge(0)),
        "income": pa.Column(float, pa.Check.in_range(0, 1e6), nullable=True),
        "city": pa.Column(str, pa.Check.isin(["paris", "lyon"])),
    },
    strict=True,
)


def good_frame() -> pd.DataFrame:
    return pd.DataFrame({"age": [30, 41, 0], "income": [1000.0, np.nan, 2e5],
                         "city": ["paris", "lyon", "lyon"]})


def test_a_valid_frame_passes_with_zero_failures() -> None:
    result = validate(good_frame(), SCHEMA)
    assert isinstance(result, CheckResult)
    assert result.passed and result.failures() == []
    assert [(m.name, m.value, m.threshold, m.direction, m.passed) for m in result.metrics()] == [
        ("schema_failures", 0.0, 0.0, "lower", True),
        ("schema_failing_rows", 0.0, None, "lower", None),
    ]


def test_every_failure_is_collected_with_readable_messages_and_evidence() -> None:
    frame = pd.DataFrame({
        "age": [-1, 20, -5, -7, -1],
        "city": ["paris", "rome", "lyon", None, "paris"],
        "extra": [1, 2, 3, 4, 5],
    })
    result = validate(frame, SCHEMA)
    assert result.failures() == [
        "column 'income': missing from the data (the schema requires it)",
        "column 'extra': not in the schema, which is strict (drop the column, or add it to the "
        "schema)",
        "column 'age': check greater_than_or_equal_to(0) failed on 4 rows, e.g. -1, -5, -7",
        "column 'city': check not_nullable failed on 1 row (null values)",
        "column 'city': check isin(['paris', 'lyon']) failed on 1 row, e.g. 'rome'",
    ]
    metrics = {m.name: m for m in result.metrics()}
    assert metrics["schema_failures"].value == 5 and metrics["schema_failures"].passed is False
    assert metrics["schema_failing_rows"].value == 5
    evidence = result.evidence()
    json.dumps(evidence, allow_nan=False)  # JSON-safe
    assert evidence["rows"] == 5 and evidence["failed_checks"] == 5
    assert evidence["failures"][2] == {
        "column": "age", "check": "greater_than_or_equal_to(0)", "kind": "rows",
        "failing_rows": 4, "examples": [-1, -5, -7]}
    assert evidence["failures"][0]["kind"] == "missing"


def test_failing_rows_counts_distinct_rows() -> None:
    frame = pd.DataFrame({"age": [-1, 5, 7], "income": [-3.0, 2.0, 1.0],
                          "city": ["paris", "paris", "nice"]})
    result = validate(frame, SCHEMA)
    assert result.failing_rows == 2  # row 0 twice (age, income), row 2 once (city)
    assert len(result.failures()) == 3


def test_wrong_dtype_is_a_failed_check() -> None:
    frame = good_frame().assign(age=[1.5, 2.0, 3.0])
    assert validate(frame, SCHEMA).failures() == [
        "column 'age': check dtype('int64') failed: float64"]


def test_mixed_types_in_an_object_column_are_recorded_not_raised() -> None:
    frame = good_frame().assign(age=pd.Series([1, "two", 3.5], dtype=object))
    failures = validate(frame, SCHEMA).failures()
    assert "column 'age': check dtype('int64') failed on 1 row, e.g. 'two'" in failures
    assert any(f.startswith("column 'age': check greater_than_or_equal_to(0) could not run: "
                            "TypeError(") for f in failures)


def test_an_empty_frame_fails_instead_of_passing() -> None:
    result = validate(good_frame().iloc[:0], SCHEMA)
    assert result.failures() == ["the data has 0 rows, fewer than min_rows=1"]
    assert validate(good_frame().iloc[:0], SCHEMA, min_rows=0).passed
    assert validate(pd.DataFrame(), SCHEMA).failures()[1:] == [
        f"column {c!r}: missing from the data (the schema requires it)"
        for c in ("age", "income", "city")]


def test_frame_wide_checks_report_rows() -> None:
    schema = pa.DataFrameSchema({"a": pa.Column(int), "b": pa.Column(int)},
                                checks=[pa.Check(lambda d: d["a"] < d["b"], name="a_below_b")])
    result = validate(pd.DataFrame({"a": [1, 5, 9], "b": [2, 3, 4]}), schema, name="pairs")
    assert result.failures() == ["check a_below_b failed on 2 rows, e.g. rows 1, 2"]
    assert [m.name for m in result.metrics()] == ["pairs_failures", "pairs_failing_rows"]
    assert result.name == "pairs"


def test_examples_are_json_safe_and_short() -> None:
    schema = pa.DataFrameSchema({"s": pa.Column(str, pa.Check.str_length(max_value=3)),
                                 "t": pa.Column("datetime64[ns]", pa.Check.ge(pd.Timestamp(2020, 1, 1)))})
    frame = pd.DataFrame({"s": ["x" * 500, "ok"],
                          "t": pd.to_datetime(["2019-05-01", "2021-01-01"])})
    evidence = validate(frame, schema).evidence()
    text = json.dumps(evidence, allow_nan=False)
    examples = [f["examples"] for f in evidence["failures"]]
    assert len(examples[0][0]) == 80 and examples[0][0].endswith("…")
    assert examples[1] == ["2019-05-01T00:00:00"]
    assert len(text) < 2000


@pytest.mark.parametrize(("value", "expected"), [
    (np.int64(3), 3), (np.float32(0.5), 0.5), (np.float64("nan"), "NaN"), (float("inf"), "Infinity"),
    (np.bool_(True), True), (None, None), (pd.NA, None), (pd.NaT, None),
    (pd.Timestamp("2020-01-02"), "2020-01-02T00:00:00"), (np.datetime64("2020-01-02"), "2020-01-02"),
    ("é" * 100, "é" * 79 + "…"), (b"x", "b'x'"), ((1, 2), "(1, 2)"),
])
def test_jsonable(value, expected) -> None:
    assert jsonable(value) == expected


def test_many_failures_keep_the_evidence_small() -> None:
    schema = pa.DataFrameSchema({"x": pa.Column(int, pa.Check.lt(0))})
    result = validate(pd.DataFrame({"x": np.arange(20_000)}), schema)
    assert result.failures() == [
        "column 'x': check less_than(0) failed on 20000 rows, e.g. 0, 1, 2, 3, 4"]
    assert len(json.dumps(result.evidence())) < 1000


# -- schema files -------------------------------------------------------------------------------

def test_schema_files_round_trip(tmp_path) -> None:
    bad = pd.DataFrame({"age": [-1], "income": [1.0], "city": ["lyon"]})
    for name in ("schema.yaml", "schema.json"):
        path = write_schema(SCHEMA, tmp_path / name)
        assert validate(good_frame(), path).passed
        result = validate(bad, str(path))
        assert result.schema == str(path)
        assert result.failures() == [
            "column 'age': check greater_than_or_equal_to(0) failed on 1 row, e.g. -1"]


@pytest.mark.parametrize(("text", "message", "key"), [
    ("columns: [1, 2", "does not parse as YAML: while parsing a flow sequence", None),
    ("- a\n- b\n", "a schema file holds a mapping (schema_type, columns, …), got list", None),
    ("columns:\n  a:\n    dtype: int64\n    greater_than_or_equal: 0\n",
     "unknown key 'greater_than_or_equal': neither a column property nor a pandera check",
     "columns.a.greater_than_or_equal"),
    ("columns:\n  a:\n    dtype: notatype\n",
     "not a valid pandera schema: data type 'notatype' not understood", None),
    ("columns: 3\n", "columns must be a mapping of column name to its spec, got int", "columns"),
])
def test_a_schema_file_that_does_not_parse_is_an_input_error(tmp_path, text, message, key) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        validate(good_frame(), path)
    assert info.value.file == str(path)
    assert info.value.message.startswith(message)
    assert info.value.key == key
    assert info.value.fix


def test_missing_or_unknown_schema_files(tmp_path) -> None:
    with pytest.raises(InputError, match="schema file not found") as info:
        load_schema(tmp_path / "nope.yaml")
    assert "mlgate schema infer" in info.value.fix
    (tmp_path / "s.toml").write_text("")
    with pytest.raises(InputError, match=r"unknown schema file type '\.toml'"):
        load_schema(tmp_path / "s.toml")
    with pytest.raises(InputError, match="expected a pandera DataFrameSchema or the path"):
        validate(good_frame(), {"age": int})


# -- polars -------------------------------------------------------------------------------------

POLARS_SCHEMA = pap.DataFrameSchema(
    {"age": pap.Column(pl.Int64, pap.Check.ge(0)), "city": pap.Column(str, pap.Check.isin(["paris"]))},
    strict=True,
)


def test_polars_frames_validate_with_typed_examples(tmp_path) -> None:
    frame = pl.DataFrame({"age": [-1, 2, -5], "city": ["paris", "rome", None], "x": [1, 2, 3]})
    result = validate(frame, POLARS_SCHEMA)
    assert result.failures() == [
        "column 'x': not in the schema, which is strict (drop the column, or add it to the schema)",
        "column 'age': check greater_than_or_equal_to(0) failed on 2 rows, e.g. -1, -5",
        "column 'city': check not_nullable failed on 1 row (null values)",
        "column 'city': check isin(['paris']) failed on 1 row, e.g. 'rome'",
    ]
    assert result.failing_rows == 3
    path = write_schema(POLARS_SCHEMA, tmp_path / "polars.yaml")
    assert validate(frame, path).failures() == result.failures()
    assert validate(frame.lazy().drop("x"), path).failing_rows == 3


def test_mismatched_frame_and_schema_libraries_are_input_errors(tmp_path) -> None:
    with pytest.raises(InputError, match="the data is a polars DataFrame but the schema is a "
                       "pandas schema") as info:
        validate(pl.from_pandas(good_frame()), SCHEMA)
    assert "pandera.polars" in info.value.fix
    with pytest.raises(InputError, match="the data is a pandas DataFrame but the schema is a "
                       "polars schema"):
        validate(good_frame(), POLARS_SCHEMA)
    with pytest.raises(InputError, match="expected a pandas or polars DataFrame, got builtins.list"):
        validate([1, 2], SCHEMA)
    with pytest.raises(InputError, match="pandera cannot generate data from a polars schema"):
        strategy(POLARS_SCHEMA)


# -- strategies: property-testing a model with the schema ---------------------------------------

FEATURES = pa.DataFrameSchema({
    "age": pa.Column(int, pa.Check.in_range(0, 120)),
    "income": pa.Column(float, pa.Check.in_range(0, 1e6)),
    "city": pa.Column(str, pa.Check.isin(["paris", "lyon", "nice"])),
})


@pytest.fixture(scope="module")
def model():
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(0)
    n = 300
    train = pd.DataFrame({"age": rng.integers(18, 90, n), "income": rng.uniform(0, 2e5, n),
                          "city": rng.choice(["paris", "lyon", "nice"], n)})
    y = (train["age"] > 50).astype(int)
    pipeline = make_pipeline(
        make_column_transformer((StandardScaler(), ["age", "income"]),
                                (OneHotEncoder(handle_unknown="ignore"), ["city"])),
        LogisticRegression())
    return pipeline.fit(train, y)


@settings(max_examples=25)
@given(frame=strategy(FEATURES, size=8))
def test_the_model_accepts_every_valid_frame(model, frame) -> None:
    assert validate(frame, FEATURES).passed  # the strategy draws only valid frames
    proba = model.predict_proba(frame)
    assert proba.shape == (8, 2)
    assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
    assert np.allclose(proba.sum(axis=1), 1)
    assert set(model.predict(frame)) <= {0, 1}


# -- inference and the CLI command --------------------------------------------------------------

def test_infer_schema_drops_the_index_and_caps_levels() -> None:
    frame = pd.DataFrame({"n": [1, 2, 3], "cat": pd.Categorical(["a", "b", "a"]),
                          "nan": [np.nan] * 3}, index=[10, 11, 12])
    schema = infer_schema(frame)
    assert schema.index is None
    assert [c.name for c in schema.columns["cat"].checks] == ["isin"]
    assert validate(frame.reset_index(drop=True), schema).passed
    big = pd.DataFrame({"id": pd.Categorical([f"v{i}" for i in range(100_000)])})
    inferred = infer_schema(big)
    assert inferred.columns["id"].checks == []
    assert len(inferred.to_yaml()) < 1000


@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame(), "cannot infer a schema from a frame with no columns"),
    (pd.DataFrame({"a": pd.Series([], dtype=float)}), "cannot infer a schema from a frame with no rows"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), "duplicate column names: a"),
])
def test_infer_schema_refuses_unusable_frames(frame, message) -> None:
    with pytest.raises(InputError, match=message):
        infer_schema(frame)


def test_infer_command_writes_yaml_and_says_what_next(tmp_path, capsys) -> None:
    data = tmp_path / "train.csv"
    pd.DataFrame({"age": [20, 30, 40], "city": ["a", "b", "a"]}).to_csv(data, index=False)
    out = tmp_path / "schemas" / "train.yaml"
    assert infer_command(str(data), str(out)) == 0
    err = capsys.readouterr().err
    assert f"wrote {out}: 2 columns inferred from {data} (3 rows)" in err
    assert "next: review" in err and "commit it" in err
    schema = load_schema(out)
    assert validate(pd.read_csv(data), out).passed
    assert validate(pd.DataFrame({"age": [5], "city": ["a"]}), schema).failures() == [
        "column 'age': check greater_than_or_equal_to(20.0) failed on 1 row, e.g. 5"]
    parquet = tmp_path / "train.parquet"
    pd.read_csv(data).to_parquet(parquet)
    assert infer_command(str(parquet), None) == 0
    assert capsys.readouterr().out.startswith("schema_type: dataframe")


def test_infer_command_input_errors(tmp_path) -> None:
    with pytest.raises(InputError, match="data file not found"):
        infer_command(str(tmp_path / "missing.csv"), None)
    (tmp_path / "d.xlsx").write_bytes(b"")
    with pytest.raises(InputError, match=r"unknown data file type '\.xlsx'"):
        infer_command(str(tmp_path / "d.xlsx"), None)
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match="cannot read the data"):
        infer_command(str(tmp_path / "bad.parquet"), None)


# -- through the plugin -------------------------------------------------------------------------

def test_a_schema_failure_fails_the_test_and_reaches_the_bundle(pytester: pytest.Pytester) -> None:
    write_schema(SCHEMA, pytester.path / "schema.yaml")
    pytester.makepyfile(test_data="""
        import numpy as np
        import pandas as pd
        import pytest
        from mlgate.data.schema import validate

        @pytest.mark.data
        def test_bad_rows(mlgate):
            frame = pd.DataFrame({"age": [-1, 20, -5], "income": [1.0, np.nan, 2.0],
                                  "city": ["paris", "rome", "lyon"]})
            mlgate.check(validate(frame, "schema.yaml"))

        @pytest.mark.data
        def test_good_rows(mlgate):
            frame = pd.DataFrame({"age": [1], "income": [1.0], "city": ["paris"]})
            mlgate.check(validate(frame, "schema.yaml", name="serving_schema"))
    """)
    result = pytester.runpytest("--mlgate-model", "m", "--mlgate-model-version", "1",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    lines = result.stdout.lines
    start = lines.index("mlgate schema check failed:")
    assert lines[start + 1: start + 3] == [
        "  column 'age': check greater_than_or_equal_to(0) failed on 2 rows, e.g. -1, -5",
        "  column 'city': check isin(['paris', 'lyon']) failed on 1 row, e.g. 'rome'",
    ]
    bundle = Bundle.read(pytester.path / "reports" / "results.json")
    tests = {t.nodeid.split("::")[1]: t for t in bundle.tests}
    bad = tests["test_bad_rows"]
    assert bad.outcome == "failed" and bad.families == ("data",)
    assert {m.name: m.value for m in bad.metrics} == {"schema_failures": 2, "schema_failing_rows": 3}
    evidence = bad.evidence["schema"]
    assert evidence["schema"] == "schema.yaml" and evidence["failed_checks"] == 2
    assert evidence["failures"][0] == {"column": "age", "check": "greater_than_or_equal_to(0)",
                                       "kind": "rows", "failing_rows": 2, "examples": [-1, -5]}
    good = tests["test_good_rows"]
    assert good.outcome == "passed" and "serving_schema" in good.evidence
    assert [m.name for m in good.metrics] == ["serving_schema_failures", "serving_schema_failing_rows"]


def test_results_are_frozen() -> None:
    result = validate(good_frame(), SCHEMA)
    assert isinstance(result, SchemaResult)
    with pytest.raises(AttributeError):
        result.rows = 3  # type: ignore[misc]
    assert not math.isnan(result.metrics()[0].value)
