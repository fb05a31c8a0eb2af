"""The record API: what a test says about a model, as typed, frozen values.

A test records a :class:`Metric` through the ``mlgate`` fixture (see :class:`Recorder`). Records
travel on ``item.user_properties`` as plain dicts (built-in types only, so they cross
pytest-xdist), and come back as these dataclasses in the bundle.

Non-finite numbers (NaN, infinities) are kept, never dropped: JSON has no literal for them, so
they are written as the strings ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``. The gate treats
a non-finite value as a failed check.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Direction = Literal["higher", "lower"]
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
FAMILIES: tuple[str, ...] = ("data", "model", "performance", "security")
OUTCOMES: tuple[str, ...] = ("passed", "failed", "skipped", "xfailed", "xpassed", "error")

#: key under which mlgate puts its entries in ``item.user_properties``
PROPERTY_KEY = "mlgate"


def encode_float(value: float) -> float | str:
    """A float as JSON can hold it: finite as a number, the rest as a string."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def decode_float(value: Any, *, where: str = "value") -> float:
    if isinstance(value, bool):
        raise ValueError(f"{where}: expected a number, got a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    raise ValueError(f"{where}: expected a number, got {value!r}")


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]`` at ``level`` (e.g. 0.95)."""

    low: float
    high: float
    level: float = 0.95

    def to_json(self) -> dict[str, Any]:
        return {
            "low": encode_float(self.low),
            "high": encode_float(self.high),
            "level": encode_float(self.level),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Interval:
        level = decode_float(data.get("level", 0.95), where="interval.level")
        if not 0 < level < 1:  # also refuses NaN, which canonical JSON could not hold
            raise ValueError(f"interval.level: {level} is not in (0, 1)")
        return cls(
            low=decode_float(data["low"], where="interval.low"),
            high=decode_float(data["high"], where="interval.high"),
            level=level,
        )


@dataclass(frozen=True)
class Metric:
    """One number a test measured, with the threshold it must meet.

    ``direction`` says which way is better: ``"higher"`` (the threshold is a minimum) or
    ``"lower"`` (the threshold is a maximum).
    """

    name: str
    value: float
    threshold: float | None = None
    direction: Direction = "higher"
    interval: Interval | None = None
    unit: str | None = None

    @property
    def finite(self) -> bool:
        return math.isfinite(self.value)

    @property
    def passed(self) -> bool | None:
        """Whether the value meets the threshold; ``None`` with no threshold.

        A non-finite value never passes.
        """
        if not self.finite:
            return False
        if self.threshold is None:
            return None
        if self.direction == "higher":
            return self.value >= self.threshold
        return self.value <= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": encode_float(self.value),
            "threshold": None if self.threshold is None else encode_float(self.threshold),
            "direction": self.direction,
            "interval": None if self.interval is None else self.interval.to_json(),
            "unit": self.unit,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metric:
        direction = data.get("direction", "higher")
        if direction not in DIRECTIONS:
            raise ValueError(f"metric {data.get('name')!r}: direction must be one of {DIRECTIONS}")
        threshold = data.get("threshold")
        interval = data.get("interval")
        return cls(
            name=str(data["name"]),
            value=decode_float(data["value"], where=f"metric {data['name']!r} value"),
            threshold=None if threshold is None else decode_float(threshold, where="threshold"),
            direction=direction,
            interval=None if interval is None else Interval.from_json(interval),
            unit=data.get("unit"),
        )


def make_metric(
    name: str,
    value: Any,
    *,
    threshold: Any = None,
    direction: str = "higher",
    interval: Any = None,
    unit: str | None = None,
) -> Metric:
    """Validate user input into a :class:`Metric`, with errors that say what to pass."""
    if not isinstance(name, str) or not name.strip():
        raise TypeError(f"metric name must be a non-empty string, got {name!r}")
    if direction not in DIRECTIONS:
        raise ValueError(
            f"metric {name!r}: direction={direction!r}; use 'higher' (bigger is better, the "
            "threshold is a minimum) or 'lower' (smaller is better, the threshold is a maximum)"
        )
    try:
        value_f = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"metric {name!r}: value must be a number, got {value!r}") from None
    threshold_f = None if threshold is None else float(threshold)
    iv = None
    if interval is not None:
        if isinstance(interval, Interval):
            iv = interval
        else:
            try:
                parts = tuple(float(x) for x in interval)
            except TypeError:
                raise TypeError(
                    f"metric {name!r}: interval must be (low, high) or (low, high, level)"
                ) from None
            if len(parts) not in (2, 3):
                raise ValueError(f"metric {name!r}: interval must be (low, high) or (low, high, level)")
            iv = Interval(*parts)
        if iv.low > iv.high:
            raise ValueError(f"metric {name!r}: interval low {iv.low} is above high {iv.high}")
        if not 0 < iv.level < 1:
            raise ValueError(f"metric {name!r}: interval level {iv.level} must be in (0, 1)")
    return Metric(name.strip(), value_f, threshold_f, direction, iv, unit)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TestRecord:
    """What one test did: its outcome, its check families and the metrics it recorded."""

    __test__ = False  # not a pytest test class

    nodeid: str
    outcome: str
    families: tuple[str, ...] = ()
    metrics: tuple[Metric, ...] = ()
    duration: float = 0.0
    message: str | None = None
    #: evidence for the report, by name (JSON-able: histograms, failing examples, …)
    evidence: dict[str, Any] = field(default_factory=dict)
    #: ML Test Score items the test covers ("Model 6", …; see mlgate.rubric)
    rubric: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "nodeid": self.nodeid,
            "outcome": self.outcome,
            "families": list(self.families),
            "metrics": [m.to_json() for m in self.metrics],
            "duration": round(self.duration, 6),
            "message": self.message,
            "evidence": self.evidence,
            "rubric": list(self.rubric),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TestRecord:
        from .rubric import normalise

        outcome = data["outcome"]
        if outcome not in OUTCOMES:
            raise ValueError(f"test {data.get('nodeid')!r}: unknown outcome {outcome!r}")
        families = data.get("families", ())
        if not isinstance(families, (list, tuple)) or not all(isinstance(f, str) for f in families):
            raise ValueError(f"test {data.get('nodeid')!r}: families must be a list of strings, "
                             f"got {families!r}")
        evidence = data.get("evidence", {})
        if not isinstance(evidence, dict):
            raise ValueError(f"test {data.get('nodeid')!r}: evidence must be an object")
        duration = decode_float(data.get("duration", 0.0), where="duration")
        if not math.isfinite(duration):
            raise ValueError(f"test {data.get('nodeid')!r}: duration is {duration}")
        return cls(
            nodeid=str(data["nodeid"]),
            outcome=outcome,
            families=tuple(families),
            metrics=tuple(Metric.from_json(m) for m in data.get("metrics", ())),
            duration=duration,
            message=data.get("message"),
            evidence=dict(evidence),
            rubric=tuple(normalise(item) for item in data.get("rubric", ())),
        )


@runtime_checkable
class CheckResult(Protocol):
    """What a check engine (schema, quality, drift, a plugin's suite) hands to the record API.

    ``mlgate.check(result)`` records every metric, keeps the evidence under ``name`` and fails
    the test with the failure messages, if any."""

    name: str

    def metrics(self) -> list[Metric]:
        """The numbers for the gate, each with its threshold and direction."""

    def evidence(self) -> dict[str, Any]:
        """JSON-able evidence for the report (kept small: aggregate, never raw rows)."""

    def failures(self) -> list[str]:
        """Readable failure messages; empty when the check passed."""


def fingerprint(data: Any) -> str:
    """A content digest (``sha256:…``) of a data set: a file path, bytes, a NumPy array or a
    pandas DataFrame/Series. Heavy libraries are only touched when such an object is given."""
    h = hashlib.sha256()
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    elif isinstance(data, (bytes, bytearray, memoryview)):
        h.update(bytes(data))
    elif type(data).__module__.startswith("pandas"):
        import pandas as pd

        h.update(repr(list(getattr(data, "columns", [getattr(data, "name", None)]))).encode())
        h.update(pd.util.hash_pandas_object(data, index=True).to_numpy().tobytes())
    elif hasattr(data, "__array__"):
        import numpy as np

        arr = np.ascontiguousarray(np.asarray(data))
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        if arr.dtype.hasobject:
            h.update(repr(arr.tolist()).encode())
        else:
            h.update(arr.tobytes())
    else:
        raise TypeError(
            f"cannot fingerprint {type(data).__name__}; pass a file path, bytes, a NumPy array "
            "or a pandas object"
        )
    return "sha256:" + h.hexdigest()
