//! Dashboard replicas and load balancers: a `--readonly` replica serves every read of the
//! shared store (live events included) and refuses every write; `/api/v1/health` says whether
//! the replica reaches its database and its artifact store, 503 when either fails.

use std::time::{Duration, Instant};

use crate::util::{Replica, Team, batch_json, serve_command};

/// A request that writes: method, path, body, headers.
type Write<'a> = (&'a str, String, Vec<u8>, &'a [(&'a str, &'a str)]);

#[test]
fn a_readonly_replica_serves_reads_and_refuses_every_write() {
    let Some(team) = Team::new("readonly") else { return };
    let a = team.replica(&[]);
    let r = team.replica(&["--readonly"]);
    let live = r.events("project=dash");
    let run = a.create_run("dash", "seen-from-the-dashboard");
    let (status, v) = a.try_batch(&run, &batch_json("w", 1, "loss", &[0, 1, 2], &[3.0, 2.0, 1.0])).expect("batch");
    assert_eq!(status, 200, "{v}");
    let up = a.send("PUT", &format!("/api/v1/runs/{run}/artifacts/notes.txt"), b"hello", &[]);
    assert!(up.status < 300, "{}", up.status);
    live.wait_for("points", Duration::from_secs(20), |d| d["run"] == run.as_str())
        .expect("the read-only replica streams live events of writes elsewhere");

    // Reads work.
    assert_eq!(r.series(&run, "loss"), (vec![0, 1, 2], vec![3.0, 2.0, 1.0]));
    assert_eq!(r.send("GET", &format!("/api/v1/runs/{run}/artifacts/notes.txt"), b"", &[]).body, b"hello");
    let (status, found) = r.post("/api/2.0/mlflow/runs/search", r#"{"experiment_ids":[]}"#);
    assert_eq!(status, 200, "an MLflow search (a POST) is a read: {found}");
    let (status, health) = r.get("/api/v1/health");
    assert_eq!((status, &health["readonly"]), (200, &serde_json::json!(true)), "{health}");

    // Every kind of write is refused, and nothing changes.
    let json = [("Content-Type", "application/json")];
    let writes: Vec<Write> = vec![
        ("POST", "/api/v1/runs".into(), br#"{"project":"dash"}"#.to_vec(), &json),
        ("POST", format!("/api/v1/runs/{run}/batch"), batch_json("w", 2, "loss", &[3], &[0.5]).into_bytes(), &json),
        ("PATCH", format!("/api/v1/runs/{run}"), br#"{"name":"renamed"}"#.to_vec(), &json),
        ("POST", format!("/api/v1/runs/{run}/finish"), br#"{"status":"finished"}"#.to_vec(), &json),
        ("DELETE", format!("/api/v1/runs/{run}"), Vec::new(), &[]),
        ("PUT", format!("/api/v1/runs/{run}/artifacts/more.txt"), b"no".to_vec(), &[]),
        ("POST", "/api/2.0/mlflow/runs/create".into(), br#"{"experiment_id":"0"}"#.to_vec(), &json),
        (
            "POST",
            "/api/2.0/mlflow/runs/log-metric".into(),
            format!(r#"{{"run_id":"{run}","key":"loss","value":1,"timestamp":0,"step":9}}"#).into_bytes(),
            &json,
        ),
    ];
    for (method, path, body, headers) in &writes {
        let answer = r.send(method, path, body, headers);
        assert_eq!(
            answer.status,
            403,
            "{method} {path} on a read-only replica: {}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.json()["error_code"], "PERMISSION_DENIED", "{method} {path}");
    }
    let (_, detail) = a.get(&format!("/api/v1/runs/{run}"));
    assert_eq!(detail["run"]["name"], "seen-from-the-dashboard", "{detail}");
    assert_eq!(detail["run"]["status"], "running", "{detail}");
    assert_eq!(a.series(&run, "loss").0, vec![0, 1, 2], "no point written through the read-only replica");
    let (_, list) = a.get("/api/v1/runs?project=dash");
    assert_eq!(list["runs"].as_array().map(Vec::len), Some(1), "no run created through it: {list}");
    let (_, files) = a.get(&format!("/api/v1/runs/{run}/artifacts"));
    assert!(!files.to_string().contains("more.txt"), "no file uploaded through it: {files}");
}

/// Polls health until its status is `want` (or `limit` passes): (status, body).
fn health_until(r: &Replica, want: u16, limit: Duration) -> (u16, serde_json::Value) {
    let deadline = Instant::now() + limit;
    loop {
        let (status, v) = r.get("/api/v1/health");
        if status == want || Instant::now() > deadline {
            return (status, v);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn health_reports_the_database_and_the_artifact_store() {
    let Some(team) = Team::new("health") else { return };
    // A password in the URL (the test server trusts loopback, so any will do): never shown.
    let secret = "health-pw-5521";
    let url = team.db.url.replacen("://postgres@", &format!("://postgres:{secret}@"), 1);
    assert_ne!(url, team.db.url, "the test URL names the postgres user: {}", team.db.url);
    let dir = tempfile::tempdir().expect("tempdir");
    let blobs = dir.path().join("blobs");
    std::fs::create_dir(&blobs).expect("blob folder");
    let a = Replica::start(serve_command(&url, &format!("file://{}", blobs.display()), &[], &[]));

    let (status, v) = a.get("/api/v1/health");
    assert_eq!(status, 200, "{v}");
    assert_eq!((&v["ok"], &v["store"]["ok"], &v["artifacts"]["ok"]), (&true.into(), &true.into(), &true.into()), "{v}");
    // Without the token: yes or no only.
    let anonymous: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let text = anonymous
        .get(format!("{}/api/v1/health", a.base))
        .call()
        .expect("health")
        .body_mut()
        .read_to_string()
        .expect("body");
    let bare: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(bare["store"], serde_json::json!({ "ok": true }), "{bare}");
    assert!(!text.contains("postgres") && !text.contains(&blobs.display().to_string()), "{text}");

    // The database lost: 503, the store not ok, the artifacts still ok, no password shown.
    team.db.cut_off();
    let (status, v) = health_until(&a, 503, Duration::from_secs(20));
    assert_eq!(status, 503, "{v}");
    assert_eq!(
        (&v["ok"], &v["store"]["ok"], &v["artifacts"]["ok"]),
        (&false.into(), &false.into(), &true.into()),
        "{v}"
    );
    assert!(!v.to_string().contains(secret), "{v}");
    assert!(team.db.restore(), "letting the database back in");
    let (status, v) = health_until(&a, 200, Duration::from_secs(20));
    assert_eq!(status, 200, "healthy again once the database is back: {v}");

    // The artifact store lost: its folder is a file now.
    std::fs::rename(&blobs, dir.path().join("moved")).expect("move the folder away");
    std::fs::write(&blobs, b"not a folder").expect("a file in its place");
    let (status, v) = health_until(&a, 503, Duration::from_secs(20));
    assert_eq!(status, 503, "{v}");
    assert_eq!((&v["store"]["ok"], &v["artifacts"]["ok"]), (&true.into(), &false.into()), "{v}");
}
