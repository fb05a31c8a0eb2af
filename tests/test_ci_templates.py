"""The drop-in CI files hold together: the GitHub Action (action.yml), the GitLab template and the
example workflows, read as YAML; the Jenkinsfile read as text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from mlgate.gate import EXIT_CODES, EXIT_INPUT_ERROR

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
GITLAB_TEMPLATE = ROOT / "ci" / "gitlab" / "mlgate.gitlab-ci.yml"
EXAMPLES = ROOT / "examples" / "ci"

INPUT_REF = re.compile(r"\$\{\{\s*inputs\.([A-Za-z0-9_-]+)\s*\}\}|\binputs\.([A-Za-z0-9_-]+)")


def load(path: Path) -> Any:
    yaml = pytest.importorskip("yaml")
    # BaseLoader: every scalar stays a string, and `on:` stays the key "on" (not True)
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)


@pytest.fixture(scope="module")
def action() -> dict[str, Any]:
    return load(ACTION)


def steps_of(action: dict[str, Any]) -> list[dict[str, Any]]:
    return action["runs"]["steps"]


def step(action: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(s for s in steps_of(action) if s.get("id") == step_id)


def test_exit_codes_are_the_ones_the_templates_map() -> None:
    assert EXIT_CODES == {"promote": 0, "reject": 1, "needs-review": 3}
    assert EXIT_INPUT_ERROR == 2


def test_action_is_a_composite_action_with_documented_inputs(action: dict[str, Any]) -> None:
    assert action["runs"]["using"] == "composite"
    inputs = action["inputs"]
    for name in ("python-version", "mlgate-spec", "working-directory", "model", "model-version",
                 "policy", "pytest-args", "publish", "upload-artifact", "github-token"):
        assert name in inputs, name
    for name, spec in inputs.items():
        assert spec.get("description"), f"input {name} has no description"
    # every run step names its shell (composite actions require it)
    for s in steps_of(action):
        assert ("run" in s) != ("uses" in s), s.get("name")
        if "run" in s:
            assert s.get("shell") == "bash", s.get("name")


def test_every_input_the_action_reads_is_declared(action: dict[str, Any]) -> None:
    text = ACTION.read_text(encoding="utf-8")
    used = {a or b for a, b in INPUT_REF.findall(text)}
    assert used, "the action reads no inputs"
    assert used <= set(action["inputs"]), used - set(action["inputs"])
    # and every declared input is used somewhere
    assert set(action["inputs"]) <= used, set(action["inputs"]) - used


def test_inputs_reach_scripts_through_the_environment_only(action: dict[str, Any]) -> None:
    # an input spliced into a script's text is a script injection; env: is the safe way
    for s in steps_of(action):
        if "run" in s:
            assert "${{" not in s["run"], s.get("name")


def test_action_runs_setup_install_pytest_gate_upload_in_order(action: dict[str, Any]) -> None:
    steps = steps_of(action)
    uses = [s.get("uses", "") for s in steps]
    assert uses[0].startswith("actions/setup-python@")
    install = next(s for s in steps if "pip install" in s.get("run", ""))
    assert '"$MLGATE_SPEC"' in install["run"] and install["env"]["MLGATE_SPEC"] == "${{ inputs.mlgate-spec }}"
    pytest_step = step(action, "pytest")
    assert "python -m pytest" in pytest_step["run"]
    assert "--mlgate-model=" in pytest_step["run"] and "--mlgate-model-version=" in pytest_step["run"]
    assert "--mlgate-dir=" in pytest_step["run"]
    gate = step(action, "gate")
    assert "mlgate gate" in gate["run"] and "--no-publish" in gate["run"]
    assert gate["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"
    order = [steps.index(x) for x in (install, pytest_step, gate)]
    assert order == sorted(order)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"].startswith("always()")
    assert steps.index(upload) > steps.index(gate)


def test_a_failed_pytest_or_gate_does_not_skip_the_upload(action: dict[str, Any]) -> None:
    # the pytest and gate steps capture their codes instead of failing, so the steps after them run
    for step_id in ("pytest", "gate"):
        run = step(action, step_id)["run"]
        assert "set +e" in run and "code=$?" in run
        assert 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in run


def test_the_last_step_exits_with_the_gate_exit_code(action: dict[str, Any]) -> None:
    last = steps_of(action)[-1]
    assert last["if"] == "always()"
    assert last["env"]["MLGATE_EXIT"] == "${{ steps.gate.outputs.exit-code }}"
    assert 'exit "$code"' in last["run"]
    # no decision at all (an earlier step failed) is an input error, never a pass
    assert 'code="${MLGATE_EXIT:-2}"' in last["run"]
    assert '"$code" = "3"' in last["run"] and "MLGATE_FAIL_ON_REVIEW" in last["run"]


def test_action_outputs_come_from_steps_that_write_them(action: dict[str, Any]) -> None:
    outputs = action["outputs"]
    assert {"verdict", "decision-id", "exit-code"} <= set(outputs)
    ids = {s.get("id") for s in steps_of(action)}
    for name, spec in outputs.items():
        m = re.fullmatch(r"\$\{\{ steps\.([a-z-]+)\.outputs\.([a-z-]+) \}\}", spec["value"])
        assert m, name
        assert m.group(1) in ids
        assert f"{m.group(2)}=" in step(action, m.group(1))["run"]


def test_the_decision_reader_parses_gate_json(action: dict[str, Any], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the 'Read the decision' script on a real decision's JSON."""
    import json

    script = step(action, "result")["run"]
    body = script.split("<<'PY'\n", 1)[1].rsplit("PY", 1)[0]
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "gate.json").write_text(json.dumps(
        {"verdict": "needs-review", "id": "d-123",
         "reasons": [{"rule": "noninferiority accuracy", "status": "review", "message": "straddles"}]}))
    out = tmp_path / "github_output"
    monkeypatch.setenv("MLGATE_REPORTS", str(reports))
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    exec(compile(body, "action.yml", "exec"), {})
    assert out.read_text().splitlines() == ["verdict=needs-review", "decision-id=d-123"]
    (reports / "gate.json").write_text("")  # the gate failed before printing (input error)
    out.unlink()
    exec(compile(body, "action.yml", "exec"), {})
    assert out.read_text().splitlines() == ["verdict=", "decision-id="]


