"""Decision quality: how often the champion comparison promotes a candidate that is truly worse
than the champion by more than the margin, and how often it promotes a truly equal one, against
a point-estimate threshold rule (MLflow's and TFX's validators) on the same simulated data.

    python benchmarks/decision_quality.py             # the full run (under two minutes)
    python benchmarks/decision_quality.py --quick     # a tenth of the trials

Every trial is one candidate/champion pair evaluated on n rows whose true difference is known:

- **accuracy** (``compare(..., metrics=("accuracy",))``: Newcombe paired interval): each row is
  one of four kinds, drawn with fixed probabilities: both models right (a), only the candidate
  right (b), only the champion right (c), both wrong (d). The champion's accuracy is 0.85, the
  models disagree on 10% of the rows (b + c = 0.10), and the candidate's accuracy is
  0.85 + delta, so b = (0.10 + delta) / 2 and c = (0.10 - delta) / 2. Labels are fair coin
  flips; a model's prediction is the label where it is right and the other class where not.
- **ROC AUC** (``compare(..., metrics=("roc_auc",))``: paired DeLong): binormal scores, 30%
  positives; negatives score N(0, 1), the positives of model k score N(mu_k, 1), the two models'
  noise correlated 0.7, so the true AUC is Phi(mu_k / sqrt 2) exactly: the champion 0.85, the
  candidate 0.85 + delta.

The rule under test is the gate's ``noninferiority`` rule on the recorded metric: **promote**
when the interval's lower end >= -m, **reject** when its upper end < -m, **review** otherwise. The
interval is two-sided at level 0.90, so the promotion is a one-sided test at alpha = 0.05
(mlgate's default level 0.95 gives 0.025). The point rule promotes when
``candidate >= champion - m`` on the point estimates and rejects otherwise.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

MARGIN = 0.01
ALPHA = 0.05
LEVEL = 1 - 2 * ALPHA  # two-sided level whose lower bound is the one-sided (1 - alpha) bound
N_ROWS = 10_000
SEED = 20240601
# (true delta, trials) per scenario; the boundary delta = -m gets the most trials
ACCURACY = ((-0.03, 2000), (-0.02, 3000), (-0.015, 3000), (-0.0125, 3000), (-0.01, 10000),
            (-0.005, 3000), (0.0, 3000), (0.005, 2000), (0.01, 2000))
AUC = ((-0.02, 300), (-0.01, 1000), (0.0, 600))


def accuracy_trial(rng, delta: float, n: int):
    import numpy as np

    from mlgate.model.compare import compare

    b, c = (0.10 + delta) / 2, (0.10 - delta) / 2
    a = 0.85 - c
    kind = rng.choice(4, size=n, p=[a, b, c, 1 - a - b - c])
    y = rng.integers(0, 2, size=n).astype(float)
    cand = np.where(kind <= 1, y, 1 - y)
    champ = np.where((kind == 0) | (kind == 2), y, 1 - y)
    return compare(y, cand, champ, metrics=("accuracy",), margin=MARGIN, level=LEVEL)["accuracy"]


def auc_trial(rng, delta: float, n: int):
    from scipy.stats import norm

    from mlgate.model.compare import compare

    mu_champ = math.sqrt(2) * norm.ppf(0.85)
    mu_cand = math.sqrt(2) * norm.ppf(0.85 + delta)
    y = (rng.random(n) < 0.3).astype(float)
    shared = rng.standard_normal(n)
    rho = 0.7
    noise1 = math.sqrt(rho) * shared + math.sqrt(1 - rho) * rng.standard_normal(n)
    noise2 = math.sqrt(rho) * shared + math.sqrt(1 - rho) * rng.standard_normal(n)
    cand = noise1 + mu_cand * y
    champ = noise2 + mu_champ * y
    return compare(y, cand, champ, metrics=("roc_auc",), margin=MARGIN, level=LEVEL)["roc_auc"]


def run(name: str, trial, scenarios, n: int, scale: float, rng) -> list[str]:
    import numpy as np

    from mlgate.model.intervals import wilson

    lines = [f"{name}, n = {n:,} rows, margin m = {MARGIN}, one-sided alpha = {ALPHA} "
             f"(two-sided {LEVEL:.0%} interval)",
             f"{'true delta':>10} {'truth':>12} {'trials':>7} | {'mlgate promote':>14} "
             f"{'(Wilson 95%)':>17} {'review':>7} {'reject':>7} | {'point rule promote':>18} "
             f"{'(Wilson 95%)':>17}"]
    for delta, trials in scenarios:
        trials = max(100, int(trials * scale))
        promote = review = reject = point = 0
        covered = 0
        for _ in range(trials):
            c = trial(rng, delta, n)
            status = c.status
            promote += status == "pass"
            review += status == "review"
            reject += status == "fail"
            point += (c.candidate - c.champion) >= -MARGIN - 1e-12
            covered += c.low <= delta <= c.high
        lo, hi = wilson(promote, trials)
        plo, phi = wilson(point, trials)
        truth = "worse > m" if delta < -MARGIN - 1e-12 else "boundary" if np.isclose(delta, -MARGIN) \
            else "non-inferior"
        lines.append(
            f"{delta:>+10.4f} {truth:>12} {trials:>7} | {promote / trials:>14.4f} "
            f"{f'[{lo:.4f}, {hi:.4f}]':>17} {review / trials:>7.4f} {reject / trials:>7.4f} | "
            f"{point / trials:>18.4f} {f'[{plo:.4f}, {phi:.4f}]':>17}")
        lines.append(f"{'':>10} {'':>12} {'':>7} | interval coverage of the true delta: "
                     f"{covered / trials:.4f}")
    return lines


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the trials")
    parser.add_argument("--rows", type=int, default=N_ROWS)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    scale = 0.1 if args.quick else 1.0
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    out = run("accuracy (Newcombe paired interval)", accuracy_trial, ACCURACY, args.rows, scale, rng)
    out.append("")
    out += run("ROC AUC (paired DeLong)", auc_trial, AUC, args.rows, scale, rng)
    out.append("")
    out.append(f"seed {args.seed}, {time.perf_counter() - start:.1f} s")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
