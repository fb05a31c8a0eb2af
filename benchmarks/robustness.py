"""Adversarial robustness: mlgate's FGSM and PGD (L-inf, L2) against torchattacks' FGSM, PGD and
PGDL2 on the same model, the same rows and the same eps, steps and step size.

    python benchmarks/robustness.py            # needs torch and torchattacks (pip install
                                               # --no-deps torchattacks: its pins would replace torch)

The model: a seeded 64-64-10 MLP (``Flatten, Linear, ReLU, Linear``) trained for 12 epochs with
Adam on the first 1,500 of scikit-learn's digits (8x8 images scaled to [0, 1]); the attacks run on
the other 297. Robust accuracy counts a row robust when it is classified correctly both as given
and after the attack (the same definition for both tools). PGD runs without a random start, so the
two tools' iterates are comparable one to one; ``max |diff|`` is the largest difference between
their adversarial examples. **seconds**: best of 3 runs (one torch thread).
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import torch  # noqa: E402


def train():
    from sklearn.datasets import load_digits

    data = load_digits()
    X = torch.tensor((data.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8))
    y = torch.tensor(data.target)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                              torch.nn.Linear(64, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(12):
        for i in range(0, 1500, 100):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(net(X[i:i + 100]), y[i:i + 100]).backward()
            opt.step()
    return net.eval(), X[1500:], y[1500:]


def best_of(fn, runs: int = 3):
    best, out = float("inf"), None
    for _ in range(runs):
        began = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - began)
    return best, out


def robust_accuracy(net, X, adv, y) -> float:
    with torch.no_grad():
        return float(((net(X).argmax(1) == y) & (net(adv).argmax(1) == y)).double().mean())


def main() -> int:
    import torchattacks as ta

    from mlgate.security.adversarial import fgsm, pgd

    torch.set_num_threads(1)
    net, X, y = train()
    with torch.no_grad():
        clean = float((net(X).argmax(1) == y).double().mean())
    cases = [
        ("FGSM linf", 0.05, None, lambda e, a: ta.FGSM(net, eps=e),
         lambda e, a: fgsm(net, X, y, eps=e, clip=(0.0, 1.0))),
        ("FGSM linf", 0.1, None, lambda e, a: ta.FGSM(net, eps=e),
         lambda e, a: fgsm(net, X, y, eps=e, clip=(0.0, 1.0))),
        ("PGD linf", 0.05, 0.0125, lambda e, a: ta.PGD(net, eps=e, alpha=a, steps=10,
                                                         random_start=False),
         lambda e, a: pgd(net, X, y, eps=e, steps=10, step_size=a, random_start=False,
                          clip=(0.0, 1.0))),
        ("PGD linf", 0.1, 0.025, lambda e, a: ta.PGD(net, eps=e, alpha=a, steps=10,
                                                       random_start=False),
         lambda e, a: pgd(net, X, y, eps=e, steps=10, step_size=a, random_start=False,
                          clip=(0.0, 1.0))),
        ("PGD l2", 0.5, 0.1, lambda e, a: ta.PGDL2(net, eps=e, alpha=a, steps=10,
                                                    random_start=False),
         lambda e, a: pgd(net, X, y, eps=e, norm="l2", steps=10, step_size=a,
                          random_start=False, clip=(0.0, 1.0))),
        ("PGD l2", 1.0, 0.2, lambda e, a: ta.PGDL2(net, eps=e, alpha=a, steps=10,
                                                    random_start=False),
         lambda e, a: pgd(net, X, y, eps=e, norm="l2", steps=10, step_size=a,
                          random_start=False, clip=(0.0, 1.0))),
    ]
    print(f"python {platform.python_version()}, torch {torch.__version__}, torchattacks "
          f"{ta.__version__}, 1 torch thread; digits MLP, {len(y)} test rows, clean accuracy "
          f"{clean:.4f}")
    print(f"{'attack':<10} {'eps':>5} {'alpha':>7}  {'robust acc mlgate':>17} "
          f"{'torchattacks':>12}  {'max |diff|':>10}  {'s mlgate':>8} {'s torchattacks':>14}")
    for label, eps, alpha, theirs, ours in cases:
        t_ours, adv_ours = best_of(lambda ours=ours, eps=eps, alpha=alpha: ours(eps, alpha))
        attack = theirs(eps, alpha)
        t_theirs, adv_theirs = best_of(lambda attack=attack: attack(X, y))
        diff = float((adv_ours - adv_theirs).abs().max())
        print(f"{label:<10} {eps:>5g} {alpha if alpha is not None else '-':>7}  "
              f"{robust_accuracy(net, X, adv_ours, y):>17.4f} "
              f"{robust_accuracy(net, X, adv_theirs, y):>12.4f}  {diff:>10.2e}  "
              f"{t_ours:>8.4f} {t_theirs:>14.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
