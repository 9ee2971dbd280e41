"""The official MLflow client, unchanged, against `trackbench serve`: a complete tracking
script, then the same data read back through mlflow and through `trackbench runs show`."""

import json
import math

import pytest


def test_complete_tracking_script(tracking, tmp_path):
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import Dataset, DatasetInput, InputTag, ViewType
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    exp_id = mlflow.set_experiment("pytest-mlflow").experiment_id

    notes = tmp_path / "notes.txt"
    notes.write_text("hello from mlflow\n")
    weights = tmp_path / "weights.bin"
    weights.write_bytes(bytes(range(256)) * 64)

    with mlflow.start_run(run_name="first") as run:
        rid = run.info.run_id
        mlflow.log_param("lr", 0.01)
        mlflow.log_params({"optimizer": "adam", "layers": 3})
        mlflow.log_param("lr", 0.01)  # the same value again is fine
        with pytest.raises(MlflowException) as err:
            mlflow.log_param("lr", 0.02)
        assert err.value.error_code == "INVALID_PARAMETER_VALUE"
        mlflow.log_metric("loss", 1.5)
        for step in range(10):
            mlflow.log_metric("acc", step / 10, step=step)
        mlflow.log_metrics({"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf")}, step=1)
        mlflow.set_tag("stage", "dev")
        mlflow.set_tags({"a": "1", "b": "2"})
        mlflow.log_artifact(str(notes))
        mlflow.log_artifact(str(weights), artifact_path="model")
        mlflow.log_text("some text", "text/readme.txt")
        mlflow.log_dict({"layers": [64, 32]}, "config.json")
        dataset = Dataset(name="train", digest="d1g3st", source_type="local", source='{"uri": "train.csv"}')
        client.log_inputs(rid, [DatasetInput(dataset, tags=[InputTag("mlflow.data.context", "training")])])

    with mlflow.start_run(run_name="second") as run2:
        rid2 = run2.info.run_id
        mlflow.log_param("lr", "0.1")
        mlflow.log_metric("acc", 0.95, step=3)

    # Resuming a finished run puts it back to RUNNING until it ends again.
    with mlflow.start_run(run_id=rid):
        assert client.get_run(rid).info.status == "RUNNING"
        mlflow.log_metric("resumed", 1.0)

    # Read back through mlflow.
    r = client.get_run(rid)
    assert r.info.run_name == "first"
    assert r.info.status == "FINISHED"
    assert r.info.experiment_id == exp_id
    assert r.info.end_time is not None and r.info.end_time >= r.info.start_time
    assert r.info.artifact_uri == f"mlflow-artifacts:/{exp_id}/{rid}/artifacts"
    assert r.data.params == {"lr": "0.01", "optimizer": "adam", "layers": "3"}
    assert r.data.metrics["acc"] == pytest.approx(0.9)
    assert r.data.metrics["loss"] == 1.5 and r.data.metrics["resumed"] == 1.0
    assert math.isnan(r.data.metrics["nan"])
    assert r.data.metrics["inf"] == math.inf and r.data.metrics["ninf"] == -math.inf
    assert r.data.tags["stage"] == "dev" and r.data.tags["a"] == "1"
    assert r.data.tags["mlflow.runName"] == "first"
    assert [d.dataset.name for d in r.inputs.dataset_inputs] == ["train"]
    assert r.inputs.dataset_inputs[0].tags[0].value == "training"

    hist = client.get_metric_history(rid, "acc")
    assert [m.step for m in hist] == list(range(10))
    assert [m.value for m in hist] == pytest.approx([s / 10 for s in range(10)])
    assert math.isnan(client.get_metric_history(rid, "nan")[0].value)

    top = sorted((f.path, f.is_dir) for f in client.list_artifacts(rid))
    assert top == [("config.json", False), ("model", True), ("notes.txt", False), ("text", True)]
    assert mlflow.artifacts.load_dict(f"runs:/{rid}/config.json") == {"layers": [64, 32]}
    assert mlflow.artifacts.load_text(f"{r.info.artifact_uri}/text/readme.txt") == "some text"
    inner = client.list_artifacts(rid, "model")
    assert [(f.path, f.file_size) for f in inner] == [("model/weights.bin", 256 * 64)]
    got = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="notes.txt", dst_path=str(tmp_path / "dl"))
    assert open(got).read() == "hello from mlflow\n"
    got = mlflow.artifacts.download_artifacts(run_id=rid, artifact_path="model", dst_path=str(tmp_path / "dl2"))
    assert open(f"{got}/weights.bin", "rb").read() == weights.read_bytes()

    # Search: filter strings, order_by, view types.
    found = client.search_runs([exp_id], filter_string="params.lr = '0.01'")
    assert [x.info.run_id for x in found] == [rid]
    found = client.search_runs([exp_id], filter_string="metrics.acc > 0.92")
    assert [x.info.run_id for x in found] == [rid2]
    found = client.search_runs([exp_id], order_by=["metrics.acc DESC"])
    assert [x.info.run_id for x in found] == [rid2, rid]
    found = client.search_runs([exp_id], filter_string="attributes.status = 'FINISHED' and tags.stage = 'dev'")
    assert [x.info.run_id for x in found] == [rid]
    found = client.search_runs([exp_id], filter_string=f"attributes.user_id = '{r.info.user_id}'")
    assert {x.info.run_id for x in found} == {rid, rid2}
    found = mlflow.search_runs([exp_id], filter_string="attributes.run_name = 'second'", output_format="list")
    assert [x.info.run_id for x in found] == [rid2]
    page = client.search_runs([exp_id], max_results=1)
    assert len(page) == 1 and page.token
    rest = client.search_runs([exp_id], max_results=1, page_token=page.token)
    assert {page[0].info.run_id, rest[0].info.run_id} == {rid, rid2}

    client.delete_run(rid2)
    assert client.get_run(rid2).info.lifecycle_stage == "deleted"
    assert [x.info.run_id for x in client.search_runs([exp_id])] == [rid]
    deleted = client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
    assert [x.info.run_id for x in deleted] == [rid2]
    client.restore_run(rid2)
    assert len(client.search_runs([exp_id])) == 2

    with pytest.raises(MlflowException) as err:
        client.get_run("no-such-run")
    assert err.value.error_code == "RESOURCE_DOES_NOT_EXIST"

    # Read back through the trackbench CLI.
    shown = json.loads(tracking.cli("runs", "show", rid, "--json"))
    shown = shown.get("run", shown)
    assert shown["name"] == "first" and shown["status"] == "finished"
    assert shown["params"] == {"lr": "0.01", "optimizer": "adam", "layers": "3"}
    assert shown["tags"]["stage"] == "dev"
    assert shown["metrics"]["acc"]["count"] == 10
    assert shown["metrics"]["acc"]["last"] == pytest.approx(0.9)
    assert shown["metrics"]["nan"]["last"] == "NaN"

