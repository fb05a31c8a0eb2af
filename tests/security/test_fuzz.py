"""Input fuzzing (mlgate.security.fuzz): robust models pass, fragile ones are caught with a small
failing input, runs are reproducible; over HTTP against a real server on 127.0.0.1 speaking the
MLflow /invocations protocol."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

from mlgate.errors import InputError
from mlgate.security.fuzz import MUTATIONS, fuzz, fuzz_http, request_body

COLUMNS = ["a", "b", "c"]
SCHEMA = pa.DataFrameSchema({
    "a": pa.Column(float, pa.Check.in_range(0.0, 1.0)),
    "b": pa.Column(float, pa.Check.in_range(-5.0, 5.0)),
    "c": pa.Column(float, pa.Check.in_range(0.0, 100.0)),
})
FAST = {"max_examples": 30, "huge_rows": 300, "seed": 3}


@pytest.fixture(scope="module")
def model():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, size=(200, 3)) * [1, 10, 100] - [0, 5, 0]
    y = (X[:, 0] + X[:, 1] / 10 > 0.5).astype(int)
    return LogisticRegression().fit(X, y)


def robust_predict(model):
    def predict(frame: pd.DataFrame):
        X = frame[COLUMNS].to_numpy(dtype=float)  # KeyError (missing), ValueError (strings)
        if not np.isfinite(X).all():
            raise ValueError("non-finite feature values: send numbers")
        return model.predict_proba(X)[:, 1]  # ValueError on 0 rows
    return predict


def fragile_predict(model):
    def predict(frame: pd.DataFrame):
        X = frame.to_numpy(dtype=float)
        if np.isnan(X).any():
            raise RuntimeError("native backend failed")  # stands for a crash in native code
        return model.predict_proba(X[:, :3])[:, 1]
    return predict


def test_a_robust_predict_passes_every_mutation(model) -> None:
    result = fuzz(robust_predict(model), SCHEMA, **FAST)
    assert result.crashes == 0, result.failures()
    assert result.passed and result.failures() == []
    assert result.calls == FAST["max_examples"] + 1  # + the huge batch
    assert set(result.by_kind) == {"valid", "huge", *MUTATIONS}
    assert result.by_kind["valid"]["ok"] > 0 and result.by_kind["huge"]["ok"] == 1
    assert result.by_kind["nan"]["error"] > 0
    (rate, calls) = result.metrics()
    assert (rate.name, rate.value, rate.threshold, rate.direction) == ("fuzz.crash_rate", 0.0,
                                                                       0.0, "lower")
    assert rate.interval.low == 0.0 and 0 < rate.interval.high < 0.15  # Wilson, n = 31
    assert calls.value == 31
    json.dumps(result.evidence(), allow_nan=False)


def test_a_predict_crashing_on_nan_is_caught_with_a_small_failing_input(model) -> None:
    result = fuzz(fragile_predict(model), SCHEMA, **FAST)
    assert not result.passed and result.crashes > 0
    crashed = {k for k, v in result.by_kind.items() if v["crash"]}
    assert crashed <= {"nan", "none"} and "nan" in crashed
    minimal = result.minimal
    assert minimal is not None and minimal["kind"] in ("nan", "none")
    assert minimal["rows"] == 1 and minimal["columns"] == 3  # shrunk to one row
    assert minimal["reason"] == "RuntimeError: native backend failed"
    text = "\n".join(result.failures())
    assert "crashed" in text and "minimal failing input: " in text
    assert result.metrics()[0].passed is False
    json.dumps(result.evidence(), allow_nan=False)


@pytest.mark.parametrize(("predict", "reason"), [
    (lambda f: np.zeros(len(f) + 1), "predictions for"),
    (lambda f: np.full(len(f), np.nan), "NaN prediction for valid input"),
    (lambda f: [][0], "IndexError"),
    (lambda f: 1 / 0, "ZeroDivisionError"),
])
def test_each_kind_of_crash_is_counted(predict, reason) -> None:
    result = fuzz(predict, SCHEMA, max_examples=10, huge_rows=0, shrink=False)
    assert result.crashes > 0
    assert any(reason in r for r, _ in result.reasons), result.reasons


def test_a_valid_failing_row_is_simplified_to_the_cell_that_matters() -> None:
    wide = pa.DataFrameSchema({f"f{i}": pa.Column(float, pa.Check.in_range(0.0, 1.0))
                               for i in range(6)})

    def predict(frame):
        if (frame["f3"] > 0.5).any():
            raise ZeroDivisionError("f3 too big")
        return np.zeros(len(frame))

    result = fuzz(predict, wide, max_examples=20, huge_rows=0, mutations=[], seed=1)
    minimal = result.minimal
    assert minimal["kind"] == "valid" and minimal["rows"] == 1
    (row,) = minimal["head"]
    assert row["f3"] > 0.5
    assert {k: v for k, v in row.items() if k != "f3"} == {f"f{i}": 0.0 for i in (0, 1, 2, 4, 5)}
    assert minimal["reason"] == "ZeroDivisionError: f3 too big"


def test_a_refusal_of_valid_input_and_an_empty_message_are_crashes() -> None:
    def refuse_all(frame):
        raise ValueError("no")

    result = fuzz(refuse_all, SCHEMA, max_examples=12, huge_rows=0, shrink=False)
    assert result.by_kind["valid"]["crash"] == result.by_kind["valid"]["ok"] + \
        result.by_kind["valid"]["crash"] > 0
    assert result.by_kind["nan"]["error"] > 0

    def mute(frame):
        if frame.isna().any().any() or len(frame) == 0:
            raise ValueError()
        return np.zeros(len(frame))

    result = fuzz(mute, SCHEMA, max_examples=12, huge_rows=0, shrink=False,
                  mutations=["nan"])
    assert any("without a message" in r for r, _ in result.reasons)


def test_a_predict_validating_with_the_schema_refuses_well(model) -> None:
    def validating(frame):  # pandera's SchemaError(s) are well-formed refusals by default
        return robust_predict(model)(SCHEMA.validate(frame, lazy=True))

    result = fuzz(validating, SCHEMA, max_examples=20, huge_rows=0)
    assert result.crashes == 0, result.failures()
    assert result.by_kind["wrong_dtype"]["error"] > 0
    strict = fuzz(validating, SCHEMA, max_examples=20, huge_rows=0, shrink=False,
                  well_formed=(ValueError,))
    assert any(r.startswith("SchemaError") for r, _ in strict.reasons), strict.reasons


def test_the_same_seed_gives_the_same_result(model) -> None:
    first = fuzz(fragile_predict(model), SCHEMA, **FAST)
    second = fuzz(fragile_predict(model), SCHEMA, **FAST)
    assert first.evidence() == second.evidence()
    other = fuzz(fragile_predict(model), SCHEMA, **{**FAST, "seed": 4, "shrink": False})
    assert other.seed == 4


def test_the_target_column_can_be_excluded_and_bad_arguments_say_what_to_do(model) -> None:
    with_target = SCHEMA.add_columns({"y": pa.Column(int, pa.Check.isin([0, 1]))})
    result = fuzz(robust_predict(model), with_target, exclude=["y"], max_examples=10,
                  huge_rows=0)
    assert result.passed
    with pytest.raises(InputError, match="exclude names columns not in the schema: nope"):
        fuzz(robust_predict(model), SCHEMA, exclude=["nope"])
    with pytest.raises(InputError, match="unknown mutations: typo"):
        fuzz(robust_predict(model), SCHEMA, mutations=["typo"])


# -- HTTP: a small scoring server that speaks MLflow's /invocations protocol ------------------

def parse_frame(payload) -> pd.DataFrame:
    if isinstance(payload, dict) and "dataframe_split" in payload:
        split = payload["dataframe_split"]
        return pd.DataFrame(split["data"], columns=split["columns"])
    if isinstance(payload, dict) and "dataframe_records" in payload:
        return pd.DataFrame(payload["dataframe_records"])
    if isinstance(payload, list):
        return pd.DataFrame(payload)
    raise ValueError("expected dataframe_split, dataframe_records or a list of records")


def serve(model, *, robust: bool) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                frame = parse_frame(json.loads(raw))  # json reads NaN and Infinity, as MLflow does
                if robust:
                    X = frame[COLUMNS].to_numpy(dtype=float)
                    if not np.isfinite(X).all() or len(X) == 0:
                        raise ValueError("features must be finite numbers, one row at least")
                else:
                    X = frame.to_numpy(dtype=float)[:, :3]
                with np.errstate(all="ignore"):  # 1e308 overflows: an answer all the same
                    predictions = model.predict_proba(X)[:, 1].tolist()
                status, body = 200, {"predictions": predictions}
            except (ValueError, KeyError, TypeError) as exc:
                status = 400 if robust else 500
                body = {"error_code": "BAD_REQUEST", "message": str(exc)}
            except Exception as exc:
                status, body = 500, {"error_code": "INTERNAL_ERROR", "message": str(exc)}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format, *args):  # noqa: A002
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/invocations"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def robust_server(model):
    yield from serve(model, robust=True)


@pytest.fixture
def fragile_server(model):
    yield from serve(model, robust=False)


@pytest.mark.parametrize("protocol", ["mlflow", "mlflow-records", "records"])
def test_a_robust_server_answers_every_request_well(robust_server, protocol) -> None:
    result = fuzz_http(robust_server, SCHEMA, protocol=protocol, timeout=5, **FAST)
    assert result.crashes == 0, result.failures()
    assert set(result.statuses) == {"200", "400"}
    assert sum(result.statuses.values()) == result.calls == 31
    assert result.by_kind["huge"]["ok"] == 1


def test_a_server_answering_500_is_caught_with_the_failing_request(fragile_server) -> None:
    result = fuzz_http(fragile_server, SCHEMA, timeout=5, **FAST)
    assert not result.passed
    assert result.statuses.get("500", 0) == result.crashes > 0
    minimal = result.minimal
    assert minimal["status"] == 500 and minimal["rows"] <= 1  # the empty batch is smallest
    body = json.loads(minimal["request_body"])  # short enough to be kept whole
    assert len(body["dataframe_split"]["data"]) == minimal["rows"]
    assert result.by_kind["nan"]["crash"] > 0 and result.by_kind["empty"]["crash"] > 0
    assert "HTTP 500" in "\n".join(result.failures())


def test_an_endpoint_that_does_not_answer_is_an_input_error() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match="does not answer.*\n  fix: start the server"):
        fuzz_http(f"http://127.0.0.1:{port}/invocations", SCHEMA, timeout=1)
    with pytest.raises(InputError, match="not an http"):
        fuzz_http("file:///etc/passwd", SCHEMA)


def test_request_bodies_of_each_protocol() -> None:
    frame = pd.DataFrame({"a": [0.5, math.nan], "b": pd.Series([None, "x"], dtype=object)})
    split = json.loads(request_body(frame, "mlflow"))
    assert split["dataframe_split"]["columns"] == ["a", "b"]
    assert split["dataframe_split"]["data"][0] == [0.5, None]
    assert math.isnan(split["dataframe_split"]["data"][1][0])  # sent as NaN, on purpose
    assert json.loads(request_body(frame, "records"))[1]["b"] == "x"
    assert "dataframe_records" in json.loads(request_body(frame, "mlflow-records"))
    with pytest.raises(InputError, match="unknown protocol"):
        request_body(frame, "grpc")


# -- the fixtures, through the plugin -----------------------------------------------------------

FIXTURE_TESTS = '''
import numpy as np
import pandas as pd
import pandera.pandas as pa
import pytest

SCHEMA = pa.DataFrameSchema({"x": pa.Column(float, pa.Check.in_range(0, 1))})


class Model:
    def predict_proba(self, frame):
        X = frame[["x"]].to_numpy(dtype=float)
        if len(X) == 0 or not np.isfinite(X).all():
            raise ValueError("send finite x, one row at least")
        return np.c_[1 - X[:, 0], X[:, 0]]


class Fragile:
    def predict(self, frame):
        return frame.to_numpy(dtype=float)[:, 0][[0]]  # one prediction, whatever the rows


@pytest.mark.security
def test_model_object(mlgate_fuzz):
    assert mlgate_fuzz(Model(), SCHEMA, max_examples=10, huge_rows=50).passed


@pytest.mark.security
def test_fragile_model(mlgate_fuzz):
    mlgate_fuzz(Fragile(), SCHEMA, max_examples=10, huge_rows=0)


@pytest.mark.security
def test_allowed_email(mlgate_privacy):
    mlgate_privacy(pd.DataFrame({"c": ["mail jane@example.com"]}), allow={"c": ["email"]})
'''


def test_the_fixtures_record_through_the_plugin(pytester: pytest.Pytester) -> None:
    from mlgate.bundle import Bundle

    pytester.makepyfile(test_security=FIXTURE_TESTS)
    result = pytester.runpytest("--mlgate-model", "m", "--mlgate-model-version", "1",
                                "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*mlgate fuzz check failed:*", "*calls to Fragile.predict crashed*",
                                 "*minimal failing input: *"])
    bundle = Bundle.read(pytester.path / "reports" / "results.json")
    metrics = {(t.nodeid.split("::")[1], m.name): m.value for t in bundle.tests
               for m in t.metrics}
    assert metrics[("test_model_object", "fuzz.crash_rate")] == 0.0
    assert metrics[("test_fragile_model", "fuzz.crash_rate")] > 0.0
    assert metrics[("test_allowed_email", "privacy.findings")] == 0.0
    evidence = {t.nodeid.split("::")[1]: t.evidence for t in bundle.tests}
    minimal = evidence["test_fragile_model"]["fuzz"]["minimal_failing_input"]
    assert minimal["rows"] >= 1 and minimal["reason"]
    assert evidence["test_allowed_email"]["privacy"]["findings"][0]["examples"] == ["j***@e***.com"]
