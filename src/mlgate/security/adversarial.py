"""Adversarial robustness: white-box gradient attacks on PyTorch modules and a black-box attack on
any predict function, with robust accuracy as a gate metric.

::

    import pytest
    from mlgate.security.adversarial import robustness

    @pytest.mark.security
    def test_robust_to_small_perturbations(mlgate, net, X_test, y_test):
        result = robustness(net, X_test, y_test, attack="pgd", eps=0.1, steps=10,
                            clip=(0.0, 1.0), seed=0, min_robust_accuracy=0.6)
        mlgate.check(result)   # robust_accuracy with its Wilson 95% interval

**White-box** (a ``torch.nn.Module`` returning logits; torch is imported only when called):

- :func:`fgsm`: one step ``x + eps * sign(grad)`` (L∞) or ``x + eps * grad / ||grad||_2`` (L2).
- :func:`pgd`: Madry et al. (2018): ``steps`` steps of size ``step_size`` (L∞: the sign of the
  gradient; L2: the gradient scaled to unit L2 norm per row), each followed by the projection onto
  the ``eps`` ball around ``x`` and onto the valid bounds; an optional random start (L∞: uniform
  in the box; L2: a uniformly random direction with a radius uniform in ``[0, eps]``), drawn from a
  ``torch.Generator`` seeded with ``seed`` for all rows at once, so the result does not depend on
  ``batch_size``. The last iterate is returned (as torchattacks does).

The loss is the sum of the rows' cross-entropy (a single-logit binary model: binary cross-entropy
with logits), so a row's gradient does not depend on the other rows of its batch; ``loss=`` takes
any ``f(logits, y) -> per-row losses``. The module is put in eval mode, its parameters are frozen
for the attack (no ``.grad`` is touched) and both are restored after. The norm is taken over all
the features of a row (for images: all pixels), as torchattacks does.

**Black-box** (:func:`blackbox`, any ``predict`` function or scikit-learn model; numpy only):

- ``method="random"``: bounded random search in the L∞ ball ``[x - eps, x + eps]`` intersected
  with the valid ranges; half the candidates are vertices of that box (where a locally linear
  model is weakest), half uniform inside it. Rows are attacked together: one ``predict`` call
  evaluates a round of candidates for every row still unbroken.
- ``method="boundary"``: first a boundary search (HopSkipJump-lite, after Chen, Jordan &
  Wainwright 2020): for each row, the nearest rows of ``X`` (in L∞) that the model puts in another
  class are the far ends of segments; a binary search (``BOUNDARY_STEPS``) along each segment
  finds the point where the prediction changes. Inside the ``eps`` ball that point breaks the row
  (a convex combination of valid rows is valid too); outside, ``BOUNDARY_PROBES`` random sign
  probes around it estimate the boundary's normal, and ``x + eps * sign(normal)``, clipped to the
  box, is tried. This needs ``2 * (BOUNDARY_STEPS + BOUNDARY_PROBES + 1)`` queries per row at
  least (it is skipped, and said so in the evidence, below that); the rest of the budget goes to
  the random search. The boundary distances are kept as evidence (an upper bound on the smallest
  perturbation that changes each row's prediction).

``budget`` is the number of model queries per row beyond the clean prediction, never exceeded.

**Robust accuracy** is the share of rows that are classified correctly both as given and after
the attack (a misclassified row is its own adversarial example, at distance 0), so ``eps=0`` gives
exactly the clean accuracy. Its interval is the Wilson score interval
(:func:`mlgate.model.intervals.wilson`). ``attack_success_rate`` is the share of the correctly
classified rows that the attack flips. ``eps``, the norm, the steps, the step size, the random
start, the seed, the bounds and the budget (gradient steps or queries) are kept in the evidence,
with a few flipped rows.

Bounds: ``clip=(lower, upper)`` with scalars or per-feature arrays (broadcast to one row's shape),
or :func:`bounds_from_schema` for a pandera schema's ``in_range`` / ``ge`` / ``le`` / ``gt`` /
``lt`` checks. Inputs outside the bounds, NaN or infinite inputs, and labels that do not match the
rows are refused with an :class:`mlgate.errors.InputError` (fail closed).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Interval, Metric, encode_float

NORMS: tuple[str, ...] = ("linf", "l2")
ATTACKS: tuple[str, ...] = ("fgsm", "pgd")
BLACKBOX_METHODS: tuple[str, ...] = ("random", "boundary")
#: flipped rows kept as evidence
N_EXAMPLES = 3
#: features shown per example row
EXAMPLE_FEATURES = 8
#: added to an L2 gradient norm before dividing (as torchattacks' ``eps_for_division``)
L2_DIVISION_EPS = 1e-10
#: binary-search steps per segment in the black-box boundary search
BOUNDARY_STEPS = 8
#: random sign probes around each boundary point to estimate the boundary's normal
BOUNDARY_PROBES = 10
#: nearest differently-predicted rows used as segment ends in the boundary search
BOUNDARY_DIRECTIONS = 3
#: candidate rows evaluated per ``predict`` call in the black-box attack (memory bound)
BLACKBOX_CHUNK_ROWS = 50_000


# -- the result ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RobustnessResult:
    """What :func:`robustness` or :func:`blackbox` found: a :class:`mlgate.record.CheckResult`.

    ``adversarial`` holds the adversarial examples (a NumPy array shaped like ``X``); it is not
    part of the evidence."""

    attack: str  # "fgsm", "pgd", "blackbox-random", "blackbox-boundary"
    norm: str
    eps: float
    n: int
    clean_correct: int
    robust_correct: int
    level: float = 0.95
    min_robust_accuracy: float | None = None
    prefix: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)  # steps, step size, seed, bounds...
    budget: dict[str, Any] = field(default_factory=dict)
    examples: tuple[dict[str, Any], ...] = ()
    seconds: float = 0.0
    adversarial: Any = field(default=None, repr=False, compare=False)
    name: str = "robustness"

    @property
    def clean_accuracy(self) -> float:
        return self.clean_correct / self.n

    @property
    def robust_accuracy(self) -> float:
        return self.robust_correct / self.n

    @property
    def attack_success_rate(self) -> float:
        """The share of correctly classified rows the attack flipped (NaN with none correct)."""
        if self.clean_correct == 0:
            return math.nan
        return (self.clean_correct - self.robust_correct) / self.clean_correct

    @property
    def interval(self) -> Interval:
        from mlgate.model.intervals import wilson

        return Interval(*wilson(self.robust_correct, self.n, self.level), self.level)

    def metrics(self) -> list[Metric]:
        from mlgate.model.intervals import wilson

        clean = Interval(*wilson(self.clean_correct, self.n, self.level), self.level)
        return [
            Metric(self.prefix + "robust_accuracy", self.robust_accuracy,
                   self.min_robust_accuracy, "higher", self.interval),
            Metric(self.prefix + "clean_accuracy", self.clean_accuracy, None, "higher", clean),
        ]

    def evidence(self) -> dict[str, Any]:
        iv = self.interval
        return {
            "attack": self.attack,
            "norm": self.norm,
            "eps": self.eps,
            "n": self.n,
            "clean_accuracy": self.clean_accuracy,
            "robust_accuracy": self.robust_accuracy,
            "robust_accuracy_interval": {"low": encode_float(iv.low), "high": encode_float(iv.high),
                                         "level": iv.level, "method": "wilson"},
            "attack_success_rate": encode_float(self.attack_success_rate),
            "min_robust_accuracy": self.min_robust_accuracy,
            "definition": "robust: classified correctly both as given and after the attack",
            **self.parameters,
            "budget": self.budget,
            "examples": list(self.examples),
            "seconds": round(self.seconds, 4),
        }

    def failures(self) -> list[str]:
        name = self.prefix + "robust_accuracy"
        if self.min_robust_accuracy is None or self.robust_accuracy >= self.min_robust_accuracy:
            return []
        iv = self.interval
        return [
            f"{name} = {self.robust_accuracy:.4g} ({iv.level:.0%} interval [{iv.low:.4g}, "
            f"{iv.high:.4g}], {self.robust_correct} of {self.n} rows) under {self.attack} "
            f"{self.norm} eps={self.eps:g} is below its threshold: it must be >= "
            f"{self.min_robust_accuracy:g} (clean accuracy {self.clean_accuracy:.4g}; "
            f"the attack flipped {self.clean_correct - self.robust_correct} rows)"
        ]


# -- input checking ------------------------------------------------------------------------------

def _check_eps(eps: Any, norm: str) -> float:
    if norm not in NORMS:
        raise InputError(f"norm={norm!r} is not one of {NORMS}",
                         fix="use norm='linf' (max per-feature change) or norm='l2'")
    try:
        value = float(eps)
    except (TypeError, ValueError):
        raise InputError(f"eps={eps!r} is not a number", fix="pass the perturbation radius, "
                         "e.g. eps=0.1") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"eps={eps!r} must be a finite number >= 0",
                         fix="pass the perturbation radius in the features' units, e.g. eps=0.1")
    return value


def _check_level_threshold(level: Any, min_robust_accuracy: Any) -> None:
    if not 0 < level < 1:
        raise InputError(f"level={level!r} must be in (0, 1)")
    if min_robust_accuracy is not None and not 0 <= float(min_robust_accuracy) <= 1:
        raise InputError(f"min_robust_accuracy={min_robust_accuracy!r} must be in [0, 1]",
                         fix="a robust accuracy is a share of rows, e.g. 0.7")


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{what}={value!r} must be a positive integer")
    return value


def _as_numpy(X: Any, what: str = "X") -> tuple[Any, Any]:
    """``X`` as a float64 array and the DataFrame columns (None for arrays and tensors)."""
    import numpy as np

    columns = None
    if hasattr(X, "columns") and hasattr(X, "to_numpy"):
        columns = list(X.columns)
        X = X.to_numpy()
    elif hasattr(X, "detach") and hasattr(X, "cpu"):  # a torch tensor
        X = X.detach().cpu().numpy()
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} cannot be read as numbers: {exc}",
                         fix="encode the features as numbers (the attack perturbs numeric "
                         "features only)") from None
    if arr.ndim < 2 or arr.shape[0] == 0:
        raise InputError(f"{what} has shape {arr.shape}; expected rows of features (n, ...) with "
                         "n >= 1")
    bad = ~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(f"{what} has NaN or infinite values in {rows.size} rows (e.g. row "
                         f"{int(rows[0])})", fix="impute or drop them before the attack")
    return arr, columns


def _labels(y: Any, n: int) -> Any:
    import numpy as np

    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    elif hasattr(y, "detach") and hasattr(y, "cpu"):
        y = y.detach().cpu().numpy()
    arr = np.asarray(y)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InputError(f"y has shape {arr.shape}; expected one label per row ({n},)")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise InputError("y has NaN or infinite labels", fix="drop the rows without a label")
    return arr


def bounds_from_schema(schema: Any, columns: Sequence[str] | None = None) -> tuple[Any, Any]:
    """The valid range ``(lower, upper)`` of each column, from a pandera schema's checks.

    ``in_range``, ``greater_than_or_equal_to``, ``less_than_or_equal_to``, ``greater_than`` and
    ``less_than`` are read (a strict bound becomes the next float inside it); a column without a
    bound gets ``-inf`` / ``+inf``. ``columns``: the model's feature order (default: the schema's).

    >>> import pandera.pandas as pa
    >>> schema = pa.DataFrameSchema({"age": pa.Column(float, pa.Check.in_range(0, 120)),
    ...                              "income": pa.Column(float, pa.Check.ge(0))})
    >>> lower, upper = bounds_from_schema(schema, ["age", "income"])
    >>> lower.tolist(), upper.tolist()
    ([0.0, 0.0], [120.0, inf])
    """
    import numpy as np

    from mlgate.data.schema import _resolve

    schema, _ = _resolve(schema)
    names = list(schema.columns) if columns is None else list(columns)
    missing = [c for c in names if c not in schema.columns]
    if missing:
        raise InputError(f"columns {missing} are not in the schema (it has "
                         f"{list(schema.columns)})", fix="pass the model's feature names")
    lower = np.full(len(names), -np.inf)
    upper = np.full(len(names), np.inf)
    for i, name in enumerate(names):
        for check in schema.columns[name].checks:
            stats = check.statistics or {}
            lo, hi = stats.get("min_value"), stats.get("max_value")
            if check.name == "in_range":
                if lo is not None:
                    lo = float(lo) if stats.get("include_min", True) else np.nextafter(float(lo), np.inf)
                if hi is not None:
                    hi = float(hi) if stats.get("include_max", True) else np.nextafter(float(hi), -np.inf)
            elif check.name == "greater_than_or_equal_to":
                lo, hi = float(lo), None
            elif check.name == "greater_than":
                lo, hi = np.nextafter(float(lo), np.inf), None
            elif check.name == "less_than_or_equal_to":
                lo, hi = None, float(hi)
            elif check.name == "less_than":
                lo, hi = None, np.nextafter(float(hi), -np.inf)
            else:
                continue
            if lo is not None:
                lower[i] = max(lower[i], float(lo))
            if hi is not None:
                upper[i] = min(upper[i], float(hi))
    return lower, upper


def _bounds(clip: Any, row_shape: tuple[int, ...]) -> tuple[Any, Any] | None:
    """``clip`` as two float64 arrays of one row's shape, or None (unbounded)."""
    import numpy as np

    if clip is None:
        return None
    if not isinstance(clip, (tuple, list)) or len(clip) != 2:
        raise InputError(f"clip={clip!r} must be (lower, upper): scalars or per-feature arrays",
                         fix="e.g. clip=(0.0, 1.0) or clip=bounds_from_schema(schema, columns)")
    try:
        lower = np.broadcast_to(np.asarray(clip[0], dtype=np.float64), row_shape).copy()
        upper = np.broadcast_to(np.asarray(clip[1], dtype=np.float64), row_shape).copy()
    except ValueError:
        raise InputError(f"clip bounds of shapes {np.shape(clip[0])} and {np.shape(clip[1])} do "
                         f"not fit a row of shape {row_shape}",
                         fix="pass one bound per feature, in the model's feature order") from None
    if np.isnan(lower).any() or np.isnan(upper).any() or (lower > upper).any():
        raise InputError("clip: a lower bound is NaN or above its upper bound")
    return lower, upper


