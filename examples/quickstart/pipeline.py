"""The example's model code: data, training, and where the registry lives.

A real project has this in its own package; the tests and the demo import it from here.
Data: scikit-learn's bundled breast-cancer data set (569 rows, 30 numeric features, binary
target), split once with a fixed seed.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODEL_NAME = "breast-cancer"
SEED = 20261127


def load_split():
    """(X_train, X_test, y_train, y_test) as pandas objects, the same on every call."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split

    data = load_breast_cancer(as_frame=True)
    return train_test_split(data.data, data.target, test_size=0.3, random_state=SEED,
                            stratify=data.target)


def train(variant: str = "good"):
    """``good``: scaled logistic regression. ``worse``: a depth-1 decision tree on two features,
    deliberately weaker, so the demo can show a rejection with its reasons."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    X_train, _, y_train, _ = load_split()
    if variant == "good":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))
    elif variant == "worse":
        model = DecisionTreeClassifier(max_depth=1, random_state=SEED)
    else:
        raise ValueError(f"unknown variant {variant!r}: use 'good' or 'worse'")
    return model.fit(X_train, y_train)


def tracking_uri() -> str:
    """$MLFLOW_TRACKING_URI, else the embedded SQLite registry of this project (.mlgate/)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{HERE / '.mlgate' / 'mlflow.db'}"


def load_model(name: str, version: str):
    """The registered model version, as the scikit-learn object."""
    import mlflow.sklearn
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri(), registry_uri=tracking_uri())
    source = client.get_model_version_download_uri(name, version)
    return mlflow.sklearn.load_model(source)
