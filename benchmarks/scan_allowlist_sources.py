"""Regenerate ``src/mlgate/security/allowlist.toml``: the globals real models pickle.

How the entries are collected (run ``python benchmarks/scan_allowlist_sources.py > allowlist.toml``
from the repository root, then review the diff; run it again in each supported stack with
``--merge src/mlgate/security/allowlist.toml`` so the names older releases pickle stay, e.g.
``.venv-compat/bin/python benchmarks/scan_allowlist_sources.py --merge
src/mlgate/security/allowlist.toml > /tmp/a.toml``: scikit-learn 1.7 pickles its Cython losses
as ``_loss.CyHalfBinomialLoss``, pandas 2 frames as ``pandas.core.frame.DataFrame``):

1. **Observed**: fit many scikit-learn estimators, build NumPy, SciPy sparse, pandas and PyTorch
   objects (state dicts, whole modules, optimizers), pickle each with protocols 0 to 5 (and
   joblib, torch.save), and read the globals back with mlgate's own static walker.
2. **Enumerated**: every class defined in scikit-learn's modules (estimators and the helper
   classes they pickle: trees, kernels, losses, binners; tests, dataset downloaders, vendored
   code and parallelism helpers skipped), scikit-learn's public metric functions (scorers pickle
   them by reference), SciPy's sparse, interpolation and frozen-distribution classes, every NumPy
   ufunc (``FunctionTransformer(np.log1p)`` pickles ``numpy.log1p``) and every
   ``torch.nn.Module`` subclass under ``torch.nn.modules``. A class is safe to call:
   constructing an estimator only stores its parameters; a callable *argument* is a global of
   its own, judged separately.
3. **By knowledge**: XGBoost and LightGBM sklearn wrappers and boosters (``__getstate__`` holds
   the model as bytes), NumPy's random-generator constructors, PyTorch dtypes and storages.

Every candidate then passes :data:`REFUSED`: nothing that can run commands, import modules,
fetch attributes or load files is ever written, even if a library pickles it (e.g. bound
methods pickle as ``builtins.getattr``; a tensor pickled with plain ``pickle`` pickles
``torch.storage._load_from_bytes``, which calls ``torch.load(weights_only=False)`` on embedded
bytes). Such globals stay findings; a project that trusts its own file adds them in its policy.

Decisions kept here, not in code:

- ``_codecs.encode`` is allowed: protocol 0-2 pickles of ``bytes`` (NumPy arrays among them)
  use it to rebuild bytes from latin-1 text; it only encodes a string with a named codec, and
  codec lookup is confined to the ``encodings`` package.
- ``copyreg._reconstructor`` is allowed: it calls ``base.__new__(cls)`` for two globals that
  are themselves checked against this list.
- ``torch._tensor._rebuild_from_type_v2`` and ``torch._utils._rebuild_*`` are allowed: their
  callable arguments are globals checked against this list too.
"""

from __future__ import annotations

import io
import pickle
import sys
import warnings
from collections import defaultdict

REFUSED_ROOTS = {"os", "posix", "nt", "subprocess", "sys", "runpy", "pip", "importlib",
                 "operator", "functools", "pickle", "_pickle", "shutil", "socket", "ctypes",
                 "marshal", "types", "code", "codeop", "webbrowser", "pty", "platform",
                 "multiprocessing", "asyncio", "threading", "inspect", "io", "_io", "tempfile"}
REFUSED_NAMES = {"getattr", "setattr", "delattr", "eval", "exec", "compile", "open", "input",
                 "__import__", "globals", "locals", "vars", "breakpoint", "type", "load",
                 "loads", "_ufunc_reconstruct", "_load", "import_module", "apply", "system"}


def refused(name: str) -> bool:
    root = name.split(".", 1)[0]
    last = name.rsplit(".", 1)[-1]
    return (root in REFUSED_ROOTS or last in REFUSED_NAMES or "load" in last.lower()
            or "_testing" in name or "externals" in name or "hub" in name.split("."))


def observed_globals(obj, protocols=(0, 2, 4, 5)) -> set[str]:
    from mlgate.security._pickle import Stream, walk

    names: set[str] = set()
    for proto in protocols:
        try:
            data = pickle.dumps(obj, protocol=proto)
        except Exception:  # noqa: BLE001 - some objects refuse old protocols
            continue
        names |= set(walk(Stream(io.BytesIO(data))).globals)
    return names


