"""Shared test settings: a deterministic Hypothesis profile, so CI runs are reproducible."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "mlgate",
    derandomize=True,  # the same examples on every run: no flaky gate
    database=None,  # nothing written to .hypothesis/
    deadline=None,
    max_examples=50,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("mlgate")
