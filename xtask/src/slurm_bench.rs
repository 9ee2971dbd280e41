//! The `cargo xtask bench` part "launch backends: local against Slurm": the release CLI on a
//! throwaway single-node Slurm cluster ([`crate::slurm`]) against the local launcher on the
//! same machine, with a `trackbench serve` on a temp store that the Slurm tasks log to.
//!
//! - Submit-to-running latency, one `true` job at a time: local, the launcher's own measure
//!   (call to child spawned, run created first); Slurm, the store's clock at submission to the
//!   task agent's run creation on the server (sbatch, scheduling, slurmd/slurmstepd, agent).
//! - A 100-task array of `true`: wall time of the whole `sweep` command and tasks per second,
//!   local with 16 CPU slots against Slurm on a node that takes 16 tasks at once.
//!
//! Skipped, saying why, when no cluster can be started (not root, no Slurm and no apt-get).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{Outcome, cargo, slurm, status, target_dir};

const TOKEN: &str = "slurm-bench-token";

fn ms(timing: &serde_json::Value) -> f64 {
    timing["secs"].as_f64().unwrap_or(0.0) * 1e3 + timing["nanos"].as_f64().unwrap_or(0.0) / 1e6
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `trackbench ARGS` in the bench's environment; its JSON stdout and the wall time.
fn run(exe: &Path, env: &[(&str, String)], args: &[&str]) -> Result<(serde_json::Value, f64), String> {
    let t = Instant::now();
    // In the bench's folder: the tasks' Slurm output files (slurm-JOB_TASK.out) land there.
    let dir =
        env.iter().find(|(k, _)| *k == "TRACKBENCH_DIR").map(|(_, v)| Path::new(v).parent().unwrap_or(Path::new("/")));
    let out = Command::new(exe)
        .args(args)
        .current_dir(dir.unwrap_or(Path::new("/tmp")))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("running trackbench: {e}"))?;
    let wall = t.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(format!("trackbench {args:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let json = serde_json::from_slice(&out.stdout).map_err(|e| format!("trackbench {args:?}: not JSON: {e}"))?;
    Ok((json, wall))
}

pub fn bench() -> Outcome {
    let cluster = match slurm::Slurm::start() {
        Ok(c) => c,
        Err(why) => return Outcome::Skipped(format!("no Slurm cluster: {why}")),
    };
    let mut build = cargo();
    build.args(["build", "--release", "--locked", "-p", "trackbench-cli"]);
    if let Outcome::Failed(e) = status(build) {
        return Outcome::Failed(format!("building the trackbench CLI: {e}"));
    }
    let exe = target_dir().join("release").join("trackbench");
    match measure(&exe, &cluster.conf) {
        Ok(()) => Outcome::Passed,
        Err(e) => Outcome::Failed(e),
    }
}

fn measure(exe: &Path, conf: &Path) -> Result<(), String> {
    let dir = target_dir().join("slurm-bench");
    let _ = std::fs::remove_dir_all(&dir);
    let store = dir.join("store");
    std::fs::create_dir_all(&store).map_err(|e| format!("creating {}: {e}", store.display()))?;
    let mut server = Command::new(exe)
        .args(["serve", "--port", "0"])
        .env("TRACKBENCH_DIR", &store)
        .env("TRACKBENCH_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting trackbench serve: {e}"))?;
    let mut lines = BufReader::new(server.stdout.take().ok_or("no server stdout")?).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.trim().strip_prefix("API:").map(|u| u.trim().split("/api/v1").next().unwrap_or("").to_string()))
        .ok_or("the server printed no API URL")?;
    std::thread::spawn(move || lines.for_each(drop));
    let env = vec![
        ("TRACKBENCH_DIR", store.display().to_string()),
        ("TRACKBENCH_TOKEN", TOKEN.to_string()),
        ("TRACKBENCH_URL", url),
        ("SLURM_CONF", conf.display().to_string()),
    ];
    let result = (|| -> Result<(), String> {
        let n = 10;
        let mut lat = (Vec::new(), Vec::new());
        for i in 0..=n {
            let (local, _) = run(exe, &env, &["launch", "--project", "bench-local", "--json", "--", "true"])?;
            let (slurm, _) =
                run(exe, &env, &["launch", "--on", "slurm", "--project", "bench-slurm", "--json", "--", "true"])?;
            if i > 0 {
                // The first of each pays for first-use costs (git probe, store and cluster warm-up).
                lat.0.push(ms(&local["timings"]["launch_to_start"]));
                lat.1.push(ms(&slurm["timings"]["launch_to_start"]));
            }
        }
        lat.0.sort_by(f64::total_cmp);
        lat.1.sort_by(f64::total_cmp);
        println!("submit -> running over {n} one-job launches of `true`, ms (release CLI):");
        for (name, v) in [("local", &lat.0), ("slurm", &lat.1)] {
            println!("  {name:5}  median {:8.1}  p95 {:8.1}  max {:8.1}", pct(v, 0.5), pct(v, 0.95), pct(v, 1.0));
        }
        println!("  slurm / local (median): {:.0}x", pct(&lat.1, 0.5) / pct(&lat.0, 0.5).max(1e-3));
        let grid = format!("i={}", (0..100).map(|i| i.to_string()).collect::<Vec<_>>().join(","));
        let (l, local_wall) = run(
            exe,
            &env,
            &["sweep", "--project", "arr-local", "--cpu-slots", "16", "--grid", &grid, "--json", "--", "true"],
        )?;
        let (s, slurm_wall) = run(
            exe,
            &env,
            &["sweep", "--on", "slurm", "--project", "arr-slurm", "--grid", &grid, "--json", "--", "true"],
        )?;
        for (name, v) in [("local", &l), ("slurm", &s)] {
            if v["failed"] != 0 {
                return Err(format!("{name}: {} of 100 tasks did not finish", v["failed"]));
            }
        }
        println!("100-task array of `true` (16 at once), whole `sweep` command:");
        println!("  local  {local_wall:6.2} s  {:6.1} tasks/s", 100.0 / local_wall);
        println!("  slurm  {slurm_wall:6.2} s  {:6.1} tasks/s", 100.0 / slurm_wall);
        println!("  slurm / local: {:.1}x the time", slurm_wall / local_wall);
        Ok(())
    })();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}