def _check_within(X: Any, bounds: tuple[Any, Any] | None) -> None:
    import numpy as np

    if bounds is None:
        return
    lower, upper = bounds
    outside = ((X < lower) | (X > upper)).reshape(X.shape[0], -1).any(axis=1)
    if outside.any():
        rows = np.flatnonzero(outside)
        raise InputError(f"{rows.size} rows of X are outside the clip bounds (e.g. row "
                         f"{int(rows[0])}); an attack inside the valid range cannot start there",
                         fix="check the bounds (clip=... or the schema), or clip X first")


def _examples(X: Any, adv: Any, y: Any, pred: Any, flipped: Any, columns: Any,
              k: int = N_EXAMPLES) -> tuple[dict[str, Any], ...]:
    """A few flipped rows: index, label, adversarial prediction, distances, and the features
    that changed most."""
    import numpy as np

    from mlgate.data.schema import jsonable

    out = []
    for i in np.flatnonzero(flipped)[:k]:
        delta = (adv[i] - X[i]).reshape(-1)
        top = np.argsort(-np.abs(delta), kind="stable")[:EXAMPLE_FEATURES]
        out.append({
            "row": int(i),
            "label": jsonable(y[i]),
            "adversarial_prediction": jsonable(pred[i]),
            "linf": float(np.abs(delta).max()),
            "l2": float(np.sqrt((delta ** 2).sum())),
            "changed": {str(columns[j]) if columns is not None else str(int(j)):
                        [float(X[i].reshape(-1)[j]), float(adv[i].reshape(-1)[j])]
                        for j in top if delta[j] != 0},
        })
    return tuple(out)


