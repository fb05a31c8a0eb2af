"""The policy file: loading, and errors that name the file, the key and the fix."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mlgate.errors import InputError, PolicyError
from mlgate.policy import (
    DEFAULT_MAX_AGE,
    BoundRule,
    ChampionRule,
    Policy,
    find_policy,
    load_policy,
    parse_policy,
)

FULL = """\
model = "iris"
max_age = "90m"
champion_alias = "prod"
allow_failures = true

[require]
families = ["data", "model"]
tests = ["tests/test_model.py::test_accuracy"]

[[rule]]
kind = "bound"
metric = "accuracy"
min = 0.9
on = "lower"

[[rule]]
kind = "champion"
id = "acc-vs-champion"
metric = "accuracy"
margin = 0.01
direction = "higher"
"""

EXPECTED_RULES = (
    BoundRule(id="bound:accuracy", metric="accuracy", min=0.9, max=None, on="lower"),
    ChampionRule(id="acc-vs-champion", metric="accuracy", margin=0.01, direction="higher"),
)


def write(tmp_path: Path, text: str, name: str = "mlgate.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def policy_error(tmp_path: Path, text: str, name: str = "mlgate.toml") -> PolicyError:
    path = write(tmp_path, text, name)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert info.value.file == str(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value


def test_load_from_mlgate_toml(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    policy = load_policy(path)
    assert policy == Policy(
        source=str(path), model="iris", max_age=5400.0, champion_alias="prod",
        allow_failures=True, require_families=("data", "model"),
        require_tests=("tests/test_model.py::test_accuracy",), rules=EXPECTED_RULES)
    assert find_policy(tmp_path) == path


def test_load_from_pyproject(tmp_path: Path) -> None:
    text = "[project]\nname = 'x'\n\n" + FULL.replace("[require]", "[tool.mlgate.require]").replace(
        "[[rule]]", "[[tool.mlgate.rule]]").replace('model = "iris"', '[tool.mlgate]\nmodel = "iris"')
    path = write(tmp_path, text, "pyproject.toml")
    policy = load_policy(path)
    assert policy.rules == EXPECTED_RULES
    assert (policy.model, policy.max_age, policy.require_families) == ("iris", 5400.0,
                                                                      ("data", "model"))
    assert policy.digest == load_policy(write(tmp_path, FULL)).digest
    assert find_policy(tmp_path) == tmp_path / "mlgate.toml"  # mlgate.toml comes first
    (tmp_path / "mlgate.toml").unlink()
    assert find_policy(tmp_path) == path


def test_an_empty_policy_has_the_defaults(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, ""))
    assert policy == Policy(source=str(tmp_path / "mlgate.toml"))
    assert policy.max_age == DEFAULT_MAX_AGE == 86400.0
    assert policy.allow_failures is False


@pytest.mark.parametrize(("value", "seconds"), [
    ('"unlimited"', None), ('"none"', None), ('"OFF"', None), ("3600", 3600.0), ("1.5", 1.5),
    ('"30s"', 30.0), ('"90m"', 5400.0), ('"24h"', 86400.0), ('"7d"', 604800.0),
    ('"1w"', 604800.0), ('" 2.5h "', 9000.0),
])
def test_max_age(tmp_path: Path, value: str, seconds: float | None) -> None:
    assert load_policy(write(tmp_path, f"max_age = {value}\n")).max_age == seconds


def test_pyproject_keys_are_prefixed(tmp_path: Path) -> None:
    err = policy_error(tmp_path, "[tool.mlgate]\ncolour = 1\n", "pyproject.toml")
    assert err.key == "tool.mlgate.colour"


@pytest.mark.parametrize(("text", "key", "message", "fix"), [
    ("colour = 'red'\n", "colour", "unknown key",
     "use one of: allow_failures, champion_alias, max_age, model, require, rule, security"),
    ("[require]\nfamily = ['data']\n", "require.family", "unknown key",
     "use require.families, require.tests or require.ml_test_score"),
    ("[require]\nfamilies = ['dta']\n", "require.families", "unknown family 'dta'",
     "use some of: data, model, performance, security"),
    ("[[rule]]\nkind = 'better'\nmetric = 'a'\n", "rule[0].kind", "unknown rule kind 'better'",
     "use one of: benchmark, bound, champion, cost, noninferiority"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = 1\n[[rule]]\nkind = 'bund'\nmetric = 'a'\n",
     "rule[1].kind", "unknown rule kind 'bund'",
     "use one of: benchmark, bound, champion, cost, noninferiority"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\n", "rule[0]", "a bound rule needs min, max or both",
     "e.g. min = 0.9"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = 0.9\nmax = 0.5\n", "rule[0]",
     "min 0.9 is above max 0.5", "swap them, or drop one of them"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = nan\n", "rule[0].min",
     "must be a finite number, got nan", "write a plain number, e.g. min = 0.9"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmax = inf\n", "rule[0].max",
     "must be a finite number, got inf", "write a plain number, e.g. max = 0.9"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = true\n", "rule[0].min",
     "must be a finite number, got True", "write a plain number, e.g. min = 0.9"),
    ("[[rule]]\nkind = 'champion'\nmetric = 'a'\nmargin = false\n", "rule[0].margin",
     "must be a finite number, got False", "write a plain number, e.g. margin = 0.9"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = '0.9'\n", "rule[0].min",
     "must be a finite number, got '0.9'", "write a plain number, e.g. min = 0.9"),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = 1\nmni = 2\n", "rule[0].mni", "unknown key",
     "use one of: id, kind, max, metric, min, on"),
    ("max_age = 'soon'\n", "max_age", "cannot read the duration 'soon'",
     'write a number of seconds or a string like "90m", "24h", "7d" (or "unlimited")'),
    ("max_age = true\n", "max_age", "cannot read the duration True",
     'write a number of seconds or a string like "90m", "24h", "7d" (or "unlimited")'),
    ("max_age = -5\n", "max_age", "duration must be positive, got -5", 'e.g. max_age = "24h"'),
    ("max_age = '0h'\n", "max_age", "duration must be positive, got '0h'", 'e.g. max_age = "24h"'),
    ("max_age = inf\n", "max_age", "duration must be positive, got inf", 'e.g. max_age = "24h"'),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = 1\n[[rule]]\nkind = 'bound'\nmetric = 'a'\n"
     "max = 2\n", "rule", "two rules have the id 'bound:a'", "give each rule a distinct `id`"),
    ("rule = []\nrules = []\n", "rules", "both [[rule]] and [[rules]] are given",
     "keep one of them"),
])
def test_errors_name_file_key_and_fix(tmp_path, text, key, message, fix) -> None:
    err = policy_error(tmp_path, text)
    assert (err.key, err.message, err.fix) == (key, message, fix)
    assert str(err) == f"{tmp_path / 'mlgate.toml'}: {key}: {message}\n  fix: {fix}"


@pytest.mark.parametrize(("text", "key", "message"), [
    ("[[rule]]\nkind = 'bound'\nmin = 1\n", "rule[0].metric",
     'every rule names the metric it checks: metric = "accuracy"'),
    ("[[rule]]\nkind = 'bound'\nmetric = 'a'\nmin = 1\non = 'middle'\n", "rule[0].on",
     "must be one of ('value', 'lower', 'upper'), got 'middle'"),
    ("[[rule]]\nkind = 'champion'\nmetric = 'a'\nmargin = -0.1\n", "rule[0].margin",
     "must be >= 0, got -0.1"),
    ("allow_failures = 'yes'\n", "allow_failures", "must be true or false, got 'yes'"),
    ("[require]\ntests = 'test_a'\n", "require.tests", "must be a list of strings, got 'test_a'"),
    ("model = 3\n", "model", "must be a model name (a string), got 3"),
])
def test_more_validation_errors(tmp_path, text, key, message) -> None:
    err = policy_error(tmp_path, text)
    assert (err.key, err.message) == (key, message)


def test_malformed_toml(tmp_path: Path) -> None:
    err = policy_error(tmp_path, "model = 'iris'\nmax_age = = 3\n")
    assert err.message.startswith("not valid TOML: ")
    assert "line 2" in err.message
    assert err.fix == "correct the syntax at the position shown"


def test_pyproject_without_a_tool_mlgate_table(tmp_path: Path) -> None:
    err = policy_error(tmp_path, "[project]\nname = 'x'\n[tool.ruff]\nline-length = 100\n",
                       "pyproject.toml")
    assert (err.key, err.message) == ("tool.mlgate", "has no [tool.mlgate] table")
    assert err.fix == "add a [tool.mlgate] table, or point --policy at mlgate.toml"
    assert find_policy(tmp_path) is None


def test_pyproject_whose_tool_is_not_a_table(tmp_path: Path) -> None:
    err = policy_error(tmp_path, "tool = 3\n", "pyproject.toml")
    assert err.key == "tool.mlgate"
    assert find_policy(tmp_path) is None


def test_pyproject_whose_tool_mlgate_is_not_a_table(tmp_path: Path) -> None:
    err = policy_error(tmp_path, "[tool]\nmlgate = 3\n", "pyproject.toml")
    assert (err.key, err.message) == ("tool.mlgate", "the policy must be a table")


def test_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert str(info.value) == (f"{path}: no such file\n"
                               "  fix: pass --policy with the path of your mlgate.toml")
    assert find_policy(tmp_path) is None


def test_policy_errors_pickle_with_their_fields(tmp_path: Path) -> None:
    err = policy_error(tmp_path, "colour = 1\n")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is PolicyError and isinstance(back, InputError)
    assert (back.message, back.file, back.key, back.fix) == (err.message, err.file, err.key,
                                                             err.fix)
    assert str(back) == str(err)


def test_digest_ignores_comments_formatting_and_order(tmp_path: Path) -> None:
    reformatted = """\
