"""mlgate-locust: load tests with locust as gate evidence (latency percentiles, requests per
second, error ratio, and a champion/candidate shadow comparison).

Locust itself only ever runs in processes of its own (see :mod:`mlgate_locust.runner`); importing
this package imports neither locust nor gevent. The public names load lazily (PEP 562).
"""

from __future__ import annotations

from mlgate.lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    "LoadResult": "mlgate_locust.check",
    "ShadowResult": "mlgate_locust.check",
    "Slo": "mlgate_locust.check",
    "LoadSpec": "mlgate_locust.runner",
    "LoadRun": "mlgate_locust.runner",
    "run_locust": "mlgate_locust.runner",
    "ModelServer": "mlgate_locust.server",
    "ModelServerError": "mlgate_locust.server",
    "make_bodies": "mlgate_locust.bodies",
    "write_bodies": "mlgate_locust.bodies",
    "run_load": "mlgate_locust.fixtures",
}

__all__ = ["__version__", *_LAZY]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
