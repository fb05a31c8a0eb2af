"""mlgate-gitlab: the gate's decision on GitLab (commit status, merge-request note, metrics
report). Standard library only; the public names load lazily (PEP 562)."""

from __future__ import annotations

from mlgate.lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {"GitLabConfig": "mlgate_gitlab.publish", "publish": "mlgate_gitlab.publish"}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
