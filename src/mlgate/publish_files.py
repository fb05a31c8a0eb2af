"""Built-in publisher: the decision as JSON beside the bundle (``decision.json``).

Registered like any plugin (name ``mlgate.files``), so it can be blocked or replaced."""

from __future__ import annotations

from .bundle import Bundle, write_json_atomic
from .gate import Decision
from .hookspecs import GateContext, PublishResult, hookimpl


@hookimpl
def mlgate_publish(decision: Decision, bundle: Bundle, context: GateContext) -> PublishResult:
    path = write_json_atomic(context.output_dir / "decision.json", decision.dump())
    return PublishResult("files", True, f"decision written to {path}", {"path": str(path)})
