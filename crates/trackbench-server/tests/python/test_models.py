"""MLflow 3 logged models and the model registry, through the official client, unchanged.

Every expectation here is MLflow's own behaviour: with MLFLOW_REFERENCE=1 the suite runs against
a real `mlflow server` (see conftest.py) and must pass there too. The sklearn model is logged once
per module (model files are the slow part) and reused; the other logged models are metadata only.
"""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from conftest import TOKEN

RUN = uuid.uuid4().hex[:8]  # keeps names unique when the session's server is shared


def _name(what):
    return f"pytest-{what}-{RUN}"


def _code(fn, *args, **kwargs):
    """The MLflow error code `fn(*args, **kwargs)` fails with."""
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as err:
        fn(*args, **kwargs)
    return err.value.error_code


@pytest.fixture(scope="module")
def sk(server):
    """One sklearn LogisticRegression logged with `mlflow.sklearn.log_model` in a run."""
    import mlflow
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    mlflow.set_tracking_uri(server.url)
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    exp_id = mlflow.set_experiment(_name("sklearn")).experiment_id
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            params={"C": 1.0, "solver": "lbfgs"},
            tags={"team": "vision"},
            model_type="classifier",
        )
    yield SimpleNamespace(
        X=X, model=model, info=info, run_id=run.info.run_id, exp_id=exp_id, model_id=info.model_id
    )
    while mlflow.active_run():
        mlflow.end_run()
    mp.undo()


def _src(sk, path="model"):
    """(source, run_id) of a model version made from the logged run: a source in the store."""
    return f"runs:/{sk.run_id}/{path}", sk.run_id


def _same_predictions(sk, uri):
    import mlflow
    import numpy as np

    expected = sk.model.predict_proba(sk.X)
    assert np.array_equal(mlflow.sklearn.load_model(uri).predict_proba(sk.X), expected), uri
    assert np.array_equal(mlflow.pyfunc.load_model(uri).predict(sk.X), sk.model.predict(sk.X)), uri


# ---------------------------------------------------------------------------------------------
# Logged models
# ---------------------------------------------------------------------------------------------


def test_log_model_loads_back_by_run_uri_and_model_id_with_identical_predictions(tracking, sk):
    assert sk.model_id.startswith("m-")
    assert sk.info.model_uri == f"models:/{sk.model_id}"
    assert sk.info.run_id == sk.run_id
    _same_predictions(sk, f"runs:/{sk.run_id}/model")
    _same_predictions(sk, f"models:/{sk.model_id}")


def test_get_logged_model_returns_what_log_model_recorded(tracking, sk):
    import mlflow
    from mlflow import MlflowClient

    m = mlflow.get_logged_model(sk.model_id)
    assert m.model_id == sk.model_id
    assert m.name == "model"
    assert m.experiment_id == sk.exp_id
    assert m.source_run_id == sk.run_id
    assert m.model_type == "classifier"
    assert str(m.status) == "READY"  # log_model finalizes it once the files are uploaded
    assert m.params == {"C": "1.0", "solver": "lbfgs"}
    assert m.tags["team"] == "vision"
    assert m.artifact_location.endswith(f"/models/{sk.model_id}/artifacts")
    assert m.creation_timestamp <= m.last_updated_timestamp
    # The run records the model among its outputs (runs/outputs).
    outputs = MlflowClient().get_run(sk.run_id).outputs.model_outputs
    assert [(o.model_id, o.step) for o in outputs] == [(sk.model_id, 0)]


def test_missing_logged_model_is_resource_does_not_exist(tracking):
    from mlflow import MlflowClient

    c = MlflowClient()
    missing = "m-" + "0" * 32
    assert _code(c.get_logged_model, missing) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.finalize_logged_model, missing, "READY") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.delete_logged_model, missing) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.create_logged_model, "987654321", name="x") == "RESOURCE_DOES_NOT_EXIST"


