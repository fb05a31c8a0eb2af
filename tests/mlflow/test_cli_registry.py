"""`mlgate gate / history / rollback` through the command line, on the embedded registry, and
on a registry that cannot be reached."""

from __future__ import annotations

import json
import socket

import pytest

from mlgate.bundle import format_time, utc_now
from mlgate.cli import main
from mlgate_mlflow.registry import MlflowRegistry

POLICY = """
max_age = "unlimited"
[[rule]]
kind = "bound"
metric = "accuracy"
min = 0.8
[[rule]]
kind = "champion"
metric = "accuracy"
margin = 0.02
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mlgate.toml").write_text(POLICY)
    return tmp_path


def gate(mk, project, registry, name, version, accuracy, capsys) -> tuple[int, dict]:
    from dataclasses import replace

    bundle = replace(mk.bundle(name, version, accuracy), created_at=format_time(utc_now())).sealed()
    bundle.write(project / f"v{version}" / "results.json")
    code = main(["gate", "--bundle", f"v{version}/results.json", "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_gate_history_and_rollback_from_the_command_line(project, mk, capsys) -> None:
    registry = MlflowRegistry.open(project)
    name = mk.name("cli")
    v1, v2 = mk.version(registry, name), mk.version(registry, name)

    code, first = gate(mk, project, registry, name, v1, 0.90, capsys)
    assert (code, first["verdict"]) == (0, "promote")
    published = {r["publisher"]: r["ok"] for r in first["published"]}
    assert published == {"files": True, "html": True, "mlflow": True}
    code, second = gate(mk, project, registry, name, v2, 0.93, capsys)
    assert (code, second["verdict"]) == (0, "promote")
    assert second["champion"] == {"name": name, "version": v1}
    assert registry.champion(name, "champion").model.version == v2

    assert main(["history", name]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len([line for line in lines if " gate     promote " in line]) == 2
    assert lines[0].endswith(f"alias champion: - -> {v1}")
    assert lines[2].endswith(f"alias champion: {v1} -> {v2}")

    assert main(["rollback", name, "--json"]) == 0
    back = json.loads(capsys.readouterr().out)
    assert back["kind"] == "rollback" and back["model"]["version"] == v1
    assert back["context"]["alias_move"]["to"] == v1
    assert registry.champion(name, "champion").model.version == v1
    assert main(["history", name, "--json"]) == 0
    kinds = [d["kind"] for d in json.loads(capsys.readouterr().out)]
    assert kinds == ["gate", "gate", "rollback"]


def test_unknown_model_is_an_input_error(project, capsys) -> None:
    assert main(["history", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert "model 'no-such-model' is not registered in sqlite:///" in err and "fix:" in err


def test_unreachable_registry_is_an_input_error_and_writes_nothing(project, mk, capsys) -> None:
    with socket.socket() as s:  # a port with nobody behind it
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mk.bundle("m", "1", 0.9).write(project / "reports" / "results.json")
    code = main(["gate", "--registry", f"http://user:secret@127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"127.0.0.1:{port}" in err and "secret" not in err
    assert not (project / "reports" / "decision.json").exists()
