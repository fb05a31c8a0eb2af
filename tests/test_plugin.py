"""The pytest plugin, run through pytester: markers, options, the record API, the bundle."""

from __future__ import annotations

import json

import pytest

from mlgate.bundle import Bundle

pytest_plugins = ["pytester"]

MODEL_ARGS = ("--mlgate-model", "iris", "--mlgate-model-version", "3", "-p", "no:cacheprovider")

SAMPLE = """
import pytest

@pytest.mark.model
def test_accuracy(mlgate):
    mlgate.metric("accuracy", 0.95, threshold=0.9, interval=(0.91, 0.97))

@pytest.mark.data
def test_nulls(mlgate):
    mlgate.metric("null_ratio", 0.5, threshold=0.1, direction="lower")

@pytest.mark.performance
@pytest.mark.skip(reason="no GPU here")
def test_gpu():
    pass

@pytest.mark.xfail(reason="known bug", strict=False)
def test_known_bug():
    assert False

@pytest.mark.xfail(reason="fixed?", strict=False)
def test_xpass():
    pass

@pytest.fixture
def broken():
    raise RuntimeError("fixture exploded")

@pytest.mark.security
def test_error_in_setup(broken):
    pass

@pytest.mark.model
@pytest.mark.parametrize("k", [1, 2])
def test_param(mlgate, k):
    mlgate.metric(f"m{k}", float(k))
"""


def read_bundle(pytester: pytest.Pytester, folder: str = "reports") -> Bundle:
    return Bundle.read(pytester.path / folder / "results.json")