def sklearn_objects():
    import numpy as np
    import pandas as pd
    from sklearn import (
        calibration,
        cluster,
        compose,
        decomposition,
        ensemble,
        feature_extraction,
        impute,
        linear_model,
        naive_bayes,
        neighbors,
        neural_network,
        pipeline,
        preprocessing,
        svm,
        tree,
    )
    from sklearn.model_selection import GridSearchCV

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 4))
    y = (X[:, 0] > 0).astype(int)
    yr = X[:, 1] * 2.0
    df = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": rng.choice(["x", "y", "z"], 80)})
    classifiers = [
        linear_model.LogisticRegression(), linear_model.SGDClassifier(),
        ensemble.RandomForestClassifier(n_estimators=3), ensemble.ExtraTreesClassifier(3),
        ensemble.GradientBoostingClassifier(n_estimators=3),
        ensemble.HistGradientBoostingClassifier(max_iter=3),
        ensemble.AdaBoostClassifier(n_estimators=3), ensemble.IsolationForest(n_estimators=3),
        tree.DecisionTreeClassifier(), neighbors.KNeighborsClassifier(),
        neighbors.KNeighborsClassifier(algorithm="ball_tree"), svm.SVC(probability=True),
        naive_bayes.GaussianNB(), neural_network.MLPClassifier(max_iter=20),
        calibration.CalibratedClassifierCV(linear_model.LogisticRegression(), cv=2),
        GridSearchCV(tree.DecisionTreeClassifier(), {"max_depth": [1, 2]}, cv=2),
        ensemble.VotingClassifier([("lr", linear_model.LogisticRegression()),
                                   ("nb", naive_bayes.GaussianNB())], voting="soft"),
        ensemble.StackingClassifier([("lr", linear_model.LogisticRegression())], cv=2),
    ]
    regressors = [linear_model.LinearRegression(), linear_model.Ridge(), linear_model.Lasso(),
                  ensemble.HistGradientBoostingRegressor(max_iter=3),
                  ensemble.RandomForestRegressor(3), tree.DecisionTreeRegressor(), svm.SVR()]
    transformers = [preprocessing.StandardScaler(), preprocessing.MinMaxScaler(),
                    preprocessing.QuantileTransformer(n_quantiles=10),
                    preprocessing.PolynomialFeatures(), decomposition.PCA(2),
                    decomposition.TruncatedSVD(2), cluster.KMeans(2, n_init=1),
                    impute.SimpleImputer(), impute.KNNImputer(), cluster.DBSCAN()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for est in classifiers:
            yield est.fit(X, y)
        for est in regressors:
            yield est.fit(X, yr)
        for est in transformers:
            yield est.fit(X)
        pre = compose.ColumnTransformer([
            ("num", preprocessing.StandardScaler(), ["a", "b"]),
            ("cat", preprocessing.OneHotEncoder(handle_unknown="ignore"), ["c"])])
        yield pipeline.Pipeline([("pre", pre), ("lr", linear_model.LogisticRegression())]
                                ).fit(df, y)
        yield preprocessing.TargetEncoder().fit(df[["c"]], y)
        yield preprocessing.OrdinalEncoder().fit(df[["c"]])
        yield preprocessing.LabelEncoder().fit(df["c"])
        yield feature_extraction.text.TfidfVectorizer().fit(["alpha beta", "beta gamma", "delta"])
        yield feature_extraction.DictVectorizer().fit([{"a": 1}, {"b": 2}])
        yield from all_estimators_fitted()


def all_estimators_fitted():
    """Every scikit-learn estimator with its default parameters, fitted on a small positive
    classification set where it accepts one (so default callables such as ``f_classif`` or
    ``numpy.mean`` are seen)."""
    import numpy as np
    from sklearn.utils import all_estimators

    rng = np.random.default_rng(0)
    X = np.abs(rng.normal(size=(60, 4))) + 0.1
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    for _, cls in all_estimators():
        try:
            est = cls()
        except Exception:  # noqa: BLE001 - needs required arguments
            continue
        for fit in (lambda e: e.fit(X, y), lambda e: e.fit(X)):
            try:
                fit(est)
                break
            except Exception:  # noqa: BLE001 - not this kind of estimator
                continue
        yield est


def data_objects():
    import datetime
    import decimal
    from collections import Counter, OrderedDict, deque

    import numpy as np
    import pandas as pd
    import scipy.sparse as sp

    yield from [np.arange(5.0), np.arange(3), np.array([True]), np.array(["a"]),
                np.array([1, "a"], dtype=object), np.zeros(2, dtype=[("x", "f4"), ("y", "i8")]),
                np.array(["2020-01-01"], dtype="datetime64[D]"), np.float64(1.5), np.int64(3),
                np.ma.masked_array([1, 2], mask=[0, 1]), np.random.RandomState(0),
                np.random.default_rng(0), np.dtype("f8"), np.arange(4).reshape(2, 2).T]
    m = sp.random(5, 5, density=0.3, format="csr")
    yield from [m, m.tocsc(), m.tocoo(), sp.csr_array(m), sp.lil_matrix(m), sp.dok_matrix(m)]
    df = pd.DataFrame({"f": [1.0, 2.0], "i": [1, 2], "s": ["a", "b"],
                       "c": pd.Categorical(["x", "y"]),
                       "t": pd.to_datetime(["2020-01-01", "2020-01-02"]),
                       "b": [True, False]})
    yield from [df, df["f"], df.index, pd.Index(["a", "b"]), pd.MultiIndex.from_tuples([(1, 2)]),
                pd.date_range("2020", periods=3), df.set_index("s"),
                pd.Series([1, None], dtype="Int64"), pd.Series(["a"], dtype="string")]
    yield from [{1, 2}, frozenset({1}), slice(1, 2), complex(1, 2), bytearray(b"x"), b"xy",
                OrderedDict(a=1), Counter("ab"), deque([1]), range(3),
                datetime.datetime(2020, 1, 1), datetime.date(2020, 1, 1),
                datetime.timedelta(1), decimal.Decimal("1.5")]


def torch_objects():
    try:
        import torch
        from torch import nn
    except ImportError:  # a stack without torch (the older one of .venv-compat)
        return

    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Flatten(),
                          nn.Dropout(), nn.Linear(8, 2), nn.LayerNorm(2), nn.Embedding(3, 2))
    yield model.state_dict()
    yield model
    yield nn.LSTM(2, 2)
    yield nn.TransformerEncoderLayer(4, 2)
    opt = torch.optim.Adam(model.parameters())
    yield opt.state_dict()
    for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                  torch.int32, torch.int8, torch.uint8, torch.bool, torch.complex64):
        yield torch.zeros(2, dtype=dtype)
    yield torch.Size([2, 3])
    yield torch.device("cpu")
    yield nn.Parameter(torch.zeros(2))


