"""The locust gate against the quickstart example's model, served by ``mlflow models serve``.

    python benchmarks/load.py                                  # 20 users, 20 s, 0/1/2 workers
    python benchmarks/load.py --users 20 --duration 20 --workers 0,2 --server-workers 1

The model is the example's ``good`` candidate (examples/quickstart/pipeline.py: scaled logistic
regression on the 30 breast-cancer features), trained the same way and registered in a
temporary SQLite MLflow registry; it is served with ``mlflow models serve --env-manager local``
on 127.0.0.1 (uvicorn, ``--server-workers`` processes). Each request is one row of the example's
test split (171 rows), in MLflow's ``dataframe_split`` format, posted as fast as the users can
(no think time). For each number of locust worker processes (0: one locust process; N: a master
and N forked workers) it prints what the gate records: requests per second, p50/p95/p99 latency
and the error ratio (with its Wilson 95% interval); "master saw" is locust's own aggregate on
the master, which waits a fixed 0.5 s for the workers' last reports (the gate's numbers are the
per-process tallies, see mlgate_locust.runner).

The load generator and the server share this machine's cores, so the figures are the
machine's, not the model's alone: read them with the machine line printed first.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = ROOT / "examples" / "quickstart"


def register_quickstart_model(registry: Path) -> tuple[str, str, object]:
    """Train the quickstart's ``good`` model, register it; returns (tracking URI, model URI,
    the test rows)."""
    sys.path.insert(0, str(QUICKSTART))
    import pipeline

    from mlgate_mlflow import register_model

    model = pipeline.train("good")
    x_train, x_test, _, _ = pipeline.load_split()
    tracking_uri = f"sqlite:///{registry / 'mlflow.db'}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        version = register_model(model, pipeline.MODEL_NAME, key="quickstart-good",
                                 tracking_uri=tracking_uri, project_dir=registry,
                                 input_example=x_train.head(3))
    return tracking_uri, f"models:/{pipeline.MODEL_NAME}/{version}", x_test


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per run")
    parser.add_argument("--workers", default="0,1,2",
                        help="locust worker processes per run, comma-separated (0: one process)")
    parser.add_argument("--server-workers", type=int, default=1,
                        help="uvicorn workers of mlflow models serve")
    args = parser.parse_args(argv)

    from mlgate.perf.bench import machine_fingerprint
    from mlgate_locust.fixtures import run_load
    from mlgate_locust.server import ModelServer

    m = machine_fingerprint()
    print(f"machine: {m['cpu']}, {m['logical_cores']} logical cores, {m['python']}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory(prefix="mlgate-load-") as tmp:
        root = Path(tmp)
        (root / "registry").mkdir()
        tracking_uri, model_uri, x_test = register_quickstart_model(root / "registry")
        start = time.monotonic()
        server = ModelServer(model_uri, log_dir=root, tracking_uri=tracking_uri,
                             workers=args.server_workers, cwd=root)
        with server:
            print(f"served {model_uri} with `mlflow models serve --env-manager local "
                  f"-w {args.server_workers}`: ready (GET /ping) after "
                  f"{time.monotonic() - start:.1f} s")
            print(f"{args.users} users, {args.duration:g} s per run, one row per request, no think "
                  "time\n")
            header = (f"{'locust processes':>18} {'requests':>9} {'req/s':>8} {'p50 ms':>7} "
                      f"{'p95 ms':>7} {'p99 ms':>7} {'error ratio':>12} {'(Wilson 95% upper)':>19} "
                      f"{'master saw':>10}")
            print(header)
            print("-" * len(header))
            for workers in (int(w) for w in args.workers.split(",")):
                result = run_load(server, x_test, root / f"run-{workers}", users=args.users,
                                  spawn_rate=args.users, duration_s=args.duration,
                                  workers=workers)
                if result.run.error:
                    print(f"workers={workers}: no numbers: {result.run.error}")
                    return 1
                s = result.stats
                ratio = next(mm for mm in result.metrics() if mm.name == "load.error_ratio")
                label = "1" if workers == 0 else f"1 + {workers} workers"
                print(f"{label:>18} {s.requests:>9} {s.rps:>8.1f} {s.p50_ms:>7.0f} "
                      f"{s.p95_ms:>7.0f} {s.p99_ms:>7.0f} {ratio.value:>12.4f} "
                      f"{ratio.interval.high:>19.4f} {result.run.master_requests:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
