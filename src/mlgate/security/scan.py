"""Scan model files before anything loads them: what would ``pickle.load`` import and call?

Loading a pickle runs code the file chooses: every ``GLOBAL`` opcode imports a module and every
``REDUCE`` calls what it imported. :func:`scan` reads the files *statically* (its own opcode
walker, :mod:`mlgate.security._pickle`; nothing here ever unpickles what it was asked to scan)
and judges every imported global against an **allowlist**, the globals that scikit-learn,
NumPy, SciPy, pandas, PyTorch, XGBoost and LightGBM really pickle (``allowlist.toml`` beside
this module, extended by the policy). A list of known-bad names would be bypassed (``getattr``
chains, ``operator``/``functools`` callables, ``runpy`` and ``pip`` entry points, names computed
at load time); an allowlist fails closed: **unknown is a finding, malformed is a finding**, and
so is an archive nested too deep or unpacking to too many bytes.

Formats, recognised by content (not by extension):

- pickle streams, protocols 0 to 5, one after another (a second pickle after ``STOP`` is
  scanned too; bytes after the last one that are not a pickle are a finding);
- PyTorch: the zip format (``archive/data.pkl`` and any other pickle inside; the tensor
  storages ``archive/data/N`` are raw numbers and are skipped without reading) and the legacy
  format (five pickles, then the raw storages, skipped by their declared sizes);
- joblib: a pickle with each NumPy array's raw bytes after its ``NumpyArrayWrapper`` (skipped by
  the wrapper's shape and dtype; object arrays are a nested pickle, scanned), plain or
  compressed with zlib, gzip, bz2, xz or lzma;
- NumPy ``.npy`` (the header is parsed as a literal; an object dtype means a pickle follows,
  scanned) and ``.npz`` (a zip of ``.npy``);
- zip, tar (any compression) and gzip/bz2/xz archives nested in each other, to ``max_depth``
  levels and ``max_bytes`` unpacked bytes (zip bombs stop there, as a finding);
- a file that is a zip *and* something else (bytes before the first member or after the end
  record) is a polyglot: a finding, and the extra bytes are scanned as pickles;
- safetensors is recognised and passes (it holds no code); HDF5, GGUF, TFLite, ONNX, protobuf
  and text files are listed as "not a pickle format" unless their bytes, read as a pickle,
  would import something (then they are scanned as the polyglots they are).

Two constructs real files use are vouched for instead of flagged, each under strict conditions
(see :data:`mlgate.security._pickle.CONDITIONAL`): ``getattr(ImportedClass, "name")``, how
pickle writes bound and class methods, is resolved to the dotted global ``module.Class.name`` and
judged by the allowlist; ``torch.storage._load_from_bytes(b"...")``, how a plain pickle of a
tensor embeds a ``torch.save`` file, is allowed when the embedded file scans clean. Any other
use of either (an unused import, a computed argument, passing it on) stays a finding.

Not read: TorchScript code (``code/`` in a TorchScript zip), Keras ``Lambda`` layers in HDF5,
7z archives (scanned as an unknown stream, so a finding), ``lz4``-compressed joblib without
the ``lz4`` package (a finding).

Use it in a test (the ``mlgate_scan`` fixture records the result)::

    def test_model_file_is_safe(mlgate_scan):
        mlgate_scan("models/model.joblib", allow=["mypkg.features.Clipper"])

or directly: ``mlgate.check(scan(["model.pt"]))``, or from the shell: ``mlgate scan model.pt``.
The result records each file's SHA-256, so the gate can pin the artifact that was scanned.
"""

from __future__ import annotations

import bz2
import functools
import gzip
import hashlib
import io
import lzma
import os
import re
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgate.errors import InputError
from mlgate.record import Metric

from ._pickle import (
    PICKLE_STARTS,
    Budget,
    BudgetExceeded,
    Global,
    Malformed,
    Obj,
    PickleReport,
    Stream,
    Truncated,
    walk,
)

#: nesting of archives and compressed streams followed (a tar.gz holding a zip is 3 levels)
DEFAULT_MAX_DEPTH = 5
#: bytes that archive members and decompressed streams may produce, per file scanned
DEFAULT_MAX_BYTES = 4 << 30
#: members read per archive
DEFAULT_MAX_MEMBERS = 10_000

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium")
#: files listed one by one in a result's evidence (the counts are always complete)
MAX_EVIDENCE_FILES = 200

#: modules whose globals can run commands, code, imports or I/O; only used to grade an unknown
#: global as "critical" instead of "high". The verdict never depends on this list.
_DANGEROUS_ROOTS = frozenset("""
    os posix nt posixpath ntpath subprocess sys builtins __builtin__ runpy pip importlib
    operator functools pickle _pickle cPickle dill cloudpickle shutil socket webbrowser pty code
    codeop ctypes marshal types commands asyncio multiprocessing pdb timeit bdb cProfile profile
    trace http urllib urllib2 requests httpx ssl tempfile glob io _io codecs _codecs zipimport
    linecache sqlite3 threading _thread signal inspect platform ftplib smtplib telnetlib
    setuptools pkg_resources distutils site sysconfig imp joblib torch numpy pandas
""".split())
_DANGEROUS_NAMES = frozenset(
    "system popen spawn exec eval compile open load loads run call check_output getattr "
    "setattr __import__ import_module execfile input breakpoint attrgetter methodcaller "
    "partial reduce apply _run_code _run_module_code run_path run_module main".split())

