"""The security family's pytest fixtures (loaded by :mod:`mlgate.plugin` through
``pytest_plugins``). Like the plugin, this module imports nothing heavy: each fixture imports
its engine when a test asks for it."""

from __future__ import annotations

import pytest  # noqa: F401  (the fixtures below use it)

# -- model-file scanning ------------------------------------------------------------------------

@pytest.fixture
def mlgate_scan(mlgate, request):
    """Scan model files without loading them and record the result (see
    :mod:`mlgate.security.scan`): ``mlgate_scan("models/model.pt", allow=["pkg.MyNet"])``
    (a path, or a list of paths and folders) judges every global the pickles would import
    against the allowlist plus ``allow`` and the project policy's ``[security] allow_globals``
    (``mlgate.toml`` or ``[tool.mlgate]`` in the rootdir), records ``scan_findings``
    (threshold 0) and each file's SHA-256, fails the test with one line per finding, and
    returns the ``ScanResult``.
    Options ``max_depth``, ``max_bytes`` and ``max_members`` bound nested archives."""

    def run(paths, allow=(), **limits):
        from mlgate.policy import find_policy, load_policy

        from .scan import scan

        # the project's policy ([security] allow_globals) extends the allowlist here too
        found = find_policy(request.config.rootpath)
        policy_allow = load_policy(found).allow_globals if found else ()
        return mlgate.check(scan(paths, extra_allow=(*policy_allow, *allow), **limits))

    return run


# -- adversarial robustness and membership inference --------------------------------------------

@pytest.fixture
def mlgate_robustness(mlgate):
    """Attack a model and record its robust accuracy (see :mod:`mlgate.security.adversarial`):
    ``mlgate_robustness(model, X, y, eps=0.1, min_robust_accuracy=0.7, ...)`` runs
    ``robustness(...)`` (FGSM/PGD) for a torch module and ``blackbox(...)`` for anything else
    (a scikit-learn model, a predict function), then ``mlgate.check``s the result and returns it."""

    def attack(model, X, y, **options):
        from .adversarial import blackbox, robustness

        torch_module = any(c.__module__.startswith("torch.nn") and c.__name__ == "Module"
                           for c in type(model).__mro__)
        engine = robustness if torch_module else blackbox
        return mlgate.check(engine(model, X, y, **options))

    return attack


@pytest.fixture
def mlgate_membership(mlgate):
    """Run the loss-threshold membership attack and record its advantage (see
    :mod:`mlgate.security.membership`): ``mlgate_membership(model, X_train, y_train, X_holdout,
    y_holdout, max_advantage=0.1, seed=0)``, ``mlgate.check``ed and returned."""

    def attack(model, X_train, y_train, X_holdout, y_holdout, **options):
        from .membership import membership_inference

        return mlgate.check(membership_inference(model, X_train, y_train, X_holdout, y_holdout,
                                                 **options))

    return attack


# -- privacy scanning and input fuzzing ---------------------------------------------------------

@pytest.fixture
def mlgate_privacy(mlgate):
    """Scan a data set for personal data and secrets and record the result (see
    :mod:`mlgate.security.privacy`): ``mlgate_privacy(frame, allow={"contact": ["email"]})``
    counts e-mails, phones, payment cards (Luhn), IBANs (mod-97), US SSNs, UK NINOs, IP
    addresses and API keys/tokens per column, records ``privacy.findings`` (threshold
    ``max_findings``, 0) with masked examples only, fails the test with one line per finding and
    returns the ``PrivacyResult``."""

    def run(frame, **options):
        from .privacy import scan

        return mlgate.check(scan(frame, **options))

    return run


@pytest.fixture
def mlgate_fuzz(mlgate):
    """Fuzz a model with valid and broken inputs drawn from a pandera schema and record the crash
    rate (see :mod:`mlgate.security.fuzz`): ``mlgate_fuzz(model, "schema.yaml",
    exclude=["target"], max_examples=100, seed=0)``. ``model``: a predict function, an object
    with ``predict_proba`` or ``predict`` (a scikit-learn model, a pyfunc), or the URL of a
    served model (``http://127.0.0.1:5001/invocations``; ``protocol="mlflow"``, ``"records"``).
    Records ``fuzz.crash_rate`` (threshold ``max_crash_rate``, 0) with the minimal failing input,
    fails the test on a crash and returns the ``FuzzResult``."""

    def run(target, schema, **options):
        from .fuzz import fuzz, fuzz_http

        if isinstance(target, str):
            return mlgate.check(fuzz_http(target, schema, **options))
        if not callable(target):
            target = getattr(target, "predict_proba", None) or getattr(target, "predict", None)
            if target is None:
                raise TypeError("mlgate_fuzz: pass a predict function, a model with predict() "
                                "or predict_proba(), or the URL of a served model")
        return mlgate.check(fuzz(target, schema, **options))

    return run
