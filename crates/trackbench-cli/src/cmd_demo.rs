//! `trackbench demo`: trains a small sweep of real runs with the reference trainer (the MLP of
//! `trackbench train` on the 8x8 digits, CPU backend: two learning rates x three seeds) into
//! project `demo`, lists them best first and writes an HTML report comparing the two learning
//! rates over their seeds, statistics included.
//!
//! Every number is real training: per-step `train/loss`, per-epoch `val/acc` and the rest that
//! `trackbench train` logs. The CPU backend is deterministic for a seed, so the same command
//! logs the same curves; a run of `--steps N` holds exactly N `train/loss` points. The network
//! is small (two hidden layers of 64) so the default demo takes a few seconds.

use anyhow::Context;
use clap::Args;
use trackbench_sdk::{Run, RunOptions, RunStatus};
use trackbench_store::RunQuery;
use trackbench_train::train::TrainConfig;
use trackbench_train::{BackendChoice, BackendKind, DataSpec, Optim, OptimizerKind};

use crate::Ctx;
use crate::output;

#[derive(Args)]
pub struct DemoArgs {
    /// Training steps (minibatches of 64) per run: its number of train/loss points
    #[arg(long, default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..))]
    steps: u64,
    /// Seeds per learning rate
    #[arg(long, default_value_t = 3)]
    seeds: u64,
}

/// The learning rates compared (SGD with momentum 0.9).
const LRS: [f32; 2] = [0.01, 0.03];
const BATCH: usize = 64;
/// Training samples of the digits split (`trackbench train` prints it; fixed by the fixture).
const DIGITS_TRAIN: usize = 1438;

/// The trainer's config for one demo run: `steps` minibatches, over as many epochs as that takes.
fn config(lr: f32, seed: u64, steps: u64) -> TrainConfig {
    let per_epoch = DIGITS_TRAIN.div_ceil(BATCH) as u64;
    TrainConfig {
        backend: BackendChoice::Only(BackendKind::Cpu),
        device: 0,
        data: DataSpec::Digits,
        hidden: vec![64, 64],
        optim: Optim::new(OptimizerKind::Sgd, lr),
        batch_size: BATCH,
        epochs: steps.div_ceil(per_epoch) as usize,
        seed,
        max_steps: Some(steps),
        skip_validation: false,
    }
}

pub fn demo(ctx: &Ctx, args: DemoArgs) -> anyhow::Result<()> {
    let group = format!("demo-{}", trackbench_store::now_ms());
    let total = args.seeds * LRS.len() as u64;
    let mut done = 0;
    for seed in 1..=args.seeds {
        for lr in LRS {
            let name = format!("lr{lr}-seed{seed}");
            let opts = RunOptions::new("demo")
                .store_dir(&ctx.store_dir)
                .name(name.clone())
                .group(group.clone())
                .tag("source", "trackbench demo");
            let run = Run::start(opts).with_context(|| format!("starting a run in {}", ctx.store_dir.display()))?;
            let cfg = config(lr, seed, args.steps);
            match trackbench_train::logged::train_logged(&cfg, &run, &mut |_| {}) {
                Ok(outcome) => {
                    done += 1;
                    let acc = outcome.last.map(|l| format!("{:.4}", l.val_acc)).unwrap_or_default();
                    eprintln!("[{done}/{total}] {name}: {} steps, val/acc {acc}", outcome.steps);
                }
                Err(e) => {
                    let msg = e.to_string();
                    let _ = run.finish_with(RunStatus::Failed, Some(&msg));
                    return Err(anyhow::Error::new(e).context(format!("training {name}")));
                }
            }
            run.finish().context("finishing the run")?;
        }
    }
    let store = ctx.open_local()?;
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
        "Trackbench demo: lr 0.01 vs 0.03 (digits MLP)",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_demo_run_trains_exactly_its_steps_on_the_cpu() {
        for (steps, epochs) in [(1, 1), (23, 1), (24, 2), (300, 14), (600, 27)] {
            let cfg = config(0.01, 1, steps);
            assert_eq!((cfg.max_steps, cfg.epochs), (Some(steps), epochs), "{steps} steps");
            assert_eq!(cfg.backend, BackendChoice::Only(BackendKind::Cpu));
        }
        // The split the epoch count assumes.
        let split = DataSpec::Digits.load(1).unwrap();
        assert_eq!(split.train.len(), DIGITS_TRAIN);
    }

    #[test]
    fn the_demo_logs_real_trainer_runs() {
        let dir = tempfile::tempdir().unwrap();
        let ctx = Ctx { store_dir: dir.path().to_path_buf(), team: None, opts: Default::default() };
        demo(&ctx, DemoArgs { steps: 30, seeds: 1 }).unwrap();
        let store = ctx.open_local().unwrap();
        let runs = store.list_runs(&RunQuery { project: Some("demo".into()), ..RunQuery::default() }).unwrap();
        let mut names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
        names.sort();
        assert_eq!(names, ["lr0.01-seed1", "lr0.03-seed1"]);
        for r in &runs {
            let params: std::collections::BTreeMap<_, _> = store.params(&r.id).unwrap().into_iter().collect();
            // What the reference trainer logs about itself: synthetic curves have none of it.
            assert_eq!(params["device.backend"], "cpu", "{}", r.name);
            assert_eq!(params["model.sizes"], "64,64,64,10");
            assert_eq!(params["dataset"], "digits");
            assert_eq!(params["seed"], 1);
            let m = store.metric_summaries(&r.id).unwrap();
            let count = |k: &str| m.iter().find(|s| s.key == k).map(|s| s.count).unwrap_or(0);
            assert_eq!(count("train/loss"), 30, "one train/loss point per step");
            assert_eq!(count("val/acc"), 2, "one val/acc per epoch (23 + 7 steps)");
            assert!(store.tags(&r.id).unwrap().contains(&("source".into(), "trackbench demo".into())));
        }
        assert!(dir.path().join("demo-report.html").exists());
    }
}