PICKLE_SUFFIXES = (".pkl", ".pickle", ".pck", ".joblib", ".pt", ".pth", ".ckpt", ".bin",
                   ".p", ".dat", ".data", ".debug_pkl", ".npy", ".model", ".sav")

_TORCH_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_ELEMENT_SIZE = {
    "DoubleStorage": 8, "FloatStorage": 4, "HalfStorage": 2, "BFloat16Storage": 2,
    "LongStorage": 8, "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1,
    "BoolStorage": 1, "ComplexFloatStorage": 8, "ComplexDoubleStorage": 16,
    "QInt8Storage": 1, "QUInt8Storage": 1, "QInt32Storage": 4, "QUInt4x2Storage": 1,
    "QUInt2x4Storage": 1, "UntypedStorage": 1,
}

RECOMMENDATION = (
    "this file is pickle-based: loading it runs code the file chooses. Prefer a format that "
    "holds data only: safetensors for tensors and state dicts (PyTorch, NumPy), ONNX for an "
    "inference graph, skops (skops.io, with its own allowlist) for scikit-learn models.")


# -- results ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One reason not to load a file: what, where (member path and byte offset), and the fix.

    ``kind`` is one of ``unknown-global`` (imports a global that is not allowlisted),
    ``computed-global``, ``computed-call``, ``extension``, ``build-on-global`` (see
    :mod:`mlgate.security._pickle`), ``malformed`` (not a complete, valid stream),
    ``trailing-data`` and ``polyglot`` (bytes this scan cannot vouch for), ``archive-limit``
    (too deep, too big, too many members) and ``unreadable`` (encrypted or unsupported).
    """

    kind: str
    severity: str
    where: str  # the file, then "!member" for each archive level
    offset: int | None
    message: str
    fix: str
    symbol: str | None = None  # the global, for unknown-global

    def line(self) -> str:
        at = f" @ offset {self.offset}" if self.offset is not None else ""
        return f"[{self.severity}] {self.where}{at}: {self.message}. Fix: {self.fix}"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "where": self.where,
                "offset": self.offset, "message": self.message, "fix": self.fix,
                "symbol": self.symbol}


@dataclass(frozen=True)
class Call:
    """A callee the stream would call: ``opcode`` (``REDUCE``, ``NEWOBJ``, ``BUILD``…), how many
    times, and where the first call is."""

    callee: str
    opcode: str
    count: int
    where: str
    offset: int

    def to_json(self) -> dict[str, Any]:
        return {"callee": self.callee, "opcode": self.opcode, "count": self.count,
                "where": self.where, "offset": self.offset}


@dataclass(frozen=True)
class FileScan:
    """What one file would do when loaded. ``globals`` maps each imported global to where it is
    first imported (``where @ offset``); ``calls`` are summarised per callee and opcode."""

    path: str
    sha256: str
    size: int
    format: str
    globals: dict[str, str]
    calls: tuple[Call, ...]
    findings: tuple[Finding, ...]
    recommendation: str | None
    members: tuple[str, ...] = ()  # archive members scanned, as "file!member"
    skipped: tuple[str, ...] = ()  # members not scanned and why (tensor storages, text files)

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path, "sha256": self.sha256, "size": self.size, "format": self.format,
            "clean": self.clean, "globals": dict(self.globals),
            "calls": [c.to_json() for c in self.calls],
            "findings": [f.to_json() for f in self.findings],
            "recommendation": self.recommendation,
            "members": list(self.members), "skipped": list(self.skipped),
        }


@dataclass(frozen=True)
class ScanResult:
    """The scan of one or more files: a :class:`mlgate.record.CheckResult`.

    Metrics: ``scan_findings`` (threshold 0, lower is better: any finding fails) and
    ``scan_files``. Evidence: per file, its SHA-256, format, imported globals and findings.
    Failures: one line per finding with the file, the offset, the global and the fix."""

    files: tuple[FileScan, ...]
    allowed_extra: tuple[str, ...] = ()
    name: str = "scan"

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for file in self.files for f in file.findings)

    @property
    def clean(self) -> bool:
        return not self.findings

    def __getitem__(self, path: str | os.PathLike) -> FileScan:
        for file in self.files:
            if file.path == str(path):
                return file
        raise KeyError(f"{path} was not scanned; scanned: {[f.path for f in self.files]}")

    def metrics(self) -> list[Metric]:
        return [Metric(f"{self.name}_findings", float(len(self.findings)), 0.0, "lower"),
                Metric(f"{self.name}_files", float(len(self.files)))]

    def evidence(self) -> dict[str, Any]:
        """Per file (the first :data:`MAX_EVIDENCE_FILES`, files with findings first): path,
        SHA-256, format, findings (the first 20) and the globals it imports (the first 50);
        the counts are always complete. Kept well under the record API's 1 MB."""
        ordered = sorted(self.files, key=lambda f: f.clean)
        return {
            "file_count": len(self.files),
            "finding_count": len(self.findings),
            "files": [
                {"path": f.path, "sha256": f.sha256, "size": f.size, "format": f.format,
                 "finding_count": len(f.findings),
                 "findings": [x.to_json() for x in f.findings[:20]],
                 "global_count": len(f.globals), "globals": sorted(f.globals)[:50],
                 "recommendation": f.recommendation is not None}
                for f in ordered[:MAX_EVIDENCE_FILES]
            ],
            "allowed_extra": list(self.allowed_extra),
            "recommendation": RECOMMENDATION if any(f.recommendation for f in self.files)
            else None,
        }

    def failures(self) -> list[str]:
        return [f.line() for f in self.findings]

    def to_json(self) -> dict[str, Any]:
        return {"clean": self.clean, "files": [f.to_json() for f in self.files],
                "allowed_extra": list(self.allowed_extra)}


