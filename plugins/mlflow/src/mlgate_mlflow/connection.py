"""Where the registry is, and one explicit ``MlflowClient`` for it.

Precedence: an explicit URI (``GateContext.registry_uri``, ``--registry-uri``) > the
``MLFLOW_TRACKING_URI`` environment variable > the embedded default, a SQLite registry inside the
project (``<project>/.mlgate/mlflow.db``, artifacts in ``<project>/.mlgate/artifacts``).

Never touches MLflow's global state (``mlflow.set_tracking_uri``, active runs), so nothing is
written into the current directory (no ``mlruns/``, no ``mlflow.db``).
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mlgate.errors import MissingExtraError, RegistryError
from mlgate.security.redact import redact_url

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: the experiment that holds mlgate's own runs (models registered by ``register_model``)
EXPERIMENT = "mlgate"

#: HTTP client settings for a remote registry, used unless the environment already sets them:
#: an unreachable server fails in seconds (MLflow's own defaults retry for minutes).
HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "15",
}

_import_lock = threading.Lock()
_CREDENTIALS = re.compile(r"(?<=//)[^/@\s]+@")

#: ``uri`` without credentials (user, password, token in the query) for messages
redact = redact_url


def scrub(text: str) -> str:
    """Remove ``user:password@`` from any URL inside ``text`` (an exception's message)."""
    return _CREDENTIALS.sub("", text)


@dataclass(frozen=True)
class Connection:
    """A resolved registry location. ``artifact_location`` is set for the embedded registry."""

    tracking_uri: str
    source: str  # where the URI came from, for messages
    artifact_location: str | None = None

    @property
    def is_remote(self) -> bool:
        return urlsplit(self.tracking_uri).scheme in ("http", "https")

    def describe(self) -> str:
        return redact(self.tracking_uri)

    def client(self) -> MlflowClient:
        """A fresh ``MlflowClient`` bound to this registry (tracking and registry URI)."""
        if self.is_remote:
            for name, value in HTTP_DEFAULTS.items():
                os.environ.setdefault(name, value)
        _import_mlflow_stores()
        from mlflow import MlflowClient

        if self.artifact_location is not None:
            Path(self.artifact_location.removeprefix("file://")).mkdir(parents=True, exist_ok=True)
        with translate_errors(self, "open the registry"):
            return MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.tracking_uri)


def resolve(project_dir: str | os.PathLike[str] = ".", registry_uri: str | None = None) -> Connection:
    """The registry for a project: ``registry_uri``, else ``MLFLOW_TRACKING_URI``, else the
    embedded SQLite registry in ``<project_dir>/.mlgate/``."""
    if registry_uri:
        return Connection(registry_uri, "the registry URI given", _sqlite_artifacts(registry_uri))
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return Connection(env, "MLFLOW_TRACKING_URI", _sqlite_artifacts(env))
    home = Path(project_dir).resolve() / ".mlgate"
    home.mkdir(parents=True, exist_ok=True)
    return Connection(
        f"sqlite:///{home / 'mlflow.db'}",
        "the embedded default (no MLFLOW_TRACKING_URI)",
        artifact_location=(home / "artifacts").as_uri(),
    )


def import_mlflow(*modules: str) -> None:
    """Import MLflow modules once, with the warnings MLflow raises at import time silenced
    (SQLAlchemy 2.1's deprecation of ``noload`` in its stores, pydantic type-hint notes in
    ``mlflow.pyfunc``): they are MLflow's, and fatal under ``-W error``."""
    import importlib

    with _import_lock:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for name in modules:
                    importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] == "mlflow":
                raise MissingExtraError("mlflow", "mlflow") from None
            raise


def _sqlite_artifacts(uri: str) -> str | None:
    """``artifacts/`` beside a SQLite database file: without it MLflow would put the artifacts of
    the experiments mlgate creates in ``./mlruns`` of the current directory."""
    if not uri.startswith("sqlite:///") or uri.endswith(":memory:"):
        return None
    return (Path(uri.removeprefix("sqlite:///")).resolve().parent / "artifacts").as_uri()


def _import_mlflow_stores() -> None:
    import_mlflow("mlflow", "mlflow.store.tracking.sqlalchemy_store",
                  "mlflow.store.model_registry.sqlalchemy_store")


def error_code(exc: BaseException) -> str | None:
    return getattr(exc, "error_code", None)


def is_missing(exc: BaseException) -> bool:
    return error_code(exc) == "RESOURCE_DOES_NOT_EXIST"


def is_duplicate(exc: BaseException) -> bool:
    return error_code(exc) == "RESOURCE_ALREADY_EXISTS"


_PASS_THROUGH = ("RESOURCE_DOES_NOT_EXIST", "RESOURCE_ALREADY_EXISTS")


@contextmanager
def translate_errors(conn: Connection, doing: str):
    """Turn a failure to talk to the registry into a ``RegistryError`` that names the registry
    (without credentials) and the fix. "Not found" and "already exists" pass through, for the
    caller to explain in its own terms."""
    try:
        yield
    except RegistryError:
        raise
    except Exception as exc:  # noqa: BLE001 - anything from MLflow, requests, SQLAlchemy
        if error_code(exc) in _PASS_THROUGH:
            raise
        raise unreachable(conn, doing, exc) from exc


def unreachable(conn: Connection, doing: str, exc: BaseException) -> RegistryError:
    detail = scrub(str(exc)).replace(conn.tracking_uri, conn.describe())
    if len(detail) > 300:
        detail = detail[:299] + "…"
    if conn.is_remote:
        fix = (f"start the MLflow server at {conn.describe()} or point MLFLOW_TRACKING_URI "
               "(or --registry-uri) at a reachable one; unset it to use the embedded registry")
    else:
        fix = f"check that {conn.describe()} is a writable MLflow database"
    return RegistryError(
        f"could not {doing}: the MLflow registry at {conn.describe()} (from {conn.source}) "
        f"failed: {type(exc).__name__}: {detail}",
        fix=fix,
    )


def quote(value: str) -> str:
    """A string literal for an MLflow search filter."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise RegistryError(f"cannot search for {value!r}: it holds both kinds of quote",
                        fix="use a model name without quotes")


def paged(fetch: Any) -> list[Any]:
    """All pages of an MLflow search (``fetch(page_token)`` returns a ``PagedList``)."""
    out: list[Any] = []
    token = None
    while True:
        page = fetch(token)
        out.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return out
