"""GPU benchmarks: ``@pytest.mark.gpu_benchmark`` and the ``mlgate_gpu_benchmark`` fixture.

::

    @pytest.mark.gpu_benchmark(flush_l2=True, cuda_graph=False, max_median_ms=2.0)
    def test_matmul_speed(mlgate_gpu_benchmark):
        import torch
        a = torch.randn(4096, 4096, device=mlgate_gpu_benchmark.device, dtype=torch.float16)
        mlgate_gpu_benchmark(torch.matmul, a, a, name="matmul", batch_size=4096)

How :func:`cuda_benchmark` measures (the method of ``triton.testing.do_bench``):

1. **Warm-up**: one call, then ``torch.cuda.synchronize()``; five timed calls estimate the time
   per call; then calls for ``warmup_ms`` milliseconds.
2. **CUDA graph** (``cuda_graph=True``): the workload is captured once into a
   ``torch.cuda.CUDAGraph`` (after warm-up calls on a side stream, as capture requires) and each
   round replays the graph: launch overhead disappears, the kernels' time remains.
3. **Rounds**: enough to fill ``rep_ms`` (between ``min_rounds`` and ``max_rounds``). Before each
   round, with ``flush_l2=True``, a buffer larger than the L2 cache (at least 256 MB, at least
   twice the card's L2) is zeroed, so every round starts with a cold cache; this happens
   *outside* the timed region. Each round is bracketed by two ``torch.cuda.Event(enable_timing=
   True)`` records on the current stream; one ``synchronize()`` after the last round, then the
   events' ``elapsed_time`` gives each round's time on the GPU, free of Python's launch jitter.
4. **Memory and device**: ``torch.cuda.max_memory_allocated`` after
   ``reset_peak_memory_stats`` (the caching allocator's peak during the rounds); the device's
   name, compute capability, memory, multiprocessors and L2, torch and CUDA versions; with NVML
   (``pip install nvidia-ml-py``) the driver version and, sampled every 10 ms during the rounds,
   GPU utilisation, SM and memory clocks, power and temperature. Without NVML the evidence
   says so.

The result is a :class:`mlgate.perf.bench.BenchResult` (metrics ``{name}.median_s``, ``p95_s``,
``throughput``, ``peak_mb``; evidence ``benchmark.{name}`` with the rounds and a fingerprint
that includes the GPU), so :mod:`mlgate.perf.regression` compares GPU results like CPU ones,
and never a GPU timing with a CPU one.

**Without a GPU** (no CUDA device, or torch not installed) the test is skipped with the reason,
unless ``without_gpu="fail"`` (the marker's argument, or ``--mlgate-without-gpu=fail``,
``$MLGATE_WITHOUT_GPU``, ini ``mlgate_without_gpu``): then it fails, for CI jobs that must run on
a GPU; or ``without_gpu="cpu"``: the same workload runs on the CPU (the fixture's ``device`` is
``"cpu"``), timed by :func:`mlgate.perf.bench.benchmark`, and the evidence marks it. torch is
imported only when a marked test runs, never when tests are collected.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from mlgate.perf.bench import (
    MAX_KEPT_ROUNDS,
    BenchResult,
    RoundStats,
    _xdist_worker,
    benchmark,
    machine_fingerprint,
)

WITHOUT_GPU: tuple[str, ...] = ("skip", "fail", "cpu")
#: the smallest L2 flush buffer (as triton's do_bench: 256 MB)
MIN_FLUSH_BYTES = 256 * 1024 * 1024
NVML_PERIOD_S = 0.010


@dataclass(frozen=True)
class GpuSpec:
    """The arguments of ``@pytest.mark.gpu_benchmark(...)`` (every one optional)."""

    name: str | None = None
    warmup_ms: float = 25.0
    rep_ms: float = 100.0
    min_rounds: int = 10
    max_rounds: int = MAX_KEPT_ROUNDS
    flush_l2: bool = True
    cuda_graph: bool = False
    without_gpu: str | None = None
    device_index: int = 0
    batch_size: int | None = None
    max_median_ms: float | None = None
    min_throughput: float | None = None
    allow_parallel: bool = False


_SPEC_FIELDS = tuple(GpuSpec.__dataclass_fields__)


def parse_mark(args: tuple[Any, ...], kwargs: dict[str, Any]) -> GpuSpec:
    """Validate the marker's arguments; ``ValueError`` names the bad one and the choices."""
    if args:
        raise ValueError("@pytest.mark.gpu_benchmark takes keyword arguments only, e.g. "
                         "@pytest.mark.gpu_benchmark(flush_l2=True, without_gpu='cpu')")
    unknown = sorted(set(kwargs) - set(_SPEC_FIELDS))
    if unknown:
        raise ValueError(f"@pytest.mark.gpu_benchmark: unknown argument(s) {', '.join(unknown)}; "
                         f"use some of: {', '.join(_SPEC_FIELDS)}")
    spec = GpuSpec(**kwargs)
    if spec.without_gpu is not None and spec.without_gpu not in WITHOUT_GPU:
        raise ValueError(f"@pytest.mark.gpu_benchmark: without_gpu must be one of {WITHOUT_GPU}, "
                         f"got {spec.without_gpu!r}")
    for field_name in ("warmup_ms", "rep_ms"):
        value = getattr(spec, field_name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"@pytest.mark.gpu_benchmark: {field_name} must be a positive number "
                             f"of milliseconds, got {value!r}")
    if not 1 <= spec.min_rounds <= spec.max_rounds <= MAX_KEPT_ROUNDS:
        raise ValueError(f"@pytest.mark.gpu_benchmark: need 1 <= min_rounds ({spec.min_rounds}) <= "
                         f"max_rounds ({spec.max_rounds}) <= {MAX_KEPT_ROUNDS}")
    return spec