# -- the allowlist ------------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$")


def load_allowlist(extra: Iterable[str] = (), *, path: str | os.PathLike | None = None
                   ) -> frozenset[str]:
    """The allowed globals: ``allowlist.toml`` (or ``path``) plus ``extra``.

    Entries are exact ``module.qualname`` strings (``sklearn.linear_model._logistic.
    LogisticRegression``); there are no wildcards, because a module prefix would also allow the
    module's helpers that run commands or load other files. A global is allowed when its module
    and name, joined by a dot, equal an entry."""
    import tomllib

    if path is not None:
        source: Any = Path(path)
    else:  # package data (``mlgate.security`` ships allowlist.toml)
        from importlib.resources import files

        source = files("mlgate.security").joinpath("allowlist.toml")
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the scan allowlist: {exc}", file=str(source)) from None
    names: set[str] = set()
    for table, body in data.items():
        entries = body.get("globals", []) if isinstance(body, dict) else []
        for entry in entries:
            if not isinstance(entry, str) or not _NAME.match(entry):
                raise InputError(f"{entry!r} is not a module.name global", file=str(source),
                                 key=f"{table}.globals")
            names.add(entry)
    for entry in extra:
        if not isinstance(entry, str) or not _NAME.match(entry):
            raise InputError(f"{entry!r} is not a global name", key="allow",
                             fix="write the full import path, e.g. mypkg.models.MyEstimator")
        names.add(entry)
    return frozenset(names)


def _dangerous(name: str) -> bool:
    root = name.split(".", 1)[0]
    return root in _DANGEROUS_ROOTS or name.rsplit(".", 1)[-1] in _DANGEROUS_NAMES


# -- the scan -----------------------------------------------------------------------------------