def test_initialize_finalize_and_external_models_carry_status(tracking):
    import mlflow
    from mlflow.entities import LoggedModelStatus

    exp_id = mlflow.set_experiment(_name("lifecycle")).experiment_id
    pending = mlflow.initialize_logged_model(name="pending", params={"lr": "0.1"}, model_type="agent")
    assert pending.experiment_id == exp_id
    assert str(pending.status) == "PENDING"
    assert mlflow.get_logged_model(pending.model_id).params == {"lr": "0.1"}
    ready = mlflow.finalize_logged_model(pending.model_id, LoggedModelStatus.READY)
    assert str(ready.status) == "READY"
    assert str(mlflow.get_logged_model(pending.model_id).status) == "READY"

    failed = mlflow.initialize_logged_model(name="broken")
    mlflow.finalize_logged_model(failed.model_id, "FAILED")
    assert str(mlflow.get_logged_model(failed.model_id).status) == "FAILED"

    external = mlflow.create_external_model(name="external", tags={"where": "elsewhere"})
    got = mlflow.get_logged_model(external.model_id)
    assert str(got.status) == "READY" and got.tags["where"] == "elsewhere"
    assert got.name == "external" and not got.source_run_id  # no run: empty


def test_logged_model_tags_set_overwrite_and_delete(tracking):
    import mlflow
    from mlflow import MlflowClient

    c = MlflowClient()
    exp_id = mlflow.set_experiment(_name("lm-tags")).experiment_id
    m = c.create_logged_model(exp_id, name="tagged", tags={"keep": "1", "drop": "2"})
    assert c.get_logged_model(m.model_id).tags == {"keep": "1", "drop": "2"}
    c.set_logged_model_tags(m.model_id, {"keep": "one", "new": "3", "unicode": "ü 🚀"})
    assert c.get_logged_model(m.model_id).tags == {"keep": "one", "drop": "2", "new": "3", "unicode": "ü 🚀"}
    c.delete_logged_model_tag(m.model_id, "drop")
    assert c.get_logged_model(m.model_id).tags == {"keep": "one", "new": "3", "unicode": "ü 🚀"}
    # Unlike registry tags, deleting a logged-model tag that is not there is an error.
    assert _code(c.delete_logged_model_tag, m.model_id, "drop") == "RESOURCE_DOES_NOT_EXIST"


def test_logged_model_params_added_with_log_model_params(tracking):
    import mlflow

    exp_id = mlflow.set_experiment(_name("lm-params")).experiment_id
    m = mlflow.initialize_logged_model(name="params", params={"a": "1"}, experiment_id=exp_id)
    mlflow.log_model_params({"b": 2, "c": "three"}, model_id=m.model_id)
    assert mlflow.get_logged_model(m.model_id).params == {"a": "1", "b": "2", "c": "three"}


def test_metrics_logged_with_model_id_or_active_model_show_on_the_model(tracking):
    import mlflow
    from mlflow import MlflowClient

    exp_id = mlflow.set_experiment(_name("lm-metrics")).experiment_id
    m = mlflow.initialize_logged_model(name="scored", experiment_id=exp_id)
    other = mlflow.initialize_logged_model(name="other", experiment_id=exp_id)
    with mlflow.start_run() as run:
        mlflow.log_metric("accuracy", 0.5, step=1, model_id=m.model_id)
        mlflow.log_metric("accuracy", 0.75, step=2, model_id=m.model_id)
        mlflow.log_metric("unlinked", 1.0)
        mlflow.set_active_model(model_id=m.model_id)
        mlflow.log_metrics({"f1": 0.6, "loss": 0.25}, step=3)
    mlflow.clear_active_model()

    got = mlflow.get_logged_model(m.model_id)
    seen = sorted((x.key, x.value, x.step) for x in got.metrics)
    assert seen == [("accuracy", 0.5, 1), ("accuracy", 0.75, 2), ("f1", 0.6, 3), ("loss", 0.25, 3)]
    assert {x.run_id for x in got.metrics} == {run.info.run_id}
    assert {x.model_id for x in got.metrics} == {m.model_id}
    assert mlflow.get_logged_model(other.model_id).metrics == []
    # The same metrics are the run's metrics too.
    r = MlflowClient().get_run(run.info.run_id)
    assert r.data.metrics == {"accuracy": 0.75, "unlinked": 1.0, "f1": 0.6, "loss": 0.25}


