"""The GitLab publisher against a real HTTP server on 127.0.0.1, and its OpenMetrics report."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace

import pytest

from mlgate.bundle import Bundle, ModelRef
from mlgate.hookspecs import GateContext
from mlgate.record import Metric, TestRecord
from mlgate.report.openmetrics import openmetrics_text

TOKEN = "glpat-SECRETtoken1234567890"
SHA = "0123456789abcdef0123456789abcdef01234567"
PROJECT = "/api/v4/projects/acme%2Fmodels"
NOTES = f"{PROJECT}/merge_requests/4/notes"
MARK = "<!-- mlgate:iris -->"


@pytest.fixture
def gitlab(recording_server, monkeypatch, sleeps):
    monkeypatch.setenv("CI_API_V4_URL", recording_server.url + "/api/v4")
    monkeypatch.setenv("MLGATE_GITLAB_TOKEN", TOKEN)
    monkeypatch.setenv("CI_JOB_TOKEN", "job-token-not-used")
    monkeypatch.setenv("CI_PROJECT_ID", "acme/models")
    monkeypatch.setenv("CI_MERGE_REQUEST_IID", "4")
    monkeypatch.setenv("CI_PIPELINE_ID", "77")
    monkeypatch.setenv("CI_COMMIT_REF_NAME", "feature")
    monkeypatch.setenv("CI_JOB_URL", "https://gitlab.example/acme/models/-/jobs/9")
    s = recording_server
    s.script("POST", f"{PROJECT}/statuses/{SHA}", (201, {"id": 1}))
    s.script("GET", NOTES, (200, []))
    s.script("POST", NOTES, (201, {"id": 31}))
    s.script("PUT", f"{NOTES}/31", (200, {"id": 31}))
    return s


def publish(decision, bundle, tmp_path):
    from mlgate_gitlab.plugin import mlgate_publish

    return mlgate_publish(decision=decision, bundle=bundle,
                          context=GateContext(project_dir=tmp_path, output_dir=tmp_path / "reports"))


# a strict reading of the OpenMetrics text exposition (what GitLab's metrics report parses)
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
                     r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")*)?\})? (\S+)$')


def parse_openmetrics(text: str) -> dict[str, dict[str, float]]:
    assert text.endswith("# EOF\n") and text.count("# EOF") == 1
    families: dict[str, dict[str, float]] = {}
    current = None
    for line in text.splitlines()[:-1]:
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind == "gauge" and name not in families, line
            current = families[name] = {}
            continue
        if line.startswith("# HELP "):
            assert line.split(" ")[2] == next(reversed(families))
            continue
        m = _SAMPLE.match(line)
        assert m, f"not an OpenMetrics sample: {line!r}"
        assert m.group(1) == next(reversed(families)), "samples of a family must be together"
        labels = m.group(2) or ""
        assert labels not in current, f"duplicate sample {line!r}"
        current[labels] = float(m.group(3).replace("+Inf", "inf").replace("-Inf", "-inf"))
    return families


def test_publishes_status_note_and_metrics(gitlab, tmp_path, make_bundle, make_decision) -> None:
    decision = make_decision("reject")
    result = publish(decision, make_bundle(n_failed=1, n_passed=2), tmp_path)
    assert result.ok, result.message
    assert [(r.method, r.path) for r in gitlab.requests] == [
        ("POST", f"{PROJECT}/statuses/{SHA}"), ("GET", NOTES), ("POST", NOTES)]
    for r in gitlab.requests:
        assert r.headers["private-token"] == TOKEN and "job-token" not in r.headers
        assert r.headers["user-agent"].startswith("mlgate")
    status = gitlab.requests[0].body
    assert status == {"state": "failed", "name": "mlgate",
                      "description": decision.summary(limit=255), "pipeline_id": 77,
                      "ref": "feature", "target_url": "https://gitlab.example/acme/models/-/jobs/9"}
    assert gitlab.requests[2].body["body"].startswith(MARK + "\n## ❌ mlgate: **REJECT**")
    families = parse_openmetrics((tmp_path / "reports" / "metrics.txt").read_text())
    assert families["mlgate_metric_accuracy"] == {
        f'{{metric="accuracy",test="tests/test_model.py::test_ok_{i}"}}': 0.95 for i in range(2)}
    assert families["mlgate_tests"] == {'{outcome="failed"}': 1, '{outcome="passed"}': 2}
    assert families["mlgate_verdict"] == {'{verdict="reject"}': 1}
    assert result.details["metrics_path"].endswith("reports/metrics.txt")


def test_states_and_the_job_token(gitlab, monkeypatch, tmp_path, make_bundle, make_decision) -> None:
    monkeypatch.delenv("MLGATE_GITLAB_TOKEN")
    for verdict, state in [("promote", "success"), ("needs-review", "pending")]:
        gitlab.requests.clear()
        assert publish(make_decision(verdict), make_bundle(), tmp_path).ok
        assert gitlab.requests[0].body["state"] == state
        assert gitlab.requests[0].headers["job-token"] == "job-token-not-used"
        assert "private-token" not in gitlab.requests[0].headers


def test_second_publish_edits_the_note_found_by_its_marker(gitlab, tmp_path, make_bundle,
                                                           make_decision) -> None:
    publish(make_decision("reject"), make_bundle(), tmp_path)
    old = gitlab.calls("POST", NOTES)[0].body["body"]
    gitlab.script("GET", NOTES, (200, [{"id": 30, "body": MARK + " changed the title", "system": True},
                                       {"id": 31, "body": old, "system": False}]))
    gitlab.requests.clear()
    result = publish(make_decision("promote"), make_bundle(), tmp_path)
    assert result.ok and result.details["note"] == "updated (!4, note 31)"
    assert not gitlab.calls("POST", NOTES)
    (put,) = gitlab.calls("PUT", f"{NOTES}/31")
    assert "PROMOTE" in put.body["body"]


def test_same_state_again_is_unchanged_not_an_error(gitlab, tmp_path, make_bundle, make_decision) -> None:
    gitlab.script("POST", f"{PROJECT}/statuses/{SHA}",
                  (400, {"message": "Cannot transition status via :run from :running"}))
    result = publish(make_decision("reject"), make_bundle(), tmp_path)
    assert result.ok and result.details["status"].endswith("(unchanged)")


def test_retries_then_success_and_permanent_500_without_the_token(gitlab, sleeps, tmp_path,
                                                                  make_bundle, make_decision) -> None:
    gitlab.script("POST", f"{PROJECT}/statuses/{SHA}", (502, {}),
                  (429, {"message": "Retry later"}, {"Retry-After": "2"}), (201, {}))
    assert publish(make_decision("promote"), make_bundle(), tmp_path).ok
    assert sleeps == [1.0, 2.0]
    sleeps.clear()
    gitlab.script("POST", f"{PROJECT}/statuses/{SHA}", (500, {"message": f"oops {TOKEN}"}))
    gitlab.requests.clear()
    result = publish(make_decision("reject"), make_bundle(), tmp_path)
    assert not result.ok and "HTTP 500: oops *** (after 5 attempts)" in result.details["status"]
    assert TOKEN not in result.message and TOKEN not in json.dumps(result.details)
    assert gitlab.calls("POST", NOTES), "the note is still written"
    assert (tmp_path / "reports" / "metrics.txt").exists()


def test_a_1mb_reason_and_10000_tests_stay_within_limits(gitlab, tmp_path, make_bundle,
                                                         make_decision) -> None:
    decision = make_decision("reject", n_rules=3000)
    decision = replace(decision, reasons=(decision.reasons[0],
                                          replace(decision.reasons[1], message="z" * 1_000_000),
                                          *decision.reasons[2:]))
    bundle = make_bundle(n_failed=5000, n_passed=5000, message="q" * 1_000_000)
    result = publish(decision, bundle, tmp_path)
    assert result.ok, result.message
    assert len(gitlab.calls("POST", f"{PROJECT}/statuses/{SHA}")[0].body["description"]) <= 255
    body = gitlab.calls("POST", NOTES)[0].body["body"]
    assert len(body) <= 1_000_000 and body.startswith(MARK)
    families = parse_openmetrics((tmp_path / "reports" / "metrics.txt").read_text())
    assert len(families["mlgate_metric_accuracy"]) == 5000
    assert families["mlgate_tests"] == {'{outcome="failed"}': 5000, '{outcome="passed"}': 5000}


def test_in_ci_without_api_only_the_metrics_file(monkeypatch, tmp_path, make_bundle, make_decision) -> None:
    from mlgate_gitlab.plugin import mlgate_publish

    context = GateContext(project_dir=tmp_path, output_dir=tmp_path)
    assert mlgate_publish(decision=make_decision(), bundle=make_bundle(), context=context) is None
    monkeypatch.setenv("GITLAB_CI", "true")
    result = mlgate_publish(decision=make_decision(), bundle=make_bundle(), context=context)
    assert result.ok and result.details["api"].startswith("skipped")
    assert (tmp_path / "metrics.txt").read_text().endswith("# EOF\n")


def test_openmetrics_names_labels_and_values_are_valid() -> None:
    tests = (
        TestRecord('t.py::test["a\\b"]\nx', "passed", (), (
            Metric("f1-score @0.5", 0.5, 0.4), Metric("f1_score__0_5", 0.6), Metric("9lives", math.nan),
            Metric("loss", math.inf, 1.0, "lower"), Metric("f1-score @0.5", 0.7))),
        TestRecord("t.py::test_b", "skipped", (), (Metric("é", -math.inf),)),
    )
    text = openmetrics_text(Bundle("2026-01-01T00:00:00Z", ModelRef("m"), None, tests))
    families = parse_openmetrics(text)
    label = 'test="t.py::test[\\"a\\\\b\\"]\\nx"'
    f1 = families["mlgate_metric_f1_score__0_5"]
    assert f1 == {f'{{metric="f1-score @0.5",{label}}}': 0.5, f'{{metric="f1_score__0_5",{label}}}': 0.6}
    assert families["mlgate_threshold_f1_score__0_5"] == {f'{{metric="f1-score @0.5",{label}}}': 0.4}
    assert math.isnan(next(iter(families["mlgate_metric_9lives"].values())))
    assert families["mlgate_metric_loss"] == {f'{{metric="loss",{label}}}': math.inf}
    assert families["mlgate_metric__"] == {'{metric="é",test="t.py::test_b"}': -math.inf}
    assert "+Inf" in text and "-Inf" in text and "NaN" in text
    assert "mlgate_verdict" not in families  # no decision given
