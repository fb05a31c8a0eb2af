"""How far the benchmark fixture's numbers can be trusted, printed from one run.

    .venv/bin/python benchmarks/perf.py                 # about 4 minutes on 2 cores
    .venv/bin/python benchmarks/perf.py --comparisons 50 --quick

1. **Overhead**: the fixture's time per call of a no-op against a bare ``perf_counter_ns`` loop.
2. **Agreement**: the median per-call time of the same workloads from ``mlgate.perf.bench``, a
   ``time.perf_counter_ns`` loop (rounds of the same length) and
   ``torch.utils.benchmark.Timer.blocked_autorange`` (when torch is installed).
3. **Detection**: ``mlgate.perf.regression.interleaved`` on real timings, many times: a planted
   5% slowdown (the same NumPy work done 105 times instead of 100) must be flagged in at least
   95% of the comparisons, and identical code in at most 1%. The tolerance is 0.01 (a
   regression needs the interval of the ratio above 1.01) and alpha 0.01. For contrast, the
   same counts for stored rounds compared later (``regression`` on two separate runs, the
   baseline measured first), which is what comparing with old numbers does.

BLAS and torch run on one thread (see ``single_threaded``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from mlgate.perf.bench import benchmark  # noqa: E402
from mlgate.perf.regression import interleaved, regression  # noqa: E402


def perf_counter_loop(fn, loops: int, rounds: int) -> float:
    """Median seconds per call over ``rounds`` rounds of ``loops`` calls."""
    timer = time.perf_counter_ns
    out = []
    for _ in range(rounds):
        start = timer()
        for _ in range(loops):
            fn()
        out.append((timer() - start) / loops * 1e-9)
    return statistics.median(out)


def workloads():
    rng = np.random.default_rng(0)
    a = rng.random((128, 128))
    yield "numpy matmul 128x128", lambda: a @ a
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    batch = np.repeat(X, 7, axis=0)[:1000]
    yield "sklearn LogisticRegression.predict, 1000 rows", lambda: model.predict(batch)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(64, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10))
    x = torch.randn(256, 64)

    def forward():
        with torch.no_grad():
            net(x)

    yield "torch MLP forward, 256x64", forward


REPEATS = 5  # each figure is the median of this many alternating measurements


def overhead() -> None:
    noop = lambda: None  # noqa: E731
    ours, bare = [], []
    for _ in range(REPEATS):
        r = benchmark(noop, name="noop", warmup=0.05, max_time=1.0, measure_memory=False)
        ours.append(r.stats.median)
        bare.append(perf_counter_loop(noop, r.loops, 100))
    o, b = statistics.median(ours), statistics.median(bare)
    print(f"  fixture, no-op: {o * 1e9:.1f} ns per call ({r.loops} calls per round); bare "
          f"perf_counter_ns loop: {b * 1e9:.1f} ns; overhead {(o - b) * 1e9:+.1f} ns per call "
          f"(medians of {REPEATS} alternating runs)")


def agreement() -> None:
    try:
        from torch.utils.benchmark import Timer
    except ImportError:
        Timer = None
    print(f"  {'workload':48s} {'mlgate':>10s} {'perf_counter':>13s} {'ratio':>7s} "
          f"{'torch Timer':>12s} {'ratio':>7s}")
    for label, fn in workloads():
        ours, loops_, timers = [], [], []
        for _ in range(REPEATS):  # alternate the three, so load on the machine hits all alike
            r = benchmark(fn, name="w", warmup=0.05, max_time=0.5, measure_memory=False)
            ours.append(r.stats.median)
            loops_.append(perf_counter_loop(fn, r.loops, max(r.stats.n, 30)))
            if Timer is not None:
                timers.append(Timer(stmt="fn()", globals={"fn": fn}).blocked_autorange(
                    min_run_time=0.5).median)
        o, loop = statistics.median(ours), statistics.median(loops_)
        line = f"  {label:48s} {o * 1e6:8.1f}us {loop * 1e6:11.1f}us {o / loop:7.3f}"
        if timers:
            t = statistics.median(timers)
            line += f" {t * 1e6:10.1f}us {o / t:7.3f}"
        print(line)


def detection(comparisons: int, quick: bool) -> None:
    data = np.ones(20_000)

    def work(k: int):
        def run():
            for _ in range(k):
                data.sum()
        return run

    base, slow = work(100), work(105)
    budget = dict(tolerance=0.01, alpha=0.01, warmup=0.02, max_time=1.0, min_pairs=30,
                  target_rel_ci=0.005)
    t0 = time.perf_counter()
    flagged = sum(interleaved(slow, base, name="w", seed=i, **budget).regressed
                  for i in range(comparisons))
    false = sum(interleaved(work(100), base, name="w", seed=i, **budget).regressed
                for i in range(comparisons))
    took = time.perf_counter() - t0
    ratios = [interleaved(slow, base, name="w", seed=i, **budget).ratio for i in range(10)]
    print("  interleaved (tolerance 0.01, alpha 0.01, <= 1 s per comparison):")
    print(f"    planted 5% slowdown flagged: {flagged}/{comparisons} "
          f"({100 * flagged / comparisons:.1f}%; need >= 95%); measured ratio median "
          f"{statistics.median(ratios):.3f}")
    print(f"    identical code flagged:      {false}/{comparisons} "
          f"({100 * false / comparisons:.1f}%; need <= 1%)   [{took:.0f} s]")
    if quick:
        return
    n = max(10, comparisons // 4)
    kw = dict(name="w", warmup=0.02, max_time=0.5, measure_memory=False, target_rel_ci=0.005)
    stored_flag = stored_false = 0
    for i in range(n):
        b = benchmark(base, **kw)
        stored_flag += regression(benchmark(slow, **kw), b, tolerance=0.01, seed=i).regressed
        b = benchmark(base, **kw)
        stored_false += regression(benchmark(work(100), **kw), b, tolerance=0.01, seed=i).regressed
    print("  stored rounds compared later (regression(), baseline timed first, same budget):")
    print(f"    planted 5% slowdown flagged: {stored_flag}/{n}; identical code flagged: "
          f"{stored_false}/{n}")


def single_threaded() -> None:
    """One thread for BLAS and torch: multi-threaded kernels on a shared 2-core machine turn
    other processes' load into timing noise far larger than the effects being measured."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--comparisons", type=int, default=100,
                    help="comparisons per case for the detection counts (default 100)")
    ap.add_argument("--quick", action="store_true", help="skip the stored-rounds contrast")
    args = ap.parse_args()
    single_threaded()
    print(f"mlgate perf benchmarks: Python {sys.version.split()[0]}, NumPy {np.__version__}, "
          f"{os.cpu_count()} logical CPUs")
    print("1. overhead")
    overhead()
    print("2. agreement (median time per call)")
    agreement()
    print("3. detection")
    detection(args.comparisons, args.quick)


if __name__ == "__main__":
    main()