# the gate for iris
[require]
tests = [ "tests/test_model.py::test_accuracy" ]   # the one that matters
families = [
  "data",
  "model",
]

[[rule]]
metric = "accuracy"
kind   = "bound"
on = "lower"
min = 0.90

[[rule]]
id = "acc-vs-champion"
direction = "higher"
margin = 0.010
metric = "accuracy"
kind = "champion"
"""
    header = ('allow_failures = true\nchampion_alias = "prod"\nmax_age = 5400\n'
              'model = "iris"\n')
    a = load_policy(write(tmp_path, FULL))
    b = load_policy(write(tmp_path, header + reformatted, "other.toml"))
    assert a.source != b.source
    assert a == Policy(**{**b.__dict__, "source": a.source})
    assert a.digest == b.digest
    assert a.digest.startswith("sha256:")


@pytest.mark.parametrize(("old", "new"), [
    ("min = 0.9", "min = 0.91"),
    ('on = "lower"', 'on = "upper"'),
    ('max_age = "90m"', 'max_age = "91m"'),
    ('max_age = "90m"', 'max_age = "unlimited"'),
    ("allow_failures = true", "allow_failures = false"),
    ('families = ["data", "model"]', 'families = ["data"]'),
    ('model = "iris"', 'model = "wine"'),
    ("margin = 0.01", "margin = 0.02"),
    ('id = "acc-vs-champion"\n', ""),
])
def test_digest_changes_with_meaning(tmp_path: Path, old: str, new: str) -> None:
    assert old in FULL
    a = load_policy(write(tmp_path, FULL))
    b = load_policy(write(tmp_path, FULL.replace(old, new), "changed.toml"))
    assert a.digest != b.digest


def test_max_age_unlimited_turns_the_age_check_off(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, 'max_age = "unlimited"\n'))
    assert policy.max_age is None
    assert policy.to_json()["max_age"] is None


def test_security_allow_globals() -> None:
    p = parse_policy({"security": {"allow_globals": ["pkg.models.MyNet", "xgboost.core.Booster"]}})
    assert p.allow_globals == ("pkg.models.MyNet", "xgboost.core.Booster")
    assert p.to_json()["security"] == {"allow_globals": ["pkg.models.MyNet", "xgboost.core.Booster"]}
    assert "security" not in parse_policy({}).to_json()  # digests of older policies unchanged
    for raw, key in [({"security": []}, "security"),
                     ({"security": {"allow": ["a.b"]}}, "security.allow"),
                     ({"security": {"allow_globals": ["os system"]}}, "security.allow_globals"),
                     ({"security": {"allow_globals": ["builtins"]}}, "security.allow_globals"),
                     ({"security": {"allow_globals": "a.b"}}, "security.allow_globals")]:
        with pytest.raises(PolicyError) as info:
            parse_policy(raw, source="mlgate.toml")
        assert info.value.key == key, raw
