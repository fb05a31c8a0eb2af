"""Register a scikit-learn model version idempotently, and load one back.

``register_model`` is keyed: ``key`` (a digest of the training parameters and data) is a tag on
the run and on the version. Calling it again with the same key returns the same version, and a
request that MLflow's client retried (the write succeeded, the answer was lost) cannot leave a
second version behind: after creating, it searches again and deletes any duplicate but the
lowest.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlgate.errors import RegistryError

from .connection import (
    Connection,
    import_mlflow,
    is_duplicate,
    is_missing,
    paged,
    quote,
    resolve,
)
from .registry import MlflowRegistry

if TYPE_CHECKING:
    from mlflow import MlflowClient

TAG_KEY = "mlgate.key"
MODEL_PATH = "model"


def register_model(
    sk_model: Any,
    name: str,
    *,
    key: str,
    tracking_uri: str | None = None,
    project_dir: str | os.PathLike[str] = Path("."),
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    skops_trusted_types: list[str] | None = None,
) -> str:
    """Log ``sk_model`` in a run and register it as a version of ``name``; return the version.

    With a version of ``name`` already tagged ``mlgate.key = key``, return that one and log
    nothing. ``pip_requirements`` default to the installed scikit-learn, skops, cloudpickle and
    numpy (given explicitly, so MLflow does not spend seconds inferring them). MLflow 3 saves
    scikit-learn models with skops: name the types it must trust to load a tree model in
    ``skops_trusted_types`` (e.g. ``["sklearn.tree._tree.Tree"]``)."""
    if not key:
        raise RegistryError("register_model needs a non-empty key",
                            fix="pass key=<a digest of the training parameters and data>")
    registry = MlflowRegistry(resolve(project_dir, tracking_uri))
    conn = registry.connection
    client = registry.client
    doing = f"register a version of {name!r}"
    with registry._errors(doing):
        found = _versions_with_key(client, name, key)
        if found:
            return found[0]
        _ensure_registered_model(client, name)
    run_id, source = _run_with_model(registry, conn, sk_model, key, input_example,
                                     pip_requirements, skops_trusted_types)
    with registry._errors(doing):
        client.create_model_version(name, source=source, run_id=run_id, tags={TAG_KEY: key})
        return _keep_lowest(client, name, key)


def download_model(name: str, version: str | int, dst: str | os.PathLike[str], *,
                   tracking_uri: str | None = None,
                   project_dir: str | os.PathLike[str] = Path(".")) -> Path:
    """Download the files of ``models:/name/version`` into ``dst`` (nothing is loaded) and
    return the model's folder, e.g. to scan it: ``mlgate_scan(download_model(...))``."""
    registry = MlflowRegistry(resolve(project_dir, tracking_uri))
    import_mlflow("mlflow.artifacts")
    import mlflow.artifacts

    registry._version(name, str(version))  # a clear error for a missing model or version
    with registry._errors(f"download {name} v{version}"):
        uri = registry.client.get_model_version_download_uri(name, str(version))
        return Path(mlflow.artifacts.download_artifacts(
            artifact_uri=uri, dst_path=str(dst), tracking_uri=registry.connection.tracking_uri))


def load_model(name: str, version: str | int, *, tracking_uri: str | None = None,
               project_dir: str | os.PathLike[str] = Path("."), scan: bool = True,
               allow_globals: tuple[str, ...] = ()) -> Any:
    """Load the scikit-learn model of ``models:/name/version`` from the registry.

    The downloaded files are first scanned by :func:`mlgate.security.scan.scan` (nothing is
    unpickled for that): a global outside the allowlist (plus ``allow_globals``), or a file that
    cannot be read as what it claims, refuses the load with an ``InputError`` listing the
    findings. ``scan=False`` skips it for a model you trust."""
    import_mlflow("mlflow.sklearn")
    import mlflow.sklearn

    with tempfile.TemporaryDirectory(prefix="mlgate-model-") as tmp:
        local = download_model(name, version, tmp, tracking_uri=tracking_uri,
                               project_dir=project_dir)
        if scan:
            from mlgate.errors import InputError
            from mlgate.security.scan import scan as scan_files

            found = scan_files(local, extra_allow=allow_globals)
            if found.failures():
                shown = "\n  ".join(found.failures()[:10])
                raise InputError(f"refusing to load {name} v{version}: its files failed the "
                                 f"model-file scan:\n  {shown}", key="models:/"
                                 f"{name}/{version}", fix="if you trust these globals, pass "
                                 "allow_globals=(...) (or [security] allow_globals in the "
                                 "policy); better, save the model as skops, ONNX or safetensors")
        return mlflow.sklearn.load_model(str(local))


