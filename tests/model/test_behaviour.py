"""CheckList-style behaviour tests on a small text classifier (TF-IDF + logistic regression on a
hand-written corpus) and on tabular models of scikit-learn's bundled data; failure rates are
checked against the model's own predictions computed here by hand."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from mlgate.errors import InputError
from mlgate.model import behaviour as b
from mlgate.model.adapters import PredictionCache
from mlgate.record import CheckResult

POSITIVE = [
    "a wonderful film with great acting", "I loved this movie, truly great", "great story and a "
    "lovely cast", "an excellent, moving and wonderful picture", "the best film of the year",
    "brilliant direction and great music", "I enjoyed every minute, excellent", "a lovely and "
    "charming story", "superb acting, I loved it", "a delightful film, wonderful and funny",
    "great fun and excellent pacing", "moving, beautiful and brilliant", "I really liked the cast",
    "charming, funny and great", "an excellent script and superb score",
]
NEGATIVE = [
    "a terrible film with awful acting", "I hated this movie, truly boring", "boring story and a "
    "dull cast", "an awful, tedious and terrible picture", "the worst film of the year",
    "poor direction and awful music", "I was bored every minute, terrible", "a dull and "
    "lifeless story", "bad acting, I hated it", "a tedious film, boring and stupid",
    "awful pacing and a terrible script", "dull, ugly and boring", "I really disliked the cast",
    "stupid, tedious and bad", "a terrible script and a poor score",
]
REVIEWS = [
    "John thought it was a wonderful film", "Mary said the acting was terrible",
    "John found the story boring", "Mary loved the music", "an excellent film, said John",
    "a dull picture, said Mary", "John enjoyed the great cast", "Mary hated the awful script",
]


@pytest.fixture(scope="module")
def sentiment():
    texts = POSITIVE + NEGATIVE
    labels = [1] * len(POSITIVE) + [0] * len(NEGATIVE)
    return make_pipeline(TfidfVectorizer(), LogisticRegression(C=10.0)).fit(texts, labels)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X = X.iloc[:, :8].copy()
    X["noise"] = np.random.default_rng(0).normal(size=len(X))  # a column the model never sees
    return X, y


@pytest.fixture(scope="module")
def monotone(cancer):
    """A boosted model constrained to be non-decreasing in 'mean radius'."""
    X, y = cancer
    cst = [1 if c == "mean radius" else 0 for c in X.columns]
    with threadpool_limits(1):  # tiny data: OpenMP threads only contend with other tests
        return HistGradientBoostingClassifier(max_iter=30, monotonic_cst=cst,
                                              random_state=0).fit(X, y)


def assert_well_formed(result):
    assert isinstance(result, CheckResult)
    assert result.name.startswith("behaviour.")
    (metric,) = result.metrics()
    assert metric.name == f"{result.name}.failure_rate" and metric.direction == "lower"
    assert len(result.examples) <= b.MAX_EXAMPLES
    json.dumps(result.evidence(), allow_nan=False)  # what mlgate.check will keep


# -- text ---------------------------------------------------------------------------------------


def test_names_the_model_never_saw_do_not_change_sentiment(sentiment):
    result = b.invariance(sentiment, REVIEWS, b.replace_words({"John": ["Wei", "Ahmed"],
                                                               "Mary": ["Olga", "Priya"]}),
                          name="names", seed=3)
    assert_well_formed(result)
    assert result.failure_rate == 0.0 and result.failures() == []
    assert result.cases == len(REVIEWS)


def test_a_word_that_matters_breaks_invariance_with_examples(sentiment):
    perturb = b.replace_words({"wonderful": "terrible", "excellent": "awful", "great": "dull",
                               "loved": "hated", "enjoyed": "hated"})
    result = b.invariance(sentiment, REVIEWS, perturb, name="antonyms", max_failure_rate=0.1)
    expected = sentiment.predict(REVIEWS) != sentiment.predict(perturb(REVIEWS, None))
    assert result.failed == int(expected.sum()) == 4
    assert_well_formed(result)
    (message,) = result.failures()
    assert message.startswith("invariance test 'behaviour.antonyms' (the predicted label must not "
                              "change): 4 of 8 cases failed (50%), at most 10% allowed")
    first = result.examples[0]
    assert first == {"row": 0, "input": REVIEWS[0], "perturbed": "John thought it was a terrible film",
                     "before": 1, "after": 0}


def test_typos_are_seeded_and_measured_on_scores(sentiment):
    a = b.invariance(sentiment, REVIEWS, b.typos(n=2), name="typos", tolerance=0.2, seed=7,
                     max_failure_rate=1.0)
    again = b.invariance(sentiment, REVIEWS, b.typos(n=2), name="typos", tolerance=0.2, seed=7,
                         max_failure_rate=1.0)
    assert a.evidence() == again.evidence()
    typo_texts = b.typos(n=2)(REVIEWS, np.random.default_rng(7))
    assert all(len(t) == len(s) and t != s for t, s in zip(typo_texts, REVIEWS, strict=True))
    moved = np.abs(sentiment.predict_proba(typo_texts)[:, 1] - sentiment.predict_proba(REVIEWS)[:, 1])
    assert a.failed == int((moved > 0.2).sum())
    assert "the score must not move by more than 0.2" in a.description


def test_adding_a_positive_word_raises_the_positive_score(sentiment):
    negative = [r for r, p in zip(REVIEWS, sentiment.predict(REVIEWS), strict=True) if p == 0]
    result = b.directional(sentiment, negative, b.append_text(" wonderful"), name="add_praise",
                           expect="increase")
    assert result.failed == 0 and result.cases == len(negative) == 4
    wrong = b.directional(sentiment, negative, b.append_text(" wonderful"), name="add_praise",
                          expect="decrease")
    assert wrong.failure_rate == 1.0
    assert "the score must decrease" in wrong.failures()[0]


def test_minimum_functionality_on_text(sentiment):
    cases = [("a wonderful and great film", 1), ("a terrible and boring film", 0),
             ("an awful, dull script", 1), ("superb", lambda p: p in (0, 1))]
    result = b.minimum_functionality(sentiment, cases, name="simple_sentiment")
    assert_well_formed(result)
    assert (result.cases, result.failed) == (4, 1)
    assert result.examples == ({"case": 2, "input": "an awful, dull script", "expected": 1,
                                "predicted": 0},)


# -- tabular ------------------------------------------------------------------------------------


def test_shuffling_a_column_the_model_does_not_use(cancer):
    X, y = cancer
    used = [c for c in X.columns if c != "noise"]
    model = make_pipeline(
        ColumnTransformer([("keep", "passthrough", used)]),
        LogisticRegression(max_iter=5000)).fit(X, y)
    result = b.invariance(model, X, b.shuffle_column("noise"), name="noise", tolerance=0.0)
    assert result.failed == 0
    changed = b.invariance(model, X, b.shuffle_column("mean radius"), name="radius",
                           max_failure_rate=1.0)
    assert changed.failed > 0
    example = changed.examples[0]
    assert set(example["changed"]) == {"mean radius"}
    assert example["before"] != example["after"]


def test_monotone_model_passes_directional_and_the_cache_is_used(cancer, monotone):
    X, _ = cancer
    cache = PredictionCache()
    result = b.directional(monotone, X, b.shift_column("mean radius", 2.0), name="radius_up",
                           expect="not_decrease", cache=cache)
    assert result.failed == 0 and cache.computed == 1
    b.invariance(monotone, X, b.add_noise("noise", 0.1), name="noise", tolerance=1e-9,
                 cache=cache)
    assert cache.computed == 1  # the predictions on X were shared
    # an unconstrained feature need not be monotone: measured, and equal to the direct count
    shifted = b.shift_column("mean texture", 5.0)(X)
    delta = monotone.predict_proba(shifted)[:, 1] - monotone.predict_proba(X)[:, 1]
    result = b.directional(monotone, X, b.shift_column("mean texture", 5.0), name="texture_up",
                           expect="not_decrease", tolerance=0.01, max_failure_rate=1.0)
    assert result.failed == int((delta < -0.01).sum())


def test_regressor_directional_on_values():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"x": rng.normal(size=200), "z": rng.normal(size=200)})
    y = 3 * X["x"] - X["z"] + rng.normal(scale=0.1, size=200)
    model = LinearRegression().fit(X, y)
    up = b.directional(model, X, b.shift_column("x", 1.0), name="x_up", expect="increase",
                       min_change=2.5)
    assert up.failed == 0
    too_much = b.directional(model, X, b.shift_column("x", 1.0), name="x_up", expect="increase",
                             min_change=3.5)
    assert too_much.failure_rate == 1.0
    down = b.directional(model, X, b.shift_column("z", 1.0), name="z_up", expect="decrease",
                         on="prediction")
    assert down.failed == 0


def test_multiclass_directional_needs_a_label():
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=1000).fit(X, y)
    with pytest.raises(InputError, match="has 3 classes") as err:
        b.directional(model, X, b.shift_column(2, 1.0), name="petal")
    assert "label=" in err.value.fix
    result = b.directional(model, X, b.shift_column(2, 1.0), name="petal", label=2,
                           expect="increase", max_failure_rate=1.0)
    expected = model.predict_proba(b.shift_column(2, 1.0)(X))[:, 2] > model.predict_proba(X)[:, 2]
    assert result.cases - result.failed == int(expected.sum())
    with pytest.raises(InputError, match="label=7 is not a class"):
        b.directional(model, X, b.shift_column(2, 1.0), name="petal", label=7)


def test_minimum_functionality_on_rows(cancer, monotone):
    X, _ = cancer
    typical_benign = X[monotone.predict(X) == 1].median().to_dict()
    cases = [(typical_benign, 1), (X.iloc[0], int(monotone.predict(X.iloc[:1])[0]))]
    result = b.minimum_functionality(monotone, cases, name="typical", columns=list(X.columns))
    assert result.failed == 0 and result.cases == 2


# -- NaN and bad input --------------------------------------------------------------------------


def test_nan_predictions_fail_whatever_the_allowed_rate():
    def model(X):
        return np.where(np.asarray(X)[:, 0] > 0.5, np.nan, 1.0)

    X = np.linspace(0, 1, 10)[:, None]
    result = b.invariance(model, X, lambda a: a, name="identity", max_failure_rate=1.0)
    assert result.nonfinite == 5 and result.failed == 5
    assert result.failures() == ["invariance test 'behaviour.identity': the model gave NaN or "
                                 "infinite predictions for 5 of 10 cases"]
    assert result.examples[0]["before"] == "NaN"
    json.dumps(result.evidence(), allow_nan=False)
    mf = b.minimum_functionality(model, [([0.9], 1.0), ([0.1], 1.0)], name="mf")
    assert (mf.failed, mf.nonfinite) == (1, 1)


@pytest.mark.parametrize("call, message", [
    (lambda m, X: b.invariance(m, X[:0], lambda a: a, name="e"), "the evaluation set is empty"),
    (lambda m, X: b.invariance(m, X, lambda a: a[:-1], name="e"),
     "the perturbation returned 9 rows for 10"),
    (lambda m, X: b.invariance(m, X, "shuffle", name="e"), "perturb must be a function"),
    (lambda m, X: b.invariance(m, X, lambda a: a, name=""), "needs a name"),
    (lambda m, X: b.invariance(m, X, lambda a: a, name="e", max_failure_rate=5),
     "max_failure_rate=5 must be in [0, 1]"),
    (lambda m, X: b.invariance(m, X, lambda a: a, name="e", tolerance=-1), "tolerance=-1"),
    (lambda m, X: b.directional(m, X, lambda a: a, name="e", expect="up"), "expect='up'"),
    (lambda m, X: b.directional(m, X, lambda a: a, name="e", on="label"), "on='label'"),
    (lambda m, X: b.minimum_functionality(m, [], name="e"), "no cases"),
    (lambda m, X: b.minimum_functionality(m, [1, 2], name="e"), "case 0 is 1, not an"),
    (lambda m, X: b.minimum_functionality(m, "abc", name="e"), "must be a list of (input, expected)"),
    (lambda m, X: b.invariance(m, X, b.shuffle_column(5), name="e"), "integer column index"),
    (lambda m, X: b.invariance(object(), X, lambda a: a, name="e"), "cannot use builtins.object"),
    (lambda m, X: b.invariance(lambda a: np.zeros(3), X, lambda a: a, name="e"),
     "gave 3 rows for 10 input rows"),
])
def test_bad_input_is_an_input_error(call, message):
    def model(X):
        return (np.asarray(X)[:, 0] > 0.5).astype(int)

    with pytest.raises(InputError) as err:
        call(model, np.linspace(0, 1, 10)[:, None])
    assert message in str(err.value)


def test_text_perturbations_refuse_other_inputs(cancer):
    X, _ = cancer
    with pytest.raises(InputError, match="expected a list of texts, got one string"):
        b.typos()("one text", np.random.default_rng(0))
    with pytest.raises(InputError, match="expected texts, got a float"):
        b.append_text("!")([1.5])
    with pytest.raises(InputError, match="column 'income' is not in the data"):
        b.shift_column("income", 1)(X)


def test_labels_without_scores_cannot_be_directional():
    def model(X):
        return np.where(np.asarray(X)[:, 0] > 0.5, "yes", "no")

    with pytest.raises(InputError, match="predictions are not numbers"):
        b.directional(model, np.linspace(0, 1, 5)[:, None], lambda a: a + 1, name="d",
                      on="prediction")


def test_recorded_through_the_mlgate_fixture(pytester):
    pytester.makepyfile("""
        import numpy as np
        import pytest
        from mlgate.model.behaviour import invariance, minimum_functionality

        def model(X):
            return (np.asarray(X)[:, 0] > 0.5).astype(int)

        X = np.linspace(0, 1, 10)[:, None]

        @pytest.mark.model
        def test_invariant(mlgate):
            mlgate.check(invariance(model, X, lambda a: a * 1.0, name="same"))

        @pytest.mark.model
        def test_flips(mlgate):
            mlgate.check(invariance(model, X, lambda a: 1 - a, name="flip", max_failure_rate=0.5))

        @pytest.mark.model
        def test_cases(mlgate):
            mlgate.check(minimum_functionality(model, [([0.9], 1), ([0.1], 0)], name="mf"))
    """)
    result = pytester.runpytest("-p", "no:cacheprovider", "--mlgate-no-bundle")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines([
        "*mlgate behaviour.flip check failed:",
        "*invariance test 'behaviour.flip' (the predicted label must not change): 10 of 10 cases "
        "failed (100%), at most 50% allowed (max_failure_rate); e.g. row 0: 0 -> 1*",
    ])


# -- invariants ---------------------------------------------------------------------------------


@given(st.lists(st.floats(-10, 10), min_size=1, max_size=40), st.integers(0, 2**32 - 1),
       st.floats(0, 1))
def test_failure_rate_is_a_share_and_identity_never_fails(values, seed, rate):
    X = np.asarray(values)[:, None]

    def model(a):
        return np.floor(np.asarray(a)[:, 0])

    same = b.invariance(model, X, lambda a, rng: a, name="id", seed=seed)
    assert same.failed == 0 and same.failures() == []
    noisy = b.invariance(model, X, lambda a, rng: a + rng.normal(size=a.shape), name="noise",
                         seed=seed, max_failure_rate=rate)
    assert 0 <= noisy.failure_rate <= 1 and noisy.failed <= noisy.cases == len(values)
    assert bool(noisy.failures()) == (noisy.failure_rate > rate)
    assert len(noisy.examples) == min(noisy.failed, b.MAX_EXAMPLES)