def torch_saved_globals(obj) -> set[str]:
    import torch

    from mlgate.security import scan as scanmod

    names: set[str] = set()
    for zipped in (True, False):
        buf = io.BytesIO()
        torch.save(obj, buf, _use_new_zipfile_serialization=zipped)
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".pt") as fh:
            fh.write(buf.getvalue())
            fh.flush()
            names |= set(scanmod.scan_file(fh.name, allow=frozenset()).globals)
    return names


def enumerated() -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    from sklearn.utils import all_estimators

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, cls in all_estimators():
            out["sklearn"].add(f"{cls.__module__}.{cls.__qualname__}")
    out["sklearn"] |= _module_classes("sklearn", SKLEARN_SKIP)
    out["sklearn"] |= _public_functions("sklearn.metrics")
    out["sklearn"] |= _public_functions("sklearn.feature_selection")
    out["scipy"] |= _module_classes("scipy.sparse", ("tests", "linalg", "csgraph"))
    out["scipy"] |= {n for n in _module_classes("scipy.stats", ("tests",))
                     if n.endswith("_gen") or n.endswith("_frozen")}
    out["scipy"] |= _module_classes("scipy.interpolate", ("tests",))
    import numpy as np

    out["numpy"] |= {f"numpy.{n}" for n in dir(np) if isinstance(getattr(np, n, None), np.ufunc)}
    out["numpy"] |= {f"numpy.{n}" for n in dir(np)
                     if isinstance(getattr(np, n, None), type) and issubclass(getattr(np, n),
                                                                              np.generic)}
    out["numpy"] |= {f"numpy.dtypes.{n}" for n, obj in vars(np.dtypes).items()
                     if isinstance(obj, type) and issubclass(obj, np.dtype)}
    # the top-level pandas namespace re-labels I/O classes (HDFStore, ExcelFile) as "pandas.X":
    # only what real pickles were seen to use from it is kept (observed above)
    out["pandas"] |= {n for n in _module_classes("pandas", PANDAS_SKIP) if n.count(".") > 1}
    out["pandas"] |= _pandas_public_data_classes()
    for package, skip in (("pandas", PANDAS_SKIP), ("sklearn", SKLEARN_SKIP),
                          ("scipy.sparse", ("tests",)), ("numpy.random", ("tests",))):
        out[group_of(package)] |= _cython_unpicklers(package, skip)
    try:
        import torch.nn.modules as mods
        from torch import nn
    except ImportError:
        return out

    for modname in dir(mods):
        obj = getattr(mods, modname)
        if isinstance(obj, type) and issubclass(obj, nn.Module):
            out["torch"].add(f"{obj.__module__}.{obj.__qualname__}")
    return out


