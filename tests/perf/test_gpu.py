"""``@pytest.mark.gpu_benchmark``: the skip, fail and CPU-fallback paths CI can run (no GPU
here), option precedence, argument errors, and that collecting such a test imports no torch.
The CUDA path itself is checked by benchmarks/gpu_agreement.py on a GPU machine."""

from __future__ import annotations

import json
import sys

import pytest

from mlgate.perf.gpu import GpuSpec, parse_mark, probe, resolve_without_gpu

GPU = probe().available
pytestmark = pytest.mark.skipif(GPU, reason="these tests cover the paths without a CUDA GPU")


@pytest.fixture(autouse=True)
def _not_an_xdist_worker(monkeypatch):
    """Inner runs must not inherit the outer xdist worker's environment: the benchmark would
    rightly refuse to measure beside other workers."""
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)

TEST_FILE = """
import pytest

@pytest.mark.gpu_benchmark(name="matmul", batch_size=64{extra})
def test_matmul(mlgate_gpu_benchmark):
    import torch
    torch.manual_seed(0)
    a = torch.randn(64, 64, device=mlgate_gpu_benchmark.device)
    r = mlgate_gpu_benchmark(torch.matmul, a, a)
    assert r.device["type"] == mlgate_gpu_benchmark.device
"""


def _bundle(pytester) -> dict:
    return json.loads((pytester.path / "reports" / "results.json").read_text())


def _run(pytester, *args, extra=""):
    pytester.makepyfile(test_gpu=TEST_FILE.format(extra=extra))
    # a subprocess: torch is imported by the run, and cannot be unloaded from this process
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:xdist", "-rsf",
                                         "--mlgate-model=m", "--mlgate-model-version=1", *args)


def test_skipped_with_a_reason_by_default(pytester):
    result = _run(pytester)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*gpu_benchmark: * --mlgate-without-gpu=cpu*"])
    [test] = _bundle(pytester)["tests"]
    assert test["outcome"] == "skipped"
    assert test["families"] == ["performance"]


def test_fails_when_a_gpu_is_required(pytester):
    result = _run(pytester, "--mlgate-without-gpu=fail")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*gpu_benchmark requires a GPU (without_gpu='fail')*"])


def test_cpu_fallback_runs_the_same_workload_and_marks_it(pytester):
    pytest.importorskip("torch")
    result = _run(pytester, "--mlgate-without-gpu=cpu", "--mlgate-price-per-hour=3.6")
    result.assert_outcomes(passed=1)
    [test] = _bundle(pytester)["tests"]
    ev = test["evidence"]["benchmark.matmul"]
    assert ev["device"]["type"] == "cpu" and ev["device"]["requested"] == "cuda"
    assert any("ran on the CPU" in n for n in ev["notes"])
    assert ev["fingerprint"]["torch"].startswith("2.")
    metrics = {m["name"]: m["value"] for m in test["metrics"]}
    assert metrics["matmul.median_s"] > 0
    # 64 items per call at the median: cost = 3.6 $/h / (items/s * 3600) * 1e6
    assert metrics["matmul.cost_per_million"] == pytest.approx(
        3.6 / (metrics["matmul.throughput"] * 3600) * 1e6)


def test_marker_beats_the_option(pytester):
    # the option says cpu, the marker says skip: the marker wins
    result = _run(pytester, "--mlgate-without-gpu=cpu", extra=", without_gpu='skip'")
    result.assert_outcomes(skipped=1)


def test_environment_variable(pytester, monkeypatch):
    monkeypatch.setenv("MLGATE_WITHOUT_GPU", "fail")
    _run(pytester).assert_outcomes(failed=1)


def test_bad_marker_arguments_fail_with_the_fix(pytester):
    result = _run(pytester, extra=", flush_cache=True")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*unknown argument(s) flush_cache; use some of: name, *"])


def test_fixture_without_the_marker(pytester):
    pytester.makepyfile("def test_x(mlgate_gpu_benchmark):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider", "--mlgate-no-bundle")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*needs the test to be marked @pytest.mark.gpu_benchmark*"])


def test_collecting_imports_no_torch(pytester):
    pytester.makepyfile(test_gpu=TEST_FILE.format(extra=""))
    code = ("import sys, pytest; rc = pytest.main(['--co', '-q', '-p', 'no:cacheprovider', "
            "'--mlgate-no-bundle']); print('TORCH', 'torch' in sys.modules); sys.exit(rc)")
    result = pytester.run(sys.executable, "-c", code)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*test_matmul*", "TORCH False"])


def test_markers_are_documented(pytester):
    result = pytester.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.gpu_benchmark(name=None, *without_gpu=None*"])


def test_parse_mark_and_precedence():
    assert parse_mark((), {}) == GpuSpec()
    spec = parse_mark((), {"cuda_graph": True, "rep_ms": 50})
    assert spec.cuda_graph and spec.rep_ms == 50
    with pytest.raises(ValueError, match="keyword arguments only"):
        parse_mark(("x",), {})
    with pytest.raises(ValueError, match="without_gpu must be one of"):
        parse_mark((), {"without_gpu": "maybe"})
    with pytest.raises(ValueError, match="rep_ms must be a positive number"):
        parse_mark((), {"rep_ms": 0})
    with pytest.raises(ValueError, match="min_rounds"):
        parse_mark((), {"min_rounds": 5, "max_rounds": 2})
    assert resolve_without_gpu(GpuSpec(), None, "default") == "skip"
    assert resolve_without_gpu(GpuSpec(), "cpu", "$MLGATE_WITHOUT_GPU") == "cpu"
    assert resolve_without_gpu(GpuSpec(without_gpu="fail"), "cpu", "x") == "fail"
    with pytest.raises(ValueError, match=r"\$MLGATE_WITHOUT_GPU: must be one of skip, fail, cpu"):
        resolve_without_gpu(GpuSpec(), "gpu", "$MLGATE_WITHOUT_GPU")


def test_probe_says_why():
    found = probe()
    assert not found.available
    assert "no CUDA GPU" in found.reason or "torch is not installed" in found.reason


def test_the_gpu_agreement_script_runs_without_a_gpu():
    """benchmarks/gpu_agreement.py runs from a plain checkout (PYTHONPATH=src, no install); with
    no GPU it says why and checks nothing."""
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(root / "src")
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "gpu_agreement.py")],
                          env=env, cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("skipped: ")
    assert "no CUDA GPU" in done.stdout or "torch is not installed" in done.stdout