@dataclass(frozen=True)
class Probe:
    """Is there a CUDA device to time on? ``reason`` says why not."""

    available: bool
    reason: str
    torch_version: str | None = None


def probe(device_index: int = 0) -> Probe:
    """Imports torch (only here, when a marked test runs) and looks for the CUDA device."""
    try:
        import torch
    except ImportError:
        return Probe(False, "torch is not installed (pip install 'mlgate[torch]')")
    version = str(torch.__version__)
    if not torch.cuda.is_available():
        build = "a CPU-only build of torch" if torch.version.cuda is None else "no CUDA device found"
        return Probe(False, f"no CUDA GPU: torch {version} reports {build}", version)
    count = torch.cuda.device_count()
    if device_index >= count:
        return Probe(False, f"device_index={device_index}, but torch sees {count} CUDA device(s)",
                     version)
    return Probe(True, f"cuda:{device_index}", version)


def resolve_without_gpu(spec: GpuSpec, configured: str | None, source: str) -> str:
    """Marker > option/environment/ini > ``"skip"``."""
    if spec.without_gpu is not None:
        return spec.without_gpu
    if configured:
        if configured not in WITHOUT_GPU:
            raise ValueError(f"{source}: must be one of {', '.join(WITHOUT_GPU)}, got {configured!r}")
        return configured
    return "skip"


# -- the device --------------------------------------------------------------------------------


class _Nvml:
    """NVML readings for one device, when ``pynvml`` (nvidia-ml-py) is importable."""

    def __init__(self, torch: Any, index: int) -> None:
        self.handle = None
        self.note: str | None = None
        self.samples: list[tuple[float, float, float, float, float]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import pynvml  # type: ignore[import-not-found]
        except ImportError:
            self.note = ("NVML not available (pip install nvidia-ml-py): no driver version, "
                         "clocks or utilisation")
            return
        self.nv = pynvml
        try:
            pynvml.nvmlInit()
            uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
            if uuid is not None:
                text = str(uuid)
                self.handle = pynvml.nvmlDeviceGetHandleByUUID(
                    text if text.startswith("GPU-") else f"GPU-{text}")
            else:
                self.handle = pynvml.nvmlDeviceGetHandleByIndex(index)
                self.note = "NVML device matched by index (torch gave no UUID)"
        except Exception as exc:  # NVML errors are many and version-dependent
            self.handle = None
            self.note = f"NVML failed: {exc}"

    def static(self) -> dict[str, Any]:
        if self.handle is None:
            return {}
        nv = self.nv
        out: dict[str, Any] = {}
        for key, call in (
            ("driver", lambda: nv.nvmlSystemGetDriverVersion()),
            ("max_sm_clock_mhz", lambda: nv.nvmlDeviceGetMaxClockInfo(self.handle, nv.NVML_CLOCK_SM)),
            ("max_mem_clock_mhz", lambda: nv.nvmlDeviceGetMaxClockInfo(self.handle, nv.NVML_CLOCK_MEM)),
        ):
            try:
                value = call()
                out[key] = value.decode() if isinstance(value, bytes) else value
            except Exception:
                out[key] = None
        return out

    def _sample(self) -> None:
        nv, h = self.nv, self.handle
        while not self._stop.is_set():
            try:
                util = nv.nvmlDeviceGetUtilizationRates(h).gpu
                sm = nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_SM)
                mem = nv.nvmlDeviceGetClockInfo(h, nv.NVML_CLOCK_MEM)
                power = nv.nvmlDeviceGetPowerUsage(h) / 1000.0
                temp = nv.nvmlDeviceGetTemperature(h, nv.NVML_TEMPERATURE_GPU)
                self.samples.append((float(util), float(sm), float(mem), power, float(temp)))
            except Exception:
                return
            self._stop.wait(NVML_PERIOD_S)

    def __enter__(self) -> _Nvml:
        if self.handle is not None:
            self._thread = threading.Thread(target=self._sample, name="mlgate-nvml", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)

    def during(self) -> dict[str, Any] | None:
        if not self.samples:
            return None
        cols = list(zip(*self.samples, strict=True))
        names = ("utilisation_pct", "sm_clock_mhz", "mem_clock_mhz", "power_w", "temperature_c")
        return {"samples": len(self.samples), "period_s": NVML_PERIOD_S,
                **{n: {"min": min(c), "mean": sum(c) / len(c), "max": max(c)}
                   for n, c in zip(names, cols, strict=True)}}


