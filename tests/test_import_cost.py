"""Every pytest run imports mlgate.plugin: it must import nothing heavy.

(The import *time* is printed by benchmarks/import_time.py, not asserted here.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("torch", "mlflow", "evidently", "deepchecks", "locust", "sklearn", "pandas", "numpy",
         "scipy", "junit_xml")

pytest_plugins = ["pytester"]


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    code = (
        "import sys, mlgate, mlgate.plugin\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_pytest_run_with_the_plugin_imports_nothing_heavy(pytester: pytest.Pytester) -> None:
    """An empty project, collected with the plugin active: heavy modules stay out."""
    pytester.makeconftest(f"""
        import sys
        def pytest_collection_finish(session):
            loaded = [m for m in {HEAVY!r} if m in sys.modules]
            print("HEAVY-LOADED:", ",".join(loaded) or "none")
            print("MLGATE-ACTIVE:", session.config.pluginmanager.has_plugin("mlgate"))
    """)
    pytester.makepyfile("def test_nothing():\n    pass\n")
    result = pytester.runpytest_subprocess("--co", "-s", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["HEAVY-LOADED: none", "MLGATE-ACTIVE: True"])
