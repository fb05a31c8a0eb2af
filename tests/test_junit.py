"""JUnit XML read as Jenkins' JUnit plugin reads it: testsuite counts, testcase classname/name,
failure/error/skipped elements with their message, suite and test-case properties."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlgate.bundle import Bundle, ModelRef
from mlgate.record import Interval, Metric, TestRecord
from mlgate.report.junit import MAX_MESSAGE_CHARS, split_nodeid, write_junit, xml_text

CREATED = "2026-11-27T10:00:00Z"


def bundle_of(*tests: TestRecord, commit: str | None = "4f1c2e9") -> Bundle:
    return Bundle(CREATED, ModelRef("iris", "3"), commit, tests).sealed()


def read(bundle: Bundle, tmp_path: Path) -> ET.Element:
    path = write_junit(bundle, tmp_path / "reports" / "junit.xml")
    raw = path.read_bytes()
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(raw)


def suite_of(root: ET.Element) -> ET.Element:
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    return suites[0]


def cases_of(root: ET.Element) -> dict[str, ET.Element]:
    return {f"{c.get('classname')}::{c.get('name')}": c for c in suite_of(root).findall("testcase")}


def case_props(case: ET.Element) -> dict[str, str]:
    props = case.find("properties")
    assert props is not None
    return {p.get("name"): p.get("value") for p in props.findall("property")}


ACCURACY = Metric("accuracy", 0.95, threshold=0.9, direction="higher",
                  interval=Interval(0.93, 0.97, 0.95))
SAMPLE = (
    TestRecord("tests/test_model.py::test_accuracy", "passed", ("model",), (ACCURACY,), 0.25),
    TestRecord("tests/test_model.py::TestSlices::test_worst[region]", "failed", ("model",),
               (Metric("slice_worst_accuracy", 0.7, threshold=0.8),), 0.5,
               "mlgate: metric 'slice_worst_accuracy' = 0.7, must be >= 0.8\nsecond line"),
    TestRecord("tests/test_data.py::test_schema", "error", ("data",), (), 0.0,
               "fixture 'train' failed: FileNotFoundError"),
    TestRecord("tests/test_data.py::test_drift", "skipped", ("data",), (), 0.0, "no serving data"),
    TestRecord("tests/test_data.py::test_known_bug", "xfailed", ("data",), (), 0.0, "issue 12"),
    TestRecord("tests/perf/test_latency.py::test_p95", "passed", ("performance",),
               (Metric("latency_p95_ms", 120.0, threshold=500, direction="lower", unit="ms"),), 1.0),
    TestRecord("tests/test_model.py::test_nan", "failed", ("model",),
               (Metric("roc_auc", float("nan"), threshold=0.9),), 0.0, None),
)


def test_suite_counts_and_attributes_as_jenkins_reads_them(tmp_path: Path) -> None:
    root = read(bundle_of(*SAMPLE), tmp_path)
    suite = suite_of(root)
    assert suite.get("name") == "mlgate"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) \
        == ("7", "2", "1", "2")
    assert root.get("tests") == "7" and root.get("failures") == "2" and root.get("errors") == "1"
    assert float(suite.get("time")) == pytest.approx(1.75)
    assert suite.get("timestamp") == CREATED


def test_classname_and_name_group_by_module_and_class(tmp_path: Path) -> None:
    cases = cases_of(read(bundle_of(*SAMPLE), tmp_path))
    assert set(cases) == {
        "tests.test_model::test_accuracy",
        "tests.test_model.TestSlices::test_worst[region]",
        "tests.test_data::test_schema",
        "tests.test_data::test_drift",
        "tests.test_data::test_known_bug",
        "tests.perf.test_latency::test_p95",
        "tests.test_model::test_nan",
    }
    case = cases["tests.test_model::test_accuracy"]
    assert case.get("file") == "tests/test_model.py"
    assert case.get("time") == "0.250000"
    # a passed test has no failure, error or skipped child: Jenkins counts it as passed
    assert [c.tag for c in case] == ["properties"]


@pytest.mark.parametrize("nodeid, expected", [
    ("tests/test_a.py::test_x", ("tests/test_a.py", "tests.test_a", "test_x")),
    ("test_a.py::TestK::TestInner::test_x", ("test_a.py", "test_a.TestK.TestInner", "test_x")),
    ("tests/test_a.py::test_x[a::b/c.d]", ("tests/test_a.py", "tests.test_a", "test_x[a::b/c.d]")),
    ("tests/test_a.py", ("tests/test_a.py", "tests.test_a", "test_a")),
    ("test_a.py::", ("test_a.py", "test_a", "(unnamed)")),
])
def test_split_nodeid(nodeid: str, expected: tuple[str, str, str]) -> None:
    assert split_nodeid(nodeid) == expected


def test_failure_error_and_skipped_elements(tmp_path: Path) -> None:
    cases = cases_of(read(bundle_of(*SAMPLE), tmp_path))
    failed = cases["tests.test_model.TestSlices::test_worst[region]"]
    failure = failed.find("failure")
    assert failure is not None and failed.find("error") is None
    # Jenkins shows the message attribute as the error details and the body as the stack trace
    assert failure.get("message") == "mlgate: metric 'slice_worst_accuracy' = 0.7, must be >= 0.8"
    assert failure.text.endswith("second line")
    assert failure.get("type") == "mlgate.failed"

    error = cases["tests.test_data::test_schema"].find("error")
    assert error is not None and error.get("message") == "fixture 'train' failed: FileNotFoundError"

    skipped = cases["tests.test_data::test_drift"].find("skipped")
    assert skipped is not None and skipped.get("message") == "no serving data"
    xfail = cases["tests.test_data::test_known_bug"].find("skipped")
    assert xfail is not None and xfail.get("message") == "xfail: issue 12"
    assert xfail.get("type") == "pytest.xfail"

    # a failure without a message still says something
    nan = cases["tests.test_model::test_nan"].find("failure")
    assert nan is not None and nan.get("message") == "failed"


def test_testcase_properties_carry_each_metric(tmp_path: Path) -> None:
    cases = cases_of(read(bundle_of(*SAMPLE), tmp_path))
    case = cases["tests.test_model::test_accuracy"]
    # properties come first, before any result element (pytest's junitxml order)
    assert case[0].tag == "properties"
    assert case_props(case) == {
        "mlgate.nodeid": "tests/test_model.py::test_accuracy",
        "mlgate.outcome": "passed",
        "mlgate.families": "model",
        "mlgate.metric.accuracy": "0.95",
        "mlgate.metric.accuracy.threshold": "0.9",
        "mlgate.metric.accuracy.direction": "higher",
        "mlgate.metric.accuracy.interval": "[0.93, 0.97] level 0.95",
        "mlgate.metric.accuracy.passed": "true",
    }
    latency = case_props(cases["tests.perf.test_latency::test_p95"])
    assert latency["mlgate.metric.latency_p95_ms"] == "120.0"
    assert latency["mlgate.metric.latency_p95_ms.direction"] == "lower"
    assert latency["mlgate.metric.latency_p95_ms.unit"] == "ms"
    nan = case_props(cases["tests.test_model::test_nan"])
    assert nan["mlgate.metric.roc_auc"] == "NaN" and nan["mlgate.metric.roc_auc.passed"] == "false"
    failed = cases["tests.test_model.TestSlices::test_worst[region]"]
    assert [c.tag for c in failed] == ["properties", "failure"]


def test_suite_properties_keep_binding_and_every_metric(tmp_path: Path) -> None:
    bundle = bundle_of(*SAMPLE)
    suite = suite_of(read(bundle, tmp_path))
    props = {p.get("name"): p.get("value") for p in suite.find("properties").findall("property")}
    assert props["mlgate.model"] == "iris" and props["mlgate.model_version"] == "3"
    assert props["mlgate.commit"] == "4f1c2e9"
    assert props["mlgate.bundle_digest"] == bundle.digest
    assert props["mlgate.metric.tests/test_model.py::test_accuracy::accuracy"] == "0.95"
    assert props["mlgate.metric.tests/perf/test_latency.py::test_p95::latency_p95_ms"] == "120.0"
    # suite properties are the suite's direct child, not mixed with the test cases'
    assert suite[0].tag == "properties"


HOSTILE = 'test_x[<script>alert("x")</script>&\x00\x01\x07\x0b\x1b\x7f\x85 é 中文 🙂 ]]> --> \t]'


def test_hostile_names_and_messages_give_valid_xml(tmp_path: Path) -> None:
    nodeid = f"tests/test_évil.py::{HOSTILE}"
    message = "boom \x00\x08 <b>&amp;</b> \ufffe\uffff\n" + "x" * 5000
    tests = (
        TestRecord(nodeid, "failed", ("model",),
                   (Metric('acc"<&>\x02', 0.5, threshold=0.9, unit="%\x03"),), 0.1, message),
        TestRecord("tests/test_b.py::test_skip", "skipped", (), (), 0.0, "\x00\x1f"),
    )
    root = read(bundle_of(*tests, commit="abc\x01"), tmp_path)
    suite = suite_of(root)
    case, skip = sorted(suite.findall("testcase"), key=lambda c: c.get("name") == "test_skip")
    assert case.get("name") == 'test_x[<script>alert("x")</script>& é 中文 🙂 ]]> --> \t]'
    assert case.get("classname") == "tests.test_évil"
    failure = case.find("failure")
    assert failure.get("message") == "boom  <b>&amp;</b>"
    assert len(failure.get("message")) <= MAX_MESSAGE_CHARS
    props = case_props(case)
    assert props["mlgate.metric.acc\"<&>"] == "0.5"
    assert props["mlgate.metric.acc\"<&>.unit"] == "%"
    # a message of only forbidden characters: the outcome stands in
    skipped = skip.find("skipped")
    assert skipped.get("message") == "skipped"
    # nothing XML 1.0 forbids is left anywhere, in text or attributes
    raw = (tmp_path / "reports" / "junit.xml").read_text(encoding="utf-8")
    assert xml_text(raw) == raw


def test_a_long_message_is_cut_on_one_line(tmp_path: Path) -> None:
    long = "reason " * 200_000  # 1.4 MB, one line
    test = TestRecord("t.py::test_long", "failed", (), (), 0.0, long)
    failure = suite_of(read(bundle_of(test), tmp_path)).find("testcase").find("failure")
    assert len(failure.get("message")) == MAX_MESSAGE_CHARS
    assert len(failure.text) <= 100_000 and "more characters, see results.json" in failure.text


def test_xml_text_strips_only_what_xml_forbids() -> None:
    kept = "tab\tnl\ncr\r é 中 🙂 \ud7ff \ue000 \ufffd"
    assert xml_text(kept) == kept
    assert xml_text("a\x00b\x1fc\ud800d\ufffee\x9f") == "abcde"


def test_ten_thousand_tests_stay_valid_and_quick(tmp_path: Path) -> None:
    tests = tuple(
        TestRecord(f"tests/test_many.py::test_case[{i}]", "failed" if i % 97 == 0 else "passed",
                   ("model",), (Metric(f"m{i % 3}", i / 10_000, threshold=0.0),), 0.001,
                   f"case {i} failed" if i % 97 == 0 else None)
        for i in range(10_000)
    )
    bundle = bundle_of(*tests)
    start = time.perf_counter()
    root = read(bundle, tmp_path)
    elapsed = time.perf_counter() - start
    suite = suite_of(root)
    cases = suite.findall("testcase")
    assert len(cases) == 10_000 and suite.get("tests") == "10000"
    assert suite.get("failures") == str(len(range(0, 10_000, 97)))
    assert len({(c.get("classname"), c.get("name")) for c in cases}) == 10_000
    assert all(c[0].tag == "properties" for c in cases)
    last = next(c for c in cases if c.get("name") == "test_case[9999]")
    assert case_props(last)["mlgate.metric.m0"] == "0.9999"
    suite_props = suite.find("properties").findall("property")
    assert len(suite_props) == 10_000 + 4  # + digest, model, version, commit
    assert elapsed < 30, f"writing 10,000 tests took {elapsed:.1f} s"
