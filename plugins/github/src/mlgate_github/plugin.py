"""The mlgate plugin (entry point ``mlgate`` → ``mlgate_github.plugin``).

Active when the environment configures GitHub (see README.md); otherwise it returns ``None``:
nothing to publish. Importing it costs little (standard library only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgate.hookspecs import GateContext, PublishResult, hookimpl

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision


@hookimpl
def mlgate_publish(decision: Decision, bundle: Bundle, context: GateContext) -> PublishResult | None:
    from .publish import GitHubConfig, publish

    config = GitHubConfig.from_env(bundle=bundle, details_url=(context.actor or {}).get("job"))
    return publish(decision, bundle, config)
