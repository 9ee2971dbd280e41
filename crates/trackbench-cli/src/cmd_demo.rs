//! `trackbench demo`: logs a small sweep of simulated training runs through the Rust SDK
//! (two learning rates x three seeds) into project `demo`, lists them best first and writes an
//! HTML report comparing the two learning rates over their seeds, statistics included.
//!
//! The curves are synthetic (a noisy exponential decay whose floor depends on the learning
//! rate); the reference trainer replaces them in a later issue.

use clap::Args;
use trackbench_sdk::{Run, RunOptions};
use trackbench_store::RunQuery;

use crate::Ctx;
use crate::output;

#[derive(Args)]
pub struct DemoArgs {
    /// Steps per run
    #[arg(long, default_value_t = 2000)]
    steps: i64,
    /// Seeds per learning rate
    #[arg(long, default_value_t = 3)]
    seeds: u64,
}

/// A small deterministic PRNG (xorshift64*), enough for demo noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn demo(ctx: &Ctx, args: DemoArgs) -> anyhow::Result<()> {
    let group = format!("demo-{}", trackbench_store::now_ms());
    for seed in 1..=args.seeds {
        for lr in [0.01, 0.03] {
            let opts = RunOptions::new("demo")
                .store_dir(&ctx.store_dir)
                .name(format!("lr{lr}-seed{seed}"))
                .group(group.clone())
                .tag("source", "trackbench demo");
            let run = Run::start(opts)?;
            run.log_config(&serde_json::json!({"lr": lr, "seed": seed, "model": {"hidden": [128, 128]}}))?;
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
            let floor = if lr > 0.02 { 0.08 } else { 0.12 };
            let mut best: f64 = 0.0;
            for step in 0..args.steps {
                let t = step as f64 / args.steps as f64;
                let loss = floor + (1.0 - floor) * (-6.0 * t * lr / 0.02).exp() + 0.02 * (rng.next() - 0.5);
                run.log_at(step, &[("train/loss", loss), ("lr", lr * (1.0 - 0.5 * t))])?;
                if step % 100 == 99 || step + 1 == args.steps {
                    let acc = (1.0 - loss).clamp(0.0, 1.0) - 0.01 * rng.next();
                    best = best.max(acc);
                    run.log_at(step, &[("val/acc", acc), ("val/loss", loss * 1.1)])?;
                }
            }
            run.set_summary("best_val_acc", serde_json::json!(best))?;
            run.finish()?;
        }
    }
    let store = ctx.open()?;
    let q = RunQuery {
        project: Some("demo".into()),
        filter: Some(format!("attributes.group = '{group}'")),
        order_by: Some("metrics.`val/acc` desc".into()),
        ..RunQuery::default()
    };
    let runs = store.list_runs(&q)?;
    let mut rows = Vec::new();
    for r in &runs {
        let m = store.metric_summaries(&r.id)?;
        let get = |k: &str| m.iter().find(|s| s.key == k).map(|s| output::num(s.last)).unwrap_or_default();
        rows.push(vec![r.id.clone(), r.name.clone(), r.status.to_string(), get("val/acc"), get("train/loss")]);
    }
    println!("Logged {} runs into {}:\n", runs.len(), ctx.store_dir.display());
    print!("{}", output::table(&["ID", "NAME", "STATUS", "VAL/ACC", "TRAIN/LOSS"], &rows));
    // Is lr 0.03 really better than 0.01 over these seeds? The report says, with statistics.
    let report = ctx.store_dir.join("demo-report.html");
    let filter = format!("attributes.group = '{group}'");
    let path = report.display().to_string();
    let args = crate::cmd_report::ReportArgs::parse_from(&[
        "--filter",
        &filter,
        "--group-by",
        "params.lr",
        "--metric",
        "val/acc,train/loss",
        "--title",
        "Trackbench demo: lr 0.01 vs 0.03",
        "-o",
        &path,
    ])?;
    crate::cmd_report::report_cmd(ctx, args)?;
    println!("\nReport (open in a browser): {}", report.display());
    println!(
        "\nTry: trackbench runs ls --project demo --filter \"metrics.\\`val/acc\\` > 0.85\" --columns params.lr,metrics.val/acc\n     trackbench runs show {}",
        runs.first().map(|r| r.id.as_str()).unwrap_or("RUN")
    );
    Ok(())
}