def _bounds_evidence(bounds: tuple[Any, Any] | None) -> Any:
    if bounds is None:
        return None
    lower, upper = bounds
    if lower.size and (lower == lower.flat[0]).all() and (upper == upper.flat[0]).all():
        return [encode_float(float(lower.flat[0])), encode_float(float(upper.flat[0]))]
    return "per-feature"


# -- white box: torch ------------------------------------------------------------------------------

def _torch() -> Any:
    try:
        import torch
    except ImportError:
        from mlgate.errors import MissingExtraError

        raise MissingExtraError("torch", "torch") from None
    return torch


class _Frozen:
    """Eval mode and frozen parameters for the attack; both restored on exit."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __enter__(self) -> _Frozen:
        self.training = self.model.training
        self.flags = [(p, p.requires_grad) for p in self.model.parameters()]
        self.model.eval()
        for p, _ in self.flags:
            p.requires_grad_(False)
        return self

    def __exit__(self, *exc: Any) -> None:
        for p, flag in self.flags:
            p.requires_grad_(flag)
        self.model.train(self.training)


def _default_loss(logits: Any, y: Any) -> Any:
    torch = _torch()
    if logits.ndim == 2 and logits.shape[1] == 1:
        return torch.nn.functional.binary_cross_entropy_with_logits(
            logits[:, 0], y.to(logits.dtype), reduction="none")
    return torch.nn.functional.cross_entropy(logits, y.long(), reduction="none")


def _predict_logits(logits: Any) -> Any:
    if logits.ndim == 2 and logits.shape[1] == 1:
        return (logits[:, 0] >= 0).long()
    return logits.argmax(dim=1)


def _device(model: Any) -> Any:
    torch = _torch()
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def _prepare(model: Any, X: Any, y: Any, eps: Any, norm: str, clip: Any, batch_size: Any
             ) -> tuple[Any, Any, Any, Any, float, Any]:
    """Checked inputs as tensors: (x float32, y long, bounds tensors or None, numpy X, eps,
    columns)."""
    torch = _torch()
    if not isinstance(model, torch.nn.Module):
        raise InputError(f"expected a torch.nn.Module returning logits, got "
                         f"{type(model).__module__}.{type(model).__name__}",
                         fix="for a scikit-learn model or a predict function use blackbox()")
    eps_f = _check_eps(eps, norm)
    _positive_int(batch_size, "batch_size")
    X_np, columns = _as_numpy(X)
    y_np = _labels(y, X_np.shape[0])
    if y_np.dtype.kind not in "iub" and not (y_np.dtype.kind == "f" and (y_np == y_np.round()).all()):
        raise InputError(f"y has labels of dtype {y_np.dtype}; a torch classifier's labels are "
                         "class indices 0..k-1", fix="encode the labels as integers")
    bounds = _bounds(clip, X_np.shape[1:])
    _check_within(X_np, bounds)
    device = _device(model)
    x = torch.as_tensor(X_np, dtype=torch.float32, device=device)
    yt = torch.as_tensor(y_np.astype("int64"), device=device)
    tb = None
    if bounds is not None:
        tb = tuple(torch.as_tensor(b, dtype=torch.float32, device=device) for b in bounds)
    with _Frozen(model), torch.no_grad():
        out = model(x[:1])
    if out.ndim != 2:
        raise InputError(f"the model returned shape {tuple(out.shape)} for one row; expected "
                         "logits (1, classes) or one binary logit (1, 1)",
                         fix="return logits from forward(); attacks on regressors are not supported")
    k = max(int(out.shape[1]), 2)
    if int(y_np.min()) < 0 or int(y_np.max()) >= k:
        raise InputError(f"labels range over [{int(y_np.min())}, {int(y_np.max())}] but the model "
                         f"has {k} classes", fix="encode the labels as class indices 0..k-1, in "
                         "the order of the model's outputs")
    return x, yt, tb, X_np, eps_f, columns


def _clamp(adv: Any, tb: Any) -> Any:
    torch = _torch()
    if tb is None:
        return adv
    return torch.maximum(torch.minimum(adv, tb[1]), tb[0])


def _row_norm(t: Any) -> Any:
    return t.reshape(t.shape[0], -1).norm(p=2, dim=1).reshape((-1,) + (1,) * (t.ndim - 1))


def _gradient(model: Any, adv: Any, y: Any, loss: Callable[[Any, Any], Any]) -> Any:
    torch = _torch()
    adv = adv.detach().requires_grad_(True)
    with torch.enable_grad():
        losses = loss(model(adv), y)
        if losses.ndim != 1 or losses.shape[0] != adv.shape[0]:
            raise InputError(f"loss returned shape {tuple(losses.shape)}; expected one loss per "
                             f"row ({adv.shape[0]},)", fix="use reduction='none'")
        (grad,) = torch.autograd.grad(losses.sum(), adv)
    return grad.detach()


def _step(grad: Any, norm: str) -> Any:
    if norm == "linf":
        return grad.sign()
    return grad / (_row_norm(grad) + L2_DIVISION_EPS)


def _project(adv: Any, x: Any, eps: float, norm: str, tb: Any) -> Any:
    torch = _torch()
    delta = adv - x
    if norm == "linf":
        delta = torch.clamp(delta, -eps, eps)
    else:
        n = _row_norm(delta)
        factor = torch.where(n > eps, eps / torch.clamp(n, min=1e-30), torch.ones_like(n))
        delta = delta * factor
    return _clamp(x + delta, tb).detach()


def _random_start(x: Any, eps: float, norm: str, seed: int) -> Any:
    """The random start's offsets for all rows, from one seeded generator (CPU, then moved)."""
    torch = _torch()
    gen = torch.Generator(device="cpu").manual_seed(int(seed))
    shape = tuple(x.shape)
    if norm == "linf":
        delta = (torch.rand(shape, generator=gen, dtype=torch.float32) * 2 - 1) * eps
    else:
        direction = torch.randn(shape, generator=gen, dtype=torch.float32)
        radius = torch.rand((shape[0],) + (1,) * (len(shape) - 1), generator=gen,
                            dtype=torch.float32)
        delta = direction / torch.clamp(_row_norm(direction), min=1e-30) * radius * eps
    return delta.to(x.device)