def scan(paths: str | os.PathLike | Iterable[str | os.PathLike], *,
         extra_allow: Iterable[str] = (), max_depth: int = DEFAULT_MAX_DEPTH,
         max_bytes: int = DEFAULT_MAX_BYTES, max_members: int = DEFAULT_MAX_MEMBERS,
         allowlist: frozenset[str] | None = None) -> ScanResult:
    """Scan files (or every file under a directory) without loading them.

    ``extra_allow`` adds globals to the allowlist (the policy's ``[security] allow_globals``);
    ``max_depth``, ``max_bytes`` and ``max_members`` bound what archives may unpack, per file.
    A path that does not exist or cannot be read raises :class:`mlgate.errors.InputError`."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    extra = tuple(extra_allow)
    allow = (allowlist if allowlist is not None else _shipped_allowlist()) \
        | load_allowlist_extra(extra)
    files: list[tuple[Path, bool]] = []  # (path, named explicitly)
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend((q, False) for q in sorted(p.rglob("*")) if q.is_file())
        elif p.is_file():
            files.append((p, True))
        else:
            raise InputError("no such file or directory", file=str(p),
                             fix="pass the path of a model file or of a folder of them")
    if not files:
        raise InputError("nothing to scan: no files under the given paths", key="paths")
    return ScanResult(tuple(scan_file(f, allow=allow, max_depth=max_depth, max_bytes=max_bytes,
                                      max_members=max_members, only_models=not explicit)
                            for f, explicit in files),
                      allowed_extra=extra)


@functools.lru_cache(maxsize=1)
def _shipped_allowlist() -> frozenset[str]:
    return load_allowlist()


def load_allowlist_extra(extra: tuple[str, ...]) -> frozenset[str]:
    for entry in extra:
        if not isinstance(entry, str) or not _NAME.match(entry):
            raise InputError(f"{entry!r} is not a global name", key="allow",
                             fix="write the full import path, e.g. mypkg.models.MyEstimator")
    return frozenset(extra)


def scan_file(path: str | os.PathLike, *, allow: frozenset[str],
              max_depth: int = DEFAULT_MAX_DEPTH, max_bytes: int = DEFAULT_MAX_BYTES,
              max_members: int = DEFAULT_MAX_MEMBERS, only_models: bool = False) -> FileScan:
    """Scan one file (see :func:`scan`). With ``only_models`` (files found in a folder), a file
    that is neither a pickle, an archive, an array nor named like a model file (a README, a
    ``config.json``) is listed with format ``skipped`` instead of being judged."""
    path = Path(path)
    try:
        fh = open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    with fh:
        digest = hashlib.sha256()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
        size = fh.tell()
        fh.seek(0)
        if only_models and not _looks_like_model(path.name, fh.read(1 << 16)):
            return FileScan(path=str(path), sha256=digest.hexdigest(), size=size,
                            format="skipped", globals={}, calls=(), findings=(),
                            recommendation=None, skipped=(f"{path} (not a model format)",))
        fh.seek(0)
        ctx = _Context(allow, max_depth, Budget(max_bytes), max_members)
        try:
            fmt = ctx.seekable(fh, size, str(path), 0, path.name)
        except Exception as exc:  # noqa: BLE001 - fail closed: a scanner error is a finding
            fmt = "?"
            ctx.find("malformed", "high", str(path), None,
                     f"the scanner could not read the file ({type(exc).__name__}: {exc})",
                     "do not load it until it scans clean; report the file to mlgate")
    calls = tuple(Call(callee, opcode, n, *ctx.call_first[(callee, opcode)])
                  for (callee, opcode), n in ctx.call_counts.most_common())
    return FileScan(
        path=str(path), sha256=digest.hexdigest(), size=size, format=fmt,
        globals={name: f"{where} @ {off}" for name, (where, off) in ctx.globals.items()},
        calls=calls, findings=tuple(ctx.findings),
        recommendation=RECOMMENDATION if ctx.saw_pickle else None,
        members=tuple(ctx.members), skipped=tuple(ctx.skipped))


class _Context:
    """The state of scanning one top-level file: limits, and what was found so far."""

    def __init__(self, allow: frozenset[str], max_depth: int, budget: Budget,
                 max_members: int) -> None:
        self.allow = allow
        self.max_depth = max_depth
        self.budget = budget
        self.max_members = max_members
        self.findings: list[Finding] = []
        self.globals: dict[str, tuple[str, int]] = {}
        self.call_counts: Counter[tuple[str, str]] = Counter()
        self.call_first: dict[tuple[str, str], tuple[str, int]] = {}
        self.members: list[str] = []
        self.skipped: list[str] = []
        self.saw_pickle = False
        self._flagged: set[tuple[str, str]] = set()

    # -- findings --

    def find(self, kind: str, severity: str, where: str, offset: int | None, message: str,
             fix: str, symbol: str | None = None) -> None:
        self.findings.append(Finding(kind, severity, where, offset, message, fix, symbol))

    def malformed(self, where: str, offset: int | None, message: str) -> None:
        self.find("malformed", "high", where, offset, message,
                  "do not load it: a loader runs everything before the point where a broken "
                  "file breaks, so it can still execute code; re-export the model from its "
                  "source")

    def limit(self, where: str, message: str) -> None:
        self.find("archive-limit", "high", where, None, message,
                  "if the archive is genuine, raise the limit (--max-depth / --max-bytes, or "
                  "scan(max_depth=..., max_bytes=...)); otherwise it is a decompression bomb")

    def record(self, report: PickleReport, where: str) -> None:
        """Judge one walked pickle: every global against the allowlist, every problem."""
        self.saw_pickle = True
        for name, off in report.globals.items():
            self.globals.setdefault(name, (where, off))
            if name in self.allow or name in report.verified or (where, name) in self._flagged:
                continue
            self._flagged.add((where, name))
            if _dangerous(name):
                self.find("unknown-global", "critical", where, off,
                          f"imports {name}, which can run code, commands or I/O, and is not on "
                          "the allowlist", "do not load this file; if it must be used, "
                          "re-create the model from trusted code and save it as safetensors, "
                          "ONNX or skops", name)
            else:
                self.find("unknown-global", "high", where, off,
                          f"imports {name}, which is not on the allowlist",
                          f"if you trust {name}, add it to [security] allow_globals in the "
                          f"policy (or pass --allow {name}); or convert the model to "
                          "safetensors, ONNX or skops", name)
        for p in report.problems:
            self.find(p.kind, "critical" if p.kind == "computed-global" else "high", where,
                      p.offset, p.message,
                      "do not load this file: ordinary models never need this construct; "
                      "re-export it from trusted code as safetensors, ONNX or skops", p.symbol)
        for c in report.calls:
            key = (c.callee, c.opcode)
            self.call_first.setdefault(key, (where, c.offset))
        counts = Counter((c.callee, c.opcode) for c in report.calls)
        self.call_counts.update(counts)

    # -- dispatch --

    def seekable(self, fh: Any, size: int, where: str, depth: int, name: str) -> str:
        """A file object that can seek: zip (polyglots included), tar, else a stream."""
        fh.seek(0)
        head = fh.read(4)
        fh.seek(0)
        is_zip = False
        try:
            is_zip = zipfile.is_zipfile(fh)
        except Exception:  # noqa: BLE001 - an unreadable end record just means "not a zip"
            is_zip = False
        fh.seek(0)
        if is_zip:
            self._polyglot_parts(fh, size, where, head)
            fh.seek(0)
            return self.zip(fh, where, depth)
        if size >= 262:
            fh.seek(257)
            magic = fh.read(5)
            fh.seek(0)
            if magic == b"ustar":
                return self.tar(fh, where, depth)
        return self.stream(Stream(fh, size=size), where, depth, name)

    def _polyglot_parts(self, fh: Any, size: int, where: str, head: bytes) -> None:
        if head[:4] not in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
            self.find("polyglot", "critical", where, 0,
                      "the file is a zip archive with other bytes before its first member: "
                      "a loader that reads it from the start (pickle.load, torch's legacy "
                      "loader) runs those bytes",
                      "do not load it; re-export the model from its source")
            stream = Stream(fh, size=size)
            self.pickles(stream, where, stop_at_non_pickle=True)
        try:
            endrec = zipfile._EndRecData(fh)  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001
            endrec = None
        if endrec:
            end = endrec[zipfile._ECD_LOCATION] + 22 + endrec[zipfile._ECD_COMMENT_SIZE]  # type: ignore[attr-defined]
            if end < size:
                self.find("polyglot", "high", where, end,
                          f"{size - end} bytes follow the zip archive's end record",
                          "do not load it; re-export the model from its source")
                fh.seek(end)
                self.pickles(Stream(fh, size=size, offset=end), where, stop_at_non_pickle=True)

    def stream(self, stream: Stream, where: str, depth: int, name: str) -> str:
        """Sniff a forward-only stream and scan it as what it is."""
        try:
            head = stream.peek(512)
        except BudgetExceeded as exc:
            self.limit(where, f"unpacks to more than {exc.limit} bytes")
            return "too big"
        if not head:
            self.malformed(where, 0, "empty: not a model file")
            return "empty"
        if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
            return self._spooled(stream, where, depth, "zip", self.zip)
        if len(head) >= 262 and head[257:262] == b"ustar":
            return self._spooled(stream, where, depth, "tar", self.tar)
        if head[:6] == b"\x93NUMPY":
            return self.npy(stream, where, depth)
        opener = _decompressor(head)
        if opener is not None:
            kind, factory = opener
            if depth + 1 > self.max_depth:
                self.limit(where, f"{kind} stream nested deeper than {self.max_depth} levels")
                return kind
            inner = Stream(factory(_StreamFile(stream)), budget=self.budget)
            label = f"{where}!<{kind}>"
            try:
                fmt = self.stream(inner, label, depth + 1, name)
            except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
                self.malformed(label, None, f"cannot decompress ({type(exc).__name__}: {exc})")
                fmt = "?"
            return f"{kind}+{fmt}"
        if head[:2] == b"ZF":
            self.find("unreadable", "high", where, 0,
                      "an old joblib zfile (before joblib 0.9.3): its arrays are separate "
                      "pickles this scan does not read", "re-save it with a current joblib")
            return "joblib-zfile"
        if _is_safetensors(head):
            return "safetensors"
        other = _other_format(name, head)
        if other is not None and not _imports_anything(stream.peek(1 << 20)):
            # pickle.load of these bytes would stop with an error before importing or calling
            # anything; a polyglot that does import is scanned as a pickle below
            self.skipped.append(f"{where} ({other}: not a pickle format)")
            return other
        return self.pickles(stream, where, depth=depth)

    def _spooled(self, stream: Stream, where: str, depth: int, kind: str, then: Any) -> str:
        if depth + 1 > self.max_depth and depth > 0:
            self.limit(where, f"{kind} archive nested deeper than {self.max_depth} levels")
            return kind
        try:
            with tempfile.SpooledTemporaryFile(max_size=32 << 20) as spool:
                while True:
                    chunk = stream.read_available(1 << 20)
                    if not chunk:
                        break
                    spool.write(chunk)
                spool.seek(0)
                return then(spool, where, depth)
        except BudgetExceeded as exc:
            self.limit(where, f"unpacks to more than {exc.limit} bytes")
            return kind

    def zip(self, fh: Any, where: str, depth: int) -> str:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
            self.malformed(where, None, f"not a readable zip archive ({exc})")
            return "zip"
        with zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > self.max_members:
                self.limit(where, f"{len(infos)} members, more than {self.max_members}")
                infos = infos[:self.max_members]
            roots = {i.filename[:-len("data.pkl")] for i in infos
                     if i.filename.endswith("data.pkl")
                     and (i.filename == "data.pkl" or i.filename.endswith("/data.pkl"))}
            torch = bool(roots)
            npz = bool(infos) and all(i.filename.endswith(".npy") for i in infos)
            for info in infos:
                label = f"{where}!{info.filename}"
                if torch and any(info.filename.startswith(r + "data/")
                                 and "/" not in info.filename[len(r) + 5:] for r in roots):
                    self.skipped.append(f"{label} (tensor storage: raw numbers)")
                    continue
                if info.flag_bits & 0x1:
                    self.find("unreadable", "high", label, None,
                              "an encrypted member cannot be scanned",
                              "ship the model unencrypted, or scan it after decrypting")
                    continue
                if depth + 1 > self.max_depth:
                    self.limit(label, f"nested deeper than {self.max_depth} levels")
                    continue
                if info.file_size > self.budget.limit - self.budget.used:
                    self.limit(label, f"declares {info.file_size} bytes, more than the "
                               f"{self.budget.limit - self.budget.used} left to unpack")
                    continue
                try:
                    with zf.open(info) as member:
                        self.member(Stream(member, budget=self.budget), label, depth + 1,
                                    info.filename)
                except BudgetExceeded as exc:
                    self.limit(label, f"unpacks to more than {exc.limit} bytes")
                    return "zip"
                except (zipfile.BadZipFile, OSError, EOFError, zlib.error,
                        NotImplementedError, RuntimeError, ValueError) as exc:
                    self.malformed(label, None, f"cannot read the member ({exc})")
        return "pytorch-zip" if torch else "npz" if npz else "zip"

    def tar(self, fh: Any, where: str, depth: int) -> str:
        try:
            tf = tarfile.open(fileobj=fh, mode="r:")
        except (tarfile.TarError, OSError, EOFError) as exc:
            self.malformed(where, None, f"not a readable tar archive ({exc})")
            return "tar"
        with tf:
            n = 0
            try:
                for info in tf:
                    if not info.isfile():
                        continue
                    n += 1
                    label = f"{where}!{info.name}"
                    if n > self.max_members:
                        self.limit(where, f"more than {self.max_members} members")
                        break
                    if depth + 1 > self.max_depth:
                        self.limit(label, f"nested deeper than {self.max_depth} levels")
                        continue
                    member = tf.extractfile(info)
                    if member is None:
                        continue
                    try:
                        self.member(Stream(member, budget=self.budget), label, depth + 1,
                                    info.name)
                    except BudgetExceeded as exc:
                        self.limit(label, f"unpacks to more than {exc.limit} bytes")
                        return "tar"
            except (tarfile.TarError, OSError, EOFError) as exc:
                self.malformed(where, None, f"tar archive breaks off ({exc})")
        return "tar"

    def member(self, stream: Stream, where: str, depth: int, name: str) -> None:
        """An archive member: scanned when it is a model format, listed as skipped otherwise."""
        if not _looks_like_model(name, stream.peek(1 << 16)):
            self.skipped.append(f"{where} (not a pickle, archive or array)")
            return
        self.members.append(where)
        self.stream(stream, where, depth, name)

    def npy(self, stream: Stream, where: str, depth: int = 0) -> str:
        import ast

        try:
            stream.read(6)
            major, _minor = stream.read(2)
            if major == 1:
                hlen = struct.unpack("<H", stream.read(2))[0]
            elif major in (2, 3):
                hlen = struct.unpack("<I", stream.read(4))[0]
            else:
                self.malformed(where, 6, f"unknown .npy format version {major}")
                return "npy"
            if hlen > 1 << 20:  # numpy itself refuses headers over 10,000 bytes by default
                self.malformed(where, 8, f"a .npy header of {hlen} bytes")
                return "npy"
            header = stream.read(hlen).decode("utf-8" if major == 3 else "latin1")
            meta = ast.literal_eval(header)
            descr, shape = meta["descr"], tuple(meta["shape"])
        except (Truncated, ValueError, SyntaxError, KeyError, TypeError, UnicodeDecodeError,
                MemoryError, RecursionError) as exc:
            self.malformed(where, 0, f"not a valid .npy header ({type(exc).__name__})")
            return "npy"
        try:
            import numpy as np

            dt = np.dtype(descr)  # a literal from the header, as numpy.lib.format reads it
            if dt.hasobject:
                return "npy+" + self.pickles(stream, where, depth=depth)
            nbytes = int(dt.itemsize)
            for dim in shape:
                nbytes *= int(dim)
            if nbytes < 0:
                raise ValueError("negative size")
        except (ImportError, TypeError, ValueError, OverflowError):
            self.malformed(where, 0, "the .npy header names no valid dtype and shape")
            return "npy"
        try:
            stream.skip(nbytes)
        except Truncated as exc:
            self.malformed(where, exc.offset, "the array data is shorter than its header says")
            return "npy"
        if not stream.at_eof():
            self.find("trailing-data", "high", where, stream.pos,
                      "bytes follow the array data (a polyglot?)",
                      "re-save the array with numpy.save")
        return "npy"

    def pickles(self, stream: Stream, where: str, *, stop_at_non_pickle: bool = False,
                depth: int = 0) -> str:
        """Walk pickle after pickle until the end; torch legacy storages and joblib arrays are
        skipped by their declared sizes. Returns the format name."""
        count = 0
        legacy = False
        pids: list[Any] = []
        def embedded(data: bytes, offset: int) -> bool:
            """Scan a blob handed to a loader (``torch.storage._load_from_bytes``) as a file of
            its own; the call is vouched for only if it scans clean."""
            label = f"{where}!<bytes@{offset}>"
            if depth + 1 > self.max_depth:
                self.limit(label, f"nested deeper than {self.max_depth} levels")
                return False
            before = len(self.findings)
            try:
                self.budget.take(len(data))
                self.members.append(label)
                self.seekable(io.BytesIO(data), len(data), label, depth + 1, "embedded")
            except BudgetExceeded as exc:
                self.limit(label, f"unpacks to more than {exc.limit} bytes")
                return False
            return len(self.findings) == before

        joblib = _JoblibArrays(self, embedded)
        fmt = "pickle"
        while True:
            try:
                report = walk(stream, on_build=joblib, on_embedded=embedded)
            except (Truncated, Malformed) as exc:
                partial = getattr(exc, "report", None)
                if partial is not None:
                    self.record(partial, where)
                offset = getattr(exc, "offset", None)
                if isinstance(exc, Truncated):
                    self.malformed(where, offset, "truncated: the stream ends before its STOP "
                                   "opcode (everything before that point would still run)")
                else:
                    self.malformed(where, offset, f"not a valid pickle: {exc.message}")
                break
            except BudgetExceeded as exc:
                self.limit(where, f"unpacks to more than {exc.limit} bytes")
                break
            count += 1
            self.record(report, where)
            pids.extend(report.persistent_ids)
            if count == 1 and report.value == _TORCH_LEGACY_MAGIC:
                legacy, fmt = True, "pytorch-legacy"
            if legacy and count == 5:
                if not self._skip_legacy_storages(stream, where, report.value, pids):
                    break
            try:
                if stream.at_eof():
                    break
                nxt = stream.peek(1)[0]
            except BudgetExceeded as exc:
                self.limit(where, f"unpacks to more than {exc.limit} bytes")
                break
            if legacy and count < 5:
                continue
            if nxt in PICKLE_STARTS:
                continue  # another pickle after STOP: a loader may read it too
            if not stop_at_non_pickle:
                self.find("trailing-data", "high", where, stream.pos,
                          "bytes after the last pickle's STOP are not a pickle: another reader "
                          "of this file (a polyglot) would see data this scan cannot vouch for",
                          "re-export the model from its source")
            break
        if joblib.seen:
            fmt = "joblib"
        if count > 1 and not legacy:
            fmt = f"{fmt} ({count} streams)"
        return fmt

    def _skip_legacy_storages(self, stream: Stream, where: str, keys: Any,
                              pids: list[Any]) -> bool:
        sizes: dict[str, int] = {}
        for pid in pids:
            if (isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage"
                    and isinstance(pid[1], Global) and isinstance(pid[2], str)):
                sizes[pid[2]] = _STORAGE_ELEMENT_SIZE.get(pid[1].name, 0)
        items = keys.items if isinstance(keys, Obj) and keys.kind == "list" else None
        if items is None or not all(isinstance(k, str) and sizes.get(k) for k in items):
            self.malformed(where, stream.pos, "a legacy PyTorch file whose storage list does "
                           "not match its tensors")
            return False
        try:
            for key in items:
                numel = struct.unpack("<q", stream.read(8))[0]
                if numel < 0:
                    raise Truncated(stream.pos)
                stream.skip(numel * sizes[key])
        except Truncated as exc:
            self.malformed(where, exc.offset, "a legacy PyTorch storage is cut short")
            return False
        return True


class _JoblibArrays:
    """The ``BUILD`` hook that steps over the array bytes joblib writes after each
    ``NumpyArrayWrapper`` (or walks the nested pickle of an object array)."""

    WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"

    def __init__(self, ctx: _Context, embedded: Any = None) -> None:
        self.embedded = embedded
        self.ctx = ctx
        self.seen = False

    def __call__(self, stream: Stream, obj: Obj, report: PickleReport) -> None:
        if not (isinstance(obj.callee, Global) and obj.callee.full == self.WRAPPER):
            return
        self.seen = True
        off = obj.offset
        state = obj.state.items if isinstance(obj.state, Obj) else None
        if not isinstance(state, dict):
            raise Malformed("a joblib array wrapper without a readable state", off)
        shape, dtype = state.get("shape"), state.get("dtype")
        hasobject, itemsize = _dtype_info(dtype)
        if hasobject is None or not isinstance(shape, tuple) \
                or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise Malformed("a joblib array wrapper whose shape or dtype cannot be read", off)
        if hasobject:
            nested = walk(stream, on_build=self, on_embedded=self.embedded)
            report.merge(nested)
            return
        if isinstance(state.get("numpy_array_alignment_bytes"), int):
            stream.skip(stream.read(1)[0])
        count = 1
        for d in shape:
            count *= d
        stream.skip(count * itemsize)


def _dtype_info(dtype: Any, depth: int = 0) -> tuple[bool | None, int]:
    """(has Python objects, item size) of a ``numpy.dtype(typestr, False, True)`` stand-in and
    its ``BUILD`` state ``(version, byteorder, subdtype, names, fields, elsize, alignment,
    flags[, metadata])``; ``(None, 0)`` when it cannot be read or is inconsistent.

    joblib decides between "raw bytes follow" and "a pickle follows" by the dtype's
    ``hasobject``, so this must agree with NumPy exactly: a type string and flags that disagree
    (``'O8'`` with flags 0, say) would let a payload hide where the scan skips, so they are
    refused rather than guessed."""
    if not (isinstance(dtype, Obj) and isinstance(dtype.callee, Global)
            and dtype.callee.full in ("numpy.dtype", "numpy.core.multiarray.dtype")
            and isinstance(dtype.args, tuple) and dtype.args
            and isinstance(dtype.args[0], str)) or depth > 8:
        return None, 0
    typestr = dtype.args[0]
    kind = typestr.lstrip("<>|=")[:1]
    state = dtype.state if isinstance(dtype.state, tuple) else ()
    flags = state[7] if len(state) >= 8 and isinstance(state[7], int) else None
    elsize = state[5] if len(state) >= 8 and isinstance(state[5], int) else -1
    if kind == "V":
        fields = state[4] if len(state) >= 5 else None
        hasobject = False
        if fields is not None:
            items = fields.items if isinstance(fields, Obj) and fields.kind == "dict" else None
            if not isinstance(items, dict):
                return None, 0
            for value in items.values():
                if not (isinstance(value, tuple) and value):
                    return None, 0
                sub, _ = _dtype_info(value[0], depth + 1)
                if sub is None:
                    return None, 0
                hasobject = hasobject or sub
        if (flags is not None and bool(flags & 1) != hasobject) or elsize <= 0:
            return None, 0
        return hasobject, elsize
    hasobject = kind == "O"
    if flags is not None and bool(flags & 1) != hasobject:
        return None, 0
    try:
        import numpy as np

        itemsize = int(np.dtype(typestr).itemsize)
    except (ImportError, TypeError, ValueError):
        return None, 0
    if kind in ("U", "S", "a") and elsize > 0:
        itemsize = elsize
    elif elsize not in (-1, itemsize):
        return None, 0
    return hasobject, itemsize


class _StreamFile(io.RawIOBase):
    """A :class:`Stream`'s remaining bytes as a readable file (for the decompressors)."""

    def __init__(self, stream: Stream) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self._stream.read_available(len(b))
        b[:len(data)] = data
        return len(data)


