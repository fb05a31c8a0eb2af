"""The results bundle (write, read, digest, errors) and the record API's validation."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from mlgate.bundle import SCHEMA, Bundle, ModelRef
from mlgate.errors import BundleError, InputError, MissingExtraError, PolicyError, RegistryError
from mlgate.record import Interval, Metric, TestRecord, fingerprint, make_metric

FIX_REGENERATE = "the file is incomplete or was edited; regenerate it with pytest"


def sample() -> Bundle:
    return Bundle(
        created_at="2026-11-27T10:00:00Z",
        model=ModelRef("iris", "3"),
        commit="0123456789abcdef",
        tests=(
            TestRecord("tests/test_model.py::test_b", "passed", ("model",),
                       (Metric("accuracy", 0.93, 0.9, "higher", Interval(0.9, 0.96)),), 0.25),
            TestRecord("tests/test_data.py::test_a", "skipped", ("data",), (), 0.001, "no GPU"),
            TestRecord("tests/test_model.py::test_c", "passed", (),
                       (Metric("drift", float("nan"), 0.1, "lower", unit="psi"),)),
        ),
        data={"train": "sha256:aa", "test": "sha256:bb"},
        environment={"python": "3.11.7", "platform": "linux"},
        run={"actor": "ci:github:1"},
    )


def doc() -> dict:
    return json.loads(json.dumps(sample().to_json()))


def read_error(tmp_path: Path, text: str) -> BundleError:
    path = tmp_path / "results.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(BundleError) as info:
        Bundle.read(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: ")
    assert info.value.fix
    return info.value


def test_write_and_read_round_trip(tmp_path: Path) -> None:
    bundle = sample()
    path = bundle.write(tmp_path / "reports" / "results.json")
    assert path == tmp_path / "reports" / "results.json"
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.json"]  # no temp file left
    back = Bundle.read(path)
    assert back.digest_ok
    assert back.declared_digest == bundle.digest == back.digest
    assert back.to_json() == bundle.to_json()
    assert back.tests[0].nodeid == "tests/test_data.py::test_a"  # written in nodeid order
    text = path.read_text("utf-8")
    assert '"value": "NaN"' in text and "NaN," not in text
    assert json.loads(text)["schema"] == SCHEMA


def test_writing_over_an_existing_bundle_replaces_it(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text("old", encoding="utf-8")
    sample().write(path)
    assert Bundle.read(path).digest == sample().digest
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    sample().write(path)
    before = path.read_bytes()
    broken = Bundle("2026-11-27T10:00:00Z", None, None, (), environment={"x": object()})
    with pytest.raises(TypeError):
        broken.write(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_digest_does_not_depend_on_key_or_test_order() -> None:
    bundle = sample()
    shuffled = Bundle(
        created_at=bundle.created_at, model=bundle.model, commit=bundle.commit,
        tests=tuple(reversed(bundle.tests)),
        data=dict(reversed(list(bundle.data.items()))),
        environment=dict(reversed(list(bundle.environment.items()))), run=bundle.run,
    )
    assert shuffled.digest == bundle.digest
    reordered = json.loads(json.dumps(bundle.to_json(), sort_keys=True))
    reordered = dict(reversed(list(reordered.items())))
    assert Bundle.from_json(reordered).digest_ok


def test_digest_is_stable() -> None:
    # a pinned value: a change to the canonical form silently invalidates every stored bundle
    bundle = Bundle("2026-11-27T10:00:00Z", ModelRef("iris", "3"), None,
                    (TestRecord("t.py::a", "passed"),))
    assert bundle.digest == (
        "sha256:a9b70bf3bcd0a03602c60a27ce1ed1ebf8aad4483b84e7667304abfb7cb78b07")
    assert Bundle.from_json(bundle.to_json()).digest == bundle.digest


@pytest.mark.parametrize("change", [
    lambda d: d["tests"][0].update(outcome="failed"),
    lambda d: d["tests"][1]["metrics"][0].update(value=0.99),
    lambda d: d["model"].update(version="4"),
    lambda d: d.update(commit="fedcba9876543210"),
    lambda d: d["data"].update(train="sha256:cc"),
    lambda d: d["environment"].update(python="3.12"),
])
def test_an_edited_file_keeps_its_declared_digest_and_fails_the_check(tmp_path, change) -> None:
    data = doc()
    change(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    bundle = Bundle.read(path)
    assert bundle.declared_digest == sample().digest
    assert bundle.digest_ok is False


def test_not_json(tmp_path: Path) -> None:
    err = read_error(tmp_path, "<html>")
    assert err.message == "not valid JSON (line 1, column 1: Expecting value)"
    assert err.fix == "the file is truncated or corrupt; regenerate it with pytest"


def test_a_truncated_file(tmp_path: Path) -> None:
    text = json.dumps(doc(), indent=2)
    err = read_error(tmp_path, text[: len(text) // 2])
    assert err.message.startswith("not valid JSON (line ")
    assert err.fix == "the file is truncated or corrupt; regenerate it with pytest"


def test_bare_nan_literals_are_refused(tmp_path: Path) -> None:
    text = json.dumps(doc()).replace('"NaN"', "NaN")
    err = read_error(tmp_path, text)
    assert err.message == ("not valid JSON: the bare literal NaN is not JSON; mlgate writes the "
                           "string 'NaN'")


def test_not_an_object(tmp_path: Path) -> None:
    err = read_error(tmp_path, "[]")
    assert err.message == "a bundle is a JSON object"


@pytest.mark.parametrize("schema", ["mlgate.bundle/2", None])
def test_another_schema_version(tmp_path: Path, schema) -> None:
    data = doc()
    data["schema"] = schema
    err = read_error(tmp_path, json.dumps(data))
    assert (err.key, err.message) == ("schema", f"schema is {schema!r}, this mlgate reads "
                                      "'mlgate.bundle/1'")
    assert err.fix == "re-run pytest with this mlgate version to write a new bundle"


@pytest.mark.parametrize("field", ["created_at", "tests"])
def test_a_missing_field(tmp_path: Path, field: str) -> None:
    data = doc()
    del data[field]
    err = read_error(tmp_path, json.dumps(data))
    assert (err.key, err.message, err.fix) == (field, f"required field {field!r} is missing",
                                               FIX_REGENERATE)


@pytest.mark.parametrize(("path", "key"), [
    (("tests", 1, "nodeid"), "tests[1].nodeid"),
    (("tests", 0, "outcome"), "tests[0].outcome"),
    (("tests", 1, "metrics", 0, "value"), "tests[1].value"),
])
def test_a_missing_field_in_a_test(tmp_path: Path, path, key: str) -> None:
    data = doc()
    target = data
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    err = read_error(tmp_path, json.dumps(data))
    assert err.key == key
    assert err.message == f"required field {path[-1]!r} is missing"


def test_a_duplicate_nodeid(tmp_path: Path) -> None:
    data = doc()
    data["tests"].append(dict(data["tests"][0]))
    err = read_error(tmp_path, json.dumps(data))
    assert (err.key, err.message) == ("tests", "test 'tests/test_data.py::test_a' appears twice")
    assert err.fix == "the file was merged or edited by hand; regenerate it with pytest"


def test_a_bad_outcome(tmp_path: Path) -> None:
    data = doc()
    data["tests"][2]["outcome"] = "passd"
    err = read_error(tmp_path, json.dumps(data))
    assert err.key == "tests[2]"
    assert err.message == "malformed: test 'tests/test_model.py::test_c': unknown outcome 'passd'"
    assert err.fix == "regenerate the bundle with pytest"


@pytest.mark.parametrize(("edit", "key", "message"), [
    (lambda d: d.update(model="iris"), "model", "must be an object or null, got 'iris'"),
    (lambda d: d.update(commit=123), "commit", "must be a string or null, got 123"),
    (lambda d: d.update(tests={}), "tests", "must be a list of test records, got dict"),
    (lambda d: d["tests"][0].update(families="data"), "tests[0]",
     "malformed: test 'tests/test_data.py::test_a': families must be a list of strings, "
     "got 'data'"),
    (lambda d: d["tests"][0].update(duration="Infinity"), "tests[0]",
     "malformed: test 'tests/test_data.py::test_a': duration is inf"),
    (lambda d: d["tests"][1]["metrics"][0].update(value=True), "tests[1]",
     "malformed: metric 'accuracy' value: expected a number, got a boolean"),
    (lambda d: d["tests"][1]["metrics"][0].update(direction="up"), "tests[1]",
     "malformed: metric 'accuracy': direction must be one of ('higher', 'lower')"),
    (lambda d: d["tests"][1]["metrics"][0]["interval"].update(level="NaN"), "tests[1]",
     "malformed: interval.level: nan is not in (0, 1)"),
    (lambda d: d["tests"].append("t.py::x"), "tests[3]",
     "malformed: string indices must be integers, not 'str'"),
    (lambda d: d.update(created_at="2026-11-27T10:00:00"), None,
     "malformed: time '2026-11-27T10:00:00' has no time zone; write it in UTC with a trailing Z"),
])
def test_malformed_content(tmp_path: Path, edit, key, message) -> None:
    data = doc()
    edit(data)
    err = read_error(tmp_path, json.dumps(data))
    assert (err.key, err.message) == (key, message)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BundleError) as info:
        Bundle.read(tmp_path / "results.json")
    assert info.value.message == "no such file"
    assert "run pytest first" in info.value.fix


@pytest.mark.parametrize("error", [
    BundleError("malformed", file="r.json", key="tests[0]", fix="regenerate it"),
    PolicyError("unknown key", file="mlgate.toml", key="colour", fix="remove it"),
    RegistryError("unreachable", file=None, key=None, fix=None),
    InputError("bad", key="k"),
])
def test_errors_pickle_with_their_fields(error: InputError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert (back.message, back.file, back.key, back.fix) == (error.message, error.file,
                                                             error.key, error.fix)
    assert str(back) == str(error)
    assert back.args == error.args


def test_missing_extra_error_pickles() -> None:
    err = MissingExtraError("mlflow", "mlflow")
    back = pickle.loads(pickle.dumps(err))
    assert (back.module, back.extra, str(back)) == ("mlflow", "mlflow", str(err))
    assert str(err) == ("this needs the optional dependency 'mlflow'; install it with "
                        "`pip install 'mlgate[mlflow]'`")


def test_error_text_layout() -> None:
    assert str(BundleError("m", file="f", key="k", fix="x")) == "f: k: m\n  fix: x"
    assert str(BundleError("m", file="f")) == "f: m"
    assert str(BundleError("m", key="k")) == "k: m"
    assert str(BundleError("m")) == "m"


# -- the record API ---------------------------------------------------------------------------


def test_make_metric() -> None:
    m = make_metric(" accuracy ", "0.93", threshold=0.9, interval=(0.9, 0.96, 0.9), unit="%")
    assert m == Metric("accuracy", 0.93, 0.9, "higher", Interval(0.9, 0.96, 0.9), "%")
    assert m.passed is True
    assert make_metric("lat", 120, threshold=100, direction="lower").passed is False
    assert make_metric("x", float("nan"), threshold=0).passed is False
    assert make_metric("x", 1.0).passed is None


@pytest.mark.parametrize(("kwargs", "error", "message"), [
    ({"name": "", "value": 1}, TypeError, "metric name must be a non-empty string, got ''"),
    ({"name": 3, "value": 1}, TypeError, "metric name must be a non-empty string, got 3"),
    ({"name": "acc", "value": "high"}, TypeError, "metric 'acc': value must be a number, got 'high'"),
    ({"name": "acc", "value": None}, TypeError, "metric 'acc': value must be a number, got None"),
    ({"name": "acc", "value": 1, "direction": "up"}, ValueError,
     "metric 'acc': direction='up'; use 'higher' (bigger is better, the threshold is a minimum) "
     "or 'lower' (smaller is better, the threshold is a maximum)"),
    ({"name": "acc", "value": 1, "interval": 5}, TypeError,
     "metric 'acc': interval must be (low, high) or (low, high, level)"),
    ({"name": "acc", "value": 1, "interval": (1, 2, 3, 4)}, ValueError,
     "metric 'acc': interval must be (low, high) or (low, high, level)"),
    ({"name": "acc", "value": 1, "interval": (2, 1)}, ValueError,
     "metric 'acc': interval low 2.0 is above high 1.0"),
    ({"name": "acc", "value": 1, "interval": (0, 1, 95)}, ValueError,
     "metric 'acc': interval level 95.0 must be in (0, 1)"),
])
def test_make_metric_validation(kwargs, error, message) -> None:
    with pytest.raises(error) as info:
        make_metric(**kwargs)
    assert str(info.value) == message


def test_fingerprint_bytes_and_files(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(b"a,b\n1,2\n")
    fp = fingerprint(b"a,b\n1,2\n")
    assert fp.startswith("sha256:") and len(fp) == 7 + 64
    assert fingerprint(path) == fingerprint(str(path)) == fp
    assert fingerprint(bytearray(b"a,b\n1,2\n")) == fingerprint(memoryview(b"a,b\n1,2\n")) == fp
    assert fingerprint(b"a,b\n1,3\n") != fp
    with pytest.raises(TypeError, match="cannot fingerprint dict; pass a file path"):
        fingerprint({"a": 1})


def test_fingerprint_numpy() -> None:
    np = pytest.importorskip("numpy")
    a = np.arange(12, dtype="float64").reshape(3, 4)
    assert fingerprint(a) == fingerprint(a.copy()) == fingerprint(np.asfortranarray(a))
    assert fingerprint(a) != fingerprint(a.reshape(4, 3))  # same bytes, other shape
    assert fingerprint(a) != fingerprint(a.astype("float32"))
    b = a.copy()
    b[2, 3] += 1
    assert fingerprint(a) != fingerprint(b)
    assert fingerprint(np.array(["x", None], dtype=object)) != fingerprint(
        np.array(["y", None], dtype=object))


def test_fingerprint_pandas() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    assert fingerprint(df) == fingerprint(df.copy())
    assert fingerprint(df) != fingerprint(df.assign(a=[1, 2, 4]))
    assert fingerprint(df) != fingerprint(df.rename(columns={"b": "c"}))
    assert fingerprint(df) != fingerprint(df.set_axis([5, 6, 7]))
    assert fingerprint(df["a"]) == fingerprint(df["a"].copy())
    assert fingerprint(df["a"]) != fingerprint(df["a"].rename("z"))
