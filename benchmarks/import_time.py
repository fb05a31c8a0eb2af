"""How much mlgate.plugin adds to every pytest run: `python -X importtime`, pytest pre-imported
(as it is in a pytest run). Prints the cumulative import time of mlgate.plugin, the median of
several fresh interpreters, against the 100 ms budget.

    .venv/bin/python benchmarks/import_time.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys

RUNS = 15
BUDGET_US = 100_000


def one_run() -> int:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import pytest; import mlgate.plugin"],
        capture_output=True, text=True, check=True,
    )
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == "mlgate.plugin":
            return int(parts[1])
    raise RuntimeError("mlgate.plugin not found in -X importtime output")


def main() -> None:
    times = sorted(one_run() for _ in range(RUNS))
    median = statistics.median(times)
    print(f"mlgate.plugin cumulative import time, median of {RUNS}: {median / 1000:.1f} ms "
          f"(min {times[0] / 1000:.1f}, max {times[-1] / 1000:.1f}); budget 100 ms; "
          f"ratio to budget {median / BUDGET_US:.2f}")


if __name__ == "__main__":
    main()
