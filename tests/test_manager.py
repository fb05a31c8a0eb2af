"""The hook layer: built-ins are ordinary plugins; one publisher's failure stops no other."""

from __future__ import annotations

import json
from pathlib import Path

from mlgate.bundle import Bundle, ModelRef, format_time, utc_now
from mlgate.gate import decide
from mlgate.hookspecs import GateContext, PublishResult, hookimpl
from mlgate.manager import plugin_manager, publish_all
from mlgate.policy import Policy
from mlgate.record import TestRecord


def _decision_and_bundle():
    bundle = Bundle(created_at=format_time(utc_now()), model=ModelRef("m", "1"), commit=None,
                    tests=(TestRecord("t.py::test_a", "passed"),))
    return decide(bundle, Policy(), now=utc_now()), bundle


class Exploding:
    @hookimpl
    def mlgate_publish(self, decision):
        raise ConnectionError("status API unreachable")


class Quiet:
    calls: list[str] = []

    @hookimpl
    def mlgate_publish(self, decision, context):
        self.calls.append(decision.verdict)
        return PublishResult("quiet", True, "noted")


def test_a_failing_publisher_is_reported_and_the_others_still_run(tmp_path: Path) -> None:
    pm = plugin_manager(load_entrypoints=False, plugins=[Exploding(), Quiet()],
                        blocked=["mlgate.html"])
    decision, bundle = _decision_and_bundle()
    results = publish_all(pm, decision, bundle, GateContext(project_dir=tmp_path,
                                                           output_dir=tmp_path))
    assert [(r.ok, r.message) for r in results][1:] == [
        (False, "ConnectionError: status API unreachable"), (True, "noted")]
    assert results[0].publisher == "files" and results[0].ok  # built-in, registered first
    assert json.loads((tmp_path / "decision.json").read_text())["id"] == decision.id


def test_builtin_publishers_can_be_blocked(tmp_path: Path) -> None:
    pm = plugin_manager(load_entrypoints=False, blocked=["mlgate.files", "mlgate.html"])
    decision, bundle = _decision_and_bundle()
    assert publish_all(pm, decision, bundle, GateContext(project_dir=tmp_path,
                                                        output_dir=tmp_path)) == []
    assert not (tmp_path / "decision.json").exists()
