"""Keeping other libraries' warnings out of the user's output (and out of ``-W error``)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def caught_warnings() -> Iterator[list[str]]:
    """Record every warning raised inside (e.g. a suite's thousand deprecation warnings) instead
    of showing it; the yielded list gets one short line per warning when the block ends, for the
    evidence."""
    lines: list[str] = []
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        yield lines
    for w in records:
        text = str(w.message).strip().splitlines()
        lines.append(f"{w.category.__name__}: {text[0][:200] if text else ''}")