def device_info(torch: Any, index: int) -> dict[str, Any]:
    props = torch.cuda.get_device_properties(index)
    return {
        "type": "cuda",
        "index": index,
        "name": props.name,
        "capability": f"{props.major}.{props.minor}",
        "memory_mb": round(props.total_memory / 1e6, 1),
        "multiprocessors": props.multi_processor_count,
        "l2_cache_mb": (round(props.L2_cache_size / 1e6, 2)
                        if getattr(props, "L2_cache_size", None) else None),
        "torch": str(torch.__version__),
        "cuda_runtime": torch.version.cuda,
    }


# -- timing on the GPU ---------------------------------------------------------------------------


def cuda_benchmark(
    fn: Callable[..., Any],
    *args: Any,
    name: str,
    warmup_ms: float = 25.0,
    rep_ms: float = 100.0,
    min_rounds: int = 10,
    max_rounds: int = MAX_KEPT_ROUNDS,
    flush_l2: bool = True,
    cuda_graph: bool = False,
    device_index: int = 0,
    batch_size: int | None = None,
    max_median_ms: float | None = None,
    min_throughput: float | None = None,
    allow_parallel: bool = False,
    price_per_hour: float | None = None,
) -> BenchResult:
    """Time ``fn(*args)`` on CUDA device ``device_index`` (see the module docstring)."""
    import torch

    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"benchmark name must be a non-empty string, got {name!r}")
    name = name.strip()
    found = probe(device_index)
    if not found.available:
        raise RuntimeError(f"{name}: {found.reason}")
    info = device_info(torch, device_index)
    fp = machine_fingerprint()
    fp.update(gpu=info["name"], torch=str(torch.__version__), cuda_runtime=torch.version.cuda)
    max_median_s = None if max_median_ms is None else max_median_ms / 1000.0
    common = dict(bench=name, batch_size=batch_size, target_rel_ci=None,
                  max_median_s=max_median_s, min_throughput=min_throughput,
                  price_per_hour=price_per_hour, timer="CUDA events around each round",
                  memory_method="torch.cuda.max_memory_allocated during the rounds (the caching "
                                "allocator's peak; not other processes, not the CUDA context)")
    worker, parallel = _xdist_worker()
    notes: list[str] = []
    if worker is not None and parallel:
        note = (f"measured on pytest-xdist worker {worker} while other workers may share the "
                "GPU: timings can be skewed")
        if not allow_parallel:
            fp["cuda_driver"] = None
            return BenchResult(stats=RoundStats.of([]), rounds=(), loops=0, peak_bytes=None,
                               fingerprint=fp, stop_reason="refused-xdist", elapsed_s=0.0,
                               xdist_worker=worker, notes=(note,), device=info, refused=(
                                   f"{name}: not measured: pytest-xdist worker {worker} shares the "
                                   "GPU with other workers. Run GPU benchmarks serially "
                                   "(pytest -n 0 -m performance), or pass allow_parallel=True"),
                               **common)  # type: ignore[arg-type]
        notes.append(note)

    begin = time.perf_counter()
    with torch.cuda.device(device_index):
        stream = torch.cuda.current_stream()
        fn(*args)
        torch.cuda.synchronize()
        run: Callable[[], Any] = lambda: fn(*args)  # noqa: E731
        if cuda_graph:
            side = torch.cuda.Stream()
            side.wait_stream(stream)
            with torch.cuda.stream(side):
                for _ in range(3):
                    fn(*args)
            stream.wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                fn(*args)
            torch.cuda.synchronize()
            run = graph.replay
        cache = None
        if flush_l2:
            l2 = getattr(torch.cuda.get_device_properties(device_index), "L2_cache_size", 0) or 0
            cache = torch.empty(max(MIN_FLUSH_BYTES, 2 * int(l2)), dtype=torch.int8, device="cuda")

        # estimate the time per round, then warm up for warmup_ms
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(5):
            if cache is not None:
                cache.zero_()
            run()
        end.record()
        torch.cuda.synchronize()
        estimate_ms = max(start.elapsed_time(end) / 5, 1e-6)
        for _ in range(max(1, int(warmup_ms / estimate_ms))):
            run()
        n = max(min_rounds, min(max_rounds, int(rep_ms / estimate_ms)))
        starts = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        ends = [torch.cuda.Event(enable_timing=True) for _ in range(n)]
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device_index)
        base_bytes = torch.cuda.memory_allocated(device_index)
        nvml = _Nvml(torch, device_index)
        with nvml:
            for i in range(n):
                if cache is not None:
                    cache.zero_()
                starts[i].record()
                run()
                ends[i].record()
            torch.cuda.synchronize()
        rounds = [s.elapsed_time(e) / 1000.0 for s, e in zip(starts, ends, strict=True)]
        peak = max(0, torch.cuda.max_memory_allocated(device_index) - base_bytes)
        del cache
    info.update(nvml.static())
    info["during_run"] = nvml.during()
    fp["cuda_driver"] = info.get("driver")
    if nvml.note:
        notes.append(nvml.note)
    if cuda_graph:
        notes.append("rounds replay a CUDA graph captured once (launch overhead excluded)")
    notes.append(f"L2 flushed before each round: {'yes' if flush_l2 else 'no'}")
    return BenchResult(stats=RoundStats.of(rounds), rounds=tuple(rounds[:MAX_KEPT_ROUNDS]), loops=1,
                       peak_bytes=peak, fingerprint=fp, stop_reason="rounds",
                       elapsed_s=time.perf_counter() - begin, xdist_worker=worker,
                       notes=tuple(notes), device=info, **common)  # type: ignore[arg-type]