def _run(model: Any, x: Any, y: Any, tb: Any, eps: float, norm: str, *, steps: int,
         step_size: float, random_start: bool, seed: int, batch_size: int,
         loss: Callable[[Any, Any], Any]) -> Any:
    torch = _torch()
    start = _random_start(x, eps, norm, seed) if random_start and eps > 0 else None
    parts = []
    with _Frozen(model):
        for lo in range(0, x.shape[0], batch_size):
            xb, yb = x[lo:lo + batch_size], y[lo:lo + batch_size]
            adv = xb.clone()
            if start is not None:
                adv = _project(adv + start[lo:lo + batch_size], xb, eps, norm, tb)
            for _ in range(steps):
                adv = _project(adv + step_size * _step(_gradient(model, adv, yb, loss), norm),
                               xb, eps, norm, tb)
            parts.append(adv)
    return torch.cat(parts, dim=0)


def fgsm(model: Any, X: Any, y: Any, eps: float, *, norm: str = "linf", clip: Any = None,
         batch_size: int = 1024, loss: Callable[[Any, Any], Any] | None = None) -> Any:
    """The fast gradient (sign) method: adversarial examples for ``X`` (a float32 tensor on the
    model's device), one gradient step of size ``eps`` (L∞: its sign; L2: scaled to unit norm),
    then clipped to ``clip``.

    >>> import torch
    >>> net = torch.nn.Linear(2, 2)
    >>> X = torch.rand(4, 2); y = torch.tensor([0, 1, 0, 1])
    >>> adv = fgsm(net, X, y, eps=0.1, clip=(0.0, 1.0))
    >>> bool(((adv - X).abs().max() <= 0.1 + 1e-6) and adv.min() >= 0 and adv.max() <= 1)
    True
    """
    x, yt, tb, _, eps_f, _ = _prepare(model, X, y, eps, norm, clip, batch_size)
    return _run(model, x, yt, tb, eps_f, norm, steps=1, step_size=eps_f, random_start=False,
                seed=0, batch_size=batch_size, loss=loss or _default_loss)


