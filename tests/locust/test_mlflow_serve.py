"""The whole path with a real registry: a scikit-learn model registered in a temporary SQLite
MLflow registry, served by ``mlflow models serve`` (started by the ``mlgate_model_server``
fixture), load-tested for 3 seconds, and the server gone after the session's teardown."""

from __future__ import annotations

import json
import os
import textwrap
import warnings

import pytest

pytestmark = pytest.mark.slow


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _group_members(pgid: int) -> list[int]:
    """Live processes in process group ``pgid`` (the server's uvicorn workers included)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry))
    return members


def test_mlflow_models_serve_under_load(pytester, tmp_path, iris):
    pytest.importorskip("mlgate_mlflow")
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from mlgate_mlflow import register_model

    x, y = load_iris(return_X_y=True, as_frame=True)
    clf = LogisticRegression(max_iter=500).fit(x, y)
    registry = tmp_path / "registry"
    registry.mkdir()
    tracking_uri = f"sqlite:///{registry / 'mlflow.db'}"
    with warnings.catch_warnings():  # MLflow 3.17's example code warns under pandas 3
        warnings.simplefilter("ignore")
        version = register_model(clf, "iris-load", key="lr-500", tracking_uri=tracking_uri,
                                 project_dir=registry, input_example=x.head(3))
    data = pytester.path / "rows.csv"
    x.to_csv(data, index=False)
    out = pytester.path / "seen.json"
    pytester.makepyfile(test_serve=textwrap.dedent(f"""
        import json, sys

        def test_load(mlgate_model_server, mlgate_load):
            server = mlgate_model_server("models:/iris-load/{version}",
                                         tracking_uri={tracking_uri!r})
            result = mlgate_load(server, data={str(data)!r}, users=2, duration_s=3,
                                 max_p95_ms=5000, min_rps=1, max_error_ratio=0)
            s = result.stats
            with open({str(out)!r}, "w") as fh:
                json.dump({{"pid": server.pid, "url": server.url, "requests": s.requests,
                           "failures": s.failures, "p50": s.p50_ms, "p95": s.p95_ms,
                           "p99": s.p99_ms, "rps": s.rps, "log": str(server.log)}}, fh)
            assert "locust" not in sys.modules and "gevent" not in sys.modules
    """))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--mlgate-no-bundle",
                                           timeout=400)
    result.assert_outcomes(passed=1)
    seen = json.loads(out.read_text())
    assert seen["requests"] > 0 and seen["failures"] == 0, seen
    assert 0 < seen["p50"] <= seen["p95"] <= seen["p99"] < 5000
    assert seen["rps"] > 1
    assert not _alive(seen["pid"]), "the model server outlived the session"
    assert _group_members(seen["pid"]) == [], "the model server's workers outlived the session"
