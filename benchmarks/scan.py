"""Model-file scanning side by side: mlgate, picklescan and modelscan on one corpus.

    .venv/bin/python benchmarks/scan.py                      # builds the corpus in a temp dir
    .venv/bin/python benchmarks/scan.py --modelscan-python /tmp/msvenv/bin/python
    .venv/bin/python benchmarks/scan.py --corpus DIR         # an existing scan_corpus.py folder

The corpus comes from ``benchmarks/scan_corpus.py`` (malicious files by technique, benign real
scikit-learn, NumPy, pandas and PyTorch models). Per malicious file: did the tool flag it?
``yes`` (an issue reported), ``err`` (no issue, but the tool failed on the file: its CLI exits
non-zero, so a pipeline gating on the exit code would stop), ``skip`` (the tool did not scan
the file), ``no``. Per benign file, a flag is a false positive. Time per MB: the sum over the
benign files of each tool's best of three scans, divided by their size (imports not timed;
modelscan runs in its own virtual environment, timed inside that process).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

REPEAT = 3

MODELSCAN_SCRIPT = r"""
import json, sys, time, logging
logging.disable(logging.CRITICAL)
from modelscan.modelscan import ModelScan
files = json.loads(sys.argv[1])
repeat = int(sys.argv[2])
out = {}
for path, benign in files:
    best = None
    for _ in range(repeat if benign else 1):
        t = time.perf_counter()
        r = ModelScan().scan(path)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    out[path] = {"issues": len(r.get("issues", [])), "errors": len(r.get("errors", [])),
                 "skipped": r["summary"]["skipped"]["total_skipped"],
                 "scanned": r["summary"]["scanned"]["total_scanned"] if "scanned" in r["summary"] else 0,
                 "seconds": best}
print(json.dumps(out))
"""


def timed(fn, repeat: int):
    best, result = None, None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    return result, best


def run_mlgate(samples, root: Path) -> dict[str, dict]:
    from mlgate.security.scan import load_allowlist, scan_file

    allow = load_allowlist()
    out = {}
    for s in samples:
        path = root / s["file"]
        result, dt = timed(lambda p=path: scan_file(p, allow=allow), 1 if s["malicious"] else REPEAT)
        out[s["file"]] = {"flag": "yes" if result.findings else "no", "seconds": dt,
                          "kinds": sorted({f.kind for f in result.findings})}
    return out


def run_picklescan(samples, root: Path) -> dict[str, dict] | None:
    try:
        from picklescan.scanner import scan_file_path
    except ImportError:
        return None
    logging.getLogger("picklescan").setLevel(logging.CRITICAL)
    out = {}
    for s in samples:
        path = root / s["file"]

        def one(p=path):
            try:
                return scan_file_path(str(p))
            except Exception as exc:  # noqa: BLE001 - a crash is a result too
                return exc

        result, dt = timed(one, 1 if s["malicious"] else REPEAT)
        if isinstance(result, Exception):
            flag = "err"
        elif result.issues_count > 0:
            flag = "yes"
        elif result.scan_err:
            flag = "err"
        else:
            flag = "no"
        out[s["file"]] = {"flag": flag, "seconds": dt}
    return out


def run_modelscan(samples, root: Path, python: str | None) -> dict[str, dict] | None:
    if not python or not Path(python).exists():
        return None
    files = [(str(root / s["file"]), not s["malicious"]) for s in samples]
    proc = subprocess.run([python, "-c", MODELSCAN_SCRIPT, json.dumps(files), str(REPEAT)],
                          capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    raw = json.loads(proc.stdout.strip().splitlines()[-1])
    out = {}
    for s in samples:
        r = raw[str(root / s["file"])]
        if r["issues"]:
            flag = "yes"
        elif r["errors"]:
            flag = "err"
        elif r["skipped"] and not r["scanned"]:
            flag = "skip"
        else:
            flag = "no"
        out[s["file"]] = {"flag": flag, "seconds": r["seconds"]}
    return out


def table(samples, root: Path, tools: dict[str, dict | None]) -> str:
    names = [n for n, r in tools.items() if r is not None]
    lines = ["| malicious technique | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    for s in samples:
        if s["malicious"]:
            lines.append(f"| {s['technique']} | "
                         + " | ".join(tools[n][s["file"]]["flag"] for n in names) + " |")
    mal = [s for s in samples if s["malicious"]]
    ben = [s for s in samples if not s["malicious"]]
    mb = sum((root / s["file"]).stat().st_size for s in ben) / 1e6
    lines.append("")
    lines.append("| summary | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    lines.append(f"| malicious flagged (`yes`), of {len(mal)} | " + " | ".join(
        str(sum(tools[n][s["file"]]["flag"] == "yes" for s in mal)) for n in names) + " |")
    lines.append(f"| malicious flagged or failed (`yes` + `err`), of {len(mal)} | " + " | ".join(
        str(sum(tools[n][s["file"]]["flag"] in ("yes", "err") for s in mal)) for n in names)
        + " |")
    lines.append(f"| false positives on {len(ben)} benign files | " + " | ".join(
        str(sum(tools[n][s["file"]]["flag"] != "no" for s in ben)) for n in names) + " |")
    lines.append(f"| ms per MB (benign, {mb:.0f} MB) | " + " | ".join(
        f"{1000 * sum(tools[n][s['file']]['seconds'] for s in ben) / mb:.2f}" for n in names)
        + " |")
    if "mlgate" in names:
        import hashlib

        def sha(path):
            h = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)

        spent = sum(timed(lambda p=root / s["file"]: sha(p), REPEAT)[1] for s in ben)
        lines.append(f"\nof mlgate's time, {1000 * spent / mb:.2f} ms per MB is the SHA-256 of each "
                     "file (recorded so the gate can pin the scanned artifact; the others hash "
                     "nothing)")
    fps = {n: [f"{s['name']} ({tools[n][s['file']]['flag']})" for s in ben
               if tools[n][s["file"]]["flag"] != "no"] for n in names}
    for n, bad in fps.items():
        if bad:
            lines.append(f"\n{n} flagged benign files: {', '.join(bad)}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", help="an existing corpus folder (default: build one)")
    parser.add_argument("--modelscan-python", default="/tmp/msvenv/bin/python",
                        help="python of a virtual environment with modelscan (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.corpus) if args.corpus else Path(tmp)
        if not args.corpus:
            import scan_corpus

            scan_corpus.build(root)
        samples = json.loads((root / "manifest.json").read_text())
        tools = {"mlgate": run_mlgate(samples, root),
                 "picklescan": run_picklescan(samples, root),
                 "modelscan": run_modelscan(samples, root, args.modelscan_python)}
        versions = []
        try:
            from importlib.metadata import version

            versions.append(f"picklescan {version('picklescan')}")
        except Exception:  # noqa: BLE001
            versions.append("picklescan not installed")
        if tools["modelscan"] is None:
            versions.append("modelscan not available")
        else:
            out = subprocess.run([args.modelscan_python, "-c",
                                  "import importlib.metadata as m; print(m.version('modelscan'))"],
                                 capture_output=True, text=True)
            versions.append(f"modelscan {out.stdout.strip()}")
        print(f"corpus: {sum(s['malicious'] for s in samples)} malicious, "
              f"{sum(not s['malicious'] for s in samples)} benign files; {', '.join(versions)}\n")
        print(table(samples, root, tools))
    return 0


if __name__ == "__main__":
    sys.exit(main())
