//! Two replicas over one database and one artifact store: a client may talk to either, switch
//! mid-run, or retry a batch through the other; live events reach a client of the other
//! replica; artifacts uploaded through one download through the other.

use std::time::{Duration, Instant};

use crate::util::{Team, batch_json, noise, report};

/// Generous: the point is that events arrive at all; how fast is printed, not asserted.
const EVENT_LIMIT: Duration = Duration::from_secs(20);

#[test]
fn two_replicas_serve_one_store() {
    let Some(team) = Team::new("replicas") else { return };
    let a = team.replica(&[]);
    let b = team.replica(&[]);
    let live = b.events("project=shared");

    // A run created through A is there through B, and announced to B's client.
    let sent = Instant::now();
    let run = a.create_run("shared", "r1");
    let acked = Instant::now();
    let created = live
        .wait_for("run_created", EVENT_LIMIT, |d| d["run"] == run.as_str())
        .expect("B's live client hears of the run created through A");
    report(&format!(
        "SSE run_created on B, {} ms after the request to A ({} ms after A's answer)",
        created.at.duration_since(sent).as_millis(),
        created.at.saturating_duration_since(acked).as_millis()
    ));
    let (status, v) = b.get(&format!("/api/v1/runs/{run}"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["run"]["name"], "r1");

    // A batch through B reads back through A.
    let steps: Vec<i64> = (0..50).collect();
    let values: Vec<f64> = steps.iter().map(|s| 1.0 / (*s as f64 + 1.0)).collect();
    let batch = batch_json("writer-1", 1, "loss", &steps, &values);
    let (status, v) = b.try_batch(&run, &batch).expect("batch through B");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["points"], 50, "{v}");
    assert_eq!(a.series(&run, "loss"), (steps.clone(), values.clone()), "A reads B's batch");

    // The same batch (same writer and number) retried through A: acknowledged, stored once.
    let (status, v) = a.try_batch(&run, &batch).expect("retry through A");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["duplicate"], true, "the retry is recognised: {v}");
    assert_eq!(b.series(&run, "loss"), (steps.clone(), values.clone()), "the retried batch is stored once");
    let (_, m) = a.get(&format!("/api/v1/runs/{run}/metrics"));
    assert_eq!(m["metrics"][0]["count"], 50, "the summary counts the points once: {m}");
    // Another writer's batch with the same number is its own batch.
    let (status, v) = a.try_batch(&run, &batch_json("writer-2", 1, "loss", &[50], &[0.5])).expect("batch");
    assert_eq!((status, &v["points"]), (200, &serde_json::json!(1)), "{v}");

    // Points written through A reach B's live client.
    let mut latencies = Vec::new();
    for seq in 2..12 {
        let step = 100 + seq;
        let sent = Instant::now();
        let (status, v) = a.try_batch(&run, &batch_json("writer-1", seq, "acc", &[step], &[0.5])).expect("batch");
        assert_eq!(status, 200, "{v}");
        let seen = live
            .wait_for("points", EVENT_LIMIT, |d| {
                d["run"] == run.as_str() && d["key"] == "acc" && d["last_step"] == step
            })
            .expect("B's live client hears of points written through A");
        latencies.push(seen.at.duration_since(sent).as_secs_f64() * 1000.0);
    }
    latencies.sort_by(f64::total_cmp);
    report(&format!(
        "SSE points on B after a batch through A, over {} batches: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        latencies.len(),
        latencies[0],
        latencies[latencies.len() / 2],
        latencies[latencies.len() - 1]
    ));
}

#[test]
fn artifacts_uploaded_through_one_replica_download_through_the_other() {
    let Some(team) = Team::new("artifacts") else { return };
    let a = team.replica(&[]);
    let b = team.replica(&[]);
    let run = a.create_run("files", "with-artifacts");
    let bytes = noise((1 << 20) + 4321, 7);

    // Native upload through A.
    let put = a.send("PUT", &format!("/api/v1/runs/{run}/artifacts/data/blob.bin"), &bytes, &[]);
    assert!(put.status == 200 || put.status == 201, "upload: {} {}", put.status, String::from_utf8_lossy(&put.body));
    let (status, list) = b.get(&format!("/api/v1/runs/{run}/artifacts"));
    assert_eq!(status, 200, "{list}");
    assert!(list.to_string().contains("data/blob.bin"), "B lists the file: {list}");

    // The MLflow proxy path names the run's experiment.
    let (status, r) = b.get(&format!("/api/2.0/mlflow/runs/get?run_id={run}"));
    assert_eq!(status, 200, "{r}");
    let exp = r["run"]["info"]["experiment_id"].as_str().expect("experiment id").to_string();
    let native = format!("/api/v1/runs/{run}/artifacts/data/blob.bin");
    let proxy = format!("/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/data/blob.bin");
    for path in [&native, &proxy] {
        let whole = b.send("GET", path, b"", &[]);
        assert_eq!(whole.status, 200, "{path}");
        assert!(whole.body == bytes, "{path}: B serves the whole file A took ({} bytes)", whole.body.len());
        let part = b.send("GET", path, b"", &[("Range", "bytes=1000-70999")]);
        assert_eq!(part.status, 206, "{path}");
        assert_eq!(part.content_range.as_deref(), Some(format!("bytes 1000-70999/{}", bytes.len()).as_str()));
        assert!(part.body == bytes[1000..71000], "{path}: the range is the file's bytes 1000..71000");
        let tail = b.send("GET", path, b"", &[("Range", "bytes=-100")]);
        assert_eq!(tail.status, 206, "{path}");
        assert!(tail.body == bytes[bytes.len() - 100..], "{path}: the last 100 bytes");
    }

    // And the other way: an upload through A's MLflow proxy, a native download through B.
    let small = noise(5000, 11);
    let up =
        a.send("PUT", &format!("/api/2.0/mlflow-artifacts/artifacts/{exp}/{run}/artifacts/m/model.pt"), &small, &[]);
    assert_eq!(up.status, 200, "{}", String::from_utf8_lossy(&up.body));
    let down = b.send("GET", &format!("/api/v1/runs/{run}/artifacts/m/model.pt"), b"", &[]);
    assert_eq!(down.status, 200);
    assert!(down.body == small, "B serves the file uploaded through A's MLflow proxy");
    let part = b.send("GET", &format!("/api/v1/runs/{run}/artifacts/m/model.pt"), b"", &[("Range", "bytes=4000-")]);
    assert_eq!(part.status, 206);
    assert!(part.body == small[4000..]);
}