def _step_size(step_size: Any, eps: float, steps: int) -> float:
    if step_size is None:
        return 2.5 * eps / steps  # Madry et al. (2018)
    value = float(step_size)
    if not math.isfinite(value) or value < 0:
        raise InputError(f"step_size={step_size!r} must be a finite number >= 0")
    return value


def pgd(model: Any, X: Any, y: Any, eps: float, *, norm: str = "linf", steps: int = 10,
        step_size: float | None = None, random_start: bool = True, seed: int = 0,
        clip: Any = None, batch_size: int = 1024,
        loss: Callable[[Any, Any], Any] | None = None) -> Any:
    """Projected gradient descent (Madry et al. 2018) in the L∞ or L2 ball of radius ``eps``:
    adversarial examples for ``X`` as a float32 tensor on the model's device. ``step_size``
    defaults to ``2.5 * eps / steps``; the random start is seeded by ``seed``.

    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> X = torch.rand(5, 3); y = torch.tensor([0, 1, 0, 1, 1])
    >>> adv = pgd(net, X, y, eps=0.5, norm="l2", steps=5, clip=(0.0, 1.0), seed=1)
    >>> bool((adv - X).norm(dim=1).max() <= 0.5 + 1e-5)
    True
    """
    x, yt, tb, _, eps_f, _ = _prepare(model, X, y, eps, norm, clip, batch_size)
    _positive_int(steps, "steps")
    return _run(model, x, yt, tb, eps_f, norm, steps=steps,
                step_size=_step_size(step_size, eps_f, steps), random_start=bool(random_start),
                seed=seed, batch_size=batch_size, loss=loss or _default_loss)


