"""The security family's pytest fixtures (loaded by :mod:`mlgate.plugin` through
``pytest_plugins``). Like the plugin, this module imports nothing heavy: each fixture imports
its engine when a test asks for it."""

from __future__ import annotations

import pytest  # noqa: F401  (the fixtures below use it)

# -- model-file scanning ------------------------------------------------------------------------

# -- adversarial robustness and membership inference --------------------------------------------

# -- privacy scanning and input fuzzing ---------------------------------------------------------
