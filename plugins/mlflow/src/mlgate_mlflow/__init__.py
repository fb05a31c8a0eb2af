"""mlgate-mlflow: the MLflow model registry as mlgate's baseline source and publisher.

The public names load lazily (PEP 562), so importing the package imports no MLflow.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "MlflowRegistry": "mlgate_mlflow.registry",
    "register_model": "mlgate_mlflow.register",
    "load_model": "mlgate_mlflow.register",
    "resolve": "mlgate_mlflow.connection",
    "Connection": "mlgate_mlflow.connection",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlgate_mlflow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