def _predict_torch(model: Any, x: Any, batch_size: int) -> Any:
    torch = _torch()
    parts = []
    with _Frozen(model), torch.no_grad():
        for lo in range(0, x.shape[0], batch_size):
            parts.append(_predict_logits(model(x[lo:lo + batch_size])))
    return torch.cat(parts)


def robustness(model: Any, X: Any, y: Any, *, attack: str = "pgd", eps: float,
               norm: str = "linf", steps: int = 10, step_size: float | None = None,
               random_start: bool = True, seed: int = 0, clip: Any = None,
               batch_size: int = 1024, loss: Callable[[Any, Any], Any] | None = None,
               min_robust_accuracy: float | None = None, level: float = 0.95,
               prefix: str = "") -> RobustnessResult:
    """Attack a torch classifier (logits out) with :func:`fgsm` or :func:`pgd` and measure its
    robust accuracy, with a Wilson interval, as a :class:`RobustnessResult` for ``mlgate.check``.

    >>> import torch
    >>> torch.manual_seed(0) and None
    >>> net = torch.nn.Linear(2, 2)
    >>> X = torch.rand(50, 2); y = (X[:, 0] > X[:, 1]).long()
    >>> r = robustness(net, X, y, attack="fgsm", eps=0.0, clip=(0.0, 1.0))
    >>> r.robust_accuracy == r.clean_accuracy
    True
    """
    if attack not in ATTACKS:
        raise InputError(f"attack={attack!r} is not one of {ATTACKS}",
                         fix="use attack='pgd' or 'fgsm' (for a predict function: blackbox())")
    _check_level_threshold(level, min_robust_accuracy)
    began = time.perf_counter()
    x, yt, tb, X_np, eps_f, columns = _prepare(model, X, y, eps, norm, clip, batch_size)
    loss_fn = loss or _default_loss
    if attack == "fgsm":
        steps_used, size, start = 1, eps_f, False
    else:
        steps_used = _positive_int(steps, "steps")
        size, start = _step_size(step_size, eps_f, steps_used), bool(random_start)
    adv = _run(model, x, yt, tb, eps_f, norm, steps=steps_used, step_size=size,
               random_start=start, seed=seed, batch_size=batch_size, loss=loss_fn)
    clean_ok = (_predict_torch(model, x, batch_size) == yt).cpu().numpy()
    adv_pred = _predict_torch(model, adv, batch_size).cpu().numpy()
    robust_ok = clean_ok & (adv_pred == yt.cpu().numpy())
    adv_np = adv.detach().cpu().numpy()
    y_np = yt.cpu().numpy()
    n = int(X_np.shape[0])
    return RobustnessResult(
        attack=attack, norm=norm, eps=eps_f, n=n, clean_correct=int(clean_ok.sum()),
        robust_correct=int(robust_ok.sum()), level=level,
        min_robust_accuracy=None if min_robust_accuracy is None else float(min_robust_accuracy),
        prefix=prefix,
        parameters={"steps": steps_used, "step_size": size, "random_start": start,
                    "seed": seed if start else None, "batch_size": batch_size,
                    "bounds": _bounds_evidence(None if tb is None else (tb[0].cpu().numpy(),
                                                                        tb[1].cpu().numpy())),
                    "loss": "default (cross-entropy)" if loss is None else getattr(
                        loss, "__name__", type(loss).__name__)},
        budget={"gradient_steps_per_row": steps_used, "forward_backward_passes": steps_used * n,
                "predictions": 2 * n},
        examples=_examples(X_np, adv_np, y_np, adv_pred, clean_ok & ~robust_ok, columns),
        seconds=time.perf_counter() - began, adversarial=adv_np,
    )


# -- black box: any predict function ---------------------------------------------------------------

class _Oracle:
    """``predict`` over candidate rows, in chunks, counting calls and rows."""

    def __init__(self, predict: Callable[[Any], Any], columns: Any, row_shape: tuple[int, ...]):
        self.predict = predict
        self.columns = columns
        self.row_shape = row_shape
        self.calls = 0
        self.rows = 0

    def __call__(self, candidates: Any) -> Any:
        import numpy as np

        out = []
        for lo in range(0, candidates.shape[0], BLACKBOX_CHUNK_ROWS):
            part = candidates[lo:lo + BLACKBOX_CHUNK_ROWS]
            data: Any = part
            if self.columns is not None:
                import pandas as pd

                data = pd.DataFrame(part, columns=self.columns)
            pred = np.asarray(self.predict(data))
            self.calls += 1
            self.rows += part.shape[0]
            if pred.ndim == 2 and pred.shape[1] == 1:
                pred = pred[:, 0]
            if pred.shape != (part.shape[0],):
                raise InputError(f"predict returned shape {pred.shape} for {part.shape[0]} rows; "
                                 "expected one label per row",
                                 fix="pass model.predict (labels), not predict_proba")
            out.append(pred)
        return np.concatenate(out)


