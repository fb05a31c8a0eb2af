"""mlgate-deepchecks: run a Deepchecks suite or check inside pytest, as gate records.

    from deepchecks.tabular.suites import train_test_validation
    from mlgate_deepchecks import run_deepchecks

    @pytest.mark.data
    def test_train_test(mlgate, train, test):
        mlgate.check(run_deepchecks(train_test_validation(), train=train, test=test, label="y",
                                    html="reports/deepchecks-train-test.html"))

The public names load lazily (PEP 562), so importing the package imports no Deepchecks, pandas
or numpy; Deepchecks is imported when :func:`run_deepchecks` runs.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "run_deepchecks": "mlgate_deepchecks.run",
    "DeepchecksResult": "mlgate_deepchecks.run",
    "DeepchecksCondition": "mlgate_deepchecks.run",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mlgate_deepchecks' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