def cpu_fallback(fn: Callable[..., Any], *args: Any, name: str, spec: GpuSpec, reason: str,
                 price_per_hour: float | None = None) -> BenchResult:
    """The same workload timed on the CPU (``without_gpu="cpu"``), marked in the evidence."""
    max_median_s = None if spec.max_median_ms is None else spec.max_median_ms / 1000.0
    result = benchmark(fn, *args, name=name, batch_size=spec.batch_size,
                       max_median_s=max_median_s, min_throughput=spec.min_throughput,
                       allow_parallel=spec.allow_parallel, price_per_hour=price_per_hour)
    note = f"gpu_benchmark ran on the CPU (without_gpu='cpu'): {reason}"
    import sys

    torch = sys.modules.get("torch")
    fp = dict(result.fingerprint)
    version = getattr(torch, "__version__", None)
    fp["torch"] = None if version is None else str(version)
    return replace(result, notes=(*result.notes, note), fingerprint=fp,
                   device={"type": "cpu", "requested": "cuda", "reason": reason})


class GpuBenchmarkFixture:
    """The ``mlgate_gpu_benchmark`` fixture of a ``@pytest.mark.gpu_benchmark`` test.

    ``device``: ``"cuda:N"`` or, in the CPU fallback, ``"cpu"``: create the workload's tensors
    there. ``fixture(fn, *args, name=None, **overrides)`` times ``fn(*args)`` with the marker's
    settings (``overrides`` take precedence), records the result with ``mlgate.check`` and
    returns the :class:`~mlgate.perf.bench.BenchResult`."""

    def __init__(self, check: Callable[[Any], Any], default_name: str, spec: GpuSpec,
                 device: str, reason: str, price_per_hour: float | None = None) -> None:
        self._check = check
        self._default_name = default_name
        self.spec = spec
        self.device = device
        self.reason = reason
        self._price = price_per_hour
        self.results: list[BenchResult] = []

    @property
    def on_gpu(self) -> bool:
        return self.device != "cpu"

    def __call__(self, fn: Callable[..., Any], *args: Any, name: str | None = None,
                 **overrides: Any) -> BenchResult:
        spec = replace(self.spec, **overrides) if overrides else self.spec
        bench = name or spec.name or self._default_name
        if self.on_gpu:
            result = cuda_benchmark(
                fn, *args, name=bench, warmup_ms=spec.warmup_ms, rep_ms=spec.rep_ms,
                min_rounds=spec.min_rounds, max_rounds=spec.max_rounds, flush_l2=spec.flush_l2,
                cuda_graph=spec.cuda_graph, device_index=spec.device_index,
                batch_size=spec.batch_size, max_median_ms=spec.max_median_ms,
                min_throughput=spec.min_throughput, allow_parallel=spec.allow_parallel,
                price_per_hour=self._price)
        else:
            result = cpu_fallback(fn, *args, name=bench, spec=spec, reason=self.reason,
                                  price_per_hour=self._price)
        self.results.append(result)
        self._check(result)
        return result