#: sklearn modules whose classes are not enumerated: tests and test helpers, vendored code,
#: dataset downloaders, build helpers, parallelism and version shims
SKLEARN_SKIP = ("tests", "_testing", "externals", "_build_utils", "datasets", "__check_build",
                "_min_dependencies", "_show_versions", "fixes", "_mocking", "conftest",
                "_distributor_init", "parallel", "_joblib", "estimator_checks", "_config")


#: pandas modules whose classes are not enumerated: I/O (a reader opens its path or URL when
#: constructed), plotting, tests, compatibility shims and the public API re-exports
PANDAS_SKIP = ("io", "plotting", "tests", "_testing", "testing", "compat", "util", "api",
               "conftest", "_config", "_version", "_version_meson", "errors", "window",
               "computation", "interchange", "parsers", "clipboard", "excel", "formats", "sas")


def _walk(package: str, skip: tuple[str, ...]):
    import importlib
    import pkgutil

    root = importlib.import_module(package)
    yield root
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        if any(part in skip for part in info.name.split(".")):
            continue
        try:
            yield importlib.import_module(info.name)
        except Exception:  # noqa: BLE001 - optional dependencies missing
            continue


def _module_classes(package: str, skip: tuple[str, ...]) -> set[str]:
    """Every class defined in the package's modules (not re-exports), tests and the like
    skipped. A class is safe to call: constructing it only builds an object."""
    names = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for module in _walk(package, skip):
            for attr, obj in vars(module).items():
                if (isinstance(obj, type) and obj.__module__ == module.__name__
                        and not issubclass(obj, BaseException) and not attr.startswith("__")):
                    names.add(f"{module.__name__}.{obj.__qualname__}")
    return names


def _pandas_public_data_classes() -> set[str]:
    """The data classes pandas relabels as ``pandas.X`` (dtypes, indexes, arrays, scalars):
    the top-level namespace also holds I/O classes, so only these are taken from it."""
    import pandas as pd
    from pandas.api.extensions import ExtensionArray, ExtensionDtype

    scalars = {"Series", "DataFrame", "Categorical", "Timestamp", "Timedelta", "Period",
               "Interval", "DateOffset", "NaT", "NA", "Flags"}
    names = set()
    for attr in dir(pd):
        obj = getattr(pd, attr)
        if isinstance(obj, type) and (issubclass(obj, (ExtensionDtype, ExtensionArray, pd.Index))
                                      or attr in scalars):
            names.add(f"{obj.__module__}.{obj.__qualname__}")
    return names


def _cython_unpicklers(package: str, skip: tuple[str, ...]) -> set[str]:
    """Cython's generated ``__pyx_unpickle_<Class>`` functions: they rebuild one extension
    class from its state (after a checksum of its layout) and nothing else."""
    names = set()
    for module in _walk(package, skip):
        for attr, obj in vars(module).items():
            if attr.startswith("__pyx_unpickle_") and callable(obj):
                names.add(f"{module.__name__}.{attr}")
    return names


