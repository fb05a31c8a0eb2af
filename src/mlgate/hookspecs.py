"""The plugin API of mlgate: pluggy hook specifications (project name ``mlgate``).

A plugin is a module or object with functions decorated by :data:`mlgate.hookimpl`, found
through the ``mlgate`` entry-point group::

    # pyproject.toml of your plugin distribution
    [project.entry-points.mlgate]
    myregistry = "my_package.plugin"

The MLflow integration (``plugins/mlflow``, module ``mlgate_mlflow.plugin``) is the worked
example: it implements :func:`mlgate_registry` and :func:`mlgate_publish`.

Hooks are called with keyword arguments; an implementation may accept any subset of them, so
these specifications can grow without breaking plugins. Factory hooks are ``firstresult`` and
return an object that satisfies a :class:`typing.Protocol` defined here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pluggy

if TYPE_CHECKING:
    from .bundle import Bundle
    from .gate import Baseline, Decision

hookspec = pluggy.HookspecMarker("mlgate")
hookimpl = pluggy.HookimplMarker("mlgate")


@dataclass(frozen=True)
class GateContext:
    """Where and by whom a gate runs; given to every hook.

    ``registry_uri`` is ``None`` for the embedded default (a registry inside ``project_dir``).
    ``actor`` says who or what ran the gate (CI job, commit, user) and is kept with the decision.
    """

    project_dir: Path
    registry_uri: str | None = None
    alias: str = "champion"
    actor: dict[str, Any] = field(default_factory=dict)
    output_dir: Path = Path("reports")


@dataclass(frozen=True)
class PublishResult:
    """What one publisher did. ``ok=False`` is reported; it never changes the verdict."""

    publisher: str
    ok: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Registry(Protocol):
    """A model registry that keeps champions, decisions and their evidence."""

    def describe(self) -> str:
        """Where the registry is, for messages (never with credentials)."""

    def champion(self, model: str, alias: str) -> Baseline:
        """The version ``alias`` points at and its evidence (its bundle); ``Baseline()`` with
        ``model=None`` when there is no champion yet. Raises ``RegistryError`` when the registry
        is unreachable or the model does not exist."""

    def publish(self, decision: Decision, bundle: Bundle, alias: str) -> PublishResult:
        """Write the decision on the version it is about: evidence first, then (on promote)
        the alias. Idempotent: the same decision twice changes nothing."""

    def history(self, model: str) -> list[Decision]:
        """Every decision kept for ``model``, oldest first."""

    def rollback(self, model: str, alias: str, actor: dict[str, Any]) -> Decision:
        """Move ``alias`` back to the previous champion; record and return that decision, with
        ``actor`` (who asked: ``{"ci", "job", "user"}``) kept as ``context["actor"]``."""


@hookspec(firstresult=True)
def mlgate_registry(context: GateContext) -> Registry | None:
    """Return the :class:`Registry` to use for ``context``, or ``None`` to leave it to others.

    The first plugin that returns one wins."""


@hookspec
def mlgate_publish(decision: Decision, bundle: Bundle, context: GateContext) -> PublishResult | None:
    """Publish a decision (registry, CI status, pull-request comment, files …).

    Called for every plugin, each on its own: an exception in one publisher is reported as a
    failed :class:`PublishResult` and does not stop the others. Return ``None`` to say that this
    plugin had nothing to publish for this context."""
