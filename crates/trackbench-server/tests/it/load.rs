//! Bounded load on loopback: 32 clients log batches concurrently (30 s by default; set
//! `TRACKBENCH_LOAD_SECS`), then every acknowledged point must be in the store. Prints request
//! latency percentiles (recorded in BENCHMARKS.md; never asserted).

use std::time::{Duration, Instant};

use serde_json::json;
use trackbench_store::{Store, StoreOptions};

use crate::util::{Api, Server, read};

const CLIENTS: usize = 32;

#[test]
fn thirty_two_clients_lose_no_acknowledged_point() {
    let secs: u64 = std::env::var("TRACKBENCH_LOAD_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(30);
    let s = Server::start();
    let runs: Vec<String> = (0..CLIENTS).map(|i| s.create_run("load", &format!("client-{i}"))).collect();
    let deadline = Instant::now() + Duration::from_secs(secs);
    let results: Vec<(String, u64, Vec<Duration>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|id| {
                let s = &s;
                scope.spawn(move || {
                    let mut acked = 0u64;
                    let mut lat = Vec::new();
                    let mut step = 0i64;
                    while Instant::now() < deadline {
                        let steps: Vec<i64> = (step..step + 100).collect();
                        let series: Vec<_> = ["loss", "acc", "lr", "grad_norm", "tokens"]
                            .iter()
                            .map(|k| json!({"key": k, "steps": steps, "wall_ms": steps, "values": steps.iter().map(|s| *s as f64 * 0.5).collect::<Vec<_>>()}))
                            .collect();
                        let body = json!({ "series": series }).to_string();
                        let t = Instant::now();
                        let resp = s
                            .agent
                            .post(s.url(&format!("/api/v1/runs/{id}/batch")))
                            .header("Authorization", format!("Bearer {}", s.token))
                            .header("Content-Type", "application/json")
                            .send(&body);
                        let Ok(resp) = resp else { continue };
                        let (st, report) = read(resp);
                        lat.push(t.elapsed());
                        if st == 200 {
                            assert_eq!(report["points"], 500, "{report}");
                            acked += 500;
                            step += 100;
                        }
                    }
                    (id.clone(), acked, lat)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let store = Store::open(s.store_dir(), StoreOptions { read_only: true, ..StoreOptions::default() }).unwrap();
    let mut total = 0;
    for (id, acked, _) in &results {
        let stored: i64 = store.metric_summaries(id).unwrap().iter().map(|m| m.count).sum();
        assert_eq!(stored as u64, *acked, "run {id}: every acknowledged point is stored, none twice");
        total += acked;
    }
    let mut lat: Vec<Duration> = results.into_iter().flat_map(|r| r.2).collect();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)].as_secs_f64() * 1000.0;
    assert!(total > 0, "some batches went through");
    eprintln!(
        "load: {CLIENTS} clients x {secs} s: {} requests, {total} points ({:.0} points/s); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        total as f64 / secs as f64,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
