"""mlgate-gitlab: the gate's decision on GitLab (commit status, merge-request note, metrics
report). Standard library only; the public names load lazily (PEP 562)."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {"GitLabConfig": "mlgate_gitlab.publish", "publish": "mlgate_gitlab.publish"}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlgate_gitlab' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