def test_search_logged_models_filters_orders_and_pages(tracking):
    import mlflow
    from mlflow import MlflowClient

    c = MlflowClient()
    exp_id = mlflow.set_experiment(_name("lm-search")).experiment_id
    other_exp = mlflow.set_experiment(_name("lm-search-other")).experiment_id
    c.create_logged_model(other_exp, name="elsewhere")
    ids = {}
    with mlflow.start_run(experiment_id=exp_id):
        for i, (group, score) in enumerate([("a", 0.3), ("b", 0.9), ("a", 0.5), ("b", 0.1), ("a", 0.7)]):
            m = c.create_logged_model(
                exp_id, name=f"lm-{i}", tags={"group": group}, params={"depth": str(i)}
            )
            mlflow.log_metric("score", score, model_id=m.model_id)
            ids[f"lm-{i}"] = m.model_id
            time.sleep(0.005)  # distinct creation times

    def names(**kw):
        return [m.name for m in c.search_logged_models(experiment_ids=[exp_id], **kw)]

    # Default order: newest first (creation time descending, then model id ascending).
    got = c.search_logged_models(experiment_ids=[exp_id])
    assert [m.name for m in got] == ["lm-4", "lm-3", "lm-2", "lm-1", "lm-0"]
    assert got.token is None
    assert names(order_by=[{"field_name": "name", "ascending": True}]) == [f"lm-{i}" for i in range(5)]
    assert names(filter_string="tags.group = 'a'", order_by=[{"field_name": "name"}]) == ["lm-0", "lm-2", "lm-4"]
    assert names(filter_string="params.depth IN ('1', '3')", order_by=[{"field_name": "name"}]) == ["lm-1", "lm-3"]
    assert names(filter_string="name = 'lm-3'") == ["lm-3"]
    assert names(filter_string="name LIKE 'lm-%' AND tags.group != 'a'", order_by=[{"field_name": "name"}]) == [
        "lm-1",
        "lm-3",
    ]
    assert names(
        filter_string="metrics.score > 0.4", order_by=[{"field_name": "metrics.score", "ascending": False}]
    ) == ["lm-1", "lm-4", "lm-2"]
    assert names(order_by=[{"field_name": "metrics.score", "ascending": True}]) == [
        "lm-3",
        "lm-0",
        "lm-2",
        "lm-4",
        "lm-1",
    ]
    both = {m.name for m in c.search_logged_models(experiment_ids=[exp_id, other_exp])}
    assert both == {f"lm-{i}" for i in range(5)} | {"elsewhere"}

    # Pagination: pages of 2 in order, the last page has no token, no model twice.
    order = [{"field_name": "name", "ascending": False}]
    pages, token = [], None
    while True:
        page = c.search_logged_models(experiment_ids=[exp_id], order_by=order, max_results=2, page_token=token)
        pages.append([m.name for m in page])
        token = page.token
        if not token:
            break
    assert pages == [["lm-4", "lm-3"], ["lm-2", "lm-1"], ["lm-0"]]

    # A token only continues the search it came from.
    first = c.search_logged_models(experiment_ids=[exp_id], order_by=order, max_results=2)
    assert first.token
    assert (
        _code(
            c.search_logged_models,
            experiment_ids=[exp_id],
            filter_string="tags.group = 'a'",
            order_by=order,
            max_results=2,
            page_token=first.token,
        )
        == "INVALID_PARAMETER_VALUE"
    )

    # Deleted models drop out of search and get.
    c.delete_logged_model(ids["lm-2"])
    assert "lm-2" not in names()
    assert len(names()) == 4
    assert _code(c.get_logged_model, ids["lm-2"]) == "RESOURCE_DOES_NOT_EXIST"


def test_search_logged_models_rejects_bad_filters_and_order(tracking):
    import mlflow
    from mlflow import MlflowClient

    c = MlflowClient()
    exp_id = mlflow.set_experiment(_name("lm-bad-search")).experiment_id
    for bad in [
        "metrics.score LIKE 'x'",  # string operator on a metric
        "creation_timestamp IN (1, 2)",  # string operator on a numeric attribute
        "name = 'a' OR name = 'b'",  # only AND joins comparisons
        "bogus.key = 'x'",  # unknown entity type
    ]:
        assert _code(c.search_logged_models, experiment_ids=[exp_id], filter_string=bad) == "INVALID_PARAMETER_VALUE", bad
    for order in ([{"field_name": "no_such_column"}], [{"field_name": "params.depth"}]):
        assert _code(c.search_logged_models, experiment_ids=[exp_id], order_by=order) == "INVALID_PARAMETER_VALUE"


def test_logged_model_names_reject_path_and_quote_characters_and_keep_unicode(tracking):
    import mlflow
    from mlflow import MlflowClient

    c = MlflowClient()
    exp_id = mlflow.set_experiment(_name("lm-names")).experiment_id
    for bad in ["a/b", "a:b", "a.b", "50%", 'say "hi"', "it's"]:
        assert _code(c.create_logged_model, exp_id, name=bad) == "INVALID_PARAMETER_VALUE", bad
    name = "模型 ü-🚀"
    m = c.create_logged_model(exp_id, name=name)
    assert c.get_logged_model(m.model_id).name == name
    assert [x.model_id for x in c.search_logged_models([exp_id], filter_string=f"name = '{name}'")] == [m.model_id]
    # Without a name the server picks one.
    assert c.create_logged_model(exp_id).name


