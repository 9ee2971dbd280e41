//! The guard and bad input: missing/wrong tokens, foreign Host, cross-site Origin, artifact
//! path traversal, oversized and malformed bodies, unknown runs. None changes stored data.

use serde_json::Value;

use crate::util::{Api, Server, read};

/// Everything a client could see of the store, to compare before and after an attack.
fn snapshot(s: &Server) -> Value {
    let (_, runs) = s.get("/api/v1/runs?include_deleted=true&columns=params.*,metrics.*,tags.*");
    let mut runs = runs;
    for r in runs["runs"].as_array_mut().unwrap() {
        // A refused request may not change data; a heartbeat is not data.
        r.as_object_mut().unwrap().remove("heartbeat_ms");
    }
    let mut all = vec![runs];
    for r in all[0]["runs"].as_array().unwrap().clone() {
        let id = r["id"].as_str().unwrap();
        all.push(s.get(&format!("/api/v1/runs/{id}/artifacts")).1);
    }
    Value::Array(all)
}

fn seeded() -> (Server, String) {
    let s = Server::start_with(&["--max-body-mib", "1"]);
    let id = s.create_run("p", "victim");
    s.post(
        &format!("/api/v1/runs/{id}/batch"),
        r#"{"series":[{"key":"x","steps":[0],"wall_ms":[0],"values":[1]}],"params":[["lr",1]]}"#,
    );
    s.send("PUT", &format!("/api/v1/runs/{id}/artifacts/a.txt"), b"safe");
    (s, id)
}

#[test]
fn tokens_are_required_and_checked() {
    let (s, id) = seeded();
    let before = snapshot(&s);
    let url = s.url(&format!("/api/v1/runs/{id}/batch"));
    let body = r#"{"params":[["evil",1]]}"#;
    let (st, e) = read(s.agent.post(&url).send(body).unwrap());
    assert_eq!((st, e["error_code"].as_str()), (401, Some("UNAUTHENTICATED")));
    let (st, _) = read(s.agent.post(&url).header("Authorization", "Bearer wrong").send(body).unwrap());
    assert_eq!(st, 401);
    let (st, _) = read(s.agent.get(s.url("/api/v1/runs")).header("Authorization", "Bearer ").call().unwrap());
    assert_eq!(st, 401);
    let (st, _) = read(s.agent.get(s.url("/api/2.0/mlflow/experiments/search")).call().unwrap());
    assert_eq!(st, 401, "the MLflow API is guarded too");
    assert_eq!(read(s.agent.get(s.url("/api/v1/health")).call().unwrap()).0, 200, "health needs no token");
    assert_eq!(snapshot(&s), before);
}

#[test]
fn the_login_url_sets_a_cookie_that_works() {
    let (s, _) = seeded();
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).max_redirects(0).build().into();
    let resp = agent.get(s.url(&format!("/?token={}", s.token))).call().unwrap();
    assert_eq!(resp.status(), 303);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap();
    let (st, _) = read(agent.get(s.url("/api/v1/runs")).header("Cookie", pair).call().unwrap());
    assert_eq!(st, 200);
    let resp = agent.get(s.url("/?token=wrong")).call().unwrap();
    assert_eq!(resp.status(), 200, "a wrong token in the URL serves the (public) page…");
    assert!(resp.headers().get("set-cookie").is_none(), "…and sets nothing");
}

