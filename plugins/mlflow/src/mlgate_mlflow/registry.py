"""``MlflowRegistry``: the :class:`mlgate.hookspecs.Registry` on an MLflow model registry.

Layout, on the model version a decision is about:

* artifacts of the version's run: ``mlgate/<decision id>/results.json`` (the bundle, with the
  digest it declared) and ``mlgate/<decision id>/decision.json`` (``Decision.dump()``);
* tags: ``mlgate.verdict``, ``mlgate.reasons`` (the summary), ``mlgate.bundle_digest``,
  ``mlgate.policy_digest``, ``mlgate.decision_id`` (the latest decision published on it), and
  one audit record per decision, ``mlgate.decision.<id>`` (see :mod:`mlgate_mlflow.audit`);
* on ``promote`` only, and last: the alias.

Writes are ordered (artifacts, record, tags, alias, record marked done) and keyed on the
decision id, so a crash at any point leaves no alias on a version without its evidence, a
re-run finishes the job, and a retried request can never add a second record.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.bundle import Bundle, ModelRef, format_time, utc_now
from mlgate.errors import BundleError, RegistryError
from mlgate.gate import Baseline, Decision, Reason
from mlgate.hookspecs import PublishResult

from . import connection as conn_mod
from .audit import PREFIX, AliasMove, AuditRecord
from .connection import Connection, is_duplicate, is_missing, quote, translate_errors

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import ModelVersion

PUBLISHER = "mlflow"
ARTIFACT_ROOT = "mlgate"
TAG_VERDICT = "mlgate.verdict"
TAG_REASONS = "mlgate.reasons"
TAG_BUNDLE = "mlgate.bundle_digest"
TAG_POLICY = "mlgate.policy_digest"
TAG_DECISION = "mlgate.decision_id"
TAG_EVIDENCE_OF = "mlgate.evidence_of"  # on a run mlgate made for a version that had none


@dataclass(frozen=True)
class _Kept:
    """An audit record and the version that holds it."""

    record: AuditRecord
    version: str


class MlflowRegistry:
    """A model registry on MLflow. Build it with :meth:`open` (or the plugin's hook)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._client: MlflowClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, project_dir: str | Path = ".", registry_uri: str | None = None) -> MlflowRegistry:
        """The registry for a project: ``registry_uri``, else ``MLFLOW_TRACKING_URI``, else the
        embedded SQLite registry in ``<project_dir>/.mlgate/``."""
        return cls(conn_mod.resolve(project_dir, registry_uri))

    def __repr__(self) -> str:
        return f"MlflowRegistry({self.describe()!r})"

    def describe(self) -> str:
        return self.connection.describe()

    @property
    def client(self) -> MlflowClient:
        with self._lock:
            if self._client is None:
                self._client = self.connection.client()
            return self._client

    def _errors(self, doing: str):
        return translate_errors(self.connection, doing)

    # -- reading -----------------------------------------------------------------------------
    def champion(self, model: str, alias: str) -> Baseline:
        source = f"{self.describe()} models:/{model}@{alias}"
        version = self._alias_target(model, alias)
        if version is None:
            return Baseline(model=None, source=source, note=f"alias {alias!r} is not set")
        mv = self._version(model, version)
        ref = ModelRef(model, version)
        kept = [k for k in self._records([mv]) if k.record.kind == "gate" and k.record.artifacts]
        if not kept:
            return Baseline(model=ref, source=source,
                            note=f"{ref} carries no mlgate evidence (it was not published "
                            "through the gate)")
        kept.sort(key=lambda k: (k.record.verdict == "promote", k.record.recorded_ns))
        best = kept[-1].record
        path = f"{best.artifacts}/results.json"
        try:
            bundle = self._read_bundle(mv, path)
        except (RegistryError, BundleError) as exc:
            return Baseline(model=ref, source=f"{source} {path}",
                            note=f"its evidence {path} could not be read: {exc}")
        return Baseline(model=ref, bundle=bundle, source=f"{source} {path}")

    def history(self, model: str) -> list[Decision]:
        self._registered(model)
        return [k.record.decision(ModelRef(model, k.version))
                for k in self._records(self._versions(model))]

    # -- writing -----------------------------------------------------------------------------
    def publish(self, decision: Decision, bundle: Bundle, alias: str) -> PublishResult:
        if decision.model is None or decision.model.version is None:
            raise RegistryError(
                "the decision is not about a model version, so there is nothing to publish it on",
                fix="run pytest with --mlgate-model NAME --mlgate-model-version VERSION",
            )
        name, version = decision.model.name, decision.model.version
        mv = self._version(name, version)
        ref = ModelRef(name, version)
        existing = AuditRecord.parse(mv.tags.get(PREFIX + decision.id))
        details: dict[str, Any] = {"registry": self.describe(), "model": name,
                                   "version": version, "decision_id": decision.id}
        if existing is not None and existing.finished:
            return PublishResult(PUBLISHER, True, f"decision {decision.id} is already on {ref} "
                                 f"in {self.describe()}; nothing changed",
                                 {**details, "changed": False})
        # (1) the evidence
        folder = f"{ARTIFACT_ROOT}/{decision.id}"
        run_id = self._evidence_run(mv)
        self._upload(run_id, folder, {
            "results.json": _bundle_json(bundle),
            "decision.json": decision.dump(),
        })
        # (2) the record (with the move it intends) and the tags
        move = None
        if decision.verdict == "promote":
            move = self._intended_move(name, alias, version, existing)
        record = AuditRecord.of(
            decision, artifacts=folder, move=move,
            recorded_ns=existing.recorded_ns if existing else time.time_ns())
        self._set_tag(name, version, record.tag_key, record.tag_value())
        for key, value in ((TAG_VERDICT, decision.verdict), (TAG_REASONS, decision.summary()),
                           (TAG_BUNDLE, decision.bundle_digest),
                           (TAG_POLICY, decision.policy_digest), (TAG_DECISION, decision.id)):
            self._set_tag(name, version, key, value)
        details.update(artifacts=folder, run_id=run_id, changed=True)
        if move is None:
            return PublishResult(PUBLISHER, True, f"{decision.verdict} recorded on {ref} in "
                                 f"{self.describe()}; alias {alias!r} not moved", details)
        # (3) last: the alias
        return self._move_alias(record, ref, details)

    def rollback(self, model: str, alias: str, actor: dict[str, Any]) -> Decision:
        current = self._alias_target(model, alias)
        if current is None:
            raise RegistryError(f"alias {alias!r} of model {model!r} is not set in "
                                f"{self.describe()}: there is nothing to roll back",
                                fix="promote a version through the gate first")
        kept = self._records(self._versions(model))
        promotes = [k for k in kept if k.record.kind == "gate" and k.record.move is not None
                    and k.record.move.alias == alias and k.record.move.to_version == current
                    and k.record.move.state == "done"]
        if not promotes or promotes[-1].record.move.from_version is None:  # type: ignore[union-attr]
            raise RegistryError(
                f"no previous champion of {model!r} to roll back to: no gate decision records "
                f"what alias {alias!r} pointed at before v{current} was promoted",
                fix="promote the version you want through the gate, or set the alias by hand "
                "(mlflow.MlflowClient().set_registered_model_alias)")
        last = promotes[-1].record
        target = last.move.from_version  # type: ignore[union-attr]
        target_mv = self._version(model, target)
        current_mv = self._version(model, current)
        now = format_time(utc_now())
        who = ", ".join(f"{k}={v}" for k, v in sorted(actor.items())) or "unknown"
        reason = Reason("rollback", "pass",
                        f"alias {alias!r} moved back from v{current} to v{target}, the champion "
                        f"before v{current} was promoted (decision {last.decision_id}); "
                        f"requested by {who} at {now}")
        decision = Decision(
            verdict="promote", reasons=(reason,), model=ModelRef(model, target),
            champion=ModelRef(model, current),
            bundle_digest=target_mv.tags.get(TAG_BUNDLE, ""),
            policy_digest=target_mv.tags.get(TAG_POLICY, ""),
            baseline_digest=current_mv.tags.get(TAG_BUNDLE), decided_at=now, kind="rollback",
            context={"actor": dict(actor)})
        move = AliasMove(alias, current, target)
        record = AuditRecord.of(decision, recorded_ns=time.time_ns(), artifacts=None, move=move)
        self._set_tag(model, target, record.tag_key, record.tag_value())
        result = self._move_alias(record, ModelRef(model, target), {})
        observed = result.details.get("observed")
        done = AliasMove(alias, current, target, "done", observed)
        if not result.ok:
            raise RegistryError(f"rollback recorded, but {result.message}",
                                fix="check the alias with `mlgate history` and roll back again")
        return decision.with_context(alias_move=done.context())

    # -- the steps ---------------------------------------------------------------------------
    def _intended_move(self, name: str, alias: str, version: str,
                       existing: AuditRecord | None) -> AliasMove:
        current = self._alias_target(name, alias)
        if existing is not None and existing.move is not None and current == version:
            # an earlier run moved the alias and stopped before marking it done
            return AliasMove(alias, existing.move.from_version, version)
        return AliasMove(alias, current, version)

    def _move_alias(self, record: AuditRecord, ref: ModelRef,
                    details: dict[str, Any]) -> PublishResult:
        move = record.move
        assert move is not None and ref.version is not None
        with self._errors(f"set alias {move.alias!r} on {ref}"):
            self.client.set_registered_model_alias(ref.name, move.alias, ref.version)
        observed = self._alias_target(ref.name, move.alias)
        done = AliasMove(move.alias, move.from_version, move.to_version, "done", observed)
        self._set_tag(ref.name, ref.version, record.tag_key, record.with_move(done).tag_value())
        details = {**details, "alias": move.alias, "from": move.from_version,
                   "to": move.to_version, "observed": observed}
        before = "unset" if move.from_version is None else f"v{move.from_version}"
        if observed != ref.version:
            return PublishResult(
                PUBLISHER, False,
                f"alias {move.alias!r} was moved to {ref} but now points at v{observed}: it moved "
                "under us (another gate promoted meanwhile); the decision is recorded",
                {**details, "moved_under_us": True})
        return PublishResult(PUBLISHER, True, f"promoted {ref} in {self.describe()}: alias "
                             f"{move.alias!r} moved from {before} to v{ref.version}", details)

    def _evidence_run(self, mv: ModelVersion) -> str:
        """The run that keeps a version's evidence: its own, or one mlgate made for it."""
        if mv.run_id:
            return mv.run_id
        marker = f"{mv.name}/{mv.version}"
        with self._errors("find the evidence run"):
            experiment = self._experiment_id()
            runs = self.client.search_runs(
                [experiment], f"tags.`{TAG_EVIDENCE_OF}` = {quote(marker)}",
                order_by=["attributes.start_time ASC"], max_results=1)
            if runs:
                return runs[0].info.run_id
            run = self.client.create_run(experiment, tags={TAG_EVIDENCE_OF: marker},
                                         run_name=f"mlgate evidence {marker}")
            return run.info.run_id

    def _experiment_id(self) -> str:
        exp = self.client.get_experiment_by_name(conn_mod.EXPERIMENT)
        if exp is not None:
            return exp.experiment_id
        try:
            return self.client.create_experiment(
                conn_mod.EXPERIMENT, artifact_location=self.connection.artifact_location)
        except Exception as exc:
            if not is_duplicate(exc):
                raise
            # created by a retried request or a concurrent gate
            return self.client.get_experiment_by_name(conn_mod.EXPERIMENT).experiment_id

    def _upload(self, run_id: str, folder: str, files: dict[str, Any]) -> None:
        with tempfile.TemporaryDirectory(prefix="mlgate-") as tmp:
            for filename, data in files.items():
                text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False,
                                  allow_nan=False)
                (Path(tmp) / filename).write_text(text + "\n", encoding="utf-8")
            with self._errors(f"upload the evidence to run {run_id}"):
                self.client.log_artifacts(run_id, tmp, folder)

    def _read_bundle(self, mv: ModelVersion, path: str) -> Bundle:
        if not mv.run_id:
            run_id = self._evidence_run(mv)
        else:
            run_id = mv.run_id
        with tempfile.TemporaryDirectory(prefix="mlgate-") as tmp:
            with self._errors(f"download {path} from run {run_id}"):
                local = self.client.download_artifacts(run_id, path, tmp)
            return Bundle.read(local)

    def _set_tag(self, name: str, version: str, key: str, value: str) -> None:
        with self._errors(f"tag {name} v{version}"):
            self.client.set_model_version_tag(name, version, key, value)

    # -- lookups -----------------------------------------------------------------------------
    def _registered(self, model: str):
        try:
            with self._errors(f"look up model {model!r}"):
                return self.client.get_registered_model(model)
        except Exception as exc:
            if is_missing(exc):
                raise RegistryError(
                    f"model {model!r} is not registered in {self.describe()}",
                    fix="register it first (mlgate_mlflow.register_model, or mlflow's "
                    "register_model), or check the model name and the registry URI") from None
            raise

    def _alias_target(self, model: str, alias: str) -> str | None:
        """The version ``alias`` points at, as a string (SQLite gives ints, HTTP strings)."""
        aliases = self._registered(model).aliases or {}
        version = aliases.get(alias)
        return None if version is None else str(version)

    def _version(self, model: str, version: str) -> ModelVersion:
        try:
            with self._errors(f"look up {model} v{version}"):
                return self.client.get_model_version(model, str(version))
        except Exception as exc:
            if is_missing(exc):
                self._registered(model)  # a missing model says so first
                raise RegistryError(
                    f"model {model!r} has no version {version} in {self.describe()}",
                    fix="register the version before gating it, or check "
                    "--mlgate-model-version") from None
            raise

    def _versions(self, model: str) -> list[ModelVersion]:
        with self._errors(f"list the versions of {model!r}"):
            return conn_mod.paged(lambda token: self.client.search_model_versions(
                f"name = {quote(model)}", page_token=token))

    def _records(self, versions: list[ModelVersion]) -> list[_Kept]:
        """Every audit record on ``versions``, oldest first."""
        kept = []
        for mv in versions:
            for key, value in (mv.tags or {}).items():
                if key.startswith(PREFIX):
                    record = AuditRecord.parse(value)
                    if record is not None:
                        kept.append(_Kept(record, str(mv.version)))
        kept.sort(key=lambda k: (k.record.recorded_ns, k.record.decided_at))
        return kept


def _bundle_json(bundle: Bundle) -> dict[str, Any]:
    """The bundle as its file was, with the digest it declared (never a recomputed one, which
    would launder a changed file)."""
    data = bundle.content()
    data["digest"] = bundle.declared_digest or bundle.digest
    return data
