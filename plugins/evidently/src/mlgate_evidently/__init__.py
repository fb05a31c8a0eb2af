"""mlgate-evidently: run an Evidently report's tests inside pytest, as gate records.

    from mlgate_evidently import run_evidently

    @pytest.mark.data
    def test_no_drift(mlgate, reference, current):
        mlgate.check(run_evidently(reference, current, html="reports/evidently-drift.html"))

The public names load lazily (PEP 562), so importing the package imports no Evidently, pandas or
numpy; Evidently is imported when :func:`run_evidently` runs.
"""

from __future__ import annotations

from mlgate.lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "run_evidently": "mlgate_evidently.run",
    "EvidentlyResult": "mlgate_evidently.run",
    "EvidentlyTest": "mlgate_evidently.run",
}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