# ---------------------------------------------------------------------------------------------
# Model registry
# ---------------------------------------------------------------------------------------------


def test_register_from_run_and_model_uris_then_load_by_version_and_alias(tracking, sk):
    import mlflow
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("iris")
    lm = mlflow.get_logged_model(sk.model_id)

    v1 = mlflow.register_model(f"runs:/{sk.run_id}/model", name)
    assert (v1.name, v1.version, v1.status) == (name, "1", "READY")
    # The run has no files at `model` (MLflow 3 keeps them with the logged model): the client
    # finds the run's logged model named `model` and registers that instead.
    assert v1.source == f"models:/{sk.model_id}"
    assert v1.run_id == sk.run_id
    v2 = mlflow.register_model(f"models:/{sk.model_id}", name)
    assert (v2.version, v2.source, v2.run_id, v2.status) == ("2", f"models:/{sk.model_id}", sk.run_id, "READY")

    for v in ("1", "2"):
        assert c.get_model_version_download_uri(name, v) == lm.artifact_location
    # Registering tags the logged model with the versions made from it.
    links = json.loads(mlflow.get_logged_model(sk.model_id).tags["mlflow.modelVersions"])
    assert {(e["name"], str(e["version"])) for e in links} == {(name, "1"), (name, "2")}

    c.set_registered_model_alias(name, "champion", "2")
    assert c.get_model_version_by_alias(name, "champion").version == "2"
    _same_predictions(sk, f"models:/{name}/1")
    _same_predictions(sk, f"models:/{name}@champion")
    _same_predictions(sk, f"models:/{name}/latest")


def test_registered_model_create_get_update_rename_delete(tracking, sk):
    from mlflow import MlflowClient
    from mlflow.entities.model_registry import RegisteredModel

    c = MlflowClient()
    name, renamed = _name("crud"), _name("crud-renamed")
    rm = c.create_registered_model(name, tags={"team": "vision"}, description="first")
    assert isinstance(rm, RegisteredModel)
    assert (rm.name, rm.description, rm.tags) == (name, "first", {"team": "vision"})
    assert rm.creation_timestamp == rm.last_updated_timestamp
    got = c.get_registered_model(name)
    assert (got.name, got.description, got.tags, got.latest_versions, got.aliases) == (
        name,
        "first",
        {"team": "vision"},
        [],
        {},
    )
    time.sleep(0.005)
    updated = c.update_registered_model(name, description="second")
    assert updated.description == "second"
    assert c.get_registered_model(name).description == "second"
    assert c.get_registered_model(name).last_updated_timestamp > rm.creation_timestamp

    c.create_model_version(name, *_src(sk, "crud"), description="v1 here")
    c.set_registered_model_alias(name, "prod", "1")
    c.rename_registered_model(name, renamed)
    assert _code(c.get_registered_model, name) == "RESOURCE_DOES_NOT_EXIST"
    moved = c.get_registered_model(renamed)
    assert (moved.description, moved.tags, moved.aliases) == ("second", {"team": "vision"}, {"prod": "1"})
    # The versions move with the model.
    mv = c.get_model_version(renamed, "1")
    assert (mv.name, mv.source, mv.description) == (renamed, _src(sk, "crud")[0], "v1 here")
    assert _code(c.get_model_version, name, "1") == "RESOURCE_DOES_NOT_EXIST"

    c.delete_registered_model(renamed)
    assert _code(c.get_registered_model, renamed) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.delete_registered_model, renamed) == "RESOURCE_DOES_NOT_EXIST"


def test_registered_model_errors_already_exists_and_does_not_exist(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    a, b, missing = _name("dup-a"), _name("dup-b"), _name("missing")
    c.create_registered_model(a)
    c.create_registered_model(b)
    assert _code(c.create_registered_model, a) == "RESOURCE_ALREADY_EXISTS"
    assert _code(c.rename_registered_model, a, b) == "RESOURCE_ALREADY_EXISTS"
    assert _code(c.get_registered_model, missing) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.update_registered_model, missing, description="x") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.rename_registered_model, missing, _name("missing-2")) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.delete_registered_model, missing) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.set_registered_model_tag, missing, "k", "v") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.delete_registered_model_tag, missing, "k") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.create_model_version, missing, *_src(sk)) == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.get_latest_versions, missing) == "RESOURCE_DOES_NOT_EXIST"
    # The registry is unchanged by the failures.
    assert c.get_registered_model(a).name == a and c.get_registered_model(b).name == b


