"""mlgate: pytest as the quality gate for machine-learning models.

The public names load lazily (PEP 562), so ``import mlgate`` stays nearly free.
"""

from __future__ import annotations

from .lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
