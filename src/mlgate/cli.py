"""``mlgate``: decide on a results bundle, and read or undo decisions in the registry."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from .errors import InputError, MlgateError
from .gate import EXIT_CODES, EXIT_INPUT_ERROR

EPILOG = f"""\
exit codes of `mlgate gate`:
  {EXIT_CODES['promote']}  promote        every rule passed
  {EXIT_CODES['reject']}  reject         a rule failed (failed or missing tests, a bound, the champion)
  {EXIT_CODES['needs-review']}  needs-review   nothing failed, but the evidence is inconclusive
  {EXIT_INPUT_ERROR}  input error    the policy, bundle, options or registry are unusable

examples:
  pytest --mlgate-model iris --mlgate-model-version 3      # writes reports/results.json
  mlgate gate --bundle reports/results.json --policy mlgate.toml
  mlgate gate --bundle reports/results.json --json --no-publish
  mlgate history iris
  mlgate rollback iris

The registry: with $MLFLOW_TRACKING_URI set (or --registry URI), any MLflow server; without it,
an embedded SQLite registry in .mlgate/ under the project folder (needs mlgate[mlflow]).
"""

MARK = {"pass": "ok  ", "fail": "FAIL", "review": "??  "}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlgate",
        description="pytest as the quality gate for ML models: decide promote / reject / "
        "needs-review from a results bundle and a policy, and publish the decision.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"mlgate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    gate = sub.add_parser(
        "gate", help="decide on a results bundle and publish the decision",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG,
        description="Read the bundle pytest wrote and the policy, compare with the champion in "
        "the registry, decide, write reports/decision.json and publish (registry tags, alias).",
    )
    gate.add_argument("--bundle", default="reports/results.json", metavar="PATH",
                      help="results bundle written by pytest (default: %(default)s)")
    gate.add_argument("--policy", metavar="PATH",
                      help="policy TOML: mlgate.toml or a pyproject.toml with [tool.mlgate] "
                      "(default: the one in the current folder)")
    gate.add_argument("--json", action="store_true", help="print the decision as JSON")
    gate.add_argument("--model", help="refuse a bundle that tested another model name")
    gate.add_argument("--model-version", help="refuse a bundle that tested another version")
    gate.add_argument("--commit", help="refuse a bundle written at another commit")
    gate.add_argument("--baseline", metavar="PATH",
                      help="the champion's bundle from a file, instead of the registry")
    _registry_args(gate)
    gate.add_argument("--no-publish", action="store_true",
                      help="decide and print only: write nothing, touch no registry alias")
    gate.add_argument("--output-dir", default=None, metavar="DIR",
                      help="where decision.json goes (default: the bundle's folder)")

    hist = sub.add_parser("history", help="every decision kept for a model, oldest first")
    hist.add_argument("model")
    hist.add_argument("--json", action="store_true")
    _registry_args(hist)

    back = sub.add_parser("rollback", help="move the champion alias back to the previous champion")
    back.add_argument("model")
    back.add_argument("--alias", default="champion")
    back.add_argument("--json", action="store_true")
    _registry_args(back)

    report = sub.add_parser(
        "report", help="write the HTML quality report of a bundle",
        description="Write one self-contained HTML file (no script, no external URL) from a "
        "results bundle and, optionally, its decision.json and the champion's bundle.")
    report.add_argument("--bundle", default="reports/results.json", metavar="PATH",
                        help="results bundle written by pytest (default: %(default)s)")
    report.add_argument("--decision", metavar="PATH", help="decision.json written by `mlgate gate`")
    report.add_argument("--champion-bundle", metavar="PATH",
                        help="the champion's bundle: adds the two bundles side by side")
    report.add_argument("-o", "--output", metavar="PATH",
                        help="HTML file to write (default: report.html beside the bundle)")

    schema = sub.add_parser("schema", help="pandera schemas for the data checks")
    schema_sub = schema.add_subparsers(dest="schema_command", metavar="SUBCOMMAND", required=True)
    infer = schema_sub.add_parser(
        "infer", help="infer a starting schema from a CSV or Parquet file",
        description="Write a pandera schema (YAML) inferred from a reference data set, for you "
        "to edit (tighten the checks) and commit; tests then validate data against it.")
    infer.add_argument("data", metavar="DATA", help="reference data: .csv, .tsv or .parquet")
    infer.add_argument("-o", "--output", metavar="PATH", help="YAML to write (default: stdout)")
    _scan_parser(sub)
    return parser


# -- mlgate scan ----------------------------------------------------------------------------------

SCAN_EPILOG = """\
exit codes of `mlgate scan`:
  0  clean       every file's imports are on the allowlist
  1  findings    an unknown or dangerous import, a malformed stream, a polyglot, an archive limit
  2  input error a path that does not exist or cannot be read

