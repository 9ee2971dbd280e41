//! Odd but possible input answered cleanly: run ids with multibyte characters, paging values
//! at the integer limits, write requests whose body is not declared JSON, and artifacts that a
//! browser would run (served as downloads).

use serde_json::{Value, json};

use crate::util::{Api, Server, read};

fn status_of(s: &Server, path: &str) -> (u16, Value) {
    let (st, v) = s.get(path);
    assert_ne!(st, 500, "{path}: {v}");
    (st, v)
}

#[test]
fn a_report_of_a_run_with_a_multibyte_id_is_answered() {
    let s = Server::start();
    // The 8th byte falls inside the 4th `é`.
    let id = "aéééééé";
    let (st, v) = s.post("/api/v1/runs", &json!({"id": id, "project": "p"}).to_string());
    assert_eq!(st, 201, "{v}");
    let batch = json!({"series": [{"key": "loss", "steps": [0, 1], "wall_ms": [1, 2], "values": [1.0, 0.5]}]});
    assert_eq!(s.post(&format!("/api/v1/runs/{}/batch", enc(id)), &batch.to_string()).0, 200);
    let resp = s
        .agent
        .get(s.url(&format!("/api/v1/report?runs={}&format=csv", enc(id))))
        .header("Authorization", format!("Bearer {}", s.token))
        .call()
        .expect("an answer, not a dropped connection");
    assert_eq!(resp.status().as_u16(), 200);
    let disposition = resp.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
    assert_eq!(disposition, "attachment; filename=\"trackbench-report-a.csv\"");
    // A multibyte id that names no run is a clean 4xx.
    let (st, v) = status_of(&s, &format!("/api/v1/report?runs={}", enc("ééééé")));
    assert!((400..500).contains(&st), "{st} {v}");
    assert_eq!(s.get("/api/v1/health").0, 200);
}

/// Percent-encodes every byte outside unreserved ASCII.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[test]
fn paging_values_at_the_integer_limits_are_refused_or_empty() {
    let s = Server::start();
    let id = s.create_run("p", "r");
    let batch = json!({"series": [{"key": "m", "steps": [0, 1, 2], "wall_ms": [1, 2, 3], "values": [1.0, 2.0, 3.0]}]});
    assert_eq!(s.post(&format!("/api/v1/runs/{id}/batch"), &batch.to_string()).0, 200);
    for token in ["18446744073709551615", "9223372036854775807", "99999999999999999999999"] {
        let (st, v) =
            s.post("/api/2.0/mlflow/runs/search", &json!({"experiment_ids": ["0"], "page_token": token}).to_string());
        assert_eq!((st, v["error_code"].as_str()), (400, Some("INVALID_PARAMETER_VALUE")), "runs/search {token}: {v}");
        let (st, v) = status_of(&s, &format!("/api/2.0/mlflow/experiments/search?page_token={token}"));
        assert_eq!((st, v["error_code"].as_str()), (400, Some("INVALID_PARAMETER_VALUE")), "{v}");
        let history =
            format!("/api/2.0/mlflow/metrics/get-history?run_id={id}&metric_key=m&max_results=2&page_token={token}");
        let (st, v) = status_of(&s, &history);
        assert_eq!((st, v["error_code"].as_str()), (400, Some("INVALID_PARAMETER_VALUE")), "{v}");
        let (st, v) = status_of(&s, &format!("/api/v1/runs?offset={token}"));
        assert_eq!(st, 400, "{v}");
    }
    // Paging still works.
    let (st, v) = status_of(&s, &format!("/api/2.0/mlflow/metrics/get-history?run_id={id}&metric_key=m&max_results=2"));
    assert_eq!((st, v["next_page_token"].as_str()), (200, Some("2")), "{v}");
    // Nothing comes after the largest step.
    let (st, v) = status_of(&s, &format!("/api/v1/runs/{id}/series?key=m&since={}", i64::MAX));
    assert_eq!((st, &v["points"]["steps"]), (200, &json!([])), "{v}");
    let (st, v) = status_of(&s, &format!("/api/v1/runs/{id}/series?key=m&since={}", i64::MIN));
    assert_eq!((st, &v["points"]["steps"]), (200, &json!([0, 1, 2])), "{v}");
    let (st, _) = status_of(&s, &format!("/api/v1/runs/{id}/series?key=m&x=relative&max_points={}", u64::MAX));
    assert_eq!(st, 200);
}

