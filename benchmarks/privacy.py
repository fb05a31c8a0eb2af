"""The privacy scan against a plain per-cell Python loop with the same patterns and validators.

    .venv/bin/python benchmarks/privacy.py               # 100,000 rows x 3 text columns
    .venv/bin/python benchmarks/privacy.py --rows 20000

The data: seeded filler text (words, random numbers of 1 to 19 digits, decimals, dates, hex
digests) with one value of a random kind planted in 1% of the cells. The loop runs, per cell and
per kind, ``re.finditer`` and the same validators one candidate at a time (what a scan written
without vectorisation does); both must find the same counts. Also measured: the false-positive
rate on the same text without planted values, and on a column of random 16-digit identifiers.
Times: best of 3 (the loop: 1 run when it takes more than 10 s).
"""

from __future__ import annotations

import argparse
import platform
import string
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "security"))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from mlgate.security import privacy  # noqa: E402

WORDS = ("the patient reported mild symptoms after dose order shipped on time invoice total "
         "ref account status ok pending review call back tomorrow version build id").split()


def filler(rng: np.random.Generator, n: int) -> list[str]:
    lengths = rng.integers(1, 20, n)
    out = []
    for k in lengths:
        words = " ".join(rng.choice(WORDS, 5))
        number = "".join(rng.choice(list(string.digits), k))
        out.append(f"{words} {number} {rng.normal():.5f} {rng.bytes(8).hex()} "
                   f"2024-{rng.integers(1, 13):02d}-{rng.integers(1, 29):02d}")
    return out


def make(rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    from test_privacy import samples

    rng = np.random.default_rng(seed)
    clean = {c: filler(rng, rows) for c in ("notes", "comment", "address")}
    planted = {c: list(v) for c, v in clean.items()}
    kinds = list(privacy.KINDS)
    for column in planted:
        for i in np.flatnonzero(rng.random(rows) < 0.01):
            kind = kinds[int(rng.integers(0, len(kinds)))]
            value = samples(np.random.default_rng(int(i)))[kind][int(i) % 2]
            planted[column][i] = f"{planted[column][i]} contact {value} thanks"
    return pd.DataFrame(planted), pd.DataFrame(clean)


def loop_scan(frame: pd.DataFrame) -> dict[str, dict[str, int]]:
    """The same patterns and validators, cell by cell, candidate by candidate."""
    out: dict[str, dict[str, int]] = {}
    for column in frame.columns:
        counts: Counter = Counter()
        cards: list[str] = []
        for cell in frame[column].tolist():
            if not isinstance(cell, str):
                continue
            for kind, pattern in privacy._COMPILED.items():
                for m in pattern.finditer(cell):
                    value = m.group(0)
                    if kind == "payment_card":
                        if privacy.card_check([value])[0][0]:
                            cards.append(value)
                    elif privacy._validate(kind, [value])[0]:
                        counts[kind] += 1
        if cards:
            counts["payment_card"] += len(cards)
        out[column] = {k: counts[k] for k in privacy.KINDS if counts[k]}
    return {c: v for c, v in out.items() if v}


def best_of(fn, repeat: int = 3) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if times[-1] > 10:
            break
    return min(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    planted, clean = make(args.rows)
    mb = sum(planted[c].str.len().sum() for c in planted.columns) / 1e6
    t_scan, result = best_of(lambda: privacy.scan(planted, max_rows=None))
    t_loop, loop_counts = best_of(lambda: loop_scan(planted))
    same = result.counts() == loop_counts
    print(f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}; "
          f"{args.rows} rows x 3 text columns, {mb:.1f} MB of text")
    print(f"{'engine':<28}{'s':>9}{'MB/s':>9}{'findings':>10}")
    print(f"{'mlgate scan (vectorised)':<28}{t_scan:>9.3f}{mb / t_scan:>9.1f}{result.count:>10}")
    loop_total = sum(sum(v.values()) for v in loop_counts.values())
    print(f"{'per-cell Python loop':<28}{t_loop:>9.3f}{mb / t_loop:>9.1f}{loop_total:>10}")
    print(f"speed ratio: {t_loop / t_scan:.1f}x; same counts: {same}")
    fp = privacy.scan(clean, max_rows=None)
    per_kind = Counter()
    for f in fp.findings:
        per_kind[f.kind] += f.rows
    cells = clean.size
    print(f"false positives on the clean text: {sum(per_kind.values())} of {cells} cells "
          f"({sum(per_kind.values()) / cells:.3%}): {dict(per_kind) or 'none'}")
    rng = np.random.default_rng(1)
    ids = pd.DataFrame({"id": ["".join(rng.choice(list(string.digits), 16))
                               for _ in range(10_000)]})
    found = privacy.scan(ids)
    print(f"false positives on 10,000 random 16-digit identifiers: {found.count} "
          f"({'; '.join(found.notes) or 'no note'})")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
