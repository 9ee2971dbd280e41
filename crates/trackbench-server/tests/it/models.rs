//! Models through the native API (the registry for the UI, promoting an A/B's winner) and the
//! MLflow registry's refusals, on the router in this process. The official client's own use
//! of logged models and the registry is tested in `tests/python/test_models.py`.

use serde_json::{Value, json};

use crate::util::{Api, App};

/// A finished run in `group` whose last `acc` is `value`.
fn run(app: &App, group: &str, value: f64) -> String {
    let (st, r) = app.post("/api/v1/runs", &json!({"project": "p", "group": group}).to_string());
    assert_eq!(st, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    let batch = json!({"series": [{"key": "acc", "steps": [0], "wall_ms": [1], "values": [value]}]});
    assert_eq!(app.post(&format!("/api/v1/runs/{id}/batch"), &batch.to_string()).0, 200);
    assert_eq!(app.post(&format!("/api/v1/runs/{id}/finish"), r#"{"status":"finished"}"#).0, 200);
    id
}

fn ab(app: &App, a: &str, b: &str) -> Value {
    let body = json!({"metric": "acc", "goal": "max", "from_groups": [a, b]});
    let (st, out) = app.post("/api/v1/ab", &body.to_string());
    assert_eq!(st, 201, "{out}");
    out["ab"].clone()
}

#[test]
fn an_ab_winner_is_promoted_and_listed_with_its_ab() {
    let app = App::new();
    for v in [0.50, 0.52, 0.51] {
        run(&app, "base", v);
    }
    let best = [0.90, 0.94, 0.92].map(|v| run(&app, "cand", v))[1].clone();
    let won = ab(&app, "base", "cand");
    let id = won["id"].as_str().unwrap();
    let (st, p) = app.post(&format!("/api/v1/ab/{id}/promote"), r#"{"name":"clf","alias":"champion"}"#);
    assert_eq!(st, 200, "{p}");
    assert_eq!((p["version"]["version"].as_i64(), p["run"].as_str()), (Some(1), Some(best.as_str())), "{p}");

    let (_, list) = app.get("/api/v1/models");
    assert_eq!(list["models"][0]["name"], "clf");
    assert_eq!(
        (list["models"][0]["versions"].as_u64(), list["models"][0]["latest_version"].as_i64()),
        (Some(1), Some(1))
    );
    let (st, d) = app.get("/api/v1/models/clf");
    assert_eq!(st, 200, "{d}");
    let v = &d["versions"][0];
    assert_eq!((v["ab_id"].as_str(), v["run_info"]["id"].as_str()), (Some(id), Some(best.as_str())), "{d}");
    assert_eq!(v["aliases"], json!(["champion"]));
    assert_eq!(d["model"]["aliases"]["champion"], 1);

    // A is better the other way round: refused unless forced.
    let lost = ab(&app, "cand", "base");
    let lost_id = lost["id"].as_str().unwrap();
    let (st, e) = app.post(&format!("/api/v1/ab/{lost_id}/promote"), r#"{"name":"clf"}"#);
    assert_eq!(st, 400, "{e}");
    assert!(e["message"].as_str().unwrap().contains("not that B is better"), "{e}");
    assert_eq!(app.get("/api/v1/models/clf").1["versions"].as_array().unwrap().len(), 1, "nothing registered");
    let (st, f) = app.post(&format!("/api/v1/ab/{lost_id}/promote"), r#"{"name":"clf","force":true}"#);
    assert_eq!((st, &f["forced"]), (200, &json!(true)), "{f}");
    assert_eq!(app.get("/api/v1/models/nope").0, 404);
    assert_eq!(app.post("/api/v1/ab/nosuchab/promote", r#"{"name":"clf"}"#).0, 404);
}

#[test]
fn the_mlflow_registry_refuses_local_sources_and_bad_names() {
    let app = App::new();
    let rid = run(&app, "g", 0.5);
    let mlflow = |path: &str| format!("/api/2.0/mlflow/{path}");
    assert_eq!(app.post(&mlflow("registered-models/create"), r#"{"name":"m"}"#).0, 200);
    let (st, e) = app.post(&mlflow("registered-models/create"), r#"{"name":"m"}"#);
    assert_eq!((st, e["error_code"].as_str()), (400, Some("RESOURCE_ALREADY_EXISTS")), "{e}");
    for name in ["a/b", "a:b", ""] {
        let (st, e) = app.post(&mlflow("registered-models/create"), &json!({ "name": name }).to_string());
        assert_eq!((st, e["error_code"].as_str()), (400, Some("INVALID_PARAMETER_VALUE")), "{name:?}: {e}");
    }
    for source in ["file:///etc", "/etc/passwd", "runs:/nosuchrun/model", "models:/m-nope", "http://evil/x"] {
        let body = json!({ "name": "m", "source": source });
        let (st, e) = app.post(&mlflow("model-versions/create"), &body.to_string());
        assert!(st == 400 || st == 404, "{source}: {st} {e}");
    }
    for source in [format!("runs:/{rid}/../../etc"), format!("runs:/{rid}/a/..")] {
        let body = json!({ "name": "m", "source": source, "run_id": rid });
        let (st, e) = app.post(&mlflow("model-versions/create"), &body.to_string());
        assert_eq!((st, e["error_code"].as_str()), (400, Some("INVALID_PARAMETER_VALUE")), "{source}: {e}");
    }
    let other = json!({ "name": "m", "source": format!("runs:/{rid}/model"), "run_id": "someotherrun" });
    assert_eq!(app.post(&mlflow("model-versions/create"), &other.to_string()).0, 400);
    let body = json!({ "name": "m", "source": format!("runs:/{rid}/model") });
    assert_eq!(app.post(&mlflow("model-versions/create"), &body.to_string()).0, 400, "a runs:/ source needs run_id");
    let body = json!({ "name": "m", "source": format!("runs:/{rid}/model"), "run_id": rid });
    let (st, v) = app.post(&mlflow("model-versions/create"), &body.to_string());
    assert_eq!((st, v["model_version"]["version"].as_str()), (200, Some("1")), "{v}");
    // A remote object store is taken as is (the client reads it with its own credentials).
    let (st, v) = app.post(&mlflow("model-versions/create"), r#"{"name":"m","source":"s3://bucket/m"}"#);
    assert_eq!((st, v["model_version"]["source"].as_str()), (200, Some("s3://bucket/m")), "{v}");
    let (st, e) =
        app.post(&mlflow("model-versions/create"), &json!({"name": "nope", "source": "models:/x"}).to_string());
    assert_eq!((st, e["error_code"].as_str()), (404, Some("RESOURCE_DOES_NOT_EXIST")), "{e}");
    for alias in ["latest", "v1", "a b"] {
        let body = json!({ "name": "m", "alias": alias, "version": "1" });
        assert_eq!(app.post(&mlflow("registered-models/alias"), &body.to_string()).0, 400, "{alias}");
    }
    let (st, u) = app.get(&mlflow("model-versions/get-download-uri?name=m&version=1"));
    assert_eq!(st, 200, "{u}");
    assert!(u["artifact_uri"].as_str().unwrap().ends_with(&format!("/{rid}/artifacts/model")), "{u}");
}
