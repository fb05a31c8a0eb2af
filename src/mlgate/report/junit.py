"""JUnit XML from a bundle, written with junit-xml, metrics as properties.

junit-xml keeps properties on the ``<testsuite>``; each metric becomes
``mlgate.metric.<nodeid>::<name>`` with its value, and the bundle's binding (model, version,
commit, digest) is there too, so a CI system that reads JUnit shows what was tested.
"""

from __future__ import annotations

from pathlib import Path

from mlgate.bundle import Bundle, write_text_atomic
from mlgate.record import encode_float


def _split(nodeid: str) -> tuple[str, str]:
    path, _, name = nodeid.rpartition("::")
    if not path:
        return "", nodeid
    classname = path.replace("/", ".").replace("::", ".")
    if classname.endswith(".py"):
        classname = classname[:-3]
    return classname.replace(".py.", "."), name


def write_junit(bundle: Bundle, path: Path) -> Path:
    from junit_xml import TestCase, TestSuite, to_xml_report_string

    cases = []
    properties: dict[str, str] = {"mlgate.bundle_digest": bundle.digest}
    if bundle.model is not None:
        properties["mlgate.model"] = bundle.model.name
        properties["mlgate.model_version"] = str(bundle.model.version)
    if bundle.commit:
        properties["mlgate.commit"] = bundle.commit
    for test in bundle.tests:
        classname, name = _split(test.nodeid)
        case = TestCase(name, classname=classname, elapsed_sec=round(test.duration, 6),
                        status=test.outcome, category=",".join(test.families) or None)
        message = test.message or test.outcome
        if test.outcome == "failed":
            case.add_failure_info(message=message)
        elif test.outcome == "error":
            case.add_error_info(message=message)
        elif test.outcome in ("skipped", "xfailed"):
            case.add_skipped_info(message=message)
        cases.append(case)
        for metric in test.metrics:
            properties[f"mlgate.metric.{test.nodeid}::{metric.name}"] = str(
                encode_float(metric.value))
    suite = TestSuite("mlgate", cases, properties=properties)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, to_xml_report_string([suite], prettyprint=True, encoding="utf-8"))
    return path