def test_bundle_records_every_outcome_and_metric(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sample=SAMPLE)
    result = pytester.runpytest("--strict-markers", *MODEL_ARGS)
    result.assert_outcomes(passed=3, failed=1, skipped=1, xfailed=1, xpassed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*- mlgate -*", "bundle: *results.json (8 tests, 4 metrics; iris v3; sha256:*"])
    bundle = read_bundle(pytester)
    assert bundle.digest_ok and bundle.model is not None
    assert (bundle.model.name, bundle.model.version) == ("iris", "3")
    outcomes = {t.nodeid.split("::")[1]: t.outcome for t in bundle.tests}
    assert outcomes == {
        "test_accuracy": "passed", "test_nulls": "failed", "test_gpu": "skipped",
        "test_known_bug": "xfailed", "test_xpass": "xpassed", "test_error_in_setup": "error",
        "test_param[1]": "passed", "test_param[2]": "passed",
    }
    by_name = {t.nodeid.split("::")[1]: t for t in bundle.tests}
    assert by_name["test_accuracy"].families == ("model",)
    assert by_name["test_gpu"].families == ("performance",)
    assert by_name["test_error_in_setup"].families == ("security",)
    acc = by_name["test_accuracy"].metrics[0]
    assert (acc.name, acc.value, acc.threshold, acc.direction) == ("accuracy", 0.95, 0.9, "higher")
    assert acc.interval is not None and (acc.interval.low, acc.interval.high) == (0.91, 0.97)
    nulls = by_name["test_nulls"]
    assert nulls.metrics[0].passed is False  # the failed threshold is kept as evidence
    assert nulls.message == "Failed: mlgate: metric 'null_ratio' = 0.5, must be <= 0.1"
    assert "fixture exploded" in (by_name["test_error_in_setup"].message or "")
    assert by_name["test_gpu"].message == "Skipped: no GPU here"


def test_markers_registered_and_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--markers")
    for family in ("data", "model", "performance", "security"):
        result.stdout.fnmatch_lines([f"@pytest.mark.{family}: mlgate check family - *"])


def test_help_shows_the_option_group(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines([
        "mlgate: record model-quality evidence into a results bundle for `mlgate gate`:",
        "*--mlgate-dir=DIR*",
        "*--mlgate-model=MODEL*",
        "*--mlgate-model-version=VERSION*",
        "*mlgate_model (string):*",
    ])


def test_disabled_with_p_no_mlgate(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_plain():\n    pass\n")
    result = pytester.runpytest("-p", "no:mlgate", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert not (pytester.path / "reports").exists()
    assert "bundle:" not in result.stdout.str()


def test_fixture_records_nan_and_fails_the_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_nan(mlgate):
            mlgate.metric("loss", float("nan"), threshold=1.0, direction="lower")
        def test_soft(mlgate):
            mlgate.metric("loss2", 5.0, threshold=1.0, direction="lower", soft=True)
    """)
    result = pytester.runpytest(*MODEL_ARGS)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*mlgate: metric 'loss' is nan*"])
    raw = json.loads((pytester.path / "reports" / "results.json").read_text())
    values = {m["name"]: m["value"] for t in raw["tests"] for m in t["metrics"]}
    assert values == {"loss": "NaN", "loss2": 5.0}


def test_fixture_rejects_bad_input(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        def test_bad_direction(mlgate):
            with pytest.raises(ValueError, match="use 'higher'"):
                mlgate.metric("x", 1.0, direction="up")
        def test_bad_value(mlgate):
            with pytest.raises(TypeError, match="value must be a number"):
                mlgate.metric("x", "abc")
    """)
    pytester.runpytest(*MODEL_ARGS).assert_outcomes(passed=2)


def test_unbound_bundle_is_flagged(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok(mlgate):\n    mlgate.metric('a', 1.0)\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["note: the bundle is not bound to a model version*"])
    assert read_bundle(pytester).model is None


def test_settings_precedence_option_env_ini(pytester: pytest.Pytester, monkeypatch) -> None:
    pytester.makeini("[pytest]\nmlgate_model = from-ini\nmlgate_model_version = 1\nmlgate_dir = out\n")
    pytester.makepyfile("def test_ok(mlgate_model):\n    print('MODEL', mlgate_model)\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert read_bundle(pytester, "out").model.name == "from-ini"
    monkeypatch.setenv("MLGATE_MODEL", "from-env")
    pytester.runpytest("-p", "no:cacheprovider")
    assert read_bundle(pytester, "out").model.name == "from-env"
    pytester.runpytest("-p", "no:cacheprovider", "--mlgate-model", "from-option")
    assert read_bundle(pytester, "out").model.name == "from-option"


def test_fingerprints_are_bound_into_the_bundle(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        def test_a(mlgate):
            mlgate.fingerprint("train", b"rows of training data")
        def test_b(mlgate):
            mlgate.fingerprint("train", b"rows of training data")
    """)
    pytester.runpytest(*MODEL_ARGS).assert_outcomes(passed=2)
    bundle = read_bundle(pytester)
    import hashlib

    assert bundle.data == {"train": "sha256:" + hashlib.sha256(b"rows of training data").hexdigest()}


def test_collect_only_writes_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_ok():\n    pass\n")
    pytester.runpytest("--co", *MODEL_ARGS)
    assert not (pytester.path / "reports" / "results.json").exists()


def test_junit_xml_has_outcomes_and_metric_properties(pytester: pytest.Pytester) -> None:
    import xml.etree.ElementTree as ET

    pytester.makepyfile(test_sample=SAMPLE)
    pytester.runpytest(*MODEL_ARGS)
    root = ET.parse(pytester.path / "reports" / "junit.xml").getroot()
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("8", "1", "1")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["mlgate.metric.test_sample.py::test_accuracy::accuracy"] == "0.95"
    assert props["mlgate.model"] == "iris" and props["mlgate.model_version"] == "3"
    assert props["mlgate.bundle_digest"] == read_bundle(pytester).digest


def _content(bundle: Bundle) -> list[dict]:
    rows = []
    for t in bundle.to_json()["tests"]:
        t = dict(t)
        t.pop("duration")
        rows.append(t)
    return rows


@pytest.mark.slow
def test_xdist_bundle_equals_serial_bundle(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sample=SAMPLE)
    pytester.makepyfile(test_more="""
        import pytest
        @pytest.mark.model
        @pytest.mark.parametrize("i", range(20))
        def test_many(mlgate, i):
            mlgate.fingerprint("data", b"same")
            mlgate.metric(f"metric_{i}", i / 10, interval=(i / 10 - 0.1, i / 10 + 0.1))
    """)
    pytester.runpytest_subprocess("-n", "0", "--mlgate-dir", "serial", *MODEL_ARGS)
    pytester.runpytest_subprocess("-n", "2", "--mlgate-dir", "parallel", *MODEL_ARGS)
    serial, parallel = read_bundle(pytester, "serial"), read_bundle(pytester, "parallel")
    assert len(serial.tests) == 28
    assert _content(serial) == _content(parallel)
    assert serial.data == parallel.data and serial.model == parallel.model


def test_evidence_and_check_results_reach_the_bundle(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import pytest
        from mlgate.record import Metric

        class Result:
            name = "drift"
            def __init__(self, share):
                self.share = share
            def metrics(self):
                return [Metric("drift_share", self.share, threshold=0.2, direction="lower")]
            def evidence(self):
                return {"histograms": {"age": [1, 2, 3]}}
            def failures(self):
                return [] if self.share <= 0.2 else [f"{self.share:.0%} of columns drifted"]

        @pytest.mark.data
        def test_ok(mlgate):
            mlgate.check(Result(0.1))

        @pytest.mark.data
        def test_drifted(mlgate):
            mlgate.check(Result(0.5))

        def test_not_json(mlgate):
            with pytest.raises(TypeError, match="must be JSON-able"):
                mlgate.evidence("bad", {"x": object()})
    """)
    result = pytester.runpytest(*MODEL_ARGS)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*mlgate drift check failed:", "*50% of columns drifted"])
    tests = {t.nodeid.split("::")[1]: t for t in read_bundle(pytester).tests}
    assert tests["test_ok"].evidence == {"drift": {"histograms": {"age": [1, 2, 3]}}}
    assert [m.value for m in tests["test_drifted"].metrics] == [0.5]
    assert tests["test_drifted"].outcome == "failed"


def test_predictions_fixture_computes_once_per_session(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        import numpy as np
        calls = []
        X = np.arange(12.0).reshape(6, 2) - 5

        def model(rows):
            calls.append(len(rows))
            return (np.asarray(rows).sum(axis=1) > 0).astype(int)

        def test_a(mlgate_predictions):
            assert mlgate_predictions.get(model, X).labels.tolist() == [0, 0, 0, 1, 1, 1]

        def test_b(mlgate_predictions):
            mlgate_predictions.get(model, X)
            assert calls == [6]
    """)
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_benchmark_fixture_records_its_metrics(pytester: pytest.Pytester, monkeypatch) -> None:
    # the inner run is not under xdist, even when this suite is (the fixture refuses there)
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)
    pytester.makepyfile("""
        import pytest
        @pytest.mark.performance
        def test_sum(mlgate_benchmark):
            mlgate_benchmark(sum, range(100), name="sum100", max_time=0.5, max_median_s=1.0)
    """)
    pytester.runpytest(*MODEL_ARGS).assert_outcomes(passed=1)
    (test,) = read_bundle(pytester).tests
    names = {m.name for m in test.metrics}
    assert {"sum100.median_s", "sum100.p95_s", "sum100.throughput"} <= names
    median = next(m for m in test.metrics if m.name == "sum100.median_s")
    assert median.interval is not None and median.interval.low <= median.value <= median.interval.high
    assert test.evidence["benchmark.sum100"]["fingerprint"]["logical_cores"] >= 1


def test_evidence_is_kept_as_plain_json_types() -> None:
    """A str or float subclass (torch's TorchVersion) cannot cross from an xdist worker to the
    controller: evidence is stored as plain JSON types."""
    from types import SimpleNamespace

    from mlgate.plugin import Recorder

    class Version(str):
        pass

    item = SimpleNamespace(user_properties=[])
    Recorder(item, ("m", "1")).evidence("env", {"torch": Version("2.13.0"), "n": [1, 2.5]})
    [(_, prop)] = item.user_properties
    assert prop["data"] == {"torch": "2.13.0", "n": [1, 2.5]}
    assert type(prop["data"]["torch"]) is str