def default_pip_requirements() -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for dist in ("scikit-learn", "skops", "cloudpickle", "numpy"):
        try:
            out.append(f"{dist}=={version(dist)}")
        except PackageNotFoundError:
            pass
    return out


def _versions_with_key(client: MlflowClient, name: str, key: str) -> list[str]:
    """Versions of ``name`` tagged with ``key``, lowest first (none if ``name`` is new)."""
    versions = paged(lambda token: client.search_model_versions(
        f"name = {quote(name)} and tags.`{TAG_KEY}` = {quote(key)}", page_token=token))
    return sorted((str(v.version) for v in versions), key=int)


def _keep_lowest(client: MlflowClient, name: str, key: str) -> str:
    found = _versions_with_key(client, name, key)
    if not found:
        raise RegistryError(f"the new version of {name!r} is not found after creating it",
                            fix="check the registry for errors and run again")
    for extra in found[1:]:  # made by a retried request or a concurrent call with the same key
        try:
            client.delete_model_version(name, extra)
        except Exception as exc:
            if not is_missing(exc):
                raise
    return found[0]


def _ensure_registered_model(client: MlflowClient, name: str) -> None:
    try:
        client.get_registered_model(name)
        return
    except Exception as exc:
        if not is_missing(exc):
            raise
    try:
        client.create_registered_model(name)
    except Exception as exc:
        if not is_duplicate(exc):  # a retried request or a concurrent call created it
            raise


def _run_with_model(registry: MlflowRegistry, conn: Connection, sk_model: Any, key: str,
                    input_example: Any, pip_requirements: list[str] | None,
                    skops_trusted_types: list[str] | None) -> tuple[str, str]:
    """A finished run tagged with ``key`` that holds the model: found, or made now."""
    client = registry.client
    with registry._errors("find the run of the model"):
        experiment = registry._experiment_id()
        runs = client.search_runs([experiment], f"tags.`{TAG_KEY}` = {quote(key)} and "
                                  "attributes.status = 'FINISHED'",
                                  order_by=["attributes.start_time ASC"], max_results=5)
        for run in runs:  # a run logged before an interrupted registration
            if any(f.path == MODEL_PATH for f in client.list_artifacts(run.info.run_id)):
                return run.info.run_id, f"{run.info.artifact_uri}/{MODEL_PATH}"
    import_mlflow("mlflow.pyfunc", "mlflow.sklearn")
    import mlflow.sklearn

    with tempfile.TemporaryDirectory(prefix="mlgate-model-") as tmp:
        path = Path(tmp) / MODEL_PATH
        with warnings.catch_warnings():
            # the signature inferred from integer class labels: a hint, not a problem
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            mlflow.sklearn.save_model(
                sk_model, str(path), input_example=input_example,
                pip_requirements=pip_requirements or default_pip_requirements(),
                skops_trusted_types=skops_trusted_types)
        with registry._errors("log the model"):
            run = client.create_run(experiment, tags={TAG_KEY: key},
                                    run_name=f"mlgate {key[:12]}")
            client.log_artifacts(run.info.run_id, str(path), MODEL_PATH)
            client.set_terminated(run.info.run_id, "FINISHED")
    return run.info.run_id, f"{run.info.artifact_uri}/{MODEL_PATH}"
