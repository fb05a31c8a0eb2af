"""The GitHub publisher against a real HTTP server on 127.0.0.1 that records every request."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest

from mlgate.hookspecs import GateContext
from mlgate.report._http import HttpError

TOKEN = "ghp_SECRETtoken1234567890abcdef"
SHA = "0123456789abcdef0123456789abcdef01234567"
REPO = "/api/v3/repos/acme/models"
MARK = "<!-- mlgate:iris -->"


@pytest.fixture
def github(recording_server, monkeypatch, tmp_path, sleeps):
    """GitHub Enterprise-style base URL on the local server, a PR, job summary and outputs."""
    monkeypatch.setenv("GITHUB_API_URL", recording_server.url + "/api/v3")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    monkeypatch.setenv("GITHUB_SHA", "f" * 40)
    monkeypatch.setenv("MLGATE_PR_NUMBER", "7")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output.txt"))
    s = recording_server
    s.script("POST", f"{REPO}/statuses/{SHA}", (201, {"id": 1}))
    s.script("GET", f"{REPO}/commits/{SHA}/check-runs", (200, {"total_count": 0, "check_runs": []}))
    s.script("POST", f"{REPO}/check-runs", (201, {"id": 99}))
    s.script("PATCH", f"{REPO}/check-runs/99", (200, {"id": 99}))
    s.script("GET", f"{REPO}/issues/7/comments", (200, []))
    s.script("POST", f"{REPO}/issues/7/comments", (201, {"id": 5}))
    s.script("PATCH", f"{REPO}/issues/comments/5", (200, {"id": 5}))
    return s


def publish(decision, bundle, tmp_path=Path(".")):
    from mlgate_github.plugin import mlgate_publish

    return mlgate_publish(decision=decision, bundle=bundle,
                          context=GateContext(project_dir=tmp_path, output_dir=tmp_path,
                                              actor={"job": "https://ci.example/run/1"}))


def test_publishes_status_check_run_comment_and_files(github, tmp_path, make_bundle,
                                                      make_decision) -> None:
    decision = make_decision("reject")
    result = publish(decision, make_bundle(n_failed=1), tmp_path)
    assert result.ok, result.message
    assert [(r.method, r.path) for r in github.requests] == [
        ("POST", f"{REPO}/statuses/{SHA}"),
        ("GET", f"{REPO}/commits/{SHA}/check-runs"),
        ("POST", f"{REPO}/check-runs"),
        ("GET", f"{REPO}/issues/7/comments"),
        ("POST", f"{REPO}/issues/7/comments"),
    ]
    for r in github.requests:
        assert r.headers["authorization"] == f"Bearer {TOKEN}"
        assert r.headers["accept"] == "application/vnd.github+json"
        assert r.headers["x-github-api-version"] == "2022-11-28"
        assert r.headers["user-agent"].startswith("mlgate")
    status, runs, check, listing, comment = github.requests
    assert runs.query == {"check_name": "mlgate", "per_page": "100"}
    assert status.body == {"state": "failure", "context": "mlgate",
                           "description": decision.summary(limit=140),  # the same words
                           "target_url": "https://ci.example/run/1"}
    assert check.body["name"] == "mlgate" and check.body["head_sha"] == SHA
    assert (check.body["status"], check.body["conclusion"]) == ("completed", "failure")
    assert check.body["external_id"] == decision.id
    assert check.body["output"]["title"] == "reject: iris v2"
    assert check.body["output"]["annotations"] == [{
        "path": "tests/test_model.py", "start_line": 1, "end_line": 1,
        "annotation_level": "failure", "title": "failed: tests/test_model.py::test_bad_0",
        "message": "assert 0 == 0"}]
    assert listing.query == {"per_page": "100", "page": "1"}
    assert comment.body["body"].startswith(MARK + "\n## ❌ mlgate: **REJECT** — iris v2")
    assert "| ❌ fail | `bound:m0` | 0.8 | 0.9 |" in comment.body["body"]
    assert (tmp_path / "output.txt").read_text() == f"verdict=reject\ndecision-id={decision.id}\n"
    assert (tmp_path / "summary.md").read_text().startswith(MARK)
    assert result.details["check_run_id"] == 99 and result.details["comment_id"] == 5


def test_states_for_each_verdict(github, make_bundle, make_decision) -> None:
    for verdict, state, conclusion in [("promote", "success", "success"),
                                       ("needs-review", "pending", "action_required")]:
        github.requests.clear()
        assert publish(make_decision(verdict), make_bundle()).ok
        assert github.calls("POST", f"{REPO}/statuses/{SHA}")[0].body["state"] == state
        assert github.calls("POST", f"{REPO}/check-runs")[0].body["conclusion"] == conclusion


def test_second_publish_edits_the_comment_found_by_its_marker(github, make_bundle,
                                                              make_decision) -> None:
    first = publish(make_decision("reject"), make_bundle())
    old_body = github.calls("POST", f"{REPO}/issues/7/comments")[0].body["body"]
    assert first.details["comment"] == "created (#7)"
    page1 = [{"id": 1000 + i, "body": "LGTM"} for i in range(100)]  # the marker is on page 2
    github.script("GET", f"{REPO}/issues/7/comments",
                  (200, page1), (200, [{"id": 5, "body": old_body}]))
    github.requests.clear()
    second = publish(make_decision("promote"), make_bundle())
    assert second.ok and second.details["comment"] == "updated (#7, comment 5)"
    assert [r.query["page"] for r in github.calls("GET", f"{REPO}/issues/7/comments")] == ["1", "2"]
    assert not github.calls("POST", f"{REPO}/issues/7/comments")
    (patch,) = github.calls("PATCH", f"{REPO}/issues/comments/5")
    assert patch.body["body"].startswith(MARK) and "PROMOTE" in patch.body["body"]
    # the same decision again: the comment is already right, nothing is written
    github.script("GET", f"{REPO}/issues/7/comments", (200, [{"id": 5, "body": patch.body["body"]}]))
    github.requests.clear()
    third = publish(make_decision("promote"), make_bundle())
    assert third.details["comment"] == "unchanged (#7, comment 5)"
    assert not github.calls("PATCH", f"{REPO}/issues/comments/5")


def test_the_same_decision_again_leaves_its_check_run(github, make_bundle, make_decision) -> None:
    decision = make_decision("reject")
    github.script("GET", f"{REPO}/commits/{SHA}/check-runs", (200, {"total_count": 2, "check_runs": [
        {"id": 41, "external_id": "another"}, {"id": 42, "external_id": decision.id}]}))
    result = publish(decision, make_bundle(n_failed=3))
    assert result.ok and result.details["check run"] == "unchanged (check run 42)"
    assert not github.calls("POST", f"{REPO}/check-runs")


def test_500_annotations_go_50_per_request(github, make_bundle, make_decision) -> None:
    result = publish(make_decision("reject"), make_bundle(n_failed=500))
    assert result.ok, result.message
    create = github.calls("POST", f"{REPO}/check-runs")
    updates = github.calls("PATCH", f"{REPO}/check-runs/99")
    assert len(create) == 1 and len(updates) == 9
    batches = [create[0].body["output"]["annotations"]] + [u.body["output"]["annotations"]
                                                           for u in updates]
    assert [len(b) for b in batches] == [50] * 10
    titles = [a["title"] for b in batches for a in b]
    assert len(set(titles)) == 500
    assert all(u.body["output"]["title"] and u.body["output"]["summary"] for u in updates)
    assert result.details["check run"] == "failure, 500 annotations in 10 requests"


def test_annotations_beyond_the_cap_are_counted_not_sent(github, make_bundle, make_decision) -> None:
    publish(make_decision("reject"), make_bundle(n_failed=1234))
    sent = sum(len(r.body["output"]["annotations"]) for r in github.requests
               if r.path.startswith(f"{REPO}/check-runs"))
    assert sent == 1000
    summary = github.calls("POST", f"{REPO}/check-runs")[0].body["output"]["summary"]
    assert "234 more annotations left out (at most 1000)" in summary


def test_a_1mb_reason_and_10000_tests_stay_within_every_limit(github, tmp_path, make_bundle,
                                                              make_decision) -> None:
    huge = "x" * 1_000_000
    decision = make_decision("reject", n_rules=3000)  # 3000 rules, the first failed one 1 MB long
    decision = replace(decision, reasons=(decision.reasons[0], replace(decision.reasons[1], message=huge),
                                          *decision.reasons[2:]))
    result = publish(decision, make_bundle(n_failed=10_000, n_passed=0, message=huge), tmp_path)
    assert result.ok, result.message
    status = github.calls("POST", f"{REPO}/statuses/{SHA}")[0].body
    assert len(status["description"]) <= 140
    checks = [r for r in github.requests if r.path.startswith(f"{REPO}/check-runs")]
    assert all(r.body is not None for r in checks)
    assert len(checks) == 20  # 1000 annotations, 50 per request
    for r in checks:
        out = r.body["output"]
        assert len(out["summary"]) <= 65_535 and len(out["title"]) <= 255
        assert len(out["annotations"]) <= 50
        assert all(len(a["message"]) <= 4000 and len(a["title"]) <= 255 for a in out["annotations"])
    body = github.calls("POST", f"{REPO}/issues/7/comments")[0].body["body"]
    assert len(body) <= 65_536 and body.startswith(MARK)
    assert body.rstrip().endswith("more rules, see the report")
    assert "10000 failed" in body
    assert len((tmp_path / "summary.md").read_text()) <= 65_536


def test_retries_502_and_429_then_succeeds(github, sleeps, make_bundle, make_decision) -> None:
    github.script("POST", f"{REPO}/statuses/{SHA}", (502, {"message": "Bad gateway"}),
                  (429, {"message": "slow down"}, {"Retry-After": "3"}),
                  (403, {"message": "API rate limit exceeded"}, {"X-RateLimit-Remaining": "0",
                                                                 "X-RateLimit-Reset": "5"}),
                  (201, {"id": 1}))
    result = publish(make_decision("promote"), make_bundle())
    assert result.ok, result.message
    assert len(github.calls("POST", f"{REPO}/statuses/{SHA}")) == 4
    assert sleeps == [1.0, 3.0, 5.0]


def test_permanent_500_fails_the_publisher_without_the_token_and_the_rest_still_runs(
        github, sleeps, make_bundle, make_decision) -> None:
    github.script("POST", f"{REPO}/statuses/{SHA}", (500, {"message": f"boom, token {TOKEN}"}))
    result = publish(make_decision("reject"), make_bundle())
    assert not result.ok
    assert len(github.calls("POST", f"{REPO}/statuses/{SHA}")) == 5  # bounded attempts
    assert sleeps == [1.0, 2.0, 4.0, 8.0] and sum(sleeps) <= 60
    assert "status: failed: POST /repos/acme/models/statuses/" in result.message
    assert "HTTP 500: boom, token *** (after 5 attempts)" in result.message
    assert TOKEN not in result.message and TOKEN not in json.dumps(result.details)
    assert TOKEN not in repr(result)
    assert github.calls("POST", f"{REPO}/check-runs") and github.calls("POST", f"{REPO}/issues/7/comments")


def test_403_on_check_runs_is_reported_not_a_failure(github, make_bundle, make_decision) -> None:
    github.script("POST", f"{REPO}/check-runs", (403, {"message": "Resource not accessible by integration"}))
    result = publish(make_decision("reject"), make_bundle(n_failed=3))
    assert result.ok, result.message
    assert "check runs need a GitHub App token" in result.details["check run"]
    assert len(github.calls("POST", f"{REPO}/check-runs")) == 1  # not a rate limit: no retry
    assert github.calls("POST", f"{REPO}/statuses/{SHA}")
    assert github.calls("POST", f"{REPO}/issues/7/comments")


def test_422_is_not_retried(github, sleeps, make_bundle, make_decision) -> None:
    github.script("POST", f"{REPO}/statuses/{SHA}", (422, {"message": "Validation Failed"}))
    result = publish(make_decision("reject"), make_bundle())
    assert not result.ok and "HTTP 422: Validation Failed" in result.details["status"]
    assert len(github.calls("POST", f"{REPO}/statuses/{SHA}")) == 1 and sleeps == []


def test_pull_request_event_gives_the_number_and_the_head_sha(github, monkeypatch, tmp_path,
                                                             make_bundle, make_decision) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 12, "head": {"sha": "a" * 40}}}))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.delenv("MLGATE_PR_NUMBER")
    github.script("POST", f"{REPO}/statuses/{'a' * 40}", (201, {}))
    github.script("GET", f"{REPO}/commits/{'a' * 40}/check-runs", (200, {"check_runs": []}))
    github.script("GET", f"{REPO}/issues/12/comments", (200, []))
    github.script("POST", f"{REPO}/issues/12/comments", (201, {"id": 8}))
    assert publish(make_decision("promote"), make_bundle()).ok
    assert github.calls("POST", f"{REPO}/check-runs")[0].body["head_sha"] == "a" * 40


def test_not_configured_publishes_nothing(recording_server, make_bundle, make_decision) -> None:
    assert publish(make_decision(), make_bundle()) is None
    assert recording_server.requests == []


def test_only_the_job_files_without_a_token(monkeypatch, tmp_path, make_bundle, make_decision) -> None:
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    result = publish(make_decision("needs-review"), make_bundle())
    assert result.ok and result.details["api"].startswith("skipped: set GITHUB_TOKEN")
    assert (tmp_path / "out").read_text().startswith("verdict=needs-review\n")


def test_the_token_stays_out_of_reprs_and_errors(monkeypatch) -> None:
    from mlgate_github.publish import GitHubConfig, client

    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    config = GitHubConfig.from_env()
    http = client(config)
    assert TOKEN not in repr(config) and TOKEN not in repr(http)
    err = pickle.loads(pickle.dumps(HttpError("x", status=500, method="GET", path="/p")))
    assert (str(err), err.status, err.path) == ("x", 500, "/p")


def test_unreachable_server_is_retried_then_reported(monkeypatch, sleeps, make_bundle,
                                                     make_decision) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    result = publish(make_decision(), make_bundle())
    assert not result.ok and "connection failed" in result.details["status"]
    assert len(sleeps) == 4 * 2  # status and check run retried; no PR: no comment
    assert TOKEN not in result.message
