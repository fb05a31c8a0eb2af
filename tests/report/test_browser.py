"""The HTML report in real headless Chromium (``/usr/bin/chromium``; ``make test`` installs it):
served from 127.0.0.1 by a server that records every request, it fetches nothing but itself,
logs no console error, shows the verdict, and the hostile names in it run no script.

Driven with ``chromium --headless --dump-dom`` (the rendered DOM after scripts would have run)
and ``--enable-logging=stderr --v=0`` (console messages). In CI (``CI=true``) a missing
Chromium fails the test; elsewhere it skips with the reason."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mlgate.bundle import Bundle, ModelRef
from mlgate.gate import Decision, Reason
from mlgate.record import Interval, Metric, TestRecord
from mlgate.report.html import render

CHROMIUM = os.environ.get("MLGATE_CHROMIUM", "/usr/bin/chromium")
TITLE_PAYLOAD = "test_x[<script>document.title='pwned'</script>]"
IMG_PAYLOAD = "\"><img id=pwn src=x onerror=document.title='pwned'>"
STYLE_PAYLOAD = "m</style><style>body{display:none}</style>"

pytestmark = pytest.mark.slow


def _chromium() -> str:
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found:
        return found
    why = f"headless Chromium is not installed ({CHROMIUM}); `make test` installs Debian's chromium"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(why + " (CI=true: the browser test may not be skipped)")
    pytest.skip(why)


def hostile_page() -> str:
    drift = {"drift_share": 0.5, "max_drift_share": 0.2, "alpha": 0.05, "correction": "bh",
             "columns": [{"column": IMG_PAYLOAD, "kind": "categorical", "status": "drift",
                          "test": "chi2", "p_value_corrected": 0.001, "psi": 0.4,
                          "histogram": {"categories": [IMG_PAYLOAD, "<script>x</script>"],
                                        "reference": [10, 20], "current": [25, 5]}}]}
    tests = (TestRecord(f"tests/test_model.py::{TITLE_PAYLOAD}", "failed", ("model",),
                        (Metric(STYLE_PAYLOAD, 0.9, 0.8, "higher", Interval(0.85, 0.95)),),
                        message=IMG_PAYLOAD),
             TestRecord("tests/test_data.py::test_drift", "passed", ("data",),
                        evidence={"drift": drift, IMG_PAYLOAD: {IMG_PAYLOAD: TITLE_PAYLOAD}}))
    bundle = Bundle(created_at="2026-11-27T10:00:00Z", model=ModelRef("iris", "2"), commit="abc",
                    tests=tests).sealed()
    decision = Decision(verdict="reject", reasons=(Reason("tests", "fail", TITLE_PAYLOAD),),
                        model=bundle.model, champion=None, bundle_digest=bundle.digest,
                        policy_digest="sha256:p", baseline_digest=None,
                        decided_at="2026-11-27T10:00:00Z")
    return render(bundle, decision, champion=bundle)


class _Recorder(SimpleHTTPRequestHandler):
    requests: list[str]

    def do_GET(self):  # noqa: N802 - http.server's name
        self.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):  # quiet
        pass


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    chromium = _chromium()
    site = tmp_path / "site"
    site.mkdir()
    (site / "report.html").write_text(hostile_page(), encoding="utf-8")
    requests: list[str] = []
    handler = type("Handler", (_Recorder,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/report.html"
        proc = subprocess.run(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
             "--enable-logging=stderr", "--v=0", "--virtual-time-budget=2000", "--dump-dom", url],
            capture_output=True, text=True, timeout=120, check=False)
    finally:
        server.shutdown()
        server.server_close()
    dom, log = proc.stdout, proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert requests == ["/report.html"], f"the page fetched more than itself: {requests}"
    console = [line for line in log.splitlines() if "CONSOLE" in line]
    assert console == [], console
    # the verdict is in the rendered DOM, visible (the payload's style did not hide the body)
    assert re.search(r'class="word">reject<', dom), dom[:2000]
    title = re.search(r"<title>(.*?)</title>", dom, flags=re.S)
    assert title is not None and title.group(1) != "pwned" and "pwned" not in title.group(1)
    assert 'id="pwn"' not in dom and "<img" not in dom
    assert "<script" not in dom
    assert dom.count("<style>") == 1
    assert "body{display:none}" not in dom.split("</style>", 1)[0].split("<style>", 1)[1]