def test_registered_model_tags_set_overwrite_and_delete(tracking):
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("rm-tags")
    c.create_registered_model(name, tags={"a": "1"})
    c.set_registered_model_tag(name, "b", "2")
    c.set_registered_model_tag(name, "a", "one")
    c.set_registered_model_tag(name, "ünï", "🚀")
    assert c.get_registered_model(name).tags == {"a": "one", "b": "2", "ünï": "🚀"}
    c.delete_registered_model_tag(name, "b")
    assert c.get_registered_model(name).tags == {"a": "one", "ünï": "🚀"}
    # Deleting a registry tag that is not there is a no-op, not an error.
    c.delete_registered_model_tag(name, "b")
    assert c.get_registered_model(name).tags == {"a": "one", "ünï": "🚀"}


def test_search_registered_models_filters_orders_and_pages(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    prefix = _name("srm")
    for i, team in enumerate(["x", "y", "x", "y", "x"]):
        c.create_registered_model(f"{prefix}-{i}", tags={"team": team})
        time.sleep(0.005)
    c.create_model_version(f"{prefix}-2", *_src(sk, "srm"))  # touches last_updated_timestamp

    def names(**kw):
        return [m.name for m in c.search_registered_models(**kw)]

    like = f"name LIKE '{prefix}-%'"
    # Default order: name ascending.
    assert names(filter_string=like) == [f"{prefix}-{i}" for i in range(5)]
    assert names(filter_string=like, order_by=["name DESC"]) == [f"{prefix}-{i}" for i in reversed(range(5))]
    assert names(filter_string=f"{like} AND tags.team = 'x'") == [f"{prefix}-{i}" for i in (0, 2, 4)]
    assert names(filter_string=f"name = '{prefix}-3'") == [f"{prefix}-3"]
    assert names(filter_string=f"name ILIKE '{prefix.upper()}-1'") == [f"{prefix}-1"]
    assert names(filter_string=like, order_by=["last_updated_timestamp DESC"])[:2] == [f"{prefix}-2", f"{prefix}-4"]
    latest = c.search_registered_models(filter_string=f"name = '{prefix}-2'")[0].latest_versions
    assert [(v.version, v.source) for v in latest] == [("1", _src(sk, "srm")[0])]

    pages, token = [], None
    while True:
        page = c.search_registered_models(filter_string=like, max_results=2, page_token=token)
        pages.append([m.name for m in page])
        token = page.token
        if not token:
            break
    assert pages == [[f"{prefix}-0", f"{prefix}-1"], [f"{prefix}-2", f"{prefix}-3"], [f"{prefix}-4"]]

    assert _code(c.search_registered_models, filter_string="description = 'x'") == "INVALID_PARAMETER_VALUE"
    assert _code(c.search_registered_models, filter_string="name = ") == "INVALID_PARAMETER_VALUE"
    assert _code(c.search_registered_models, filter_string="name =! 'x'") == "INVALID_PARAMETER_VALUE"
    assert _code(c.search_registered_models, order_by=["description ASC"]) == "INVALID_PARAMETER_VALUE"
    assert _code(c.search_registered_models, max_results=1001) == "INVALID_PARAMETER_VALUE"


def test_model_versions_create_get_update_tag_delete(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("versions")
    c.create_registered_model(name)
    src = f"runs:/{sk.run_id}/model"
    mv = c.create_model_version(name, src, sk.run_id, tags={"stage": "dev"}, description="from the run")
    assert (mv.name, mv.version, mv.source, mv.run_id) == (name, "1", src, sk.run_id)
    assert (mv.status, mv.current_stage, mv.description, mv.tags) == ("READY", "None", "from the run", {"stage": "dev"})
    assert mv.creation_timestamp == mv.last_updated_timestamp

    got = c.get_model_version(name, "1")
    assert (got.version, got.source, got.run_id, got.status, got.tags) == ("1", src, sk.run_id, "READY", {"stage": "dev"})
    assert c.get_model_version(name, 1).version == "1"  # an int version is the same version

    time.sleep(0.005)
    assert c.update_model_version(name, "1", description="better").description == "better"
    after = c.get_model_version(name, "1")
    assert after.description == "better" and after.last_updated_timestamp > mv.creation_timestamp

    c.set_model_version_tag(name, "1", "stage", "prod")
    c.set_model_version_tag(name, "1", "owner", "ü")
    assert c.get_model_version(name, "1").tags == {"stage": "prod", "owner": "ü"}
    c.delete_model_version_tag(name, "1", "stage")
    c.delete_model_version_tag(name, "1", "stage")  # absent: a no-op
    assert c.get_model_version(name, "1").tags == {"owner": "ü"}

    assert c.create_model_version(name, *_src(sk, "v2")).version == "2"
    assert c.create_model_version(name, *_src(sk, "v3")).version == "3"
    assert [v.version for v in c.get_registered_model(name).latest_versions] == ["3"]
    c.delete_model_version(name, "3")
    assert _code(c.get_model_version, name, "3") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.delete_model_version, name, "3") == "RESOURCE_DOES_NOT_EXIST"
    # Version numbers are never reused, even after the highest version is deleted.
    assert c.create_model_version(name, *_src(sk, "v4")).version == "4"
    assert sorted(int(v.version) for v in c.search_model_versions(f"name = '{name}'")) == [1, 2, 4]


def test_model_version_errors(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("mv-errors")
    c.create_registered_model(name)
    c.create_model_version(name, *_src(sk))
    assert _code(c.get_model_version, name, "99") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.update_model_version, name, "99", description="x") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.delete_model_version, name, "99") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.set_model_version_tag, name, "99", "k", "v") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.get_model_version_download_uri, name, "99") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.get_model_version, name, "abc") == "INVALID_PARAMETER_VALUE"
    assert _code(c.get_model_version, _name("no-such-model"), "1") == "RESOURCE_DOES_NOT_EXIST"


