"""End to end through `mlgate gate`: a failing GitHub publisher is reported, and the exit code
still says the verdict; the other publishers (decision.json) still run."""

from __future__ import annotations

import json

import pytest

from mlgate.bundle import Bundle, ModelRef, format_time, utc_now
from mlgate.cli import main
from mlgate.record import Metric, TestRecord

POLICY = """
model = "iris"
[require]
families = ["model"]
[[rule]]
kind = "bound"
metric = "accuracy"
min = 0.9
"""
TOKEN = "ghp_SECRETtoken1234567890abcdef"


@pytest.fixture
def project(tmp_path, monkeypatch, recording_server, sleeps):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlgate.toml").write_text(POLICY)
    monkeypatch.setenv("GITHUB_API_URL", recording_server.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    monkeypatch.setenv("MLGATE_PR_NUMBER", "3")
    # every GitHub call fails for good: 502 on statuses (retried), 404 elsewhere
    recording_server.script("POST", "/repos/acme/models/statuses/abc1234def", (502, {}))
    return tmp_path


def write_bundle(path, accuracy):
    Bundle(created_at=format_time(utc_now()), model=ModelRef("iris", "2"), commit="abc1234def",
           tests=(TestRecord("test_model.py::test_accuracy", "passed", ("model",),
                             (Metric("accuracy", accuracy),)),)).sealed().write(path)


@pytest.mark.parametrize(("accuracy", "code", "verdict"), [(0.95, 0, "promote"), (0.8, 1, "reject")])
def test_exit_code_is_the_verdict_when_github_fails(project, recording_server, capsys, accuracy,
                                                    code, verdict) -> None:
    write_bundle(project / "reports" / "results.json", accuracy)
    assert main(["gate", "-p", "no:mlflow", "--bundle", "reports/results.json"]) == code
    out = capsys.readouterr().out
    assert out.startswith(f"mlgate: {verdict.upper()}  iris v2")
    assert "  published: files: ok: decision written to" in out
    line = next(x for x in out.splitlines() if x.startswith("  published: github: FAILED: "))
    assert "HTTP 502" in line and "(after 5 attempts)" in line and "HTTP 404" in line
    assert TOKEN not in out
    assert json.loads((project / "reports" / "decision.json").read_text())["verdict"] == verdict
    assert recording_server.calls("GET", "/repos/acme/models/commits/abc1234def/check-runs")
    assert recording_server.calls("GET", "/repos/acme/models/issues/3/comments")


def test_json_output_lists_the_failed_publisher(project, capsys) -> None:
    write_bundle(project / "reports" / "results.json", 0.8)
    assert main(["gate", "-p", "no:mlflow", "--bundle", "reports/results.json", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    published = {p["publisher"]: p for p in data["published"]}
    assert published["files"]["ok"] and not published["github"]["ok"]
    assert TOKEN not in json.dumps(data)
