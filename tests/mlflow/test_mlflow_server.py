"""The MLflow registry against a real ``mlflow server`` over HTTP, with faults injected by a
real TCP proxy: connections cut part-way through a publish, and answers dropped after the
server did the write (so MLflow's client retries it)."""

from __future__ import annotations

import threading

import pytest

from mlgate.bundle import ModelRef
from mlgate.errors import RegistryError
from mlgate.gate import Baseline
from mlgate_mlflow.audit import PREFIX, AuditRecord
from mlgate_mlflow.connection import resolve
from mlgate_mlflow.registry import TAG_DECISION, TAG_REASONS, TAG_VERDICT, MlflowRegistry

pytestmark = pytest.mark.slow  # one file, one xdist worker (--dist loadfile), one server


@pytest.fixture
def direct(mlflow_server) -> MlflowRegistry:
    return MlflowRegistry(resolve(".", mlflow_server.uri))


@pytest.fixture
def fast_failures(monkeypatch):
    """No retries: a cut connection fails the request at once."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "10")


def check_aliases_have_evidence(registry: MlflowRegistry, model: str) -> None:
    """The ordering guarantee: every alias points at a version with its verdict, reasons and
    audit record already written."""
    client = registry.client
    for alias, version in client.get_registered_model(model).aliases.items():
        tags = client.get_model_version(model, str(version)).tags
        assert tags.get(TAG_VERDICT) == "promote", (alias, version, tags)
        assert tags.get(TAG_REASONS)
        assert AuditRecord.parse(tags.get(PREFIX + tags[TAG_DECISION])) is not None


def test_publish_over_http(direct, mk, tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    monkeypatch.chdir(tmp_path)
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from mlgate_mlflow import load_model, register_model

    x, y = load_iris(return_X_y=True)
    clf = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    name = mk.name("http")
    version = register_model(clf, name, tracking_uri=direct.describe(), key="tree-3",
                             input_example=x[:2], skops_trusted_types=["sklearn.tree._tree.Tree"])
    assert register_model(clf, name, tracking_uri=direct.describe(), key="tree-3") == version
    decision, bundle = mk.gate(direct, name, version, 0.93, user="ci")
    result = direct.publish(decision, bundle, "champion")
    assert result.ok, result.message
    # over HTTP the alias comes back as a string
    assert direct.client.get_registered_model(name).aliases == {"champion": version}
    baseline = direct.champion(name, "champion")
    assert baseline.model == ModelRef(name, version)
    assert baseline.bundle.declared_digest == bundle.declared_digest and baseline.bundle.digest_ok
    assert [d.id for d in direct.history(name)] == [decision.id]
    loaded = load_model(name, version, tracking_uri=direct.describe())
    assert (loaded.predict(x[:10]) == clf.predict(x[:10])).all()
    assert list(tmp_path.iterdir()) == []


def test_a_cut_connection_never_leaves_an_alias_without_evidence(mlflow_server, proxy, direct,
                                                                  mk, fast_failures):
    through = MlflowRegistry(resolve(".", proxy.uri))
    # how many requests does a whole publish (champion v1 in place, v2 promoted) take?
    name = mk.name("count")
    v1, v2 = mk.version(direct, name), mk.version(direct, name)
    d1, b1 = mk.gate(direct, name, v1, 0.90)
    assert direct.publish(d1, b1, "champion").ok
    d2, b2 = mk.gate(direct, name, v2, 0.91)
    start = len(proxy.seen)
    assert through.publish(d2, b2, "champion").ok
    # cutting before each write covers every state the server can be left in
    writes = [i for i, (method, _) in enumerate(proxy.seen[start:]) if method in ("POST", "PUT")]
    assert len(writes) >= 8  # two artifacts, the record, five tags, the alias, record done

    for cut in writes:
        name = mk.name(f"cut{cut}")
        v1, v2 = mk.version(direct, name), mk.version(direct, name)
        b1, b2 = mk.bundle(name, v1, 0.90), mk.bundle(name, v2, 0.91)
        d1 = mk.decision(b1, Baseline())  # no champion yet
        assert direct.publish(d1, b1, "champion").ok
        d2 = mk.decision(b2, Baseline(ModelRef(name, v1), b1))  # what champion() reads back
        assert d2.verdict == "promote"
        proxy.cut_after(cut)
        with pytest.raises(RegistryError) as info:
            through.publish(d2, b2, "champion")
        proxy.cut_after(None)
        assert proxy.uri.removeprefix("http://") in str(info.value)
        check_aliases_have_evidence(direct, name)
        # a re-run finishes the job, with one record per decision
        result = direct.publish(d2, b2, "champion")
        assert result.ok, (cut, result.message)
        assert direct.client.get_registered_model(name).aliases == {"champion": v2}
        check_aliases_have_evidence(direct, name)
        history = direct.history(name)
        assert [d.id for d in history] == [d1.id, d2.id], cut
        assert history[-1].context["alias_move"] == {"alias": "champion", "from": v1, "to": v2,
                                                     "observed": v2}


def test_a_lost_answer_never_makes_a_second_version_or_record(mlflow_server, proxy, direct, mk):
    pytest.importorskip("sklearn")
    from sklearn.dummy import DummyClassifier

    from mlgate_mlflow import register_model

    clf = DummyClassifier().fit([[0.0], [1.0]], [0, 1])
    name = mk.name("lost")
    proxy.drop_response(lambda m, p, b: m == "POST" and p.endswith("/model-versions/create"))
    proxy.drop_response(lambda m, p, b: m == "POST" and p.endswith("/registered-models/create"))
    version = register_model(clf, name, tracking_uri=proxy.uri, key="dummy")
    # the server did create twice: the client retried the request whose answer was lost
    assert [p for _, p in proxy.seen].count("/api/2.0/mlflow/model-versions/create") == 2
    assert len(proxy.dropped) == 2
    versions = direct.client.search_model_versions(f"name = '{name}'")
    assert [str(v.version) for v in versions] == [version]
    assert register_model(clf, name, tracking_uri=proxy.uri, key="dummy") == version

    through = MlflowRegistry(resolve(".", proxy.uri))
    decision, bundle = mk.gate(through, name, version, 0.9, user="ci")
    proxy.drop_response(lambda m, p, b: m == "POST" and PREFIX.encode() in b)
    proxy.drop_response(lambda m, p, b: m == "POST" and p.endswith("/registered-models/alias"))
    proxy.drop_response(lambda m, p, b: m == "PUT" and p.endswith("/decision.json"))
    assert through.publish(decision, bundle, "champion").ok
    assert len(proxy.dropped) == 5, proxy.dropped
    tags = direct.client.get_model_version(name, version).tags
    assert [k for k in tags if k.startswith(PREFIX)] == [PREFIX + decision.id]
    assert len(direct.history(name)) == 1
    assert direct.client.get_registered_model(name).aliases == {"champion": version}
    assert through.publish(decision, bundle, "champion").details["changed"] is False


def test_two_gates_on_one_model(mlflow_server, direct, mk):
    name = mk.name("two")
    v1, v2, v3, v4 = (mk.version(direct, name) for _ in range(4))
    # one after the other
    for version in (v1, v2):
        decision, bundle = mk.gate(direct, name, version, 0.90)
        assert direct.publish(decision, bundle, "champion").ok
    assert direct.client.get_registered_model(name).aliases == {"champion": v2}

    # at the same time, each gate with its own client
    gates = [MlflowRegistry(resolve(".", mlflow_server.uri)) for _ in range(2)]
    work = [(g, *mk.gate(g, name, v, 0.91, gate=v)) for g, v in zip(gates, (v3, v4), strict=True)]
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def run(registry, decision, bundle):
        barrier.wait()
        results[decision.model.version] = registry.publish(decision, bundle, "champion")

    threads = [threading.Thread(target=run, args=w) for w in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    final = direct.client.get_registered_model(name).aliases["champion"]
    assert final in (v3, v4)
    assert results[final].ok  # the later promote put the alias where it is
    history = direct.history(name)
    assert len(history) == 4 and {d.model.version for d in history[2:]} == {v3, v4}
    moves = {d.model.version: d.context["alias_move"] for d in history}
    assert moves[final]["observed"] == final
    other = v3 if final == v4 else v4
    if not results[other].ok:  # it read back the later gate's alias
        assert results[other].details["moved_under_us"] is True
        assert "moved under us" in results[other].message
    check_aliases_have_evidence(direct, name)
