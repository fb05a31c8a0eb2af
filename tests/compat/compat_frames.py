"""Seeded data frames for the compat tests (a module of its own, not conftest: several test
folders have a conftest.py, and ``from conftest import …`` would find whichever loaded last)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
