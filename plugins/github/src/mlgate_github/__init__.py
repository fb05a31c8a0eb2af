"""mlgate-github: the gate's decision on GitHub (commit status, check run, job summary, pull-request
comment). Standard library only; the public names load lazily (PEP 562)."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {"GitHubConfig": "mlgate_github.publish", "publish": "mlgate_github.publish"}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlgate_github' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
