"""Tests of the Evidently and Deepchecks plugins and of the core on the older stack they support.

They run in .venv-compat (`make test` builds it from requirements.txt beside this file). The
main .venv has no Evidently or Deepchecks, so `make test` passes `--ignore=tests/compat` there,
and a plain `pytest` in such an environment does not collect these files either.
"""

from __future__ import annotations

from importlib.util import find_spec

import pandas as pd
import pytest
from compat_frames import frames

collect_ignore_glob = [] if find_spec("evidently") and find_spec("deepchecks") else ["test_*.py"]

@pytest.fixture
def same() -> tuple[pd.DataFrame, pd.DataFrame]:
    return frames()


@pytest.fixture
def drifted() -> tuple[pd.DataFrame, pd.DataFrame]:
    return frames(drift=True)
