"""The mlgate plugin (entry point ``mlgate`` → ``mlgate_gitlab.plugin``).

Active in GitLab CI or when the environment configures the GitLab API (see README.md); otherwise
it returns ``None``: nothing to publish. Standard library only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlgate.hookspecs import GateContext, PublishResult, hookimpl

if TYPE_CHECKING:
    from mlgate.bundle import Bundle
    from mlgate.gate import Decision


@hookimpl
def mlgate_publish(decision: Decision, bundle: Bundle, context: GateContext) -> PublishResult | None:
    from .publish import GitLabConfig, publish

    return publish(decision, bundle, GitLabConfig.from_env(bundle=bundle), context.output_dir)
