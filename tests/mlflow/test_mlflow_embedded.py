"""The MLflow registry on the embedded SQLite default (no server): layout, ordering,
idempotency, history and rollback, with decisions made by the real ``decide()``; and an
unreachable remote registry."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mlgate.bundle import Bundle, ModelRef
from mlgate.errors import RegistryError
from mlgate.gate import Decision, Reason
from mlgate.hookspecs import GateContext, Registry
from mlgate.manager import get_registry, plugin_manager, publish_all
from mlgate_mlflow.audit import PREFIX, VALUE_LIMIT, AliasMove, AuditRecord
from mlgate_mlflow.connection import redact, resolve
from mlgate_mlflow.registry import MlflowRegistry


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    path = tmp_path_factory.mktemp("project")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        registry = MlflowRegistry.open(path)
        assert registry.describe() == f"sqlite:///{path.resolve()}/.mlgate/mlflow.db"
        registry.client  # noqa: B018 - create the database once for the module
    return path


@pytest.fixture(autouse=True)
def nothing_in_the_current_directory(tmp_path, monkeypatch):
    """No test here may leave MLflow files (``mlruns/``, ``mlflow.db``) in the current folder."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    yield
    assert sorted(p.name for p in cwd.iterdir()) == []


@pytest.fixture
def reg(project) -> MlflowRegistry:
    return MlflowRegistry(resolve(project, f"sqlite:///{project.resolve()}/.mlgate/mlflow.db"))


@pytest.fixture
def model(mk, reg, request):
    name = mk.name(request.node.name)
    reg.client.create_registered_model(name)
    return name


def artifacts(client, run_id, folder="mlgate"):
    out = []
    for f in client.list_artifacts(run_id, folder):
        out.extend(artifacts(client, run_id, f.path) if f.is_dir else [f.path])
    return sorted(out)


def snapshot(reg, model):
    client = reg.client
    versions = client.search_model_versions(f"name = '{model}'")
    return {
        "aliases": dict(client.get_registered_model(model).aliases),
        "tags": {str(v.version): dict(v.tags) for v in versions},
        "artifacts": {str(v.version): artifacts(client, v.run_id) for v in versions},
        "history": [d.dump() for d in reg.history(model)],
    }