def _predict_fn(model: Any) -> Callable[[Any], Any]:
    if hasattr(model, "predict") and callable(model.predict):
        return model.predict
    if hasattr(model, "parameters") and hasattr(model, "forward"):  # a torch module: labels
        from mlgate.model.adapters import as_model

        return as_model(model).predict
    if callable(model):
        return model
    raise InputError(f"expected a model with .predict or a function f(X) -> labels, got "
                     f"{type(model).__module__}.{type(model).__name__}")


def blackbox(model: Any, X: Any, y: Any, *, eps: float, budget: int = 100, seed: int = 0,
             method: str = "random", lower: Any = None, upper: Any = None,
             min_robust_accuracy: float | None = None, level: float = 0.95,
             prefix: str = "") -> RobustnessResult:
    """A black-box attack in the L∞ ball of radius ``eps`` intersected with the valid ranges
    ``[lower, upper]`` (scalars or per-feature arrays; e.g. from :func:`bounds_from_schema`),
    for any ``predict`` function or model with ``.predict`` (scikit-learn, a pipeline on a
    DataFrame: candidates keep ``X``'s columns). At most ``budget`` queries per row, beyond its
    clean prediction; seeded by ``seed``. See the module docstring for the two methods.

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(0, 1, (200, 2)); y = (X[:, 0] > X[:, 1]).astype(int)
    >>> clf = LogisticRegression().fit(X, y)
    >>> r = blackbox(clf, X, y, eps=0.2, budget=20, lower=0.0, upper=1.0, seed=0)
    >>> r.robust_accuracy < r.clean_accuracy
    True
    """
    import numpy as np

    if method not in BLACKBOX_METHODS:
        raise InputError(f"method={method!r} is not one of {BLACKBOX_METHODS}")
    _check_level_threshold(level, min_robust_accuracy)
    began = time.perf_counter()
    eps_f = _check_eps(eps, "linf")
    _positive_int(budget, "budget")
    X_np, columns = _as_numpy(X)
    if X_np.ndim != 2:
        raise InputError(f"X has shape {X_np.shape}; the black-box attack takes a table (n, features)")
    n, d = X_np.shape
    y_np = _labels(y, n)
    lo_b = np.full(d, -np.inf) if lower is None else None
    hi_b = np.full(d, np.inf) if upper is None else None
    bounds = _bounds((lower if lo_b is None else lo_b, upper if hi_b is None else hi_b), (d,))
    assert bounds is not None
    _check_within(X_np, bounds)
    oracle = _Oracle(_predict_fn(model), columns, (d,))
    rng = np.random.default_rng(seed)

    clean_pred = oracle(X_np)
    clean_ok = clean_pred == y_np
    box_lo = np.maximum(X_np - eps_f, bounds[0])
    box_hi = np.minimum(X_np + eps_f, bounds[1])
    adv = X_np.copy()
    adv_pred = clean_pred.copy()
    broken = ~clean_ok  # already wrong: distance 0
    used = np.zeros(n, dtype=np.int64)
    evidence: dict[str, Any] = {}

    def record(rows: Any, cand: Any, pred: Any) -> None:
        hit = pred != y_np[rows]
        if hit.any():
            r = rows[hit]
            adv[r] = cand[hit]
            adv_pred[r] = pred[hit]
            broken[r] = True

    if method == "boundary" and eps_f > 0:
        evidence = _boundary(oracle, X_np, y_np, clean_pred, box_lo, box_hi, bounds, eps_f,
                             budget, used, broken, record, rng)
    if eps_f > 0:
        _random_search(oracle, y_np, box_lo, box_hi, budget, used, broken, record, rng)
    if (used > budget).any():  # an invariant: never more queries than promised
        raise AssertionError("the black-box attack exceeded its query budget")
    robust_ok = clean_ok & ~broken
    return RobustnessResult(
        attack=f"blackbox-{method}", norm="linf", eps=eps_f, n=n,
        clean_correct=int(clean_ok.sum()), robust_correct=int(robust_ok.sum()), level=level,
        min_robust_accuracy=None if min_robust_accuracy is None else float(min_robust_accuracy),
        prefix=prefix,
        parameters={"method": method, "seed": seed,
                    "bounds": _bounds_evidence(bounds) if lower is not None or upper is not None
                    else None, **evidence},
        budget={"queries_per_row": budget, "queries_used_max": int(used.max()),
                "queries_used_mean": float(used.mean()), "predict_calls": oracle.calls,
                "rows_predicted": oracle.rows},
        examples=_examples(X_np, adv, y_np, adv_pred, clean_ok & broken, columns),
        seconds=time.perf_counter() - began, adversarial=adv,
    )