def test_gitlab_template_is_a_hidden_job_with_reports(tmp_path: Path) -> None:
    template = load(GITLAB_TEMPLATE)
    assert set(template) == {".mlgate"}
    job = template[".mlgate"]
    script = "\n".join(job["script"])
    assert "python -m pytest --mlgate-dir=reports" in script
    assert "mlgate gate" in script and "--bundle reports/results.json" in script
    # pytest's failure does not end the job before the gate; the gate's exit code is the job's
    assert "|| echo" in job["script"][0]
    assert job["script"][-1].rstrip().splitlines()[-1].startswith("mlgate gate")
    assert job["allow_failure"] == {"exit_codes": ["3"]}
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    assert artifacts["paths"] == ["reports/"]
    assert artifacts["reports"] == {"junit": "reports/junit.xml", "metrics": "reports/metrics.txt"}
    assert any("pip install" in line and "$MLGATE_SPEC" in line for line in job["before_script"])
    for name in ("MLGATE_SPEC", "MLGATE_MODEL", "MLGATE_MODEL_VERSION", "MLGATE_POLICY"):
        assert name in job["variables"]


def test_gitlab_example_includes_and_extends_the_template() -> None:
    example = load(EXAMPLES / "gitlab-ci.yml")
    (include,) = example["include"]
    assert include["file"].lstrip("/") == GITLAB_TEMPLATE.relative_to(ROOT).as_posix()
    jobs = {k: v for k, v in example.items() if isinstance(v, dict) and "extends" in v}
    assert jobs and all(job["extends"] == ".mlgate" for job in jobs.values())
    assert all(job["stage"] in example["stages"] for job in jobs.values())


def test_github_example_uses_the_action_with_declared_inputs(action: dict[str, Any]) -> None:
    workflow = load(EXAMPLES / "github-workflow.yml")
    assert "pull_request" in workflow["on"]
    assert workflow["permissions"]["statuses"] == "write"
    assert workflow["permissions"]["pull-requests"] == "write"
    steps = workflow["jobs"]["gate"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    gate = next(s for s in steps if s.get("uses") == "./" or "mlgate@" in s.get("uses", ""))
    assert set(gate["with"]) <= set(action["inputs"]), set(gate["with"]) - set(action["inputs"])
    later = "\n".join(str(s) for s in steps[steps.index(gate) + 1:])
    assert f"steps.{gate['id']}.outputs.verdict" in later


def test_jenkinsfile_publishes_junit_and_maps_exit_codes() -> None:
    text = (EXAMPLES / "Jenkinsfile").read_text(encoding="utf-8")
    code = "\n".join(line.split("//", 1)[0] for line in text.splitlines())  # without comments
    assert re.search(r"\bpipeline\s*\{", code) and re.search(r"\bstages\s*\{", code)
    assert re.search(r"junit\s+testResults:\s*'reports/junit\.xml'", code)
    assert "keepProperties: true" in code
    assert re.search(r"archiveArtifacts\s+artifacts:\s*'reports/\*\*'", code)
    # junit and archiveArtifacts run whatever the verdict
    post = code[code.index("post {"):]
    assert "always {" in post and "junit" in post and "archiveArtifacts" in post
    # the gate's code is read, not thrown: returnStatus
    assert re.search(r"int code = sh\(returnStatus: true,[^)]*mlgate gate", code, re.S)
    assert re.search(r"code == 3\)\s*\{\s*unstable\(", code)
    assert re.search(r"code == 1\)\s*\{\s*error\(", code)
    assert re.search(r"\}\s*else\s*\{\s*error\(", code)  # 2 and anything else: failure
    assert "python -m pytest --mlgate-dir=reports" in code