def test_is_a_registry_and_the_embedded_default_lives_in_the_project(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    conn = resolve(tmp_path)
    assert conn.tracking_uri == f"sqlite:///{tmp_path.resolve()}/.mlgate/mlflow.db"
    assert conn.artifact_location == (tmp_path.resolve() / ".mlgate" / "artifacts").as_uri()
    assert isinstance(MlflowRegistry(conn), Registry)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://example.invalid:5000")
    assert resolve(tmp_path).tracking_uri == "http://example.invalid:5000"
    assert resolve(tmp_path, "http://other:1").tracking_uri == "http://other:1"
    assert resolve(tmp_path, "http://other:1").artifact_location is None  # the server decides
    # a SQLite URI given by hand keeps its artifacts beside the database, not in ./mlruns
    db = tmp_path / "elsewhere" / "reg.db"
    assert resolve(tmp_path, f"sqlite:///{db}").artifact_location == \
        (tmp_path / "elsewhere" / "artifacts").resolve().as_uri()


def test_describe_never_shows_credentials():
    assert redact("https://alice:s3cret@mlflow.example.com/path?token=abc") == \
        "https://mlflow.example.com/path"
    assert redact("sqlite:////tmp/x/mlflow.db") == "sqlite:////tmp/x/mlflow.db"


def test_no_champion_yet(reg, model):
    baseline = reg.champion(model, "champion")
    assert baseline.model is None and baseline.bundle is None
    assert "not set" in baseline.note


def test_unknown_model_and_version_raise_registry_error(reg, mk, model):
    with pytest.raises(RegistryError, match="is not registered") as info:
        reg.champion("no-such-model", "champion")
    assert "register it first" in info.value.fix
    with pytest.raises(RegistryError, match="is not registered"):
        reg.history("no-such-model")
    with pytest.raises(RegistryError, match="is not registered"):
        reg.rollback("no-such-model", "champion", {"user": "x"})
    bundle = mk.bundle(model, "7", 0.9)
    with pytest.raises(RegistryError, match="has no version 7"):
        reg.publish(mk.decision(bundle), bundle, "champion")


def test_promote_writes_evidence_then_moves_the_alias(reg, mk, model, tmp_path):
    client = reg.client
    v1 = mk.version(reg, model)
    decision, bundle = mk.gate(reg, model, v1, 0.91, ci="job-1")
    assert decision.verdict == "promote"
    result = reg.publish(decision, bundle, "champion")
    assert result.ok, result.message
    assert result.details["from"] is None and result.details["to"] == v1

    tags = client.get_model_version(model, v1).tags
    assert tags["mlgate.verdict"] == "promote"
    assert tags["mlgate.reasons"] == decision.summary()
    assert tags["mlgate.bundle_digest"] == bundle.declared_digest
    assert tags["mlgate.policy_digest"] == mk.policy.digest
    assert tags["mlgate.decision_id"] == decision.id
    record = AuditRecord.parse(tags[PREFIX + decision.id])
    assert record.move == AliasMove("champion", None, v1, "done", v1)
    assert record.context == {"actor": {"ci": "job-1"}}

    run_id = client.get_model_version(model, v1).run_id
    assert artifacts(client, run_id) == [f"mlgate/{decision.id}/decision.json",
                                         f"mlgate/{decision.id}/results.json"]
    local = client.download_artifacts(run_id, f"mlgate/{decision.id}/decision.json",
                                      str(tmp_path))
    assert json.loads(Path(local).read_text()) == decision.dump()

    # SQLite gives the alias as an int; the registry hands out strings
    assert client.get_registered_model(model).aliases == {"champion": int(v1)}
    baseline = reg.champion(model, "champion")
    assert baseline.model == ModelRef(model, v1)
    assert baseline.bundle is not None and baseline.bundle.digest_ok
    assert baseline.bundle.declared_digest == bundle.declared_digest
    assert baseline.bundle.tests == bundle.tests


def test_publishing_the_same_decision_twice_changes_nothing(reg, mk, model):
    v1 = mk.version(reg, model)
    decision, bundle = mk.gate(reg, model, v1, 0.91)
    assert reg.publish(decision, bundle, "champion").ok
    before = snapshot(reg, model)
    again = reg.publish(decision, bundle, "champion")
    assert again.ok and again.details["changed"] is False
    assert "nothing changed" in again.message
    # a decision that differs only in when and by whom it was made is the same decision
    later = decision.with_context(ci="another-run")
    assert reg.publish(later, bundle, "champion").details["changed"] is False
    assert snapshot(reg, model) == before
    assert len(before["history"]) == 1


def test_reject_keeps_its_reasons_and_leaves_the_alias(reg, mk, model):
    client = reg.client
    v1, v2 = mk.version(reg, model), mk.version(reg, model)
    d1, b1 = mk.gate(reg, model, v1, 0.95)
    assert reg.publish(d1, b1, "champion").ok
    d2, b2 = mk.gate(reg, model, v2, 0.85)  # worse than the champion by more than the margin
    assert d2.verdict == "reject"
    result = reg.publish(d2, b2, "champion")
    assert result.ok and "not moved" in result.message
    tags = client.get_model_version(model, v2).tags
    assert tags["mlgate.verdict"] == "reject"
    assert "champion:accuracy" in tags["mlgate.reasons"]
    assert AuditRecord.parse(tags[PREFIX + d2.id]).move is None
    assert client.get_registered_model(model).aliases == {"champion": int(v1)}
    assert reg.champion(model, "champion").model == ModelRef(model, v1)


def test_history_and_rollback(reg, mk, model):
    client = reg.client
    v1, v2, v3 = (mk.version(reg, model) for _ in range(3))
    published = []
    for version, acc, who in ((v1, 0.90, "alice"), (v2, 0.91, "bob"), (v3, 0.92, "carol")):
        decision, bundle = mk.gate(reg, model, version, acc, user=who)
        assert reg.publish(decision, bundle, "champion").ok
        published.append(decision)

    history = reg.history(model)
    assert [d.id for d in history] == [d.id for d in published]
    assert [d.context["actor"]["user"] for d in history] == ["alice", "bob", "carol"]
    assert [(d.context["alias_move"]["from"], d.context["alias_move"]["to"]) for d in history] \
        == [(None, v1), (v1, v2), (v2, v3)]
    assert all(isinstance(d, Decision) and d.kind == "gate" for d in history)

    back = reg.rollback(model, "champion", {"user": "oncall"})
    assert back.kind == "rollback" and back.verdict == "promote"
    assert back.model == ModelRef(model, v2) and back.champion == ModelRef(model, v3)
    assert back.context["actor"]["user"] == "oncall"
    assert back.context["alias_move"] == {"alias": "champion", "from": v3, "to": v2,
                                          "observed": v2}
    assert f"moved back from v{v3} to v{v2}" in back.reasons[0].message
    assert reg.champion(model, "champion").model == ModelRef(model, v2)
    # the rolled-back-to version keeps its own evidence as the champion's
    assert reg.champion(model, "champion").bundle.model == ModelRef(model, v2)

    history = reg.history(model)
    assert len(history) == 4 and history[-1].kind == "rollback"
    assert history[-1].id == back.id and history[-1].context["actor"]["user"] == "oncall"

    # a second rollback goes on down the line of promotions, not back up
    time.sleep(1)  # a rollback's reason names the second it was made
    assert reg.rollback(model, "champion", {"user": "oncall"}).model == ModelRef(model, v1)
    with pytest.raises(RegistryError, match="no previous champion") as info:
        reg.rollback(model, "champion", {"user": "oncall"})
    assert info.value.fix
    assert client.get_registered_model(model).aliases == {"champion": int(v1)}


def test_rollback_without_a_champion_is_an_error(reg, model):
    with pytest.raises(RegistryError, match="nothing to roll back"):
        reg.rollback(model, "champion", {})


def test_an_alias_set_by_hand_is_a_champion_without_evidence(reg, mk, model):
    v1 = mk.version(reg, model)
    reg.client.set_registered_model_alias(model, "champion", v1)
    baseline = reg.champion(model, "champion")
    assert baseline.model == ModelRef(model, v1) and baseline.bundle is None
    assert "no mlgate evidence" in baseline.note
    # the gate then asks for review instead of comparing against nothing
    decision = mk.decision(mk.bundle(model, "2", 0.95), baseline)
    assert decision.verdict == "needs-review"


def test_a_version_without_a_run_gets_an_evidence_run(reg, mk, model):
    mv = reg.client.create_model_version(model, source="file:///nowhere/model")
    version = str(mv.version)
    decision, bundle = mk.gate(reg, model, version, 0.9)
    assert reg.publish(decision, bundle, "champion").ok
    assert reg.publish(decision, bundle, "champion").details["changed"] is False
    assert reg.champion(model, "champion").bundle.declared_digest == bundle.declared_digest


def test_a_resumed_publish_finishes_the_alias_move(reg, mk, model):
    client = reg.client
    v1 = mk.version(reg, model)
    decision, bundle = mk.gate(reg, model, v1, 0.9)
    # what a crash right after the alias moved leaves behind: the record still "pending"
    pending = AuditRecord.of(decision, recorded_ns=1, artifacts=f"mlgate/{decision.id}",
                             move=AliasMove("champion", None, v1))
    client.set_model_version_tag(model, v1, pending.tag_key, pending.tag_value())
    client.set_registered_model_alias(model, "champion", v1)
    result = reg.publish(decision, bundle, "champion")
    assert result.ok and result.details["changed"] is True
    record = AuditRecord.parse(client.get_model_version(model, v1).tags[pending.tag_key])
    assert record.move == AliasMove("champion", None, v1, "done", v1)
    assert record.recorded_ns == 1  # the same record, finished; not a second one


def test_audit_record_stays_under_the_tag_limit(mk):
    bundle = mk.bundle("m", "1", 0.5)
    reasons = tuple(Reason(f"rule-{i}", "fail", "x" * 400, observed=0.5) for i in range(40))
    decision = Decision("reject", reasons, ModelRef("m", "1"), None, "sha256:a", "sha256:b",
                        None, "2026-11-27T12:00:00Z", context={"user": "u"})
    record = AuditRecord.of(decision, recorded_ns=5, artifacts="mlgate/x", move=None)
    value = record.tag_value()
    assert len(value) <= VALUE_LIMIT
    back = AuditRecord.parse(value)
    assert back.decision_id == decision.id and not back.reasons_complete
    assert 0 < len(back.reasons) < 40 and back.context == {"user": "u"}
    small = AuditRecord.of(mk.decision(bundle), recorded_ns=5, artifacts=None, move=None)
    assert AuditRecord.parse(small.tag_value()).reasons_complete
    assert AuditRecord.parse("not json") is None and AuditRecord.parse('{"schema": 1}') is None
    assert isinstance(bundle, Bundle)


def test_register_model_is_idempotent_and_loads_back(project, tmp_path, mk, monkeypatch):
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from mlgate_mlflow import load_model, register_model

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    x, y = load_iris(return_X_y=True)
    clf = LogisticRegression(max_iter=300).fit(x, y)
    name = mk.name("iris")
    v1 = register_model(clf, name, project_dir=project, key="k1", input_example=x[:2])
    assert v1 == "1"
    assert register_model(clf, name, project_dir=project, key="k1") == "1"
    assert register_model(clf, name, project_dir=project, key="k2") == "2"
    loaded = load_model(name, v1, project_dir=project)
    assert (loaded.predict(x[:5]) == clf.predict(x[:5])).all()
    assert (project / ".mlgate" / "mlflow.db").is_file()


def test_the_plugin_is_found_by_entry_point_and_publishes(project, tmp_path, mk, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pm = plugin_manager()
    context = GateContext(project_dir=project, actor={"ci": "job-9"},
                          output_dir=tmp_path / "reports")
    registry = get_registry(pm, context)
    assert isinstance(registry, MlflowRegistry)
    name = mk.name("plugin")
    version = mk.version(registry, name)
    decision, bundle = mk.gate(registry, name, version, 0.9)
    results = {r.publisher: r for r in publish_all(pm, decision, bundle, context)}
    assert results["mlflow"].ok, results["mlflow"].message
    assert results["files"].ok
    [kept] = registry.history(name)
    assert kept.id == decision.id and kept.context["actor"] == {"ci": "job-9"}


def test_importing_the_plugin_does_not_import_mlflow():
    code = ("import sys, mlgate_mlflow.plugin, mlgate_mlflow; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('mlflow', 'sklearn', 'pandas', 'numpy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_unreachable_registry_fails_fast_without_credentials(monkeypatch, mk):
    for var in ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_TIMEOUT",
                "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"):
        monkeypatch.delenv(var, raising=False)  # the plugin's defaults
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    registry = MlflowRegistry.open(".", f"http://alice:s3cret@127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(RegistryError) as info:
        registry.champion("iris", "champion")
    elapsed = time.monotonic() - started
    assert elapsed < 20, elapsed
    text = str(info.value)
    assert f"http://127.0.0.1:{port}" in text and "s3cret" not in text and "alice" not in text
    assert "fix:" in text and "MLFLOW_TRACKING_URI" in text


def test_load_model_scans_the_files_first_and_refuses_a_tampered_model(project, mk, monkeypatch,
                                                                      tmp_path):
    """A registered model whose file was swapped for a malicious pickle is refused before
    anything unpickles it; the payload never runs."""
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from mlgate.errors import InputError
    from mlgate_mlflow import download_model, load_model, register_model

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    x, y = load_iris(return_X_y=True)
    name = mk.name("tampered")
    version = register_model(LogisticRegression(max_iter=300).fit(x, y), name,
                             project_dir=project, key="k")
    folder = download_model(name, version, tmp_path / "dl", project_dir=project)
    [model_file] = [p.name for p in folder.rglob("model.*") if p.is_file()]
    stored = list((project / ".mlgate").rglob(model_file))  # every copy the store keeps
    assert stored
    marker = tmp_path / "pwned"
    for path in stored:
        path.write_bytes(b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.")

    with pytest.raises(InputError) as info:
        load_model(name, version, project_dir=project)
    message = str(info.value)
    assert f"refusing to load {name} v{version}" in message and "os.system" in message
    assert "skops, ONNX or safetensors" in message
    assert not marker.exists()
