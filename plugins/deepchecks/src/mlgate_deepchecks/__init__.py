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

from mlgate.lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "run_deepchecks": "mlgate_deepchecks.run",
    "DeepchecksResult": "mlgate_deepchecks.run",
    "DeepchecksCondition": "mlgate_deepchecks.run",
}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