def _public_functions(package: str) -> set[str]:
    """Public functions defined in a package of pure computations (metrics: scorers pickle
    them by reference)."""
    import inspect

    names = set()
    for module in _walk(package, ("tests",)):
        for attr, obj in vars(module).items():
            if (inspect.isfunction(obj) and obj.__module__ == module.__name__
                    and not attr.startswith("_")):
                names.add(f"{module.__name__}.{attr}")
    return names


BY_KNOWLEDGE = {
    "xgboost": ["xgboost.sklearn.XGBClassifier", "xgboost.sklearn.XGBRegressor",
                "xgboost.sklearn.XGBRanker", "xgboost.sklearn.XGBRFClassifier",
                "xgboost.sklearn.XGBRFRegressor", "xgboost.sklearn.XGBModel",
                "xgboost.core.Booster"],
    "lightgbm": ["lightgbm.sklearn.LGBMClassifier", "lightgbm.sklearn.LGBMRegressor",
                 "lightgbm.sklearn.LGBMRanker", "lightgbm.sklearn.LGBMModel",
                 "lightgbm.basic.Booster"],
    "numpy": ["numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__generator_ctor",
              "numpy.random._pickle.__bit_generator_ctor", "numpy.random.mtrand.RandomState",
              "numpy.random.__RandomState_ctor", "numpy.random._pickle.__bit_generator_ctor",
              "numpy.random._generator.Generator", "numpy.random._mt19937.MT19937",
              "numpy.random._pcg64.PCG64", "numpy.random._pcg64.PCG64DXSM",
              "numpy.random._philox.Philox", "numpy.random._sfc64.SFC64",
              "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
              "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
              "numpy.ndarray", "numpy.dtype", "numpy.ma.core._mareconstruct",
              "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer"],
    # scikit-learn and NumPy names of earlier releases, still found in model files
    "sklearn": ["sklearn.ensemble._gb_losses.BinomialDeviance",
                "sklearn.ensemble._gb_losses.MultinomialDeviance",
                "sklearn.ensemble._gb_losses.ExponentialLoss",
                "sklearn.ensemble._gb_losses.LeastSquaresError",
                "sklearn.ensemble._gb_losses.LeastAbsoluteError",
                "sklearn.ensemble._gb_losses.HuberLossFunction",
                "sklearn.ensemble._gb_losses.QuantileLossFunction",
                "sklearn.ensemble._hist_gradient_boosting.loss.BinaryCrossEntropy",
                "sklearn.ensemble._hist_gradient_boosting.loss.CategoricalCrossEntropy",
                "sklearn.ensemble._hist_gradient_boosting.loss.LeastSquares",
                "sklearn.ensemble._hist_gradient_boosting.loss.LeastAbsoluteDeviation",
                "sklearn.ensemble._hist_gradient_boosting.loss.Poisson",
                "sklearn.neighbors._dist_metrics.EuclideanDistance",
                "sklearn.neighbors._dist_metrics.ManhattanDistance",
                "sklearn.neighbors._dist_metrics.MinkowskiDistance",
                "sklearn.neighbors._dist_metrics.newObj",
                "sklearn.metrics._dist_metrics.EuclideanDistance",
                "sklearn.metrics._dist_metrics.ManhattanDistance",
                "sklearn.metrics._dist_metrics.MinkowskiDistance",
                "sklearn.utils.Bunch", "sklearn.cluster._kmeans._kmeans_single_elkan"],
    # NumPy reductions passed as parameters (pooling_func=np.mean, aggregation functions)
    "numpy-functions": [f"numpy.{n}" for n in (
        "mean", "median", "sum", "max", "min", "amax", "amin", "std", "var", "average", "prod",
        "nanmean", "nanmedian", "nansum", "nanmax", "nanmin", "nanstd", "nanvar", "percentile",
        "quantile", "nanpercentile", "nanquantile", "argmax", "argmin", "ptp", "cumsum",
        "cumprod", "clip", "round", "around", "dot", "any", "all")],
    "python": ["collections.OrderedDict", "collections.defaultdict", "collections.Counter",
               "collections.deque", "builtins.set", "builtins.frozenset", "builtins.slice",
               "builtins.complex", "builtins.bytearray", "builtins.bytes", "builtins.range",
               "builtins.object", "builtins.list", "builtins.dict", "builtins.tuple",
               "builtins.int", "builtins.float", "builtins.str", "builtins.bool",
               "builtins.Ellipsis", "builtins.NotImplemented",
               "copyreg._reconstructor", "_codecs.encode", "datetime.datetime", "datetime.date",
               "datetime.time", "datetime.timedelta", "datetime.timezone", "decimal.Decimal",
               # tz-aware timestamps: ZoneInfo pickles as getattr(ZoneInfo, "_unpickle")
               "zoneinfo.ZoneInfo", "zoneinfo.ZoneInfo._unpickle", "pytz._p", "pytz._UTC",
               "dateutil.tz.tz.tzutc", "dateutil.tz.tz.tzoffset", "dateutil.tz.tz.tzlocal"],
    "joblib": ["joblib.numpy_pickle.NumpyArrayWrapper"],
    "torch": ["torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
              "torch._utils._rebuild_tensor_v3", "torch._utils._rebuild_parameter",
              "torch._utils._rebuild_parameter_with_state", "torch._utils._rebuild_qtensor",
              "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_nested_tensor",
              "torch._utils._rebuild_device_tensor_from_numpy",
              "torch._utils._rebuild_wrapper_subclass", "torch._tensor._rebuild_from_type_v2",
              "torch._tensor._rebuild_from_type", "torch.Size", "torch.device",
              "torch.storage.UntypedStorage", "torch.storage.TypedStorage",
              "torch.nn.parameter.Parameter", "torch.nn.parameter.Buffer",
              "torch.Tensor", "torch.strided", "torch.sparse_coo", "torch.per_tensor_affine",
              "torch.serialization._get_layout",
              *[f"torch.{n}Storage" for n in (
                  "Double", "Float", "Half", "BFloat16", "Long", "Int", "Short", "Char",
                  "Byte", "Bool", "ComplexFloat", "ComplexDouble", "QInt8", "QUInt8", "QInt32",
                  "Untyped")],
              *[f"torch.{n}" for n in (
                  "float32", "float64", "float16", "bfloat16", "int64", "int32", "int16",
                  "int8", "uint8", "bool", "complex64", "complex128", "qint8", "quint8")]],
}


