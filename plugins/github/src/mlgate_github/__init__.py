"""mlgate-github: the gate's decision on GitHub (commit status, check run, job summary, pull-request
comment). Standard library only; the public names load lazily (PEP 562)."""

from __future__ import annotations

from mlgate.lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {"GitHubConfig": "mlgate_github.publish", "publish": "mlgate_github.publish"}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