def test_experiments(tracking):
    import mlflow
    from mlflow import MlflowClient
    from mlflow.entities import ViewType
    from mlflow.exceptions import MlflowException

    client = MlflowClient()
    eid = client.create_experiment("pytest-exp-a", tags={"team": "vision"})
    with pytest.raises(MlflowException) as err:
        client.create_experiment("pytest-exp-a")
    assert err.value.error_code == "RESOURCE_ALREADY_EXISTS"
    e = client.get_experiment(eid)
    assert e.name == "pytest-exp-a" and e.tags["team"] == "vision" and e.lifecycle_stage == "active"
    assert e.artifact_location == f"mlflow-artifacts:/{eid}"
    assert client.get_experiment_by_name("pytest-exp-a").experiment_id == eid
    assert client.get_experiment_by_name("no-such-experiment") is None
    assert client.get_experiment("0").name == "Default"

    client.rename_experiment(eid, "pytest-exp-b")
    client.set_experiment_tag(eid, "owner", "me")
    e = client.get_experiment(eid)
    assert e.name == "pytest-exp-b" and e.tags["owner"] == "me"

    names = [x.name for x in client.search_experiments(filter_string="name LIKE 'pytest-exp%'")]
    assert names == ["pytest-exp-b"]
    client.delete_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "deleted"
    assert "pytest-exp-b" not in [x.name for x in client.search_experiments()]
    deleted = client.search_experiments(view_type=ViewType.DELETED_ONLY)
    assert [x.experiment_id for x in deleted] == [eid]
    client.restore_experiment(eid)
    assert client.get_experiment(eid).lifecycle_stage == "active"
