"""JUnit XML from a bundle, as Jenkins' JUnit plugin (and GitLab, and most CI readers) read it.

The base document is written with junit-xml; two things it cannot do are added to its element
tree before serialising:

- **per-test properties**: ``<testcase><properties><property name=… value=…/>`` with every metric
  the test recorded (``mlgate.metric.<name>`` and its threshold, direction, interval, unit), the
  outcome, the check families and the node id. Jenkins keeps them with ``junit keepProperties: true``.
- **suite properties** stay as before: the bundle's binding (``mlgate.model``,
  ``mlgate.model_version``, ``mlgate.commit``, ``mlgate.bundle_digest``) and every metric as
  ``mlgate.metric.<nodeid>::<name>``, for readers that only look at the suite.

``classname`` is the test file as a dotted module (``tests/test_model.py::TestX::test_y`` →
``tests.test_model.TestX``), as pytest's own junitxml writes it, so Jenkins groups by package
``tests``, class ``test_model``; ``file`` is the path. Failure and skip messages are one line in
the ``message`` attribute (Jenkins' "error details") with the whole text as the element's body.

Every string passes through :func:`xml_text`, which drops what XML 1.0 cannot hold (C0 control
characters but tab, newline and carriage return; C1 controls; lone surrogates; U+FFFE, U+FFFF),
so hostile test names and messages still give a well-formed document.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from mlgate.bundle import Bundle, write_text_atomic
from mlgate.record import Metric, TestRecord, encode_float

SUITE_NAME = "mlgate"
#: the ``message`` attribute is one line, at most this long (the body keeps the whole text)
MAX_MESSAGE_CHARS = 1_000
#: the body of a failure, error or skip element is cut here (Jenkins trims long text itself)
MAX_BODY_CHARS = 100_000

# XML 1.0 `Char` minus the discouraged C1 controls: anything else is dropped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """``value`` as a string XML 1.0 can carry: forbidden characters removed."""
    return _ILLEGAL.sub("", str(value))


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = f" … [cut: {len(text) - limit} more characters, see results.json]"
    return text[: limit - len(note)] + note


def split_nodeid(nodeid: str) -> tuple[str, str, str]:
    """``(file, classname, name)`` of a pytest node id, as pytest's junitxml names them.

    Parameters (``[...]``) stay in the name whatever they contain (``::``, ``/``, dots)."""
    base, params = nodeid, ""
    if nodeid.endswith("]") and "[" in nodeid:
        cut = nodeid.index("[")
        base, params = nodeid[:cut], nodeid[cut:]
    parts = base.split("::")
    path = parts[0]
    module = path[:-3] if path.endswith(".py") else path
    module = module.replace("\\", "/").strip("/").replace("/", ".") or SUITE_NAME
    if len(parts) == 1:  # a file-level node (a collection error): the module is the name
        return path, module, (module.rpartition(".")[2] or module) + params
    classname = ".".join([module, *[p for p in parts[1:-1] if p]])
    return path, classname, (parts[-1] or "(unnamed)") + params


def _number(value: float | None) -> str:
    return "" if value is None else str(encode_float(value))


def metric_properties(metric: Metric) -> list[tuple[str, str]]:
    """The ``(name, value)`` properties of one metric on its test case."""
    key = f"mlgate.metric.{metric.name}"
    props = [(key, _number(metric.value))]
    if metric.threshold is not None:
        props.append((f"{key}.threshold", _number(metric.threshold)))
    props.append((f"{key}.direction", metric.direction))
    if metric.interval is not None:
        iv = metric.interval.to_json()
        props.append((f"{key}.interval", f"[{iv['low']}, {iv['high']}] level {iv['level']}"))
    if metric.unit:
        props.append((f"{key}.unit", metric.unit))
    if metric.passed is not None:
        props.append((f"{key}.passed", "true" if metric.passed else "false"))
    return props


def case_properties(test: TestRecord) -> list[tuple[str, str]]:
    props = [("mlgate.nodeid", test.nodeid), ("mlgate.outcome", test.outcome)]
    if test.families:
        props.append(("mlgate.families", ",".join(test.families)))
    if test.rubric:
        props.append(("mlgate.rubric", ",".join(test.rubric)))
    for metric in test.metrics:
        props.extend(metric_properties(metric))
    return props


def _message(test: TestRecord) -> tuple[str, str]:
    """(one-line message attribute, full body)."""
    text = xml_text(test.message or test.outcome)
    first = text.strip().splitlines()[0].strip() if text.strip() else test.outcome
    if test.outcome == "xfailed":
        first = f"xfail: {first}"
    return _cut(first, MAX_MESSAGE_CHARS), _cut(text, MAX_BODY_CHARS)


def build_tree(bundle: Bundle) -> ET.Element:
    """The ``<testsuites>`` element of a bundle (junit-xml's document plus test-case properties)."""
    from junit_xml import TestCase, TestSuite

    suite_props: dict[str, str] = {"mlgate.bundle_digest": bundle.digest}
    if bundle.model is not None:
        suite_props["mlgate.model"] = xml_text(bundle.model.name)
        suite_props["mlgate.model_version"] = xml_text(bundle.model.version)
    if bundle.commit:
        suite_props["mlgate.commit"] = xml_text(bundle.commit)
    tests = sorted(bundle.tests, key=lambda t: t.nodeid)
    cases = []
    for test in tests:
        file, classname, name = (xml_text(s) for s in split_nodeid(test.nodeid))
        case = TestCase(name, classname=classname, file=file, elapsed_sec=round(test.duration, 6),
                        status=test.outcome)
        if test.outcome in ("failed", "error", "skipped", "xfailed"):
            message, body = _message(test)
            if test.outcome == "failed":
                case.add_failure_info(message=message, output=body, failure_type="mlgate.failed")
            elif test.outcome == "error":
                case.add_error_info(message=message, output=body, error_type="mlgate.error")
            else:
                case.add_skipped_info(message=message, output=body)
        cases.append(case)
        for metric in test.metrics:
            suite_props[xml_text(f"mlgate.metric.{test.nodeid}::{metric.name}")] = _number(metric.value)
    suite = TestSuite(SUITE_NAME, cases, properties=suite_props,
                      timestamp=xml_text(bundle.created_at) or None)
    suite_el = suite.build_xml_doc()
    for test, case_el in zip(tests, suite_el.iter("testcase"), strict=True):
        if test.outcome == "xfailed":
            skipped = case_el.find("skipped")
            if skipped is not None:
                skipped.set("type", "pytest.xfail")
        props = ET.Element("properties")
        for key, value in case_properties(test):
            ET.SubElement(props, "property", {"name": xml_text(key), "value": xml_text(value)})
        case_el.insert(0, props)  # before failure/skipped, as pytest's junitxml places them
    root = ET.Element("testsuites", {
        key: suite_el.get(key, "0") for key in ("tests", "failures", "errors", "skipped", "time")})
    root.set("name", SUITE_NAME)
    root.append(suite_el)
    return root


def to_xml(bundle: Bundle) -> str:
    """The JUnit XML document of a bundle, as text (UTF-8 declared)."""
    root = build_tree(bundle)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=False).join(
        ('<?xml version="1.0" encoding="utf-8"?>\n', "\n"))


def write_junit(bundle: Bundle, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, to_xml(bundle))
    return path
