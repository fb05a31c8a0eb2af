"""mlgate: pytest as the quality gate for machine-learning models.

The public names load lazily (PEP 562), so ``import mlgate`` stays nearly free.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "hookimpl": "mlgate.hookspecs",
    "hookspec": "mlgate.hookspecs",
    "GateContext": "mlgate.hookspecs",
    "PublishResult": "mlgate.hookspecs",
    "Registry": "mlgate.hookspecs",
    "Metric": "mlgate.record",
    "Interval": "mlgate.record",
    "TestRecord": "mlgate.record",
    "fingerprint": "mlgate.record",
    "Bundle": "mlgate.bundle",
    "ModelRef": "mlgate.bundle",
    "Policy": "mlgate.policy",
    "load_policy": "mlgate.policy",
    "parse_policy": "mlgate.policy",
    "decide": "mlgate.gate",
    "Decision": "mlgate.gate",
    "Reason": "mlgate.gate",
    "Baseline": "mlgate.gate",
    "Expectation": "mlgate.gate",
    "validate": "mlgate.data.schema",
    "drift": "mlgate.data.drift",
    "drift_parquet": "mlgate.data.drift",
    "ReferenceProfile": "mlgate.data.drift",
    "quality": "mlgate.data.quality",
    "MlgateError": "mlgate.errors",
    "InputError": "mlgate.errors",
    "PolicyError": "mlgate.errors",
    "BundleError": "mlgate.errors",
    "RegistryError": "mlgate.errors",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlgate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