def _random_search(oracle: _Oracle, y: Any, box_lo: Any, box_hi: Any, budget: int, used: Any,
                   broken: Any, record: Callable[..., None], rng: Any) -> None:
    """Rounds of candidates for the unbroken rows: half vertices of the box, half uniform."""
    import numpy as np

    per_round = max(1, min(16, budget // 4 or 1))
    d = box_lo.shape[1]
    while True:
        rows = np.flatnonzero(~broken & (used < budget))
        if rows.size == 0:
            return
        q = np.minimum(per_round, budget - used[rows])  # queries this round, per row
        owner = np.repeat(rows, q)
        k = owner.size
        u = rng.random((k, d))
        vertex = rng.random(k) < 0.5
        u[vertex] = (u[vertex] < 0.5).astype(float)
        lo, hi = box_lo[owner], box_hi[owner]
        cand = lo + u * (hi - lo)
        pred = oracle(cand)
        used[rows] += q
        hit = pred != y[owner]
        if hit.any():
            # the first hit of each row
            first = np.unique(owner[hit], return_index=True)[1]
            idx = np.flatnonzero(hit)[first]
            record(owner[idx], cand[idx], pred[idx])


def _boundary(oracle: _Oracle, X: Any, y: Any, clean_pred: Any, box_lo: Any, box_hi: Any,
              bounds: tuple[Any, Any], eps: float, budget: int, used: Any, broken: Any,
              record: Callable[..., None], rng: Any) -> dict[str, Any]:
    """HopSkipJump-lite: a binary search along the segment to each of the nearest
    differently-predicted rows of ``X`` finds a boundary point; random sign probes around it
    estimate the boundary's normal; the candidate is ``x + eps * sign(normal)`` in the box (or
    the boundary point itself when it lies inside the ball)."""
    import numpy as np

    per_dir = BOUNDARY_STEPS + BOUNDARY_PROBES + 1
    k = min(BOUNDARY_DIRECTIONS, max(0, (budget // 2) // per_dir))
    if k == 0:
        return {"boundary": f"skipped: a budget of at least {2 * per_dir} queries per row is "
                            "needed; random search only"}
    rows = np.flatnonzero(~broken)
    if rows.size == 0:
        return {}
    n, d = X.shape
    ends = np.full((rows.size, k), -1, dtype=np.int64)
    block = max(1, BLACKBOX_CHUNK_ROWS * 10 // max(1, n * d))
    for lo in range(0, rows.size, block):  # nearest other-class rows in L-inf, in blocks
        r = rows[lo:lo + block]
        dist = np.abs(X[r][:, None, :] - X[None, :, :]).max(axis=2)
        dist[clean_pred[None, :] == clean_pred[r][:, None]] = np.inf
        order = np.argsort(dist, axis=1, kind="stable")[:, :k]
        ok = np.take_along_axis(dist, order, axis=1) < np.inf
        ends[lo:lo + block] = np.where(ok, order, -1)
    owner = np.repeat(rows, k)
    end = ends.reshape(-1)
    keep = end >= 0
    owner, end = owner[keep], end[keep]
    if owner.size == 0:
        return {"boundary": "skipped: the model predicts one class only on X"}
    start, far = X[owner], X[end]
    t_lo = np.zeros(owner.size)
    t_hi = np.ones(owner.size)  # t=1 is predicted differently (clean prediction of the end row)
    for _ in range(BOUNDARY_STEPS):
        mid = (t_lo + t_hi) / 2
        pred = oracle(start + mid[:, None] * (far - start))
        np.add.at(used, owner, 1)
        same = pred == clean_pred[owner]
        t_lo = np.where(same, mid, t_lo)
        t_hi = np.where(same, t_hi, mid)
    point = start + t_hi[:, None] * (far - start)
    dist = np.abs(point - start).max(axis=1)
    # the boundary's normal at the point, from random sign probes (HopSkipJump's estimate)
    delta = np.maximum(0.1 * eps, 1e-3 * dist)
    signs = rng.choice((-1.0, 1.0), size=(BOUNDARY_PROBES, owner.size, d))
    probes = np.clip(point[None] + delta[None, :, None] * signs, bounds[0], bounds[1])
    pred = oracle(probes.reshape(-1, d)).reshape(BOUNDARY_PROBES, owner.size)
    np.add.at(used, owner, BOUNDARY_PROBES)
    phi = np.where(pred != clean_pred[owner][None, :], 1.0, -1.0)
    phi -= phi.mean(axis=0, keepdims=True)
    normal = (phi[:, :, None] * signs).sum(axis=0)
    step = start + eps * np.sign(normal)
    inside = dist <= eps
    cand = np.where(inside[:, None], point,
                    np.minimum(np.maximum(step, box_lo[owner]), box_hi[owner]))
    pred = oracle(cand)
    np.add.at(used, owner, 1)
    hit = pred != y[owner]
    if hit.any():
        first = np.unique(owner[hit], return_index=True)[1]
        idx = np.flatnonzero(hit)[first]
        record(owner[idx], cand[idx], pred[idx])
    nearest = np.full(n, np.inf)
    np.minimum.at(nearest, owner, dist)
    found = nearest[rows][np.isfinite(nearest[rows])]
    return {"boundary_directions": k, "boundary_steps": BOUNDARY_STEPS,
            "boundary_probes": BOUNDARY_PROBES,
            "boundary_distance_linf": None if found.size == 0 else {
                "median": float(np.median(found)), "min": float(found.min()),
                "q10": float(np.quantile(found, 0.1)), "rows": int(found.size),
                "note": "L-inf distance to the first boundary point found along segments to "
                        "other-class rows: an upper bound on the smallest perturbation"}}
