"""Speed and cost: the candidate's predict timed with the benchmark fixture, and re-run beside
the champion in this job (interleaved), so the policy's ``benchmark`` rule compares like with
like. Run these serially (they refuse to time beside other pytest-xdist workers)."""

from __future__ import annotations

import pytest


@pytest.mark.performance
@pytest.mark.mltest("Monitor 6")
def test_predict_speed(mlgate_benchmark, model, split):
    """Median time of one predict call on the test set, its interval, throughput in rows per
    second (and cost per million predictions with --mlgate-price-per-hour)."""
    _, X_test, _, _ = split
    mlgate_benchmark(model.predict, X_test, name="predict", batch_size=len(X_test), max_time=1.0)


@pytest.mark.performance
def test_speed_vs_champion(mlgate_benchmark, model, champion, champion_ref, split):
    """The champion timed beside the candidate, pairs of rounds in random order: the test fails
    when the candidate is more than 10% slower with statistical support (the policy's own
    ``benchmark`` rule decides with its tolerance). Nothing to compare before a champion exists."""
    if champion is None:
        return
    _, X_test, _, _ = split
    mlgate_benchmark.compare(model.predict, champion.predict, X_test, name="predict",
                             tolerance=0.10, max_time=2.0, against=champion_ref)
