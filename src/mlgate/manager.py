"""The plugin manager: hook specs, entry-point plugins and the built-in publishers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

from . import hookspecs
from .errors import MlgateError

if TYPE_CHECKING:
    from .bundle import Bundle
    from .gate import Decision
    from .hookspecs import GateContext, PublishResult, Registry


def plugin_manager(
    *, load_entrypoints: bool = True, plugins=(), blocked=()
) -> pluggy.PluginManager:
    """A plugin manager with the built-ins, ``plugins``, and the entry-point plugins, less
    those named in ``blocked`` (entry-point names such as ``mlflow``, or ``mlgate.files``)."""
    pm = pluggy.PluginManager("mlgate")
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    from . import publish_files, publish_html

    pm.register(publish_files, name="mlgate.files")
    pm.register(publish_html, name="mlgate.html")
    for plugin in plugins:
        pm.register(plugin)
    if load_entrypoints:
        try:
            pm.load_setuptools_entrypoints("mlgate")
        except Exception as exc:  # a broken plugin: say which, and how to get past it
            raise MlgateError(
                f"an mlgate plugin failed to load: {type(exc).__name__}: {exc}; reinstall it, "
                "or uninstall the distribution that provides it (entry-point group 'mlgate')"
            ) from exc
    return pm


def get_registry(pm: pluggy.PluginManager, context: GateContext) -> Registry | None:
    return pm.hook.mlgate_registry(context=context)


def publish_all(
    pm: pluggy.PluginManager, decision: Decision, bundle: Bundle, context: GateContext
) -> list[PublishResult]:
    """Call every publisher on its own, so one failure neither hides the verdict nor stops the
    others; a failure becomes a ``PublishResult(ok=False)``."""
    from .hookspecs import PublishResult

    kwargs = {"decision": decision, "bundle": bundle, "context": context}
    results: list[PublishResult] = []
    for impl in pm.hook.mlgate_publish.get_hookimpls():  # registration order, built-ins first
        name = impl.plugin_name
        try:
            result = impl.function(**{a: kwargs[a] for a in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - a publisher's failure is data, reported
            results.append(PublishResult(name, False, f"{type(exc).__name__}: {exc}"))
            continue
        if result is not None:
            results.append(result)
    return results
