"""mlgate-mlflow: the MLflow model registry as mlgate's baseline source and publisher.

The public names load lazily (PEP 562), so importing the package imports no MLflow.
"""

from __future__ import annotations

from mlgate.lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "MlflowRegistry": "mlgate_mlflow.registry",
    "register_model": "mlgate_mlflow.register",
    "load_model": "mlgate_mlflow.register",
    "download_model": "mlgate_mlflow.register",
    "resolve": "mlgate_mlflow.connection",
    "Connection": "mlgate_mlflow.connection",
}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