examples:
  mlgate scan models/model.pt models/pipeline.joblib
  mlgate scan models/ --allow mypkg.features.Clipper --json > scan.json

The policy's [security] allow_globals (mlgate.toml or [tool.mlgate] in pyproject.toml, found
here, or --policy FILE) are allowed too.

Nothing is loaded: the files are read statically, and each file's SHA-256 is printed so the
artifact that was scanned can be pinned.
"""


def _scan_parser(sub) -> None:
    scan = sub.add_parser(
        "scan", help="scan model files (pickle, PyTorch, joblib, NumPy, archives) without "
        "loading them", formatter_class=argparse.RawDescriptionHelpFormatter, epilog=SCAN_EPILOG,
        description="Report every import and call the pickles in the files would make, judged "
        "against an allowlist of what scikit-learn, NumPy, PyTorch and friends really pickle.")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or folders to scan")
    scan.add_argument("--allow", action="append", default=[], metavar="MODULE.NAME",
                      help="also allow this global (repeatable), e.g. mypkg.models.Net")
    scan.add_argument("--policy", metavar="FILE",
                      help="policy whose [security] allow_globals are allowed (default: the "
                      "mlgate.toml or pyproject.toml found here, if any)")
    scan.add_argument("--json", action="store_true", help="print the result as JSON")
    scan.add_argument("--max-depth", type=int, default=None, metavar="N",
                      help="levels of nested archives to open (default: 5)")
    scan.add_argument("--max-bytes", type=int, default=None, metavar="N",
                      help="bytes archives may unpack per file (default: 4 GiB)")


def cmd_scan(args) -> int:
    from .policy import find_policy, load_policy
    from .security.scan import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, scan

    policy_path = args.policy or find_policy(".")
    allowed = load_policy(policy_path).allow_globals if policy_path else ()
    result = scan(args.paths, extra_allow=[*allowed, *args.allow],
                  max_depth=DEFAULT_MAX_DEPTH if args.max_depth is None else args.max_depth,
                  max_bytes=DEFAULT_MAX_BYTES if args.max_bytes is None else args.max_bytes)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, allow_nan=False))
    else:
        for file in result.files:
            status = "ok  " if file.clean else "FAIL"
            print(f"{status} {file.path}  sha256:{file.sha256}  {file.format}")
            for finding in file.findings:
                print(f"     {finding.line()}")
        n = len(result.findings)
        bad = sum(not f.clean for f in result.files)
        print(f"mlgate scan: {len(result.files)} file(s), {n} finding(s) in {bad} file(s)")
        if any(f.recommendation for f in result.files):
            print("  note: pickle-based files run code when loaded; prefer safetensors, ONNX "
                  "or skops")
    return 0 if result.clean else 1


def cmd_schema(args) -> int:
    from .data.schema import infer_command

    return infer_command(args.data, args.output)


def cmd_report(args) -> int:
    from .bundle import Bundle
    from .gate import Decision
    from .report.html import write_report

    bundle = Bundle.read(args.bundle)
    decision = None
    if args.decision:
        try:
            decision = Decision.from_json(json.loads(Path(args.decision).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise InputError("no such file", file=args.decision,
                             fix="run `mlgate gate` first, or pass --decision with the right path") from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise InputError(f"not a decision: {type(exc).__name__}: {exc}", file=args.decision,
                             fix="pass the decision.json that `mlgate gate` wrote") from None
    champion = Bundle.read(args.champion_bundle) if args.champion_bundle else None
    output = Path(args.output) if args.output else Path(args.bundle).parent / "report.html"
    path = write_report(output, bundle, decision, champion=champion)
    print(f"mlgate: report written to {path}")
    return 0


def _blocked(values: list[str]) -> list[str]:
    names = []
    for value in values:
        if not value.startswith("no:") or len(value) == 3:
            raise InputError(f"-p {value}: only blocking is supported", key="-p",
                             fix="write -p no:NAME, e.g. -p no:mlflow")
        names.append(value[3:])
    return names


def _registry_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-p", dest="plugins", action="append", default=[], metavar="no:NAME",
                        help="block a plugin by its entry-point name, as pytest does "
                        "(e.g. -p no:mlflow to decide without the registry)")
    parser.add_argument("--registry", metavar="URI",
                        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, else the "
                        "embedded SQLite registry in .mlgate/)")
    parser.add_argument("--project-dir", default=".", metavar="DIR",
                        help="project folder that holds the embedded registry (default: .)")


def _context(args, *, alias: str = "champion", output_dir: Path | None = None):
    from .actor import actor
    from .hookspecs import GateContext

    return GateContext(
        project_dir=Path(args.project_dir).resolve(),
        registry_uri=args.registry or os.environ.get("MLFLOW_TRACKING_URI") or None,
        alias=alias,
        actor=actor(),
        output_dir=output_dir or Path("reports"),
    )


def _registry(pm, context, *, required: bool):
    from .manager import get_registry

    registry = get_registry(pm, context)
    if registry is None and required:
        raise InputError("no registry plugin is installed",
                         fix="install the MLflow integration: pip install 'mlgate[mlflow]'")
    return registry


def cmd_gate(args) -> int:
    from .bundle import Bundle, utc_now
    from .gate import Baseline, Expectation, decide
    from .manager import plugin_manager, publish_all
    from .policy import BenchmarkRule, ChampionRule, NoninferiorityRule, find_policy, load_policy

    policy_path = args.policy or find_policy(".")
    if policy_path is None:
        raise InputError("no policy given and none found here",
                         fix="pass --policy mlgate.toml, or add [tool.mlgate] to pyproject.toml")
    policy = load_policy(policy_path)
    bundle = Bundle.read(args.bundle)
    output_dir = Path(args.output_dir) if args.output_dir else Path(args.bundle).parent
    context = _context(args, alias=policy.champion_alias, output_dir=output_dir)
    pm = plugin_manager(blocked=_blocked(args.plugins))

    baseline = None
    if args.baseline:
        champ = Bundle.read(args.baseline)
        baseline = Baseline(model=champ.model, bundle=champ, source=str(args.baseline))
    elif any(isinstance(rule, (ChampionRule, NoninferiorityRule, BenchmarkRule))
             for rule in policy.rules):
        registry = _registry(pm, context, required=False)
        name = args.model or policy.model or (bundle.model.name if bundle.model else None)
        if registry is not None and name:
            baseline = registry.champion(name, policy.champion_alias)
    expect = Expectation(model=args.model, version=args.model_version, commit=args.commit)
    decision = decide(bundle, policy, baseline, now=utc_now(), expect=expect)
    decision = decision.with_context(actor=context.actor)

    results = [] if args.no_publish else publish_all(pm, decision, bundle, context)
    if args.json:
        out = decision.dump()
        out["published"] = [r.__dict__ for r in results]
        print(json.dumps(out, indent=2, allow_nan=False))
    else:
        print(render_decision(decision, policy_source=policy.source))
        for r in results:
            print(f"  published: {r.publisher}: {'ok' if r.ok else 'FAILED'}: {r.message}")
    return decision.exit_code


def render_decision(decision, *, policy_source: str = "") -> str:
    lines = [f"mlgate: {decision.verdict.upper()}  {decision.model or 'unbound bundle'}"
             + (f"  (champion: {decision.champion})" if decision.champion else
                "  (no champion yet)")]
    for r in decision.reasons:
        lines.append(f"  {MARK[r.status]} {r.rule}: {r.message}")
    if policy_source:
        lines.append(f"  policy: {policy_source}  decision: {decision.id}")
    return "\n".join(lines)


def cmd_history(args) -> int:
    from .manager import plugin_manager

    registry = _registry(plugin_manager(blocked=_blocked(args.plugins)), _context(args), required=True)
    decisions = registry.history(args.model)
    if args.json:
        print(json.dumps([d.dump() for d in decisions], indent=2, allow_nan=False))
        return 0
    if not decisions:
        print(f"no decisions recorded for {args.model!r} in {registry.describe()}")
    for d in decisions:
        who = d.context.get("actor", {}) if isinstance(d.context.get("actor"), dict) else {}
        move = d.context.get("alias_move")
        moved = (f"  alias {move.get('alias')}: {move.get('from') or '-'} -> {move.get('to')}"
                 if isinstance(move, dict) else "")
        print(f"{d.decided_at}  {d.kind:8} {d.verdict:12} {d.model}  by "
              f"{who.get('job') or who.get('user') or '?'}{moved}")
        print(f"    {d.summary(200)}")
    return 0


def cmd_rollback(args) -> int:
    from .actor import actor
    from .manager import plugin_manager

    registry = _registry(plugin_manager(blocked=_blocked(args.plugins)),
                         _context(args, alias=args.alias), required=True)
    decision = registry.rollback(args.model, args.alias, actor())
    if args.json:
        print(json.dumps(decision.dump(), indent=2, allow_nan=False))
    else:
        print(render_decision(decision))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    commands: dict[str, Any] = {"gate": cmd_gate, "history": cmd_history,
                                "rollback": cmd_rollback, "schema": cmd_schema,
                                "report": cmd_report, "scan": cmd_scan}
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT_ERROR
    try:
        return commands[args.command](args)
    except InputError as exc:
        print(f"mlgate: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR
    except MlgateError as exc:
        print(f"mlgate: error: {exc}", file=sys.stderr)
        return EXIT_INPUT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
