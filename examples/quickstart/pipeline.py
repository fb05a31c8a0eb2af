"""The example's model code: data and training.

A real project has this in its own package; the tests and the demo import it from here.
Data: scikit-learn's bundled breast-cancer data set (569 rows, 30 numeric features, binary
target), split once with a fixed seed.
"""

from __future__ import annotations

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
    """``good``: scaled logistic regression on all 30 features. ``worse``: the same on one
    feature only (mean radius): deliberately weaker, though it passes its own tests, so the
    demo shows the gate rejecting it on the policy's bounds and the champion comparison."""
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_train, _, y_train, _ = load_split()
    if variant == "good":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))
    elif variant == "worse":
        weak = ColumnTransformer([("one", "passthrough", ["mean radius"])])
        model = make_pipeline(weak, StandardScaler(), LogisticRegression(random_state=SEED))
    else:
        raise ValueError(f"unknown variant {variant!r}: use 'good' or 'worse'")
    return model.fit(X_train, y_train)

