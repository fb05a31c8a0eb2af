"""Tests of the Evidently and Deepchecks plugins and of the core on the older stack they support.

They run in .venv-compat (`make test` builds it from requirements.txt beside this file). The
main .venv has no Evidently or Deepchecks, so `make test` passes `--ignore=tests/compat` there,
and a plain `pytest` in such an environment does not collect these files either.
"""

from __future__ import annotations

from importlib.util import find_spec

import numpy as np
import pandas as pd
import pytest

collect_ignore_glob = [] if find_spec("evidently") and find_spec("deepchecks") else ["test_*.py"]

ROWS = 3000


def frames(seed: int = 7, rows: int = ROWS, drift: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference and a current frame from one seed; with ``drift`` the current ``income`` is
    shifted by two standard deviations (the other columns are drawn from the same laws)."""
    rng = np.random.default_rng(seed)

    def draw(shift: float) -> pd.DataFrame:
        return pd.DataFrame({
            "age": rng.normal(40, 10, rows),
            "income": rng.normal(50 + shift, 10, rows),
            "city": rng.choice(["paris", "lyon", "nice"], rows, p=[0.5, 0.3, 0.2]),
            "label": rng.integers(0, 2, rows),
        })

    return draw(0.0), draw(20.0 if drift else 0.0)


@pytest.fixture
def same() -> tuple[pd.DataFrame, pd.DataFrame]:
    return frames()


@pytest.fixture
def drifted() -> tuple[pd.DataFrame, pd.DataFrame]:
    return frames(drift=True)
