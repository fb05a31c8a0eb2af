"""PEP 562 lazy exports, shared by ``mlgate`` and its plugin packages (as pluggy's
``__init__`` does for ``__version__``): a public name is imported from its module on first use,
so importing the package stays nearly free."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_exports(package: str, names: dict[str, str]) -> tuple[Callable[[str], Any],
                                                                Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package`` whose public ``names`` map to the modules
    that define them: ``__getattr__, __dir__ = lazy_exports(__name__, {"Bundle": "mlgate.bundle"})``."""
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value  # the next lookup is an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted(["__version__", *names])

    return __getattr__, __dir__
