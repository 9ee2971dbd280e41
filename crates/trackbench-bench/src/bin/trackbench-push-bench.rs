//! `trackbench-push-bench --trackbench PATH [--runs 10] [--points 1000000]`: `trackbench push`
//! of N finished runs of M points each (one series per run, as a training loss is) from a
//! local store to a `trackbench serve` on another store folder over loopback, then the same
//! push again (nothing to send) and a `pull` of them into a third store. Prints the wall time
//! of each, and the bytes that crossed the loopback interface during the push (`/proc/net/dev`:
//! requests and answers, TCP/HTTP framing included, and every other loopback user, so run it
//! on a quiet machine) per point. Run by `cargo xtask
//! bench --part push`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::Context;
use trackbench_store::{Batch, NewRun, Store};

const TOKEN: &str = "push-bench-token";

/// Bytes that crossed `lo` so far: its receive counter (every loopback packet is counted
/// once as sent and once as received, so either counter alone is the traffic).
fn loopback_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/net/dev").unwrap_or_default();
    text.lines()
        .find_map(|l| {
            let (name, rest) = l.split_once(':')?;
            if name.trim() != "lo" {
                return None;
            }
            let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
            f.first().copied()
        })
        .unwrap_or(0)
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn run(exe: &Path, store: &Path, url: &str, args: &[&str]) -> anyhow::Result<f64> {
    let t = Instant::now();
    let out = Command::new(exe)
        .args(args)
        .env("TRACKBENCH_DIR", store)
        .env("TRACKBENCH_URL", url)
        .env("TRACKBENCH_TOKEN", TOKEN)
        .output()?;
    anyhow::ensure!(out.status.success(), "trackbench {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    print!("    {}", String::from_utf8_lossy(&out.stdout));
    Ok(t.elapsed().as_secs_f64())
}

fn main() -> anyhow::Result<()> {
    let exe = arg("--trackbench").context("--trackbench PATH (the release CLI)")?;
    let exe = Path::new(&exe);
    let runs: usize = arg("--runs").map(|r| r.parse()).transpose()?.unwrap_or(10);
    let points: i64 = arg("--points").map(|r| r.parse()).transpose()?.unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let (laptop, team, other) = (dir.path().join("laptop"), dir.path().join("team"), dir.path().join("other"));
    let t = Instant::now();
    {
        let mut store = Store::open(&laptop, Default::default())?;
        for r in 0..runs {
            let id = store
                .create_run(&NewRun { project: "bench".into(), name: Some(format!("r{r}")), ..NewRun::default() })?
                .id;
            let mut step = 0;
            while step < points {
                let mut b = Batch::default();
                for s in step..(step + 100_000).min(points) {
                    // A noisy, decaying loss: what a training run logs (not a constant the codec
                    // would shrink to nothing).
                    let v = 1.0 / (1.0 + s as f64 * 1e-4) + ((s * 7919) % 1000) as f64 * 1e-5;
                    b.push_metric("loss", s, 1_700_000_000_000 + s * 10, v);
                }
                store.log_batch(&id, &b)?;
                step += 100_000;
            }
            store.finish_run(&id, trackbench_store::RunStatus::Finished, None)?;
        }
    }
    println!("local store: {runs} runs x {points} points made in {:.1} s", t.elapsed().as_secs_f64());
    let mut server = Command::new(exe)
        .args(["serve", "--port", "0"])
        .env("TRACKBENCH_DIR", &team)
        .env("TRACKBENCH_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut lines = BufReader::new(server.stdout.take().context("server stdout")?).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("API:").map(|u| u.trim().split("/api/v1").next().unwrap_or("").to_string()))
        .context("the server printed no API URL")?;
    std::thread::spawn(move || lines.for_each(drop));
    let result = (|| -> anyhow::Result<()> {
        let total = runs as f64 * points as f64;
        let before = loopback_bytes();
        let push = run(exe, &laptop, &url, &["push", "--all"])?;
        let bytes = loopback_bytes() - before;
        println!(
            "push of {runs} runs x {points} points: {push:.2} s ({:.2} M points/s), {:.2} bytes on the wire per point \
             ({:.1} MB over loopback)",
            total / push / 1e6,
            bytes as f64 / total,
            bytes as f64 / 1e6
        );
        let again = run(exe, &laptop, &url, &["push", "--all"])?;
        println!("second push (nothing new): {again:.2} s");
        let before = loopback_bytes();
        let pull = run(exe, &other, &url, &["pull", "--project", "bench"])?;
        let bytes = loopback_bytes() - before;
        println!(
            "pull of the same into a fresh store: {pull:.2} s ({:.2} M points/s), {:.2} bytes on the wire per point",
            total / pull / 1e6,
            bytes as f64 / total
        );
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    result
}