def group_of(name: str) -> str:
    root = name.split(".", 1)[0]
    if root in ("numpy", "scipy", "pandas", "sklearn", "torch", "joblib", "xgboost", "lightgbm",
                "pyarrow"):
        return root
    return "python"


def main() -> None:
    import argparse
    import tomllib

    ap = argparse.ArgumentParser(description="print the allowlist as TOML")
    ap.add_argument("--merge", metavar="TOML",
                    help="keep the names of this allowlist too (run once per supported stack, "
                    "e.g. in .venv and in .venv-compat, merging into the shipped file)")
    args = ap.parse_args()
    sys.path.insert(0, "src")
    groups: dict[str, set[str]] = defaultdict(set)
    if args.merge:
        with open(args.merge, "rb") as fh:
            for group, table in tomllib.load(fh).items():
                groups[group] |= set(table.get("globals", []))
    for objs in (sklearn_objects(), data_objects()):
        for obj in objs:
            for name in observed_globals(obj):
                groups[group_of(name)].add(name)
    for obj in torch_objects():
        for name in observed_globals(obj, (2, 4)) | torch_saved_globals(obj):
            groups[group_of(name)].add(name)
    for group, names in enumerated().items():
        groups[group] |= names
    for group, names in BY_KNOWLEDGE.items():
        groups[group] |= set(names)
    dropped = sorted(n for names in groups.values() for n in names if refused(n))
    print("# The globals that model files from scikit-learn, NumPy, SciPy, pandas, PyTorch,")
    print("# joblib, XGBoost and LightGBM really pickle. Generated by")
    print("# benchmarks/scan_allowlist_sources.py (its docstring says how and why); edit that")
    print("# script, not this file. Exact `module.qualname` names only: no wildcards.")
    print("# Extend it per project in the policy: [security] allow_globals = [\"pkg.Model\"].")
    if dropped:
        print("#")
        print("# Seen in real pickles but refused (they can import, fetch attributes or run):")
        for name in dropped:
            print(f"#   {name}")
    for group in sorted(groups):
        names = sorted(n for n in groups[group] if not refused(n))
        print(f"\n[{group}]\nglobals = [")
        for name in names:
            print(f'    "{name}",')
        print("]")


if __name__ == "__main__":
    main()