def test_search_model_versions_filters_orders_and_pages(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    a, b = _name("smv-a"), _name("smv-b")
    c.create_registered_model(a)
    c.create_registered_model(b)
    for i in range(1, 6):
        c.create_model_version(a, *_src(sk, f"smv/{i}"), tags={"parity": "odd" if i % 2 else "even"})
    c.create_model_version(b, f"runs:/{sk.run_id}/model", sk.run_id)

    def versions(filter_string, **kw):
        return [(m.name, m.version) for m in c.search_model_versions(filter_string, **kw)]

    assert versions(f"name = '{a}'", order_by=["version_number ASC"]) == [(a, str(i)) for i in range(1, 6)]
    assert versions(f"name = '{a}'", order_by=["version_number DESC"]) == [(a, str(i)) for i in range(5, 0, -1)]
    assert versions(f"name = '{a}' AND tags.parity = 'odd'", order_by=["version_number ASC"]) == [
        (a, "1"),
        (a, "3"),
        (a, "5"),
    ]
    assert versions(f"name = '{a}' AND version_number > 3", order_by=["version_number ASC"]) == [(a, "4"), (a, "5")]
    assert versions(f"run_id = '{sk.run_id}' AND name = '{b}'") == [(b, "1")]
    two = _src(sk, "smv/2")[0]
    assert versions(f"name IN ('{a}', '{b}') AND source_path = '{two}'") == [(a, "2")]
    assert versions(f"name LIKE 'pytest-smv-%-{RUN}'", order_by=["name DESC", "version_number ASC"]) == [(b, "1")] + [
        (a, str(i)) for i in range(1, 6)
    ]

    pages, token = [], None
    while True:
        page = c.search_model_versions(f"name = '{a}'", max_results=2, order_by=["version_number ASC"], page_token=token)
        pages.append([m.version for m in page])
        token = page.token
        if not token:
            break
    assert pages == [["1", "2"], ["3", "4"], ["5"]]

    assert _code(c.search_model_versions, "description = 'x'") == "INVALID_PARAMETER_VALUE"
    assert _code(c.search_model_versions, f"name = '{a}'", order_by=["description ASC"]) == "INVALID_PARAMETER_VALUE"


def test_aliases_point_move_and_die_with_their_version(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("aliases")
    c.create_registered_model(name)
    for i in (1, 2, 3):
        c.create_model_version(name, *_src(sk, f"aliases/{i}"))

    c.set_registered_model_alias(name, "champion", "1")
    c.set_registered_model_alias(name, "challenger", "2")
    assert c.get_model_version_by_alias(name, "champion").version == "1"
    assert c.get_registered_model(name).aliases == {"champion": "1", "challenger": "2"}
    assert c.get_model_version(name, "1").aliases == ["champion"]

    c.set_registered_model_alias(name, "champion", "2")  # moving an alias
    assert c.get_model_version_by_alias(name, "champion").version == "2"
    assert sorted(c.get_model_version(name, "2").aliases) == ["challenger", "champion"]
    assert c.get_model_version(name, "1").aliases == []
    # `latest` is the highest live version.
    assert c.get_model_version_by_alias(name, "latest").version == "3"

    c.delete_registered_model_alias(name, "challenger")
    assert c.get_registered_model(name).aliases == {"champion": "2"}
    c.delete_registered_model_alias(name, "challenger")  # absent: a no-op
    # A missing alias is INVALID_PARAMETER_VALUE (not RESOURCE_DOES_NOT_EXIST) in MLflow.
    assert _code(c.get_model_version_by_alias, name, "challenger") == "INVALID_PARAMETER_VALUE"

    assert _code(c.set_registered_model_alias, name, "ghost", "99") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.set_registered_model_alias, _name("no-model"), "ghost", "1") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.set_registered_model_alias, name, "latest", "1") == "INVALID_PARAMETER_VALUE"
    assert _code(c.set_registered_model_alias, name, "v1", "1") == "INVALID_PARAMETER_VALUE"

    # Deleting a version deletes its aliases; a deleted version takes no alias.
    c.delete_model_version(name, "2")
    assert c.get_registered_model(name).aliases == {}
    assert _code(c.get_model_version_by_alias, name, "champion") == "INVALID_PARAMETER_VALUE"
    assert _code(c.set_registered_model_alias, name, "champion", "2") == "RESOURCE_DOES_NOT_EXIST"


