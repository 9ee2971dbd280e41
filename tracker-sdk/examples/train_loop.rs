//! A training loop that logs through the SDK: the smallest real user of `trackbench-sdk`.
//!
//! ```text
//! cargo run -p trackbench-sdk --example train_loop -- --steps 1000 --keys 4
//! ```
//!
//! Flags: `--store DIR` (default `$TRACKBENCH_DIR` / platform data dir), `--project P`,
//! `--name N`, `--steps S`, `--keys K` (metrics `m0..`), `--flush-every F` (call `flush()` every
//! F steps and print `flushed <steps done>` once it returned, so a supervisor knows what is
//! durable), `--sleep-ms M` (pause after each flush). The tests use it as a child process to
//! kill it mid-run and to run eight writers at once.

use trackbench_sdk::{Run, RunOptions};

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The value logged for key `k` at `step` (tests recompute it to check what was stored).
pub fn value(step: i64, k: usize) -> f64 {
    (step as f64 * 0.001 + k as f64).sin() / (1.0 + step as f64 * 1e-4)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let mut opts = RunOptions::from_env(arg(&args, "--project", "example".to_string()));
    if let Some(dir) = args.iter().position(|a| a == "--store").and_then(|i| args.get(i + 1)) {
        opts = opts.store_dir(dir);
    }
    if let Some(name) = args.iter().position(|a| a == "--name").and_then(|i| args.get(i + 1)) {
        opts = opts.name(name);
    }
    let steps: i64 = arg(&args, "--steps", 1000);
    let keys: usize = arg(&args, "--keys", 4);
    let flush_every: i64 = arg(&args, "--flush-every", 0);
    let sleep_ms: u64 = arg(&args, "--sleep-ms", 0);
    let run = Run::start(opts)?;
    println!("run {}", run.id());
    run.log_params(&[("steps", steps.into()), ("keys", (keys as i64).into())])?;
    let names: Vec<String> = (0..keys).map(|k| format!("m{k}")).collect();
    let mut record: Vec<(&str, f64)> = names.iter().map(|n| (n.as_str(), 0.0)).collect();
    for step in 0..steps {
        for (k, slot) in record.iter_mut().enumerate() {
            slot.1 = value(step, k);
        }
        run.log_at(step, &record)?;
        if flush_every > 0 && (step + 1) % flush_every == 0 {
            run.flush()?;
            println!("flushed {}", step + 1);
            if sleep_ms > 0 {
                std::thread::sleep(std::time::Duration::from_millis(sleep_ms));
            }
        }
    }
    run.finish()?;
    println!("finished");
    Ok(())
}
