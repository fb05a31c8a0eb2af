"""Drift-check speed: mlgate against a plain SciPy loop, a NumPy sort and (where installed) the
peers, on the same generated data in the same run.

    python benchmarks/drift.py                       # 100,000 and 1,000,000 rows x 25 columns
    python benchmarks/drift.py --rows 100000         # one size
    python benchmarks/drift.py --python-compat .venv-compat/bin/python   # + Evidently, Deepchecks

The data (fixed seed): 20 numeric columns (normal, log-normal, uniform, rounded, integer) and 5
categorical ones with about 10 string levels, drift planted in 5 (4 numeric, 1 categorical).
It is written once to Parquet in a temporary folder; every tool runs in a fresh subprocess that
reads it into pandas, so timings do not share caches and the memory of one tool does not hide
another's. Peak MB is the peak resident memory during the check minus the resident memory after
loading the two frames (Linux: the VmHWM counter is reset before the check); seconds are the
best of 3 runs (1 for the peers). "verdicts agree"
compares each tool's drifted columns with the planted ones.

The peers need older libraries (Evidently 0.7 does not import with pandas 3): they run under
another interpreter (``--python-compat``, default ``.venv-compat/bin/python``); when it is
missing they are printed as "skipped (no .venv-compat)". This file imports nothing from mlgate at
module level, so that interpreter needs only pandas, pyarrow and the peer.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
N_NUMERIC, N_CATEGORICAL = 20, 5
PLANTED = ("num_0", "num_5", "num_10", "num_15", "cat_0")
ALPHA = 0.05
REPEAT = 3


# -- data ------------------------------------------------------------------------------------------


def make_frames(rows: int, seed: int = 3):
    """Reference and current frames: 20 numeric, 5 categorical columns, drift in PLANTED."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    levels = np.array([f"level_{i}" for i in range(10)], dtype=object)
    base_p = np.linspace(1, 2, 10)
    base_p /= base_p.sum()

    def numeric(i: int, side: str):
        shift = 0.5 if side == "cur" and f"num_{i}" in PLANTED else 0.0
        kind = i % 5
        if kind == 0:
            return rng.normal(shift, 1.0, rows)
        if kind == 1:
            return rng.lognormal(shift, 0.75, rows)
        if kind == 2:
            return rng.uniform(shift, 1 + shift, rows)
        if kind == 3:
            return np.round(rng.normal(10 + shift, 2.0, rows), 1)  # many ties
        return rng.poisson(5 + 2 * shift, rows).astype(np.float64)  # integers: ties

    frames = {}
    for side in ("ref", "cur"):
        data = {f"num_{i}": numeric(i, side) for i in range(N_NUMERIC)}
        for j in range(N_CATEGORICAL):
            p = base_p[::-1] if side == "cur" and f"cat_{j}" in PLANTED else base_p
            data[f"cat_{j}"] = levels[rng.choice(10, rows, p=p)]
        frame = pd.DataFrame(data)
        for j in range(N_CATEGORICAL):  # about 0.1% missing values in every column
            frame.loc[frame.index[rng.integers(0, rows, rows // 1000)], f"cat_{j}"] = None
        frame.loc[frame.index[rng.integers(0, rows, rows // 1000)], "num_1"] = np.nan
        frames[side] = frame
    return frames["ref"], frames["cur"]


def write_data(rows: int, folder: Path) -> None:
    ref, cur = make_frames(rows)
    ref.to_parquet(folder / "ref.parquet", index=False)
    cur.to_parquet(folder / "cur.parquet", index=False)


# -- measuring (inside the subprocess) --------------------------------------------------------------


def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (Linux >= 4.0)
        return True
    except OSError:
        return False


def _release_memory() -> None:
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:
        pass
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except Exception:
        pass


def measure(tool: str, folder: Path) -> dict:
    import pandas as pd

    ref = pd.read_parquet(folder / "ref.parquet")
    cur = pd.read_parquet(folder / "cur.parquet")
    frames_mb = (ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum()) / 2**20
    fn = TOOLS[tool]
    prepared = fn.prepare(ref, cur, folder) if hasattr(fn, "prepare") else None
    # warm up on a small slice: imports and first-call setup are not part of the check
    small = fn.prepare(ref.head(2000), cur.head(2000), folder / "warm") \
        if hasattr(fn, "prepare") else None
    fn(ref.head(2000), cur.head(2000), small)
    _release_memory()
    base_kb = _status_kb("VmRSS")
    exact_peak = _reset_peak()
    import resource

    seconds = float("inf")
    for _ in range(1 if tool in PEERS else REPEAT):  # best of REPEAT: the machine may be shared
        start = time.perf_counter()
        drifted = fn(ref, cur, prepared)
        seconds = min(seconds, time.perf_counter() - start)
    peak_kb = _status_kb("VmHWM") if exact_peak else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = None if base_kb is None or peak_kb is None else max(peak_kb - base_kb, 0) / 1024
    return {"tool": tool, "rows": len(ref), "seconds": seconds, "peak_mb": peak_mb,
            "frames_mb": frames_mb, "drifted": None if drifted is None else sorted(drifted)}


# -- the tools -----------------------------------------------------------------------------------------


def _mlgate(n_jobs):
    def run(ref, cur, prepared):
        from mlgate.data.drift import drift

        return [c.column for c in drift(ref, cur, n_jobs=n_jobs, alpha=ALPHA).drifted]
    return run


def _mlgate_profile(ref, cur, prepared):
    from mlgate.data.drift import ReferenceProfile, drift

    profile = ReferenceProfile.load(prepared)  # the stored profile is read as part of the run
    return [c.column for c in drift(profile, cur, alpha=ALPHA).drifted]


def _prepare_profile(ref, cur, folder):
    from mlgate.data.drift import ReferenceProfile

    folder.mkdir(exist_ok=True)
    path = folder / "ref.profile.npz"
    if not path.exists():
        ReferenceProfile.from_frame(ref).save(path)
    return path


_mlgate_profile.prepare = _prepare_profile  # type: ignore[attr-defined]


def _scipy_loop(ref, cur, prepared):
    """What a user would write: per column ks_2samp / chi2_contingency and a NumPy PSI; the same
    Benjamini-Hochberg correction as mlgate, so the verdicts are comparable."""
    import numpy as np
    import pandas as pd
    from scipy import stats

    pvals = {}
    for col in ref.columns:
        r, c = ref[col].dropna(), cur[col].dropna()
        if pd.api.types.is_numeric_dtype(r):
            r, c = r.to_numpy(), c.to_numpy()
            pvals[col] = stats.ks_2samp(r, c).pvalue
            edges = np.unique(np.quantile(r, np.linspace(0, 1, 11)))
            edges[0], edges[-1] = -np.inf, np.inf
            pr = np.histogram(r, edges)[0] / r.size
            pc = np.histogram(c, edges)[0] / c.size
        else:
            counts = pd.concat([r.value_counts(), c.value_counts()], axis=1).fillna(0)
            table = counts.to_numpy().T
            pvals[col] = stats.chi2_contingency(table).pvalue
            pr, pc = table[0] / table[0].sum(), table[1] / table[1].sum()
        pr, pc = np.maximum(pr, 1e-4), np.maximum(pc, 1e-4)
        _psi = float(np.sum((pc - pr) * np.log(pc / pr)))
    names = list(pvals)
    adjusted = stats.false_discovery_control([pvals[n] for n in names], method="bh")
    return [n for n, p in zip(names, adjusted, strict=True) if p < ALPHA]


def _numpy_sort(ref, cur, prepared):
    """The floor for exact KS without a stored profile: sort every numeric column of both frames."""
    import numpy as np

    for frame in (ref, cur):
        for col in frame.columns:
            if frame[col].dtype.kind == "f":
                np.sort(frame[col].to_numpy())
    return None


def _evidently(ref, cur, prepared):
    """Evidently 0.7's DataDriftPreset with its defaults (per-column test chosen by Evidently)."""
    import warnings

    warnings.filterwarnings("ignore")
    from evidently import Report
    from evidently.presets import DataDriftPreset

    snapshot = Report([DataDriftPreset()]).run(cur, ref)  # current first!
    drifted = []
    for metric in snapshot.dict().get("metrics", []):
        mid = str(metric.get("metric_name") or metric.get("metric_id") or "")
        if not mid.startswith("ValueDrift("):
            continue
        col = mid.split("column=")[1].split(",")[0].rstrip(")")
        cfg = metric.get("config", {}) or {}
        value, threshold = metric.get("value"), cfg.get("threshold")
        method = str(cfg.get("method", ""))
        if value is None or threshold is None:
            continue
        is_pvalue = "p_value" in method or "test" in method.lower()
        if (value < threshold) if is_pvalue else (value >= threshold):
            drifted.append(col)
    return drifted


def _deepchecks(ref, cur, prepared):
    """Deepchecks' FeatureDrift on every row (n_samples = rows; its default samples 100,000),
    drifted when the drift score is above its default condition's 0.2."""
    import warnings

    warnings.filterwarnings("ignore")
    from deepchecks.tabular import Dataset
    from deepchecks.tabular.checks import FeatureDrift

    cats = [c for c in ref.columns if c.startswith("cat_")]
    n = max(len(ref), len(cur))
    result = FeatureDrift(n_samples=n).run(Dataset(ref, cat_features=cats, label=None),
                                           Dataset(cur, cat_features=cats, label=None))
    return [col for col, v in result.value.items() if v.get("Drift score", 0) > 0.2]


TOOLS = {
    "mlgate": _mlgate(None),
    "mlgate (1 thread)": _mlgate(1),
    "mlgate + stored profile": _mlgate_profile,
    "scipy loop": _scipy_loop,
    "numpy sort (numeric, both)": _numpy_sort,
    "evidently 0.7 preset": _evidently,
    "deepchecks FeatureDrift": _deepchecks,
}
PEERS = ("evidently 0.7 preset", "deepchecks FeatureDrift")


# -- the driver --------------------------------------------------------------------------------------


def run_tool(tool: str, folder: Path, python: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([python, __file__, "--measure", tool, "--data", str(folder)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"tool": tool, "error": tail[:100]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--python-compat", default=str(ROOT / ".venv-compat" / "bin" / "python"),
                        help="interpreter with evidently / deepchecks installed")
    parser.add_argument("--peer", nargs="*", default=["evidently", "deepchecks"],
                        choices=["evidently", "deepchecks"], help="peers to time (default: both)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:  # inside the subprocess
        print(json.dumps(measure(args.measure, Path(args.data))))
        return 0

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs; planted drift in "
          f"{', '.join(PLANTED)}; alpha={ALPHA} (BH)")
    header = (f"{'tool':28s} {'rows':>9s} {'seconds':>8s} {'peak MB':>8s} {'x mlgate':>9s} "
              f"{'verdicts agree':>15s}")
    compat = Path(args.python_compat)
    for rows in args.rows:
        with tempfile.TemporaryDirectory(prefix="mlgate-drift-bench-") as tmp:
            folder = Path(tmp)
            write_data(rows, folder)
            results = []
            for tool in TOOLS:
                if tool in PEERS:
                    name = "evidently" if tool.startswith("evidently") else "deepchecks"
                    if name not in args.peer:
                        continue
                    if not compat.exists():
                        results.append({"tool": tool, "skipped": "skipped (no .venv-compat)"})
                        continue
                    results.append(run_tool(tool, folder, str(compat)))
                else:
                    results.append(run_tool(tool, folder, sys.executable))
            base = next((r["seconds"] for r in results if r.get("tool") == "mlgate"
                         and "seconds" in r), None)
            frames = next((r["frames_mb"] for r in results if "frames_mb" in r), float("nan"))
            print(f"\n{rows:,} rows x 25 columns (the two frames: {frames:,.0f} MB in pandas)")
            print(header)
            for r in results:
                if "seconds" not in r:
                    print(f"{r['tool']:28s} {rows:>9,d} {r.get('skipped') or 'error: ' + r['error']}")
                    continue
                ratio = f"{r['seconds'] / base:.2f}" if base else "-"
                peak = "-" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
                agree = "-" if r["drifted"] is None else (
                    "yes" if set(r["drifted"]) == set(PLANTED) else f"no: {r['drifted']}")
                print(f"{r['tool']:28s} {rows:>9,d} {r['seconds']:8.2f} {peak:>8s} {ratio:>9s} "
                      f"{agree:>15s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