def test_legacy_stages_transition_archive_and_latest_versions(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("stages")
    c.create_registered_model(name)
    for i in range(1, 5):
        c.create_model_version(name, *_src(sk, f"stages/{i}"))

    def latest(stages=None):
        return sorted((v.current_stage, v.version) for v in c.get_latest_versions(name, stages))

    assert latest() == [("None", "4")]
    assert c.transition_model_version_stage(name, "1", "Staging").current_stage == "Staging"
    assert c.transition_model_version_stage(name, "2", "production").current_stage == "Production"  # canonical case
    assert latest(["Production"]) == [("Production", "2")]
    assert latest(["staging", "production"]) == [("Production", "2"), ("Staging", "1")]
    assert latest() == [("None", "4"), ("Production", "2"), ("Staging", "1")]

    # Archiving the versions already in the target stage.
    c.transition_model_version_stage(name, "3", "Production", archive_existing_versions=True)
    assert c.get_model_version(name, "2").current_stage == "Archived"
    assert latest(["Production"]) == [("Production", "3")]
    assert latest(["Archived"]) == [("Archived", "2")]
    # Without archiving, two versions share the stage and the highest is the latest.
    c.transition_model_version_stage(name, "4", "Production")
    assert c.get_model_version(name, "3").current_stage == "Production"
    assert latest(["Production"]) == [("Production", "4")]

    assert _code(c.transition_model_version_stage, name, "1", "Bogus") == "INVALID_PARAMETER_VALUE"
    assert _code(c.transition_model_version_stage, name, "99", "Staging") == "RESOURCE_DOES_NOT_EXIST"
    assert c.get_model_version(name, "1").current_stage == "Staging"


def test_deleting_a_registered_model_deletes_its_versions_and_aliases(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("cascade")
    c.create_registered_model(name)
    for i in (1, 2):
        c.create_model_version(name, *_src(sk, f"cascade/{i}"))
    c.set_registered_model_alias(name, "prod", "2")
    c.delete_registered_model(name)
    assert _code(c.get_model_version, name, "1") == "RESOURCE_DOES_NOT_EXIST"
    assert _code(c.get_model_version_by_alias, name, "prod") == "RESOURCE_DOES_NOT_EXIST"
    assert c.search_model_versions(f"name = '{name}'") == []
    assert c.search_registered_models(filter_string=f"name = '{name}'") == []
    # The name is free again, and its versions start over at 1.
    c.create_registered_model(name)
    assert c.create_model_version(name, *_src(sk)).version == "1"
    assert c.get_registered_model(name).aliases == {}


def test_registered_model_names_round_trip_quotes_and_unicode_and_reject_slashes(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    accepted = [
        _name("it's \"quoted\""),
        _name("模型 ü 🚀"),
        _name("spaces and %_ wildcards"),
        _name("a+b&c=d?e#f"),
    ]
    for name in accepted:
        assert c.create_registered_model(name).name == name
        assert c.get_registered_model(name).name == name
        assert c.create_model_version(name, *_src(sk)).version == "1"
        assert c.get_model_version(name, "1").name == name
        c.set_registered_model_alias(name, "prod", "1")
        assert c.get_model_version_by_alias(name, "prod").name == name
    assert [m.name for m in c.search_registered_models(filter_string=f"name = '{_name('模型 ü 🚀')}'")] == [
        _name("模型 ü 🚀")
    ]
    for bad in ["a/b", "a:b", "../up", ".", "   "]:
        assert _code(c.create_registered_model, bad) == "INVALID_PARAMETER_VALUE", bad
    assert _code(c.rename_registered_model, accepted[0], "x/y") == "INVALID_PARAMETER_VALUE"
    assert c.get_registered_model(accepted[0]).name == accepted[0]


def test_model_version_sources_outside_the_store_are_rejected(tracking, sk):
    import mlflow
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("sources")
    c.create_registered_model(name)
    run_root = c.get_run(sk.run_id).info.artifact_uri  # mlflow-artifacts:/<exp>/<run>/artifacts
    rejected = [
        ("file:///etc", None),
        ("file:///etc", sk.run_id),  # a local path must lie inside the run's artifact directory
        ("/etc/passwd", sk.run_id),
        ("s3://bucket/models/../../other", None),  # relative path segments, whatever the scheme
        (f"runs:/{sk.run_id}/../../../etc", sk.run_id),
        (f"runs:/{sk.run_id}/model", None),  # a runs:/ source needs its run_id...
        (f"runs:/{sk.run_id}/model", uuid.uuid4().hex),  # ...and the same run
        (f"{run_root}/model", None),  # an mlflow-artifacts:/ source needs the run that holds it
        ("mlflow-artifacts:/0/elsewhere/model", sk.run_id),  # ...and to lie inside its artifacts
        (f"{run_root}/../../other-run/artifacts", sk.run_id),
    ]
    for source, run_id in rejected:
        assert _code(c.create_model_version, name, source, run_id) == "INVALID_PARAMETER_VALUE", (source, run_id)
    assert c.search_model_versions(f"name = '{name}'") == []
    # In-store sources: a run's artifacts, or a logged model's files with its model id.
    mv = c.create_model_version(name, f"{run_root}/model", sk.run_id)
    assert (mv.version, mv.source, mv.run_id) == ("1", f"{run_root}/model", sk.run_id)
    assert c.get_model_version_download_uri(name, "1") == f"{run_root}/model"
    lm = mlflow.get_logged_model(sk.model_id)
    mv = c.create_model_version(name, lm.artifact_location, model_id=sk.model_id)
    assert (mv.version, mv.source) == ("2", lm.artifact_location)
    assert c.get_model_version_download_uri(name, "2") == lm.artifact_location


def test_model_version_source_on_remote_storage_is_taken_as_is(tracking):
    """MLflow accepts a source it cannot check (an object-store URI) and stores it unchanged."""
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("remote-source")
    c.create_registered_model(name)
    mv = c.create_model_version(name, "s3://bucket/sources/model")
    assert (mv.version, mv.source, mv.status) == ("1", "s3://bucket/sources/model", "READY")
    assert c.get_model_version_download_uri(name, "1") == "s3://bucket/sources/model"


def test_100_concurrent_registrations_get_versions_1_to_100(tracking, sk):
    from mlflow import MlflowClient

    c = MlflowClient()
    name = _name("concurrent")
    c.create_registered_model(name)
    source = f"runs:/{sk.run_id}/model"
    with ThreadPoolExecutor(max_workers=16) as pool:
        made = list(pool.map(lambda _: c.create_model_version(name, source, sk.run_id), range(100)))
    assert sorted(int(m.version) for m in made) == list(range(1, 101))
    listed = [m.version for m in c.search_model_versions(f"name = '{name}'", order_by=["version_number ASC"], max_results=200)]
    assert listed == [str(i) for i in range(1, 101)]
    assert [v.version for v in c.get_registered_model(name).latest_versions] == ["100"]