#[test]
fn writes_whose_body_is_not_json_are_refused_with_415() {
    let s = Server::start();
    let id = s.create_run("p", "before");
    let auth = format!("Bearer {}", s.token);
    let send = |method: &str, path: &str, content_type: Option<&str>, body: &str| {
        let url = s.url(path);
        let req = match method {
            "POST" => s.agent.post(&url),
            "PATCH" => s.agent.patch(&url),
            other => panic!("{other}"),
        };
        let req = req.header("Authorization", &auth);
        let req = match content_type {
            Some(ct) => req.header("Content-Type", ct),
            None => req,
        };
        read(req.send(body).expect(method))
    };
    let refused = [
        ("POST", "/api/v1/runs".to_string(), Some("application/x-www-form-urlencoded"), "project=evil"),
        ("POST", "/api/v1/runs".to_string(), Some("text/plain"), r#"{"project":"evil"}"#),
        ("POST", "/api/v1/runs".to_string(), None, r#"{"project":"evil"}"#),
        ("PATCH", format!("/api/v1/runs/{id}"), Some("text/plain"), r#"{"name":"evil"}"#),
        ("POST", format!("/api/v1/runs/{id}/finish"), Some("multipart/form-data; boundary=x"), "--x--"),
        ("POST", format!("/api/v1/runs/{id}/restore"), Some("text/plain"), ""),
        ("POST", "/api/2.0/mlflow/runs/create".to_string(), Some("text/plain"), r#"{"experiment_id":"0"}"#),
        ("POST", "/api/2.0/mlflow/experiments/create".to_string(), Some("text/plain"), r#"{"name":"evil"}"#),
    ];
    for (method, path, ct, body) in &refused {
        let (st, v) = send(method, path, *ct, body);
        assert_eq!(st, 415, "{method} {path} {ct:?}: {v}");
        assert!(v["message"].as_str().unwrap().contains("application/json"), "{v}");
    }
    let (_, runs) = s.get("/api/v1/runs");
    assert_eq!(runs["runs"].as_array().unwrap().len(), 1, "nothing was created: {runs}");
    assert_eq!(runs["runs"][0]["name"], "before");
    assert_eq!(s.get("/api/2.0/mlflow/experiments/get-by-name?experiment_name=evil").0, 404);
    // JSON with a charset is JSON; a bodyless write needs no type; uploads take any type.
    let (st, v) =
        send("PATCH", &format!("/api/v1/runs/{id}"), Some("application/json; charset=utf-8"), r#"{"name":"after"}"#);
    assert_eq!((st, v["name"].as_str()), (200, Some("after")), "{v}");
    let (st, _) = send("POST", &format!("/api/v1/runs/{id}/resume"), None, "");
    assert_eq!(st, 200);
    let upload = s
        .agent
        .put(s.url(&format!("/api/v1/runs/{id}/artifacts/form.txt")))
        .header("Authorization", &auth)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send("a=1")
        .unwrap();
    assert_eq!(upload.status().as_u16(), 201);
}

#[test]
fn active_artifacts_are_served_as_downloads() {
    let s = Server::start();
    let id = s.create_run("p", "r");
    let files: [(&str, &[u8]); 4] = [
        ("page.html", b"<script>alert(1)</script>"),
        ("plot.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
        ("img.png", b"\x89PNG\r\n\x1a\n"),
        ("notes.txt", b"plain"),
    ];
    for (name, bytes) in files {
        assert_eq!(s.send("PUT", &format!("/api/v1/runs/{id}/artifacts/{name}"), bytes).0, 201, "{name}");
    }
    let get = |path: &str| {
        s.agent.get(s.url(path)).header("Authorization", format!("Bearer {}", s.token)).call().expect("GET")
    };
    let header =
        |r: &ureq::http::Response<ureq::Body>, h: &str| r.headers().get(h).map(|v| v.to_str().unwrap().to_string());
    for (name, attachment) in [("page.html", true), ("plot.svg", true), ("img.png", false), ("notes.txt", false)] {
        let r = get(&format!("/api/v1/runs/{id}/artifacts/{name}"));
        assert_eq!(r.status().as_u16(), 200, "{name}");
        let want = attachment.then(|| format!("attachment; filename=\"{name}\""));
        assert_eq!(header(&r, "content-disposition"), want, "{name}");
        assert_eq!(header(&r, "x-content-type-options").as_deref(), Some("nosniff"), "{name}");
        assert_eq!(header(&r, "content-security-policy").as_deref(), Some("sandbox"), "{name}");
    }
    // The same through the MLflow artifacts proxy.
    let (st, run) = s.post("/api/2.0/mlflow/runs/create", r#"{"experiment_id":"0"}"#);
    assert_eq!(st, 200, "{run}");
    let run_id = run["run"]["info"]["run_id"].as_str().unwrap().to_string();
    let proxy = format!("/api/2.0/mlflow-artifacts/artifacts/0/{run_id}/artifacts/page.html");
    let put = s.agent.put(s.url(&proxy)).header("Authorization", format!("Bearer {}", s.token)).send("<b>hi</b>");
    assert_eq!(put.unwrap().status().as_u16(), 200);
    let r = get(&proxy);
    assert_eq!(header(&r, "content-disposition").as_deref(), Some("attachment; filename=\"page.html\""));
    assert_eq!(header(&r, "x-content-type-options").as_deref(), Some("nosniff"));
}
