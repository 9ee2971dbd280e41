//! The `server` benchmark: the real `trackbench serve` binary over a store holding the 1M-point
//! loss curve. Times the downsampled series endpoint (1M -> 2,000 buckets, target <= 30 ms) and
//! the whole series over HTTP; how long a write by another process takes to reach an SSE client
//! (target <= 300 ms); and the Rust SDK logging over HTTP next to the same workload into the
//! local store.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use trackbench_sdk::{Remote, Run, RunOptions};
use trackbench_store::{Batch, NewRun, Store, StoreOptions};

use crate::curves::{curve, write_curve};
use crate::{Config, LOSS, Table, find_cli, median, ms, pass, spread, temp_dir};

const TOKEN: &str = "bench-token";

/// The server process, killed on drop.
struct Served {
    child: Child,
    base: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(store: &std::path::Path) -> anyhow::Result<Served> {
    let cli = find_cli().context("the trackbench binary was not found; `cargo build --release -p trackbench-cli`")?;
    let mut child = Command::new(cli)
        .arg("--store")
        .arg(store)
        .args(["serve", "--port", "0"])
        .env("TRACKBENCH_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .spawn()
        .context("starting trackbench serve")?;
    let mut lines = BufReader::new(child.stdout.take().context("stdout")?).lines();
    let base = loop {
        let line = lines.next().context("the server exited before printing its URL")??;
        if let Some(url) = line.trim().strip_prefix("open:") {
            break url.trim().split("/?token=").next().unwrap_or_default().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    Ok(Served { child, base })
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().http_status_as_error(false).build().into()
}

fn get_json(agent: &ureq::Agent, url: &str) -> anyhow::Result<serde_json::Value> {
    let mut resp = agent.get(url).header("Authorization", format!("Bearer {TOKEN}")).call()?;
    ensure!(resp.status() == 200, "GET {url}: HTTP {}", resp.status());
    let text = resp.body_mut().with_config().limit(1 << 30).read_to_string()?;
    Ok(serde_json::from_str(&text)?)
}

pub(super) fn bench_server(cfg: &Config, t: &mut Table) -> anyhow::Result<()> {
    let cs = write_curve(curve(cfg.curve_points, false))?;
    let n = cs.points.len();
    let server = serve(cs.dir.path())?;
    let agent = agent();

    // Downsampled read.
    let url = format!("{}/api/v1/runs/{}/series?key={LOSS}&max_points={}", server.base, cs.run, cfg.buckets);
    get_json(&agent, &url)?; // warm the connection and the page cache
    let mut times = Vec::with_capacity(cfg.reps);
    for _ in 0..cfg.reps {
        let start = Instant::now();
        let v = get_json(&agent, &url)?;
        times.push(start.elapsed());
        let counts = v["buckets"]["count"].as_array().context("buckets")?;
        let total: u64 = counts.iter().filter_map(|c| c.as_u64()).sum();
        ensure!(total == n as u64 && counts.len() <= cfg.buckets, "server: buckets hold {total} of {n} points");
    }
    let med = median(&times);
    println!("[server] GET series?max_points={} of {n} points (HTTP, JSON parsed): {}", cfg.buckets, spread(&times));
    t.push(
        format!("`GET /api/v1/runs/ID/series?max_points={}` of a {n}-point series, end to end", cfg.buckets),
        ms(med),
        "<= 30 ms",
        pass(med <= Duration::from_millis(30)),
    );

    // Whole series.
    let url = format!("{}/api/v1/runs/{}/series?key={LOSS}", server.base, cs.run);
    let mut times = Vec::with_capacity(3);
    for _ in 0..3 {
        let start = Instant::now();
        let v = get_json(&agent, &url)?;
        times.push(start.elapsed());
        ensure!(v["points"]["steps"].as_array().map(Vec::len) == Some(n), "server: whole series incomplete");
    }
    println!("[server] GET the whole {n}-point series (HTTP, JSON parsed): {}", spread(&times));
    t.push(format!("`GET .../series` whole {n}-point series (JSON, parsed)"), ms(median(&times)), "-", "info");

    // Live: another process's write reaching an SSE client.
    let rx = crate::sse::subscribe(&agent, &format!("{}/api/v1/events?project=live", server.base), TOKEN)?;
    rx.recv_timeout(Duration::from_secs(10)).context("no SSE hello")?;
    let mut store = Store::open(cs.dir.path(), StoreOptions::default())?;
    let run = store.create_run(&NewRun { project: "live".into(), ..NewRun::default() })?.id;
    rx.recv_timeout(Duration::from_secs(10)).context("no run_created event")?;
    let mut lat = Vec::new();
    for i in 0..20i64 {
        std::thread::sleep(Duration::from_millis(50));
        let mut b = Batch::default();
        b.push_metric("x", i, i, i as f64);
        let start = Instant::now();
        store.log_batch(&run, &b)?;
        let (seen, data) = rx.recv_timeout(Duration::from_secs(10)).context("no points event")?;
        ensure!(data.contains(&format!("\"count\":{}", i + 1)), "server: unexpected event {data}");
        lat.push(seen.duration_since(start));
    }
    let worst = lat.iter().max().copied().unwrap_or_default();
    println!("[server] commit by another process -> SSE event: {}", spread(&lat));
    t.push(
        "write by another process -> SSE `points` event (20 writes)",
        format!("median {}, max {}", ms(median(&lat)), ms(worst)),
        "<= 300 ms",
        pass(worst <= Duration::from_millis(300)),
    );

    // The SDK over HTTP vs into the local store, same workload.
    let steps = cfg.ingest_steps / 5;
    let keys: Vec<String> = (0..10).map(|k| format!("m{k}")).collect();
    let workload = |opts: RunOptions| -> anyhow::Result<Duration> {
        let start = Instant::now();
        let run = Run::start(opts)?;
        let mut rec: Vec<(&str, f64)> = keys.iter().map(|k| (k.as_str(), 0.0)).collect();
        for step in 0..steps {
            for (i, r) in rec.iter_mut().enumerate() {
                r.1 = step as f64 * (1.0 + i as f64);
            }
            run.log_at(step, &rec)?;
        }
        run.finish()?;
        Ok(start.elapsed())
    };
    let remote = workload(RunOptions::new("sdk").remote(Remote::new(server.base.clone(), Some(TOKEN.into()))))?;
    let local_dir = temp_dir("sdk-local")?;
    let local = workload(RunOptions::new("sdk").store_dir(local_dir.path()))?;
    let pts = (steps * 10) as f64;
    println!(
        "[server] SDK {steps} steps x 10 keys: over HTTP {:.2} s ({:.2} M points/s), local store {:.2} s ({:.2} M points/s)",
        remote.as_secs_f64(),
        pts / remote.as_secs_f64() / 1e6,
        local.as_secs_f64(),
        pts / local.as_secs_f64() / 1e6
    );
    t.push(
        format!("Rust SDK over HTTP, {steps} steps x 10 keys, until finish()"),
        format!(
            "{:.2} M points/s ({:.1}x the local store's time)",
            pts / remote.as_secs_f64() / 1e6,
            remote.as_secs_f64() / local.as_secs_f64()
        ),
        "-",
        "info",
    );
    Ok(())
}
