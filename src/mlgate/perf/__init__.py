"""Performance checks: :mod:`mlgate.perf.bench` times a callable on the CPU with an adaptive stop
(the ``mlgate_benchmark`` fixture), :mod:`mlgate.perf.regression` compares its rounds with a
baseline's (the champion's) and calls a regression only when it is both larger than a tolerance
and statistically supported."""
