"""Does ``@pytest.mark.gpu_benchmark`` time a kernel like ``triton.testing.do_bench``?

Run on any CUDA machine, with no installs (torch with CUDA brings triton)::

    PYTHONPATH=src python benchmarks/gpu_agreement.py

For each workload it prints the card, mlgate's median (``mlgate.perf.gpu.cuda_benchmark``, L2
flushed before each round, as do_bench does) and do_bench's median, and their ratio; then the
same with CUDA graphs (``cuda_graph=True, flush_l2=False``) against
``triton.testing.do_bench_cudagraph``. Exit status 0 when every median agrees within 2%, 1
otherwise; without a CUDA device (or without triton) it says why and exits 0, having checked
nothing.
"""

from __future__ import annotations

import inspect
import sys

TOLERANCE = 0.02


def _median(bench, fn, **kw) -> float:
    """Call a triton benchmark function for its median, across triton versions."""
    params = inspect.signature(bench).parameters
    if "return_mode" in params:
        return float(bench(fn, return_mode="median", **kw))
    return float(bench(fn, quantiles=[0.5], **kw)[0])


def workloads(torch):
    gen = torch.Generator(device="cuda").manual_seed(0)
    a = torch.randn(4096, 4096, device="cuda", dtype=torch.float16, generator=gen)
    b = torch.randn(4096, 4096, device="cuda", dtype=torch.float16, generator=gen)
    yield "matmul fp16 4096^3 (compute-bound)", lambda: torch.matmul(a, b)
    x = torch.randn(1 << 26, device="cuda", generator=gen)
    y = torch.randn(1 << 26, device="cuda", generator=gen)
    yield "vector add 2^26 fp32 (memory-bound)", lambda: torch.add(x, y)
    s = torch.randn(8192, 8192, device="cuda", generator=gen)
    yield "softmax 8192x8192 fp32", lambda: torch.softmax(s, dim=-1)
    small = torch.randn(256, 256, device="cuda", generator=gen)
    yield "matmul fp32 256^3 (launch-bound)", lambda: torch.matmul(small, small)


def main() -> int:
    from mlgate.perf.gpu import cuda_benchmark, device_info, probe

    found = probe()
    if not found.available:
        print(f"skipped: {found.reason}; run this on a machine with a CUDA GPU")
        return 0
    try:
        from triton.testing import do_bench, do_bench_cudagraph
    except ImportError as exc:
        print(f"skipped: triton is not importable ({exc}); it ships with CUDA builds of torch")
        return 0
    import torch
    import triton

    info = device_info(torch, 0)
    print(f"card: {info['name']} (capability {info['capability']}, {info['memory_mb']:.0f} MB, "
          f"{info['multiprocessors']} SMs, L2 {info['l2_cache_mb']} MB); torch {torch.__version__}, "
          f"CUDA {torch.version.cuda}, triton {triton.__version__}")
    worst = 0.0
    print(f"{'workload':40s} {'mode':10s} {'mlgate ms':>10s} {'triton ms':>10s} {'ratio':>7s}")
    for label, fn in workloads(torch):
        for mode in ("flush L2", "CUDA graph"):
            graph = mode == "CUDA graph"
            ours = cuda_benchmark(fn, name="w", cuda_graph=graph, flush_l2=not graph,
                                  warmup_ms=25, rep_ms=100 if not graph else 20)
            ours_ms = ours.stats.median * 1000
            if graph:
                theirs = _median(do_bench_cudagraph, fn, rep=20)
            else:
                theirs = _median(do_bench, fn, warmup=25, rep=100)
            ratio = ours_ms / theirs
            worst = max(worst, abs(ratio - 1))
            flag = "" if abs(ratio - 1) <= TOLERANCE else "  <-- beyond 2%"
            print(f"{label:40s} {mode:10s} {ours_ms:10.4f} {theirs:10.4f} {ratio:7.3f}{flag}")
        if ours.device and ours.device.get("during_run"):
            run = ours.device["during_run"]
            print(f"{'':40s} NVML: utilisation {run['utilisation_pct']['mean']:.0f}% mean, SM clock "
                  f"{run['sm_clock_mhz']['min']:.0f}-{run['sm_clock_mhz']['max']:.0f} MHz")
    print(f"largest disagreement: {100 * worst:.2f}% (tolerance {100 * TOLERANCE:.0f}%)")
    return 0 if worst <= TOLERANCE else 1


if __name__ == "__main__":
    sys.exit(main())
