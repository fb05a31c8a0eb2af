"""Built-in publisher: the HTML quality report (``report.html``) beside ``decision.json``.

Registered like any plugin (name ``mlgate.html``), so ``-p no:mlgate.html`` blocks it."""

from __future__ import annotations

from .bundle import Bundle
from .gate import Decision
from .hookspecs import GateContext, PublishResult, hookimpl


@hookimpl
def mlgate_publish(decision: Decision, bundle: Bundle, context: GateContext) -> PublishResult:
    from .report.html import write_report

    path = write_report(context.output_dir / "report.html", bundle, decision)
    return PublishResult("html", True, f"report written to {path}", {"path": str(path)})