def _zlib_file(fh: Any) -> Any:
    return _ZlibReader(fh)


class _ZlibReader(io.RawIOBase):
    """A zlib stream (joblib's ``compress=('zlib', n)``) decompressed as it is read."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh
        self._d = zlib.decompressobj()
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        while not self._pending:
            if self._d.eof:
                return 0
            data = self._d.unconsumed_tail or self._fh.read(1 << 16)
            if not data:
                raise EOFError("the zlib stream is cut short")
            self._pending = self._d.decompress(data, 1 << 20)
        n = min(len(b), len(self._pending))
        b[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


def _looks_like_model(name: str, head: bytes) -> bool:
    """Named like a model file, or starts like a pickle (protocol 2+), an archive, a compressed
    stream or an array, or its first bytes read as a pickle import or call something (a
    protocol 0 pickle under any name). This only decides what to skip among files nobody named
    explicitly (archive members, files found in a folder)."""
    return (name.lower().endswith(PICKLE_SUFFIXES) or head[:1] == b"\x80"
            or head[:4] in (b"PK\x03\x04", b"PK\x05\x06") or head[:6] == b"\x93NUMPY"
            or _decompressor(head) is not None
            or (len(head) >= 262 and head[257:262] == b"ustar")
            or _imports_something(head))


def _imports_something(data: bytes) -> bool:
    """Whether ``data``, read as a pickle, imports a global with an importable name (dotted
    Python identifiers) before it ends or breaks. Text that merely starts with a pickle opcode
    (``channels:`` in an MLflow model's ``conda.yaml`` reads as ``GLOBAL 'hannels:'``) names
    nothing ``import`` could load, so it is not taken for a pickle."""
    try:
        report = walk(Stream(io.BytesIO(data)))
    except (Truncated, Malformed) as exc:
        report = getattr(exc, "report", None)
        if report is None:
            return False
    return any(all(part.isidentifier() for part in name.split("."))
               for name in report.globals)


#: files with these suffixes that are not pickles are text, not findings
TEXT_SUFFIXES = (".json", ".yaml", ".yml", ".txt", ".md", ".cfg", ".ini", ".csv", ".toml",
                 ".py", ".rst", ".html", ".xml", ".vocab", ".model.json")


def _other_format(name: str, head: bytes) -> str | None:
    """A recognised format that is not a pickle (or text), else ``None``."""
    lower = name.lower()
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return "hdf5"
    if head[:4] == b"GGUF":
        return "gguf"
    if head[4:8] == b"TFL3":
        return "tflite"
    if lower.endswith(".onnx"):
        return "onnx"
    if lower.endswith((".pb", ".pbtxt")):
        return "protobuf"
    if lower.endswith(TEXT_SUFFIXES):
        return "text"
    return None


def _imports_anything(data: bytes) -> bool:
    """Whether the pickle stream at the start of ``data`` imports or calls anything before it
    stops, completes or breaks (a stream cut off by the end of ``data`` counts as importing:
    the rest is unknown)."""
    try:
        report = walk(Stream(io.BytesIO(data)))
    except Malformed as exc:
        report = getattr(exc, "report", None)
        return report is None or bool(report.globals or report.call_count)
    except Truncated:
        return True
    return bool(report.globals or report.call_count) or report.end != len(data)


def _decompressor(head: bytes) -> tuple[str, Any] | None:
    if head[:2] == b"\x1f\x8b":
        return "gzip", lambda f: gzip.GzipFile(fileobj=f, mode="rb")
    if head[:3] == b"BZh":
        return "bz2", lambda f: bz2.BZ2File(f, "rb")
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz", lambda f: lzma.LZMAFile(f, "rb", format=lzma.FORMAT_XZ)
    if head[:3] == b"\x5d\x00\x00":
        return "lzma", lambda f: lzma.LZMAFile(f, "rb", format=lzma.FORMAT_ALONE)
    if len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0:
        return "zlib", _zlib_file
    if head[:4] == b"\x04\x22\x4d\x18":
        return "lz4", _lz4_file
    return None


def _lz4_file(fh: Any) -> Any:
    try:
        import lz4.frame
    except ImportError:
        raise OSError("lz4 compression needs the lz4 package to scan") from None
    return lz4.frame.LZ4FrameFile(fh, "rb")


def _is_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    n = struct.unpack("<Q", head[:8])[0]
    return 2 <= n < (100 << 20) and head[8:9] == b"{"