#[test]
fn foreign_hosts_and_cross_site_origins_are_refused() {
    let (s, id) = seeded();
    let before = snapshot(&s);
    let auth = format!("Bearer {}", s.token);
    let (st, e) = read(
        s.agent
            .get(s.url("/api/v1/runs"))
            .header("Authorization", &auth)
            .header("Host", "evil.example:80")
            .call()
            .unwrap(),
    );
    assert_eq!(st, 403, "DNS rebinding: {e}");
    let url = s.url(&format!("/api/v1/runs/{id}/batch"));
    let body = r#"{"params":[["evil",1]]}"#;
    let (st, e) = read(
        s.agent.post(&url).header("Authorization", &auth).header("Origin", "http://evil.example").send(body).unwrap(),
    );
    assert_eq!(st, 403, "CSRF: {e}");
    assert!(e["message"].as_str().unwrap().contains("cross-site"));
    let (st, _) = read(
        s.agent
            .delete(s.url(&format!("/api/v1/runs/{id}")))
            .header("Authorization", &auth)
            .header("Origin", "null")
            .call()
            .unwrap(),
    );
    assert_eq!(st, 403);
    assert_eq!(snapshot(&s), before);
    // The same origin (the UI) may write.
    let origin = s.base.clone();
    let (st, _) = read(
        s.agent
            .post(&url)
            .header("Authorization", &auth)
            .header("Origin", &origin)
            .header("Content-Type", "application/json")
            .send(r#"{"tags":[["ok","1"]]}"#)
            .unwrap(),
    );
    assert_eq!(st, 200);
}

#[test]
fn artifact_paths_cannot_escape_the_store() {
    let (s, id) = seeded();
    let before = snapshot(&s);
    for bad in [
        "..%2F..%2Fescape.txt",
        "a/%2E%2E/%2E%2E/%2E%2E/escape.txt",
        "%2Fetc%2Fescape.txt",
        "nul%00.txt",
        "a%5C..%5Cescape.txt",
    ] {
        let (st, e) = s.send("PUT", &format!("/api/v1/runs/{id}/artifacts/{bad}"), b"pwned");
        assert!(st == 400 || st == 404, "{bad}: {st} {e}");
    }
    let outside: Vec<_> = walk(s.dir.path()).into_iter().filter(|p| !p.starts_with(s.store_dir())).collect();
    assert!(outside.is_empty(), "files written outside the store: {outside:?}");
    let any_escape =
        walk(s.dir.path()).iter().any(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains("escape")));
    assert!(!any_escape);
    assert_eq!(snapshot(&s), before);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn oversized_malformed_and_misdirected_requests() {
    let (s, id) = seeded();
    let before = snapshot(&s);
    let big = format!(r#"{{"params":[["k","{}"]]}}"#, "x".repeat(2 << 20));
    let (st, e) = s.post(&format!("/api/v1/runs/{id}/batch"), &big);
    assert_eq!(st, 413, "{e}");
    let (st, e) = s.post(&format!("/api/v1/runs/{id}/batch"), r#"{"series": [ {"key": 5 "#);
    assert_eq!(st, 400);
    assert!(e["message"].as_str().unwrap().contains("malformed JSON"), "{e}");
    let (st, e) = s.post(
        &format!("/api/v1/runs/{id}/batch"),
        r#"{"series":[{"key":"x","steps":["a"],"wall_ms":[1],"values":[1]}]}"#,
    );
    assert_eq!(st, 400, "wrong types: {e}");
    let (st, _) = s.send("POST", &format!("/api/v1/runs/{id}/batch"), &[0xff, 0xfe, b'{']);
    assert_eq!(st, 400, "invalid UTF-8");
    let (st, e) = s.post("/api/v1/runs/nosuchrun0000000/batch", r#"{"params":[["a",1]]}"#);
    assert_eq!((st, e["error_code"].as_str()), (404, Some("RESOURCE_DOES_NOT_EXIST")));
    assert_eq!(s.get("/api/v1/runs/nosuchrun0000000").0, 404);
    let long_key = format!(r#"{{"series":[{{"key":"{}","steps":[1],"wall_ms":[1],"values":[1]}}]}}"#, "k".repeat(5000));
    let (st, report) = s.post(&format!("/api/v1/runs/{id}/batch"), &long_key);
    assert_eq!(st, 200);
    assert_eq!(report["rejected"][0]["what"], "metric", "a huge key is refused in the report: {report}");
    assert_eq!(snapshot(&s), before);
}

#[test]
fn a_readonly_server_refuses_every_write_and_still_reads() {
    let s = Server::start_with(&["--readonly"]);
    let (st, e) = s.post("/api/v1/runs", r#"{"project":"p"}"#);
    assert_eq!((st, e["error_code"].as_str()), (403, Some("PERMISSION_DENIED")), "{e}");
    assert!(e["message"].as_str().unwrap().contains("read-only"), "{e}");
    let (st, _) = s.post("/api/2.0/mlflow/experiments/create", r#"{"name":"x"}"#);
    assert_eq!(st, 403, "the MLflow API's writes too");
    let (st, _) = s.send("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/r/artifacts/a.txt", b"x");
    assert_eq!(st, 403, "and artifact uploads");
    // Reads answer, searches sent as POST included.
    assert_eq!(s.get("/api/v1/runs").0, 200);
    let (st, body) = s.post("/api/2.0/mlflow/runs/search", r#"{"experiment_ids":["0"]}"#);
    assert_eq!(st, 200, "{body}");
    let (st, health) = s.get("/api/v1/health");
    assert_eq!((st, health["readonly"].as_bool()), (200, Some(true)), "{health}");
    assert!(s.get("/api/v1/projects").1["projects"].as_array().unwrap().is_empty(), "nothing was written");
}

#[test]
fn health_says_what_it_checked_only_to_the_token_holder() {
    let s = Server::start();
    let (st, with) = s.get("/api/v1/health");
    assert_eq!(st, 200, "{with}");
    assert_eq!((with["ok"].as_bool(), with["store"]["ok"].as_bool()), (Some(true), Some(true)), "{with}");
    assert!(with["store"]["what"].as_str().unwrap().starts_with("SQLite "), "{with}");
    let without = read(s.agent.get(s.url("/api/v1/health")).call().unwrap()).1;
    assert_eq!(without["store"], serde_json::json!({ "ok": true }), "no details without the token: {without}");
    assert_eq!(without["artifacts"], serde_json::json!({ "ok": true }), "{without}");
}
