"""The demo: two candidates through pytest and the gate, on the embedded MLflow registry.

1. train a good model, register it, run the test suite with mlgate, gate it: promoted
   (alias ``champion``: no champion exists yet, and the absolute bounds pass);
2. train a deliberately worse model, register it, run the same suite and gate: rejected,
   with the rules and numbers that rejected it;
3. print the registry's decision history.

Run it with ``make demo`` from the repository root (or ``python run_demo.py`` here, in the
venv). Running it again reuses the registered versions (registration is keyed on the training
recipe) and leaves a consistent registry. With $MLFLOW_TRACKING_URI set it uses that server.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time

import pipeline

EXPECTED = {"good": 0, "worse": 1}  # mlgate gate exit codes: 0 promote, 1 reject


def step(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def register(variant: str) -> str:
    from mlgate_mlflow import register_model

    model = pipeline.train(variant)
    key = hashlib.sha256(f"{pipeline.MODEL_NAME}:{variant}:{pipeline.SEED}".encode()).hexdigest()[:16]
    X_train = pipeline.load_split()[0]
    return register_model(model, pipeline.MODEL_NAME, project_dir=pipeline.HERE, key=key,
                          input_example=X_train.head(3))


def run(*args: str) -> int:
    print("$ " + " ".join(args), flush=True)
    return subprocess.call(list(args), cwd=pipeline.HERE)


def main() -> int:
    failures = []
    for variant in ("good", "worse"):
        step(f"train and register the {variant} candidate")
        start = time.perf_counter()
        version = register(variant)
        print(f"registered {pipeline.MODEL_NAME} version {version} "
              f"({time.perf_counter() - start:.1f} s)")
        out = f"reports/v{version}"
        step(f"test version {version} with pytest + mlgate")
        run(sys.executable, "-m", "pytest", "-q", f"--mlgate-model-version={version}",
            f"--mlgate-dir={out}")
        step(f"gate version {version}")
        code = run(sys.executable, "-m", "mlgate", "gate", "--bundle", f"{out}/results.json",
                   "--policy", "mlgate.toml", "--model-version", version)
        if code != EXPECTED[variant]:
            failures.append(f"{variant} candidate v{version}: gate exit code {code}, "
                            f"expected {EXPECTED[variant]}")
    step("decision history")
    run(sys.executable, "-m", "mlgate", "history", pipeline.MODEL_NAME)
    if failures:
        print("\ndemo: UNEXPECTED: " + "; ".join(failures))
        return 1
    print("\ndemo: the good model is the champion; the worse one was rejected, with reasons.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
