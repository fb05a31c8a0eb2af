"""Fuzz the example's model served by ``mlflow models serve`` (examples/quickstart).

    make demo                                   # once: registers breast-cancer versions 1 and 2
    .venv/bin/python benchmarks/fuzz_served.py  # version 1, 100 examples per protocol
    .venv/bin/python benchmarks/fuzz_served.py --version 2 --max-examples 200

Starts ``mlflow models serve -m models:/breast-cancer/VERSION --env-manager local`` on a free
port of 127.0.0.1 against the example's embedded registry (``examples/quickstart/.mlgate``),
waits for ``/ping``, fuzzes ``/invocations`` from ``examples/quickstart/schema.yaml`` (the target
column excluded) with ``dataframe_split`` and ``dataframe_records`` bodies, prints the crash rate
with its Wilson interval, the status codes, the outcome per input kind and the minimal failing
input, then stops the server it started.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
EXAMPLE = ROOT / "examples" / "quickstart"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, server: subprocess.Popen, limit: float = 180.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"no answer from {url} within {limit:.0f} s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--version", default="1")
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    registry = EXAMPLE / ".mlgate" / "mlflow.db"
    if not registry.is_file():
        raise SystemExit(f"{registry} not found: run `make demo` first (it registers the models)")
    from mlgate.security.fuzz import fuzz_http

    port = free_port()
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{registry}",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m",
         f"models:/breast-cancer/{args.version}", "-p", str(port), "--env-manager", "local"],
        cwd=EXAMPLE, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        started = time.monotonic()
        wait_for(f"http://127.0.0.1:{port}/ping", server)
        print(f"mlflow models serve: breast-cancer v{args.version} on port {port} "
              f"(up in {time.monotonic() - started:.0f} s)")
        for protocol in ("mlflow", "mlflow-records"):
            start = time.monotonic()
            result = fuzz_http(f"http://127.0.0.1:{port}/invocations", EXAMPLE / "schema.yaml",
                               exclude=["target"], protocol=protocol,
                               max_examples=args.max_examples, seed=args.seed, timeout=30)
            low, high = result.interval
            print(f"\n{protocol}: {result.calls} calls in {time.monotonic() - start:.0f} s, "
                  f"crash rate {result.crash_rate:.3f} [{low:.3f}, {high:.3f}], "
                  f"status codes {result.statuses}")
            for kind, counts in result.by_kind.items():
                print(f"  {kind:<15} ok {counts['ok']:>3}  error {counts['error']:>3}  "
                      f"crash {counts['crash']:>3}")
            for reason, count in result.reasons:
                print(f"  {count}x {reason[:160]}")
            if result.minimal:
                m = result.minimal
                print(f"  minimal failing input: {m['kind']}, {m['rows']} row(s) x "
                      f"{m['columns']} columns ({m['detail'] or 'as drawn'}); HTTP "
                      f"{m.get('status')}")
                if m["rows"] == 1:
                    cells = {k: v for k, v in m["head"][0].items() if v not in (0, 0.0)}
                    print(f"    cells other than 0: {cells}")
    finally:
        os.killpg(server.pid, 15)  # the server and the uvicorn worker it started
        server.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
