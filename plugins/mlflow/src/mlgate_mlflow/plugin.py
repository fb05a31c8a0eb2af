"""The mlgate plugin (entry point ``mlgate`` → ``mlgate_mlflow.plugin``).

Importing this module imports no MLflow: the registry opens it when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgate.hookspecs import GateContext, PublishResult, hookimpl

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision

    from .registry import MlflowRegistry


@hookimpl
def mlgate_registry(context: GateContext) -> MlflowRegistry:
    """The MLflow registry for ``context``: its ``registry_uri``, else ``MLFLOW_TRACKING_URI``,
    else the embedded SQLite registry in ``<project_dir>/.mlgate/``."""
    from .registry import MlflowRegistry

    return MlflowRegistry.open(context.project_dir, context.registry_uri)


@hookimpl
def mlgate_publish(decision: Decision, bundle: Bundle, context: GateContext) -> PublishResult:
    """Publish ``decision`` on the version it is about: evidence and tags, then (on promote)
    ``context.alias``. The gate's actor is kept with the decision."""
    if context.actor and "actor" not in decision.context:
        decision = decision.with_context(actor=context.actor)
    return mlgate_registry(context).publish(decision, bundle, context.alias)
